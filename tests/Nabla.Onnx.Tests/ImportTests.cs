using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Nabla.Data;
using Nabla.IO;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Metrics;
using Nabla.Optimizers;

namespace Nabla.Onnx.Tests;

/// <summary>Models exported by PyTorch (scripts/make-onnx-fixtures.py) and by Nabla, imported and checked against ONNX Runtime.</summary>
public class ImportTests
{
    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>ONNX Runtime's output for one float input.</summary>
    internal static float[] RuntimeOutput(string path, string input, Tensor x)
    {
        using var session = new InferenceSession(path);
        var value = new DenseTensor<float>(x.ToArray(), x.Shape.ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, value)]);
        return [.. results.First().AsEnumerable<float>()];
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])), $"{what} element {i}: ONNX Runtime {expected[i]}, Nabla {actual[i]}");
    }

    [SkippableFact]
    public void Fashion_cnn_from_pytorch_matches_onnx_runtime_saves_and_reloads()
    {
        Skip.IfNot(FashionMnist.Find() is not null, "Fashion-MNIST is not installed (scripts/install-data.sh).");
        var (_, test) = FashionMnist.Load();
        Tensor x = test.Images.Slice(0, 0, 256).Contiguous();
        string path = Fixture("fashion_cnn.onnx");
        Model model = OnnxImport.Load(path);
        float[] nabla = model.Predict(x).ToArray();
        AssertClose(RuntimeOutput(path, "image", x), nabla, 1e-5, "fashion_cnn");

        // PyTorch's state-dict names survive (the convolution of the first block).
        Assert.Contains(model.NamedParameters(), p => p.Name.EndsWith("0.weight", StringComparison.Ordinal) || p.Name.Contains("Conv", StringComparison.Ordinal));
        string saved = Path.Combine(Path.GetTempPath(), $"nabla-onnx-{Guid.NewGuid():N}.nabla");
        try
        {
            model.Save(saved);
            Model reloaded = Model.Load(saved);
            Assert.Equal(nabla, reloaded.Predict(x).ToArray());
        }
        finally
        {
            File.Delete(saved);
        }
    }

    [SkippableFact]
    public void Imported_cnn_fine_tunes_and_keeps_its_accuracy()
    {
        Skip.IfNot(FashionMnist.Find() is not null, "Fashion-MNIST is not installed (scripts/install-data.sh).");
        var (train, test) = FashionMnist.Load();
        Model model = OnnxImport.Load(Fixture("fashion_cnn.onnx"));
        model.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), new Adam(1e-4f), new Accuracy());
        float before = model.Evaluate(test.Images, test.Labels, batchSize: 256)["accuracy"];
        Assert.True(before >= 0.90f, $"the PyTorch model's test accuracy is {before}");
        // Every parameter gets a gradient and moves.
        var first = model.Parameters().Select(p => p.Value.ToArray()).ToList();
        var history = model.Fit(train.Images, train.Labels, epochs: 1, batchSize: 64, verbose: 0);
        var moved = model.Parameters().Select((p, k) => !p.Value.ToArray().SequenceEqual(first[k])).ToList();
        Assert.All(moved, Assert.True);
        float after = model.Evaluate(test.Images, test.Labels, batchSize: 256)["accuracy"];
        Console.WriteLine($"fashion_cnn from PyTorch: test accuracy {before:F4}, after one epoch of fine-tuning in Nabla {after:F4}");
        Assert.True(after >= 0.91f, $"test accuracy after one epoch of fine-tuning: {after} (before {before}, loss {history["loss"][^1]})");
    }

    [Theory]
    [InlineData("lstm.onnx")]
    [InlineData("gru.onnx")]
    public void Recurrent_models_from_pytorch_match_onnx_runtime(string file)
    {
        string path = Fixture(file);
        Model model = OnnxImport.Load(path);
        Tensor x = Tensor.RandN([5, 12, 8], new Generator(3));
        AssertClose(RuntimeOutput(path, "sequence", x), model.Predict(x).ToArray(), 1e-5, file);
    }

    [Fact]
    public void A_nabla_export_reimported_predicts_bit_identically()
    {
        var g = new Generator(11);
        var source = new Sequential(new Input(1, 8, 8), new Conv2D(4, 3, padding: "same", activation: "relu"), new MaxPooling2D(2),
            new Flatten(), new Dense(16, "tanh"), new Dense(3, "softmax"));
        Tensor x = Tensor.Rand([6, 1, 8, 8], g);
        float[] expected = source.Predict(x).ToArray();
        string path = Path.Combine(Path.GetTempPath(), $"nabla-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxExport.Save(source, path);
            Model imported = OnnxImport.Load(path);
            Assert.Equal(expected, imported.Predict(x).ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_frozen_imported_base_feeds_a_new_head_then_unfreezes()
    {
        var features = new OnnxGraphLayer(OnnxGraph.Load(Fixture("fashion_cnn.onnx")), output: "/10/Relu_output_0", name: "base");
        var image = new Input("image", 1, 28, 28);
        var head = new Dense(4, name: "head");
        var model = new Model(image, head.Apply(features.Apply(image)));
        Tensor x = Tensor.Rand([32, 1, 28, 28], new Generator(1)), y = Tensor.FromArray([.. Enumerable.Range(0, 32).Select(i => (float)(i % 4))]);
        Assert.Equal([32, 4], model.Predict(x).Shape.ToArray());
        Assert.Equal([2, 64], features.Forward(x.Slice(0, 0, 2)).Shape.ToArray());
        float[] Base() => [.. features.Parameters().SelectMany(p => p.Value.ToArray())];
        float[] before = Base(), headBefore = head.Parameters().First().Value.ToArray();

        features.Trainable = false;
        model.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), new Adam(1e-2f));
        model.Fit(x, y, epochs: 2, batchSize: 8, verbose: 0);
        Assert.Equal(before, Base());
        Assert.NotEqual(headBefore, head.Parameters().First().Value.ToArray());

        features.Trainable = true;
        model.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), new Adam(1e-3f));
        model.Fit(x, y, epochs: 1, batchSize: 8, verbose: 0);
        Assert.NotEqual(before, Base());
        Assert.Throws<ArgumentException>(() => new OnnxGraphLayer(OnnxGraph.Load(Fixture("fashion_cnn.onnx")), output: "nowhere"));
    }
}
