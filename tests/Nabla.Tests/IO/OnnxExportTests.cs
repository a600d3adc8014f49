using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Nabla.IO;
using Nabla.Layers;

namespace Nabla.Tests.IO;

/// <summary>Exported models run in ONNX Runtime and give Nabla's outputs within 1e-4.</summary>
public class OnnxExportTests
{
    public static IEnumerable<object[]> Models() => [["mlp"], ["activations"], ["cnn"], ["conv1d"], ["norms"], ["embedding"], ["lstm"], ["gru"], ["rnn"],
        ["rnn-relu"], ["bidirectional"], ["transformer"], ["transformer-masked"], ["attention-causal"], ["masked-lstm"], ["masked-gru"], ["masked-rnn"], ["masked-bidirectional-lstm"], ["masked-bidirectional-gru"]];

    /// <summary>Token ids with padding (0) at the end, at the start and in the middle of rows, and a row with none.</summary>
    private static Tensor PaddedIds() => Tensor.FromArray([3f, 5f, 1f, 0f, 0f, 0f, 0f, 0f, 7f, 2f, 6f, 0f, 4f, 0f, 8f, 1f, 2f, 3f, 4f, 5f], 4, 5);

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
            "rnn-relu" => (new Sequential(new SimpleRNN(4, "relu", returnSequences: true, inputShape: [5, 3]), new Flatten(), new Dense(2)), Tensor.RandN([2, 5, 3], g)),
            "bidirectional" => (new Sequential(new Input(6, 3), new Bidirectional(new LSTM(4, returnSequences: true)), new Bidirectional(new GRU(3)), new Dense(2)), Tensor.RandN([2, 6, 3], g)),
            "transformer" => (new Sequential(new Input(5), new TokenAndPositionEmbedding(9, 5, 8), new TransformerEncoderLayer(8, 2, feedForward: 12, dropout: 0f, activation: "gelu", normFirst: true, causal: true),
                new TransformerEncoderLayer(8, 2, feedForward: 12, dropout: 0f), new LayerNormalization(1e-5f), new Dense(9)), PaddedIds().Slice(0, 3).Contiguous() + 1f),
            "transformer-masked" => (new Sequential(new Input(5), new TokenAndPositionEmbedding(9, 5, 8, paddingIndex: 0), new TransformerEncoderLayer(8, 2, feedForward: 12, dropout: 0f),
                new Flatten(), new Dense(2)), PaddedIds()),
            "attention-causal" => (new Sequential(new Input(6, 4), new MultiHeadAttention(4, 2, causal: true), new PositionalEmbedding(6, 4), new Dense(3, "relu")), Tensor.RandN([2, 6, 4], g)),
            "masked-lstm" => (new Sequential(new Embedding(9, 4, paddingIndex: 0, inputLength: 5), new LSTM(3), new Dense(2)), PaddedIds()),
            "masked-gru" => (new Sequential(new Embedding(9, 4, paddingIndex: 0, inputLength: 5), new Dropout(0.3f), new GRU(3, returnSequences: true), new Flatten(), new Dense(2)), PaddedIds()),
            "masked-rnn" => (new Sequential(new Embedding(9, 4, paddingIndex: 0, inputLength: 5), new SimpleRNN(3), new Dense(2)), PaddedIds()),
            "masked-bidirectional-lstm" => (new Sequential(new Embedding(9, 4, paddingIndex: 0, inputLength: 5), new Bidirectional(new LSTM(3, returnSequences: true)), new Flatten(), new Dense(2)), PaddedIds()),
            "masked-bidirectional-gru" => (new Sequential(new Embedding(9, 4, paddingIndex: 0, inputLength: 5), new Bidirectional(new GRU(3)), new Dense(2)), PaddedIds()),
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

