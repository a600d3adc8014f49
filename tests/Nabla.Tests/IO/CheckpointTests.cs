using Nabla.IO;
using Nabla.Layers;

namespace Nabla.Tests.IO;

/// <summary>Hugging Face-style sharded checkpoints (scripts/make-sharded-fixture.py: two BF16 shards and an index).</summary>
public class CheckpointTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "sharded");

    private static readonly Func<string, string?> PyTorchToNabla = StateDictNames.Rules((@"^model\.encoder\.", "1."), (@"^model\.head\.", "2."));

    private static Sequential Model(int classes = 3)
    {
        var model = new Sequential(new Input(5, 16), new TransformerEncoderLayer(16, 2, feedForward: 32, dropout: 0f), new Dense(classes));
        model.Eval();
        return model;
    }

    [Fact]
    public void A_sharded_bf16_checkpoint_loads_and_reproduces_pytorch()
    {
        var reference = SafeTensors.Load(Path.Combine(Folder, "reference.safetensors"));
        foreach (string path in new[] { Folder, Path.Combine(Folder, Checkpoint.IndexFileName) })
        {
            Sequential model = Model();
            StateDictReport report = model.LoadWeights(path, strict: true, rename: PyTorchToNabla);
            Assert.True(report.IsComplete, report.ToString());
            Assert.Equal(model.StateDict().Count, report.Loaded.Count);
            float[] expected = reference["output"].ToArray(), actual = model.Predict(reference["input"]).ToArray();
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-3 * (1 + Math.Abs(expected[i])), $"element {i}: PyTorch {expected[i]}, Nabla {actual[i]}");
        }
    }

    [Fact]
    public void Bf16_values_convert_exactly()
    {
        var tensors = Checkpoint.Load(Folder);
        Assert.Equal(14, tensors.Count);
        // Every BF16 value is a float32 whose low 16 bits are zero.
        Assert.All(tensors.Values.SelectMany(t => t.ToArray()), v => Assert.Equal(0, BitConverter.SingleToInt32Bits(v) & 0xFFFF));
    }

    [Fact]
    public void Strict_loading_names_every_mismatch_and_non_strict_reports_them()
    {
        var ex = Assert.Throws<ArgumentException>(() => Model(classes: 4).LoadWeights(Folder, strict: true, rename: PyTorchToNabla));
        Assert.Contains("misshaped [2.weight ([3, 16] given, [4, 16] here), 2.bias ([3] given, [4] here)]", ex.Message);

        Sequential model = Model(classes: 4);
        float[] head = model.StateDict()["2.weight"].ToArray();
        StateDictReport report = model.LoadWeights(Folder, strict: false, rename: StateDictNames.Rules((@"^model\.encoder\.", "1."), (@"^model\.head\.", "2."), (@"^1\.norm2\..*", "")));
        Assert.Equal(["2.weight ([3, 16] given, [4, 16] here)", "2.bias ([3] given, [4] here)"], report.Misshaped);
        Assert.Equal(["1.norm2.weight", "1.norm2.bias"], report.Missing);
        Assert.Empty(report.Unexpected);
        Assert.Equal(head, model.StateDict()["2.weight"].ToArray());

        report = Model().LoadWeights(Folder, strict: false);
        Assert.Empty(report.Loaded);
        Assert.Contains("model.head.weight", report.Unexpected);
    }

    [Fact]
    public void A_broken_index_is_refused_by_name()
    {
        string dir = Directory.CreateTempSubdirectory("nabla-ckpt-").FullName;
        try
        {
            foreach (string f in Directory.GetFiles(Folder, "model-*")) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            string index = File.ReadAllText(Path.Combine(Folder, Checkpoint.IndexFileName));
            void Check(string text, string expected)
            {
                File.WriteAllText(Path.Combine(dir, Checkpoint.IndexFileName), text);
                var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(dir));
                Assert.Contains(expected, e.Message);
            }
            Check(index.Replace("\"model-00002-of-00002.safetensors\"", "\"../model-00002-of-00002.safetensors\"", StringComparison.Ordinal), "is not a file name beside the index");
            Check(index.Replace("\"model.head.bias\"", "\"model.head.gone\"", StringComparison.Ordinal), "'model.head.gone' is listed in shard");
            Check(index.Replace("\"model.head.bias\": \"model-00002-of-00002.safetensors\"", "\"model.head.bias\": \"model-00001-of-00002.safetensors\"", StringComparison.Ordinal), "'model.head.bias' is listed in shard 'model-00001");
            Check("{\"weight_map\": 3}", "no \"weight_map\" object");
            Check("{\"weight_map\": {", "not valid JSON");
            Check(index.Replace("model-00002-of-00002", "model-00003-of-00002", StringComparison.Ordinal), "does not exist");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
