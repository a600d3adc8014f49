using System.Text.Json.Nodes;
using Nabla.Callbacks;
using Nabla.Data;
using Nabla.IO;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Tests.Layers;

namespace Nabla.Tests.Models;

/// <summary>A layer defined outside Nabla: y = x * factor + shift, with a trainable shift.</summary>
public sealed class ScaleAndShift(float factor, string? name = null) : Layer(name), IOnnxExportable
{
    public string ExportOnnx(OnnxExport.Graph graph, string input) =>
        graph.Op("Add", [graph.Op("Mul", [input, graph.Constant("factor", Tensor.Scalar(Factor))]), graph.Constant("shift", Shift!.Value)]);

    public float Factor { get; } = factor;

    public Parameter? Shift { get; private set; }

    protected override void Build(ReadOnlySpan<int> inputShape) => Shift = AddParameter("shift", Tensor.Zeros(inputShape[^1]));

    protected override Tensor Call(Tensor input) => input * Factor + Shift!;

    public override JsonObject GetConfig() => new() { ["factor"] = Factor };

    public static ScaleAndShift FromConfig(ConfigReader c) => new(c.Float("factor"));
}

/// <summary>A layer that never registered: it cannot be saved with its architecture.</summary>
public sealed class Unregistered() : Layer(null)
{
    protected override Tensor Call(Tensor input) => input;

    public override JsonObject GetConfig() => new();
}

/// <summary>A subclassed model: a residual MLP written as code, with a train step that counts its calls.</summary>
public sealed class CountingResidualModel : Model
{
    private readonly Dense _hidden, _out;

    public CountingResidualModel() : base("counting")
    {
        _hidden = AddModule("hidden", new Dense(3, "tanh"));
        _out = AddModule("out", new Dense(1));
    }

    public int Steps { get; private set; }

    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> inputs) => [_out.Forward(_hidden.Forward(inputs[0]) + inputs[0])];

    protected override float TrainStep(DataBatch batch)
    {
        Steps++;
        return base.TrainStep(batch);
    }
}

/// <summary>What a model's parts say about themselves: configs, the layer catalog, frozen layers, custom steps, schedules, streaming data.</summary>
public class ModelProtocolTests
{
    static ModelProtocolTests() => LayerCatalog.Register(ScaleAndShift.FromConfig);

    private static string TempPath(string extension) => Path.Combine(Path.GetTempPath(), $"nabla-{Guid.NewGuid():N}{extension}");

    [Theory]
    [MemberData(nameof(LayerCases.Cases), MemberType = typeof(LayerCases))]
    public void Every_built_in_layer_round_trips_through_its_config_and_a_json_description(string name)
    {
        var entry = LayerCases.Get(name);
        Generator.ManualSeed(20);
        Layer layer = entry.Make();
        JsonObject json = LayerCatalog.ToJson(layer);
        Layer copy = LayerCatalog.FromJson(json);
        Assert.Equal(layer.GetType(), copy.GetType());
        Assert.Equal(json.ToJsonString(), LayerCatalog.ToJson(copy).ToJsonString());

        // The hand-written description: {"type": ..., arguments...} rebuilds the same layer.
        var spec = new JsonObject { ["type"] = json["type"]!.DeepClone() };
        foreach (var (key, value) in (JsonObject)json["config"]!) spec[key] = value?.DeepClone();
        var parsed = Assert.Single(ModelDescription.ParseLayers(new JsonArray(spec).ToJsonString(), "test.json"));
        Assert.Equal(json["config"]!.ToJsonString(), LayerCatalog.ToJson(parsed)["config"]!.ToJsonString());

        // Same weights, same outputs.
        Tensor x = entry.MakeInput(new Generator(21));
        layer.Eval();
        copy.Eval();
        Tensor y = layer.Forward(x);
        copy.Forward(x);
        copy.LoadStateDict(layer.StateDict());
        Assert.Equal(y.ToArray(), copy.Forward(x).ToArray());
    }

