using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Nabla.Data;
using Nabla.IO;
using Nabla.Layers;
using Nabla.Tabular;
using Nabla.Training;

namespace Nabla.Tests.Trust;

/// <summary>
/// Fuzzers over what a user hands Nabla, from fixed seeds and bounded in count, time and memory:
/// model files (their bytes, and their JSON metadata field by field), CSV tables through training,
/// and ONNX exports of random architectures checked in ONNX Runtime. A model file is either
/// loaded or refused with an <see cref="InvalidDataException"/>; a table trains or is refused with
/// an error naming the problem; an export gives Nabla's outputs.
/// </summary>
public sealed class ModelFuzzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nabla-fuzz").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, true);
        GC.SuppressFinalize(this);
    }

    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(40);

    /// <summary>A classifier saved by the tabular trainer: architecture, compile settings, optimizer state and preprocessing.</summary>
    private (string Model, string Csv) Trained()
    {
        var lines = new List<string> { "a,b,kind,label" };
        var g = new Random(4);
        for (int i = 0; i < 60; i++)
        {
            double a = g.NextDouble(), b = g.NextDouble();
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{a:F3},{b:F3},{(i % 3 == 0 ? "x" : "y")},{(a + b > 1 ? "hi" : "lo")}"));
        }
        string csv = Path.Combine(_dir, "t.csv"), model = Path.Combine(_dir, "t.nabla");
        File.WriteAllText(csv, string.Join("\n", lines));
        var result = TabularTrainer.Train(CsvTable.Read(csv), new TabularOptions("label", Hidden: [6], Epochs: 2), TextWriter.Null);
        ModelFile.Save(result.Model, model, includeOptimizer: true, extra: new Dictionary<string, string> { ["preprocessing"] = result.Preprocessing.ToJson().ToJsonString() });
        return (model, csv);
    }

    /// <summary>Loads and, when that works, predicts: only InvalidDataException may come out, within a memory bound.</summary>
    private static void LoadAndPredict(string path, CsvTable rows, string what)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            var saved = TabularTrainer.Load(path);
            var (predictions, confidence) = TabularTrainer.Predict(saved, rows);
            Assert.All(confidence, c => Assert.InRange(c, 0f, 1f));
            Assert.All(predictions, p => Assert.Contains(p, saved.Preprocessing.Classes));
        }
        catch (InvalidDataException)
        {
        }
        catch (ArgumentException e) when (e.Message.Contains("there is no column", StringComparison.Ordinal))
        {
            // The file loaded with a feature column renamed: the table lacks it, and predict says so.
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name}: {e.Message}");
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64L << 20, $"{what}: allocated {allocated:N0} bytes");
    }

    [Fact]
    public void Model_files_survive_mutated_bytes()
    {
        var (model, csv) = Trained();
        byte[] valid = File.ReadAllBytes(model);
        var rows = CsvTable.Read(csv);
        var g = new Generator(77);
        var clock = Stopwatch.StartNew();
        string path = Path.Combine(_dir, "mutant.nabla");
        for (int it = 0; it < 300 && clock.Elapsed < Budget; it++)
        {
            byte[] bytes = (byte[])valid.Clone();
            int edits = 1 + g.NextInt(4);
            for (int e = 0; e < edits; e++)
            {
                // Most edits land in the header (JSON: sizes, names, settings), some in the weights.
                int at = g.NextInt(3) < 2 ? g.NextInt(Math.Min(bytes.Length, 4096)) : g.NextInt(bytes.Length);
                bytes[at] = (byte)"0123456789-e.,:\"[]{}x \u0001\u00ff"[g.NextInt(22)];
            }
            File.WriteAllBytes(path, bytes);
            LoadAndPredict(path, rows, $"iteration {it}");
        }
    }

    private static readonly JsonNode?[] Replacements =
    [
        0, -1, 1, 2, 7, 2147483647, -2147483648, 300_000_000, 1e30, 0.5, -0.5, double.MaxValue, "x", "Dense", "relu", "", null, true, new JsonArray(), new JsonObject(), new JsonArray(2147483647),
    ];

    /// <summary>Every node of a JSON tree with the object or array holding it and its key or index.</summary>
    private static List<(JsonNode Parent, object Key)> Slots(JsonNode node)
    {
        var slots = new List<(JsonNode, object)>();
        void Walk(JsonNode n)
        {
            if (n is JsonObject o)
            {
                foreach (var (k, v) in o.ToList())
                {
                    slots.Add((o, k));
                    if (v is not null) Walk(v);
                }
            }
            else if (n is JsonArray a)
            {
                for (int i = 0; i < a.Count; i++)
                {
                    slots.Add((a, i));
                    if (a[i] is { } v) Walk(v);
                }
            }
        }
        Walk(node);
        return slots;
    }

    /// <summary>
    /// <paramref name="json"/> with the node in slot <paramref name="slot"/> (of <see cref="Slots"/>)
    /// replaced by replacement <paramref name="replacement"/>, or removed when that is one past the last.
    /// </summary>
    private static string Mutant(string json, int slot, int replacement)
    {
        JsonNode root = JsonNode.Parse(json)!;
        var (parent, key) = Slots(root)[slot];
        JsonNode? value = replacement < Replacements.Length ? Replacements[replacement]?.DeepClone() : null;
        if (parent is JsonObject o)
        {
            if (replacement == Replacements.Length) o.Remove((string)key);
            else o[(string)key] = value;
        }
        else if (parent is JsonArray a)
        {
            if (replacement == Replacements.Length) a.RemoveAt((int)key);
            else a[(int)key] = value;
        }
        return root.ToJsonString();
    }

    [Fact]
    public void Model_files_survive_mutated_metadata_field_by_field()
    {
        var (model, csv) = Trained();
        var (tensors, metadata) = SafeTensors.LoadWithMetadata(model);
        var rows = CsvTable.Read(csv);
        var g = new Generator(78);
        var clock = Stopwatch.StartNew();
        string path = Path.Combine(_dir, "mutant.nabla");
        string[] keys = ["architecture", "compile", "optimizer", "preprocessing", "training"];
        metadata["training"] = "{\"epoch\":3,\"generator\":[\"1\",\"2\",\"3\",\"4\"]}";
        // First every field of every entry, one at a time, with each replacement and removed.
        int sweeps = 0;
        foreach (string key in keys)
        {
            int slotCount = Slots(JsonNode.Parse(metadata[key])!).Count;
            for (int s = 0; s < slotCount; s++)
            {
                for (int r = 0; r <= Replacements.Length; r++)
                {
                    var edited = new Dictionary<string, string>(metadata) { [key] = Mutant(metadata[key], s, r) };
                    SafeTensors.Save(path, tensors, edited);
                    LoadAndPredict(path, rows, $"{key}: {edited[key]}");
                    sweeps++;
                }
            }
        }
        Assert.True(sweeps > 1000, $"{sweeps} single edits");
        // Then several edits at once, at random.
        for (int it = 0; it < 600 && clock.Elapsed < Budget; it++)
        {
            var edited = new Dictionary<string, string>(metadata);
            // Half the edits go to the architecture, where a size can ask for gigabytes.
            string key = g.NextInt(2) == 0 ? "architecture" : keys[g.NextInt(keys.Length)];
            JsonNode root = JsonNode.Parse(edited[key])!;
            var slots = Slots(root);
            for (int e = 0; e < 1 + g.NextInt(2) && slots.Count > 0; e++)
            {
                var (parent, slot) = slots[g.NextInt(slots.Count)];
                JsonNode? value = Replacements[g.NextInt(Replacements.Length)]?.DeepClone();
                if (parent is JsonObject o)
                {
                    if (g.NextInt(4) == 0) o.Remove((string)slot);
                    else o[(string)slot] = value;
                }
                else if (parent is JsonArray a && (int)slot < a.Count)
                {
                    if (g.NextInt(4) == 0) a.RemoveAt((int)slot);
                    else a[(int)slot] = value;
                }
                slots = Slots(root);
            }
            edited[key] = root.ToJsonString();
            SafeTensors.Save(path, tensors, edited);
            LoadAndPredict(path, rows, $"iteration {it} ({key}: {edited[key]})");
            if (key == "training" || it % 10 == 0)
            {
                try
                {
                    ModelFile.LoadCheckpoint(path);
                }
                catch (InvalidDataException)
                {
                }
            }
        }
    }

    [Fact]
    public void Functional_model_files_survive_mutated_graphs_field_by_field()
    {
        Generator.ManualSeed(90);
        var words = new Input("words", 5);
        var numbers = new Input("numbers", 3);
        var text = new LSTM(4).Apply(new Embedding(9, 3, paddingIndex: 0).Apply(words));
        var shared = new Dense(4, "tanh");
        var joined = new Concatenate().Apply(text, new Add().Apply(shared.Apply(numbers), shared.Apply(numbers)));
        var model = new Model([words, numbers], [new Dense(2, name: "cls").Apply(joined), new Dot(normalize: true, name: "sim").Apply(text, shared.Apply(numbers))], "fuzzed");
        model.Compile(["mse", "mae"], new Nabla.Optimizers.Adam(), lossWeights: [1f, 0.5f], metrics: [["mae"], []]);
        string original = Path.Combine(_dir, "functional.nabla"), path = Path.Combine(_dir, "functional-mutant.nabla");
        model.Save(original, includeOptimizer: true);
        var (tensors, metadata) = SafeTensors.LoadWithMetadata(original);
        var clock = Stopwatch.StartNew();
        int sweeps = 0;
        foreach (string key in new[] { "architecture", "compile" })
        {
            int slotCount = Slots(JsonNode.Parse(metadata[key])!).Count;
            for (int s = 0; s < slotCount && clock.Elapsed < Budget; s++)
            {
                for (int r = 0; r <= Replacements.Length; r++)
                {
                    var edited = new Dictionary<string, string>(metadata) { [key] = Mutant(metadata[key], s, r) };
                    SafeTensors.Save(path, tensors, edited);
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    try
                    {
                        var loaded = Model.Load(path);
                        // Zeros are valid ids for any embedding; the loaded graph's own input shapes.
                        var inputs = loaded.Graph!.Inputs.Select(i => Tensor.Zeros([2, .. i.Shape])).ToArray();
                        Assert.All(loaded.Predict(inputs), y => Assert.All(y.ToArray(), v => Assert.False(float.IsNaN(v))));
                    }
                    catch (InvalidDataException e)
                    {
                        Assert.Contains(path, e.Message);
                    }
                    catch (Exception e)
                    {
                        Assert.Fail($"{key}: {edited[key]}: {e.GetType().Name}: {e.Message}");
                    }
                    Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 256L << 20, $"{key}: {edited[key]}: allocated too much");
                    sweeps++;
                }
            }
        }
        Assert.True(sweeps > 500, $"{sweeps} single edits");
    }

    [Fact]
    public void Tables_with_mutated_cells_train_or_name_their_problem()
    {
        var lines = new List<string> { "a,b,kind,label" };
        var g = new Generator(79);
        for (int i = 0; i < 24; i++) lines.Add(string.Create(CultureInfo.InvariantCulture, $"{g.NextDouble():F2},{g.NextDouble():F2},{(i % 2 == 0 ? "x" : "y")},{(i % 3 == 0 ? "p" : "q")}"));
        string[] cells = ["abc", "Infinity", "-Infinity", "1e39", "NaN", "", "\"1,5\"", "3e38", "-0", "x", "\"\"", " 7 ", "1e-45"];
        var clock = Stopwatch.StartNew();
        for (int it = 0; it < 150 && clock.Elapsed < Budget; it++)
        {
            var rows = lines.Select(l => l.Split(',')).ToList();
            for (int e = 0; e < 1 + g.NextInt(3); e++)
            {
                int r = 1 + g.NextInt(rows.Count - 1);
                rows[r][g.NextInt(4)] = cells[g.NextInt(cells.Length)];
            }
            string text = string.Join("\n", rows.Select(r => string.Join(",", r)));
            try
            {
                var table = CsvTable.Parse(new StringReader(text), "fuzz.csv");
                var result = TabularTrainer.Train(table, new TabularOptions("label", Hidden: [4], Epochs: 1, Validation: 0f), TextWriter.Null);
                Assert.True(double.IsFinite(result["test_loss"]), $"iteration {it}: test loss {result["test_loss"]} for\n{text}");
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException)
            {
                Assert.Contains("fuzz.csv", e.Message);
            }
        }
    }

    /// <summary>A random small architecture and an input for it.</summary>
    private static (Sequential Model, Tensor X) RandomModel(Generator g)
    {
        string[] activations = ["linear", "relu", "tanh", "sigmoid", "gelu", "elu", "softplus", "silu", "leaky_relu"];
        string Act() => activations[g.NextInt(activations.Length)];
        RecurrentLayer Rnn(int units, bool sequences) => g.NextInt(3) switch
        {
            0 => new LSTM(units, sequences),
            1 => new GRU(units, sequences),
            _ => new SimpleRNN(units, Act() is "linear" or "gelu" ? Activations.Tanh : Activations.Get(Act()), sequences),
        };
        Layer Recurrent(int units, bool sequences) => g.NextInt(2) == 0 ? Rnn(units, sequences) : new Bidirectional(Rnn(units, sequences));
        int n = 1 + g.NextInt(3);
        switch (g.NextInt(4))
        {
            case 0:
                {
                    int f = 1 + g.NextInt(6);
                    var m = new Sequential(new Input(f));
                    for (int i = 0; i < 1 + g.NextInt(3); i++)
                    {
                        m.Add(new Dense(1 + g.NextInt(6), Act()));
                        if (g.NextInt(3) == 0) m.Add(g.NextInt(2) == 0 ? new Dropout(0.3f) : new LayerNormalization());
                    }
                    return (m, Tensor.RandN([n, f], g));
                }
            case 1:
                {
                    int vocab = 6 + g.NextInt(5), t = 2 + g.NextInt(5);
                    var m = new Sequential(new Embedding(vocab, 1 + g.NextInt(4), paddingIndex: g.NextInt(2) == 0 ? 0 : null, inputLength: t));
                    bool two = g.NextInt(2) == 0;
                    if (two) m.Add(Recurrent(1 + g.NextInt(4), true));
                    bool sequences = g.NextInt(2) == 0;
                    m.Add(Recurrent(1 + g.NextInt(4), sequences));
                    if (sequences) m.Add(new Flatten());
                    m.Add(new Dense(2));
                    var ids = new float[n * t];
                    for (int i = 0; i < ids.Length; i++) ids[i] = g.NextInt(3) == 0 ? 0 : g.NextInt(vocab);
                    return (m, Tensor.FromArray(ids, n, t));
                }
            case 2:
                {
                    int c = 1 + g.NextInt(3), length = 6 + g.NextInt(6), k = 1 + g.NextInt(3);
                    ConvPadding padding = g.NextInt(3) switch { 0 => "same", 1 => "valid", _ => g.NextInt(3) };
                    var m = new Sequential(new Conv1D(1 + g.NextInt(4), k, strides: 1 + g.NextInt(2), padding: padding, activation: Act(), inputShape: [c, length]));
                    if (g.NextInt(2) == 0) m.Add(g.NextInt(2) == 0 ? new MaxPooling1D(2, padding: "same") : new AveragePooling1D(2, padding: "same"));
                    m.Add(g.NextInt(3) switch { 0 => new GlobalAveragePooling1D(), 1 => new GlobalMaxPooling1D(), _ => new Flatten() });
                    m.Add(new Dense(2));
                    return (m, Tensor.RandN([n, c, length], g));
                }
            default:
                {
                    int c = 1 + g.NextInt(2), h = 5 + g.NextInt(4), w = 5 + g.NextInt(4);
                    var m = new Sequential(new Conv2D(1 + g.NextInt(3), 1 + g.NextInt(3), padding: g.NextInt(2) == 0 ? "same" : g.NextInt(2), activation: Act(), inputShape: [c, h, w]));
                    if (g.NextInt(2) == 0) m.Add(g.NextInt(2) == 0 ? new MaxPooling2D(2, padding: "same") : new AveragePooling2D(2, padding: "same"));
                    if (g.NextInt(2) == 0) m.Add(new BatchNormalization());
                    m.Add(g.NextInt(2) == 0 ? new GlobalMaxPooling2D() : new Flatten());
                    m.Add(new Dense(2));
                    return (m, Tensor.RandN([n, c, h, w], g));
                }
        }
    }

    [Fact]
    public void Onnx_exports_of_random_architectures_give_nablas_outputs()
    {
        var g = new Generator(80);
        Generator.ManualSeed(81);
        var clock = Stopwatch.StartNew();
        string path = Path.Combine(_dir, "random.onnx");
        int checkedModels = 0;
        for (int it = 0; it < 60 && clock.Elapsed < Budget; it++)
        {
            var (model, x) = RandomModel(g);
            float[] expected = model.Predict(x).ToArray();
            string architecture = string.Join(" > ", model.Layers.Select(l => l is Bidirectional b ? $"Bidirectional({b.Forwards.TypeName})" : l.TypeName));
            try
            {
                OnnxExport.Save(model, path);
            }
            catch (NotSupportedException e)
            {
                Assert.Fail($"iteration {it} ({architecture}): {e.Message}");
            }
            using var session = new InferenceSession(path);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x.ToArray(), x.Shape.ToArray()))]);
            float[] actual = results.First().AsEnumerable<float>().ToArray();
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * (1 + Math.Abs(expected[i])), $"iteration {it} ({architecture}) element {i}: Nabla {expected[i]}, ONNX Runtime {actual[i]}");
            checkedModels++;
        }
        Assert.True(checkedModels >= 20, $"only {checkedModels} models checked in the time budget");
    }
}
