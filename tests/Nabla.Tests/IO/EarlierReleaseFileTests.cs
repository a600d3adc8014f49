using System.Text.Json.Nodes;
using Nabla.IO;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Tests.IO;

/// <summary>
/// Model files written by the release before the Model class (commit d80c4e9, by
/// scripts/make-v1-model-fixture.sh) still load: the same architecture, weights, compile settings
/// and optimizer state, and the same outputs on the inputs saved beside them.
/// </summary>
public class EarlierReleaseFileTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static float[] Values(JsonNode node) => [.. node.AsArray().Select(v => v!.GetValue<float>())];

    [Fact]
    public void A_text_model_of_the_earlier_release_loads_and_predicts_as_it_did()
    {
        var expected = JsonNode.Parse(File.ReadAllText(Fixture("sequential_v1_expected.json")))!;
        var model = Sequential.Load(Fixture("sequential_v1_text.nabla"));
        Assert.Equal("old_text", model.Name);
        Assert.Equal(["Embedding", "Bidirectional", "Dropout", "Dense"], model.Layers.Select(l => l.GetType().Name).ToArray());
        Assert.Equal(0, Assert.IsType<Embedding>(model.Layers[0]).PaddingIndex);
        var adam = Assert.IsType<Adam>(model.Optimizer);
        Assert.Equal(0.01f, adam.LearningRate);
        Assert.Equal(1f, adam.ClipNorm);
        Assert.Equal(4, adam.Iterations); // two epochs of two batches
        Assert.Equal("accuracy", Assert.Single(model.Metrics).Name);
        Tensor ids = Tensor.FromArray(Values(expected["text_input"]!), 3, 6);
        Assert.Equal(Values(expected["text_output"]!), model.Predict(ids).ToArray());
        // The padding mask still reaches the recurrent layer: a row's padded tail does not matter.
        float[] row = model.Predict(ids.Slice(0, 0, 1).Slice(1, 0, 3)).ToArray();
        for (int k = 0; k < 2; k++) Assert.Equal(Values(expected["text_output"]!)[k], row[k], 5);
    }

    [Fact]
    public void A_cnn_of_the_earlier_release_loads_predicts_and_trains_on()
    {
        var expected = JsonNode.Parse(File.ReadAllText(Fixture("sequential_v1_expected.json")))!;
        var model = Model.Load(Fixture("sequential_v1_cnn.nabla"));
        Assert.IsType<Sequential>(model);
        Assert.Equal("old_cnn", model.Name);
        var sgd = Assert.IsType<SGD>(model.Optimizer);
        Assert.Equal(0.9f, sgd.Momentum);
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias", "5.weight", "5.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"],
            model.StateDict().Keys.ToArray());
        Tensor images = Tensor.FromArray(Values(expected["cnn_input"]!), 4, 1, 6, 6);
        // The same outputs up to float rounding (the activations' kernels may change in their last bits between releases).
        float[] want = Values(expected["cnn_output"]!), got = model.Predict(images).ToArray();
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], got[i], 1e-5f);
        // Training resumes from the saved momentum: targets one above its outputs pull the loss down from 1.
        Tensor target = model.Predict(images) + 1f;
        float before = model.Evaluate(images, target)["loss"];
        model.Fit(images, target, epochs: 30, batchSize: 4, verbose: 0);
        float after = model.Evaluate(images, target)["loss"];
        Assert.True(after < before / 2, $"loss {before} -> {after}");
        string path = Path.Combine(Path.GetTempPath(), $"nabla-{Guid.NewGuid():N}.nabla");
        try
        {
            // Written again by this release, still version 1 (a Sequential model's format is unchanged).
            model.Save(path);
            Assert.Equal("1", SafeTensors.LoadWithMetadata(path).Metadata["version"]);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
