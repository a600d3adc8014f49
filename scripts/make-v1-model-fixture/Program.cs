// Writes model files with the release before the Model class (commit d80c4e9), for the tests
// that check those files still load: a text model (Embedding with padding, Bidirectional LSTM,
// Dense) and a CNN (Conv2D, BatchNormalization, pooling, Dropout, Dense), compiled, with the
// optimizer state, and the outputs they give on fixed inputs.
using System.Text.Json.Nodes;
using Nabla;
using Nabla.Layers;
using Nabla.Optimizers;
string dir = args[0];
Generator.ManualSeed(5);
var text = new Sequential(new Embedding(12, 4, paddingIndex: 0, inputLength: 6), new Bidirectional(new LSTM(3)), new Dropout(0.2f), new Dense(2, "softmax")) { Name = "old_text" };
text.Compile("sparse_categorical_crossentropy", new Adam(0.01f) { ClipNorm = 1f }, "accuracy");
var ids = Tensor.FromArray([3f, 5f, 1f, 0f, 0f, 0f, 7f, 2f, 6f, 4f, 8f, 11f, 9f, 10f, 0f, 0f, 0f, 0f], 3, 6);
text.Fit(ids, Tensor.FromArray([0f, 1f, 1f]), epochs: 2, batchSize: 2, verbose: 0);
text.Save(Path.Combine(dir, "sequential_v1_text.nabla"), includeOptimizer: true);
var cnn = new Sequential(new Conv2D(3, 3, padding: "same", activation: "relu", inputShape: [1, 6, 6]), new BatchNormalization(), new MaxPooling2D(2), new Flatten(), new Dense(4, "tanh"), new Dense(1)) { Name = "old_cnn" };
cnn.Compile("mse", new SGD(0.05f, momentum: 0.9f));
var images = Tensor.RandN([4, 1, 6, 6], new Generator(6));
cnn.Fit(images, Tensor.RandN([4, 1], new Generator(7)), epochs: 2, batchSize: 2, verbose: 0);
cnn.Save(Path.Combine(dir, "sequential_v1_cnn.nabla"), includeOptimizer: true);
JsonArray Values(Tensor t) => new(t.ToArray().Select(v => (JsonNode?)v).ToArray());
var expected = new JsonObject
{
    ["text_input"] = Values(ids), ["text_output"] = Values(text.Predict(ids)),
    ["cnn_input"] = Values(images), ["cnn_output"] = Values(cnn.Predict(images)),
};
File.WriteAllText(Path.Combine(dir, "sequential_v1_expected.json"), expected.ToJsonString());