    [Fact]
    public void A_user_layer_registered_once_saves_and_loads_with_its_architecture_and_in_descriptions()
    {
        Generator.ManualSeed(22);
        var model = new Sequential(new Input(3), new ScaleAndShift(2.5f), new Dense(2));
        using (Tensor.NoGrad()) ((ScaleAndShift)model.Layers[1]).Shift!.Value.CopyFrom(Tensor.FromArray([0.5f, -1f, 2f]));
        Tensor x = Tensor.RandN([4, 3], new Generator(23));
        string path = TempPath(".nabla");
        try
        {
            model.Save(path);
            var loaded = Sequential.Load(path);
            var layer = Assert.IsType<ScaleAndShift>(loaded.Layers[1]);
            Assert.Equal(2.5f, layer.Factor);
            Assert.Equal(model.Predict(x).ToArray(), loaded.Predict(x).ToArray());
        }
        finally
        {
            File.Delete(path);
        }

        // It exports to ONNX through IOnnxExportable, and ONNX Runtime agrees.
        string onnx = TempPath(".onnx");
        try
        {
            OnnxExport.Save(model, onnx);
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx);
            using var results = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor("input", new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(x.ToArray(), [4, 3]))]);
            float[] want = model.Predict(x).ToArray(), got = results.Single().AsEnumerable<float>().ToArray();
            for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], got[i], 4);
        }
        finally
        {
            File.Delete(onnx);
        }

        var described = ModelDescription.ParseLayers("""[{ "type": "ScaleAndShift", "factor": 3 }, { "type": "Dense", "units": 1 }]""", "m.json");
        Assert.Equal(3f, Assert.IsType<ScaleAndShift>(described[0]).Factor);
        Assert.Contains("missing argument 'factor'", Assert.Throws<InvalidDataException>(() => ModelDescription.ParseLayers("""[{ "type": "ScaleAndShift" }]""", "m.json")).Message);
        Assert.Contains("unknown argument 'factr'; ScaleAndShift takes factor, name", Assert.Throws<InvalidDataException>(() => ModelDescription.ParseLayers("""[{ "type": "ScaleAndShift", "factr": 2 }]""", "m.json")).Message);

        // A type that never registered is refused with the way out named.
        var unregistered = new Sequential(new Input(2), new Unregistered());
        var error = Assert.Throws<NotSupportedException>(() => unregistered.Save(TempPath(".nabla")));
        Assert.Contains("LayerCatalog.Register<Unregistered>", error.Message);
        Assert.Throws<ArgumentException>(() => LayerCatalog.Register(c => new Unregistered(), "Dense"));
    }

    [Fact]
    public void A_frozen_layer_gets_no_update_and_counts_as_non_trainable()
    {
        Generator.ManualSeed(24);
        var base_ = new Dense(8, "relu", name: "base");
        var model = new Sequential(new Input(4), base_, new Dense(1, name: "head"));
        base_.Trainable = false;
        float[] before = base_.Weight!.Value.ToArray();
        float[] headBefore = model.Layers[2].Parameters().First().Value.ToArray();
        var g = new Generator(25);
        model.Compile("mse", new Adam(0.05f) { WeightDecay = 0.1f });
        model.Fit(Tensor.RandN([64, 4], g), Tensor.RandN([64, 1], g), epochs: 3, batchSize: 16, verbose: 0);
        Assert.Equal(before, base_.Weight.Value.ToArray());
        Assert.NotEqual(headBefore, model.Layers[2].Parameters().First().Value.ToArray());
        var (trainable, frozen) = model.ParameterCounts();
        Assert.Equal(9, trainable);
        Assert.Equal(40, frozen);
        Assert.Contains("Non-trainable params: 40", model.Summary(TextWriter.Null));

        // Frozen before it is built, and saved frozen.
        var late = new Dense(3) { Trainable = false };
        var m2 = new Sequential(new Input(2), late);
        Assert.All(late.Parameters(), p => Assert.False(p.Trainable));
        string path = TempPath(".nabla");
        try
        {
            m2.Save(path);
            Assert.False(Sequential.Load(path).Layers[1].Trainable);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_subclassed_model_trains_through_its_own_train_step_and_any_module_can_be_wrapped()
    {
        Generator.ManualSeed(26);
        var model = new CountingResidualModel();
        var g = new Generator(27);
        Tensor x = Tensor.RandN([60, 3], g);
        Tensor y = x.Sum(1, keepDim: true);
        model.Compile("mse", new Adam(0.05f));
        float before = model.Evaluate(x, y)["loss"];
        model.Fit(x, y, epochs: 30, batchSize: 20, verbose: 0);
        Assert.Equal(90, model.Steps);
        Assert.True(model.Evaluate(x, y)["loss"] < before / 10);
        Assert.Contains("subclass", Assert.Throws<NotSupportedException>(() => model.Save(TempPath(".nabla"))).Message);

        var wrapped = Model.Wrap(new Dense(1));
        wrapped.Compile("mse", new SGD(0.1f));
        wrapped.Fit(x, y, epochs: 20, batchSize: 20, verbose: 0);
        Assert.True(wrapped.Evaluate(x, y)["loss"] < 0.01f);
        Assert.Equal(["module.weight", "module.bias"], wrapped.StateDict().Keys.ToArray());
    }

    [Fact]
    public void ReduceLROnPlateau_refuses_an_optimizer_under_a_schedule()
    {
        var model = new Sequential(new Input(2), new Dense(1));
        model.Compile("mse", new SGD(0.1f) { Schedule = new StepDecay(0.1f, 10) });
        var error = Assert.Throws<InvalidOperationException>(() =>
            model.Fit(Tensor.Zeros(4, 2), Tensor.Zeros(4, 1), epochs: 2, verbose: 0, callbacks: [new ReduceLROnPlateau(monitor: "loss")]));
        Assert.Contains("schedule", error.Message);
    }

    [Fact]
    public void Optimizers_and_schedules_round_trip_through_their_configs()
    {
        Optimizer[] optimizers =
        [
            new SGD(0.3f, momentum: 0.8f, nesterov: true, weightDecay: 0.01f) { ClipNorm = 2f },
            new Adam(0.002f, 0.8f, 0.99f, 1e-6f, 0.1f) { Schedule = new ExponentialDecay(0.002f, 50, 0.5f, staircase: true) },
            new AdamW(0.004f, weightDecay: 0.2f) { ClipValue = 0.5f, Schedule = new StepDecay(0.004f, 7, 0.3f) },
            new RMSProp(0.01f, 0.8f, 1e-5f, 0.5f),
            new Adagrad(0.2f, 1e-8f, 0.05f),
        ];
        foreach (var o in optimizers)
        {
            var copy = Optimizer.FromConfig(o.GetConfig());
            Assert.Equal(o.GetType(), copy.GetType());
            Assert.Equal(o.GetConfig().ToJsonString(), copy.GetConfig().ToJsonString());
            for (int step = 0; step < 200; step += 13) Assert.Equal(o.Schedule?.Get(step), copy.Schedule?.Get(step));
        }
    }

    [Fact]
    public void Fit_over_a_csv_file_streams_and_gives_the_weights_of_fit_over_the_same_rows_in_memory()
    {
        string path = TempPath(".csv");
        var g = new Generator(28);
        var rows = new List<string> { "a,b,c,y" };
        var xs = new List<float>();
        var ys = new List<float>();
        for (int i = 0; i < 300; i++)
        {
            float a = g.NextFloat(), b = g.NextFloat(), c = g.NextFloat();
            float y = a - 2 * b + 0.5f * c;
            rows.Add(FormattableString.Invariant($"{a:R},{b:R},{c:R},{y:R}"));
            xs.AddRange([a, b, c]);
            ys.Add(y);
        }
        File.WriteAllLines(path, rows);
        try
        {
            Sequential Make()
            {
                Generator.ManualSeed(29);
                var m = new Sequential(new Input(3), new Dense(8, "tanh"), new Dropout(0.1f), new Dense(1));
                m.Compile("mse", new Adam(0.01f));
                return m;
            }
            var inMemory = Make();
            Generator.ManualSeed(30);
            inMemory.Fit(Tensor.FromArray([.. xs], 300, 3), Tensor.FromArray([.. ys], 300, 1), epochs: 3, batchSize: 32, verbose: 0);

            var streamed = Make();
            using var csv = new CsvFileDataset(path, ["y"]);
            Generator.ManualSeed(30);
            var history = streamed.Fit(csv, epochs: 3, batchSize: 32, validationData: csv, verbose: 0);
            Assert.True(history.Contains("val_loss"));
            foreach (var (key, value) in inMemory.StateDict())
                Assert.Equal(value.ToArray(), streamed.StateDict()[key].ToArray());
            Assert.Equal(inMemory.Predict(Tensor.FromArray([.. xs], 300, 3)).ToArray(), streamed.Predict(csv)[0].ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>Memory measured with full collections: run alone, since other tests' allocations would count.</summary>
[Collection("Serial")]
public class StreamingMemoryTests
{
    private static string TempPath(string extension) => Path.Combine(Path.GetTempPath(), $"nabla-{Guid.NewGuid():N}{extension}");

    [Fact]
    public void Fit_over_a_csv_file_bigger_than_the_memory_it_may_use_keeps_memory_flat()
    {
        // 200 000 rows of 32 features: 25.6 MB as floats in memory, 60 MB as text. Streamed, the
        // live heap (sampled with full collections during training) may grow by 6 MB at most: a
        // few batches, the model and its optimizer, not the table.
        const int rows = 200_000, features = 32;
        string path = TempPath(".csv");
        var g = new Generator(31);
        using (var writer = new StreamWriter(path))
        {
            writer.WriteLine(string.Join(",", Enumerable.Range(0, features).Select(i => $"x{i}")) + ",y");
            var line = new System.Text.StringBuilder();
            for (int r = 0; r < rows; r++)
            {
                line.Clear();
                float sum = 0;
                for (int i = 0; i < features; i++)
                {
                    float v = MathF.Round(g.NextFloat() * 1000) / 1000;
                    sum += i % 2 == 0 ? v : -v;
                    line.Append(v.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(',');
                }
                writer.WriteLine(line.Append(sum.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
        }
        try
        {
            using var csv = new CsvFileDataset(path, ["y"]);
            Generator.ManualSeed(32);
            var model = new Sequential(new Input(features), new Dense(16, "relu"), new Dense(1));
            model.Compile("mse", new Adam(0.01f));
            long baseline = GC.GetTotalMemory(forceFullCollection: true);
            long peak = baseline;
            var sample = new LambdaCallback(onBatchEnd: (batch, _) =>
            {
                if (batch % 50 == 0) peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true));
            });
            var history = model.Fit(csv, epochs: 1, batchSize: 256, callbacks: [sample], verbose: 0);
            long grown = peak - baseline;
            Assert.True(grown < 6L << 20, $"the live heap grew by {grown / 1e6:F1} MB while streaming {rows * features * 4 / 1e6:F1} MB of features");
            Assert.True(history["loss"][0] < 1f, $"loss {history["loss"][0]}");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
