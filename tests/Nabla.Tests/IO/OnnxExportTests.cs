using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Nabla.IO;
using Nabla.Layers;

namespace Nabla.Tests.IO;

/// <summary>Exported models run in ONNX Runtime and give Nabla's outputs within 1e-4.</summary>
public class OnnxExportTests
{
    public static IEnumerable<object[]> Models() => [["mlp"], ["activations"], ["cnn"], ["conv1d"], ["norms"], ["embedding"], ["lstm"], ["gru"], ["rnn"]];

    private static (Sequential Model, Tensor Input) Make(string kind)
    {
        Generator.ManualSeed(21);
        var g = new Generator(22);
        return kind switch
        {
            "mlp" => (new Sequential(new Dense(8, "relu", inputFeatures: 5), new Dropout(0.5f), new Dense(3, "softmax")), Tensor.RandN([4, 5], g)),
            "activations" => (new Sequential(new Input(6), new Dense(6, "gelu"), new Activation("tanh"), new Dense(6, "silu"), new Activation("elu"),
                new Dense(6, "leaky_relu"), new Activation("softplus"), new Dense(4, "sigmoid"), new Activation("log_softmax")), Tensor.RandN([3, 6], g)),
            "cnn" => (new Sequential(new Conv2D(4, 3, padding: "same", activation: "relu", inputShape: [2, 9, 16]), new MaxPooling2D(2, padding: "same"),
                new Conv2D(3, (2, 3), strides: (1, 2), dilation: (2, 1)), new AveragePooling2D(2), new BatchNormalization(), new Flatten(), new Dense(2)), Tensor.RandN([2, 2, 9, 16], g)),
            "conv1d" => (new Sequential(new Conv1D(3, 3, padding: "same", activation: "relu", inputShape: [2, 10]), new Reshape([5, 6]), new Dense(4),
                new Flatten()), Tensor.RandN([2, 2, 10], g)),
            "norms" => (new Sequential(new Input(3, 5, 5), new GlobalMaxPooling2D(), new Dense(7), new LayerNormalization(), new Dense(2)), Tensor.RandN([3, 3, 5, 5], g)),
            "lstm" => (new Sequential(new LSTM(5, returnSequences: true, inputShape: [6, 3]), new LSTM(4), new Dense(2)), Tensor.RandN([2, 6, 3], g)),
            "gru" => (new Sequential(new GRU(5, returnSequences: true, inputShape: [6, 3]), new GRU(4), new Dense(2)), Tensor.RandN([2, 6, 3], g)),
            "rnn" => (new Sequential(new SimpleRNN(5, inputShape: [6, 3]), new Dense(2)), Tensor.RandN([2, 6, 3], g)),
            _ => (new Sequential(new Embedding(9, 4, paddingIndex: 0, inputLength: 5), new Flatten(), new Dense(2)), Tensor.FromArray([1f, 0f, 8f, 3f, 0f, 2f, 2f, 7f, 0f, 5f], 2, 5)),
        };
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Onnx_runtime_matches_nabla(string kind)
    {
        var (model, x) = Make(kind);
        // Make batch-norm statistics and weights non-trivial.
        using (Tensor.NoGrad())
        {
            foreach (var (_, b) in model.NamedBuffers()) if (b.Rank == 1) b.CopyFrom(Tensor.Rand(b.Shape.ToArray(), new Generator(23)) + 0.5f);
        }
        string path = Path.Combine(Path.GetTempPath(), $"nabla-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxExport.Save(model, path);
            float[] expected = model.Predict(x).ToArray();
            using var session = new InferenceSession(path);
            var input = new DenseTensor<float>(x.ToArray(), x.Shape.ToArray());
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
            float[] actual = results.First().AsEnumerable<float>().ToArray();
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * (1 + Math.Abs(expected[i])), $"{kind} element {i}: Nabla {expected[i]}, ONNX Runtime {actual[i]}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Unsupported_layers_are_named()
    {
        var model = new Sequential(new Input(2, 4, 4), new UpSampling2D(2), new Flatten(), new Dense(1));
        var ex = Assert.Throws<NotSupportedException>(() => OnnxExport.Save(model, Path.Combine(Path.GetTempPath(), "x.onnx")));
        Assert.Contains("UpSampling2D", ex.Message);
    }
}