    /// <summary>A table of two numeric columns and a text one; the label is a class or a number.</summary>
    private static string TableCsv(bool regression, int rows)
    {
        var g = new Random(5);
        var lines = new List<string> { "width,colour,height,label" };
        for (int i = 0; i < rows; i++)
        {
            double w = g.NextDouble() * 10, h = g.NextDouble() * 3 - 1;
            string colour = new[] { "red", "green", "blue" }[g.Next(3)];
            string label = regression
                ? (w * 0.5 + h + (colour == "red" ? 2 : 0)).ToString("F3", System.Globalization.CultureInfo.InvariantCulture)
                : (w > 5 ? (colour == "blue" ? "big-blue" : "big") : "small");
            lines.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{w:F3},{colour},{h:F3},{label}"));
        }
        return string.Join("\n", lines) + "\n";
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_tabular_model_exports_its_whole_pipeline_and_onnx_runtime_alone_reproduces_predict(bool regression)
    {
        string dir = Directory.CreateTempSubdirectory("nabla-onnx-pipeline").FullName;
        try
        {
            string csv = Path.Combine(dir, "table.csv"), modelPath = Path.Combine(dir, "m.nabla"), onnx = Path.Combine(dir, "m.onnx");
            File.WriteAllText(csv, TableCsv(regression, 120));
            var table = Nabla.Data.CsvTable.Read(csv);
            Nabla.Tabular.TabularTrainer.Train(table, new Nabla.Tabular.TabularOptions("label", Epochs: 5, SavePath: modelPath), TextWriter.Null);
            var saved = Nabla.Tabular.TabularTrainer.Load(modelPath);
            Nabla.Tabular.TabularOnnxPipeline.Save(saved.Model, onnx, saved.Preprocessing);

            // New rows, raw as in a CSV, with a colour the training rows never had (encodes as all zeros).
            string fresh = Path.Combine(dir, "new.csv");
            File.WriteAllText(fresh, "width,colour,height\n1.5,red,0.2\n7.25,blue,-0.75\n9.0,purple,1.5\n4.0, green ,0\n");
            var rows = Nabla.Data.CsvTable.Read(fresh);
            var (predictions, confidence) = Nabla.Tabular.TabularTrainer.Predict(saved, rows);

            using var session = new InferenceSession(onnx);
            int n = rows.Rows.Count;
            var inputs = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor("width", new DenseTensor<float>(rows.Rows.Select(r => float.Parse(r[0], System.Globalization.CultureInfo.InvariantCulture)).ToArray(), [n, 1])),
                NamedOnnxValue.CreateFromTensor("colour", new DenseTensor<string>(rows.Rows.Select(r => r[1].Trim()).ToArray(), [n, 1])),
                NamedOnnxValue.CreateFromTensor("height", new DenseTensor<float>(rows.Rows.Select(r => float.Parse(r[2], System.Globalization.CultureInfo.InvariantCulture)).ToArray(), [n, 1])),
            };
            using var results = session.Run(inputs);
            var byName = results.ToDictionary(r => r.Name);
            if (regression)
            {
                float[] values = byName["prediction"].AsEnumerable<float>().ToArray();
                for (int i = 0; i < n; i++)
                {
                    float expected = float.Parse(predictions[i], System.Globalization.CultureInfo.InvariantCulture);
                    Assert.True(Math.Abs(values[i] - expected) <= 1e-4 * (1 + Math.Abs(expected)), $"row {i}: predict {expected}, ONNX Runtime {values[i]}");
                }
                Assert.Equal("regression", session.ModelMetadata.CustomMetadataMap["task"]);
            }
            else
            {
                Assert.Equal(predictions, byName["label"].AsEnumerable<string>().ToArray());
                float[] probability = byName["probability"].AsEnumerable<float>().ToArray();
                for (int i = 0; i < n; i++) Assert.True(Math.Abs(probability[i] - confidence[i]) <= 1e-5, $"row {i}: predict {confidence[i]}, ONNX Runtime {probability[i]}");
                float[] all = byName["probabilities"].AsEnumerable<float>().ToArray();
                Assert.Equal(n * saved.Preprocessing.Classes.Count, all.Length);
                Assert.Equal("[\"big\",\"big-blue\",\"small\"]", session.ModelMetadata.CustomMetadataMap["classes"]);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
