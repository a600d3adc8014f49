using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nabla.Losses;
using Nabla.Metrics;
using Nabla.Optimizers;

namespace Nabla.IO;

/// <summary>
/// Nabla's model file: one safetensors file whose metadata holds the format version, the
/// architecture as JSON (layers and their configs, the input shape), and optionally the
/// compile settings and optimizer state; its tensors are the state dict (PyTorch names) plus,
/// optionally, the optimizer's buffers as <c>optimizer.{parameter}.{slot}</c>. Written
/// atomically; read only after the header, version and every tensor's name and shape check out.
/// </summary>
public static class ModelFile
{
    /// <summary>Where training was when a checkpoint was written: the last finished epoch and the default generator's state.</summary>
    /// <param name="Epoch">The epoch just finished (1-based).</param>
    /// <param name="Generator">The calling thread's <see cref="Nabla.Generator.Default"/> state at that moment.</param>
    public sealed record TrainingState(int Epoch, ulong[] Generator);

    /// <summary>The format version this code writes and the newest it reads.</summary>
    public const int Version = 1;

    private const string FormatName = "nabla-model";

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/>.</summary>
    public static void Save(Sequential model, string path, bool includeOptimizer = false, TrainingState? training = null,
        IReadOnlyDictionary<string, string>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.IsBuilt) throw new InvalidOperationException($"Save: model '{model.Name}' has no weights yet; build or fit it first.");
        var architecture = new JsonObject
        {
            ["name"] = model.Name,
            ["input_shape"] = new JsonArray(model.Layers[0].BuiltInputShape.ToArray().Select(d => (JsonNode?)d).ToArray()),
            ["layers"] = new JsonArray(model.Layers.Select(l => (JsonNode?)LayerConfig.ToJson(l)).ToArray()),
        };
        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["version"] = Version.ToString(CultureInfo.InvariantCulture),
            ["architecture"] = architecture.ToJsonString(),
        };
        var tensors = model.StateDict().ToList();
        if (model.Loss is not null) metadata["compile"] = CompileConfig(model).ToJsonString();
        if (includeOptimizer && model.Optimizer is { } optimizer)
        {
            var (iterations, buffers) = optimizer.GetState();
            metadata["optimizer"] = OptimizerConfig(optimizer, iterations).ToJsonString();
            for (int i = 0; i < buffers.Length; i++)
            {
                for (int s = 0; s < buffers[i].Length; s++)
                    tensors.Add(new($"optimizer.{i}.{s}", Tensor.FromArray(buffers[i][s])));
            }
        }
        foreach (var (k, v) in extra ?? new Dictionary<string, string>())
        {
            if (!metadata.TryAdd(k, v)) throw new ArgumentException($"ModelFile.Save: extra metadata key '{k}' is reserved.");
        }
        if (training is not null)
        {
            metadata["training"] = new JsonObject
            {
                ["epoch"] = training.Epoch,
                ["generator"] = new JsonArray(training.Generator.Select(w => (JsonNode?)w.ToString(CultureInfo.InvariantCulture)).ToArray()),
            }.ToJsonString();
        }
        SafeTensors.Save(path, tensors, metadata);
    }

    /// <summary>
    /// Reads a checkpoint written with a training state (ModelCheckpoint with saveTrainingState):
    /// the model with its optimizer state, and where training was. To resume exactly, restore the
    /// generator (<c>Generator.Default.SetState(state.Generator)</c>) and call
    /// <c>Fit(..., epochs: total, initialEpoch: state.Epoch)</c>.
    /// </summary>
    public static (Sequential Model, TrainingState State) LoadCheckpoint(string path)
    {
        var (model, metadata) = LoadWithMetadata(path);
        if (!metadata.TryGetValue("training", out string? text))
            throw new InvalidDataException($"{path}: this model file has no training state; save checkpoints with ModelCheckpoint(saveTrainingState: true).");
        try
        {
            var t = JsonNode.Parse(text) as JsonObject ?? throw new FormatException("not an object");
            int epoch = t["epoch"]!.GetValue<int>();
            if (epoch < 0) throw new FormatException($"epoch {epoch} is negative");
            ulong[] generator = (t["generator"] as JsonArray ?? throw new FormatException("no generator state")).Select(n =>
                ulong.TryParse(n!.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong w) ? w
                    : throw new FormatException($"a generator word is not a 64-bit unsigned integer")).ToArray();
            new Generator(0).SetState(generator); // the same checks as on restoring it: four words, not all zero
            return (model, new TrainingState(epoch, generator));
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or JsonException or NullReferenceException or OverflowException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: its training state cannot be read ({e.Message}).", e);
        }
    }

    /// <summary>Reads a model file: the architecture rebuilt, the weights loaded, compiled (with its optimizer state) when the file says how.</summary>
    public static Sequential Load(string path) => LoadWithMetadata(path).Model;

    /// <summary>As <see cref="Load"/>, with the file's string metadata (the extra entries a caller saved beside the model), from one read of the file.</summary>
    public static (Sequential Model, IReadOnlyDictionary<string, string> Metadata) LoadWithMetadata(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (tensors, metadata) = SafeTensors.LoadWithMetadata(path);
        InvalidDataException Bad(string what) => new($"{path}: not a usable Nabla model file: {what}.");
        if (!metadata.TryGetValue("format", out string? format) || format != FormatName)
            throw Bad("its metadata does not say format \"nabla-model\" (a weights-only file? load it with LoadWeights into a model you build)");
        if (!int.TryParse(metadata.GetValueOrDefault("version"), out int version) || version < 1)
            throw Bad($"its format version \"{metadata.GetValueOrDefault("version")}\" is not a number");
        if (version > Version)
            throw Bad($"it was written in format version {version}, newer than this Nabla reads ({Version}); upgrade Nabla");
        var weights = tensors.Where(kv => !kv.Key.StartsWith("optimizer.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);
        Sequential model;
        // The architecture may ask only for about as many weights as the file holds (see LoadBudget);
        // layers built now are filled from the file, so their initializers' work is skipped.
        long stored = weights.Values.Sum(t => (long)t.Size);
        using (LoadBudget.Open(2 * stored + (1L << 20)))
        {
            try
            {
                var arch = JsonNode.Parse(metadata.GetValueOrDefault("architecture") ?? throw new FormatException("it has no architecture")) as JsonObject ?? throw new FormatException("its architecture is not a JSON object");
                int[] inputShape = (arch["input_shape"] as JsonArray ?? throw new FormatException("its architecture has no input shape")).Select(n => n!.GetValue<int>()).ToArray();
                long values = 1;
                foreach (int d in inputShape) values = Math.Min(values * d, LoadBudget.MaxActivationFloats + 1); // capped, so it cannot overflow
                if (inputShape.Any(d => d < 1) || values > LoadBudget.MaxActivationFloats)
                    throw new FormatException($"its input_shape {Shapes.Format(inputShape)} is not a positive shape of at most {LoadBudget.MaxActivationFloats:N0} values");
                var layers = (arch["layers"] as JsonArray ?? throw new FormatException("its architecture has no layer list")).Select(n => LayerConfig.FromJson(n as JsonObject ?? throw new FormatException("a layer entry is not an object"))).ToArray();
                string name = CheckPrintable(arch["name"]?.GetValue<string>() ?? "sequential", "the model's name");
                model = new Sequential(layers) { Name = name };
                if (!model.IsBuilt) model.Build(inputShape);
            }
            catch (Exception e) when (e is InvalidDataException or JsonException or InvalidOperationException or FormatException or ArgumentException or NullReferenceException or KeyNotFoundException or IndexOutOfRangeException or OverflowException)
            {
                throw Bad($"its architecture cannot be read ({e.Message})");
            }
        }
        try
        {
            model.LoadStateDict(weights);
        }
        catch (ArgumentException e)
        {
            throw Bad(e.Message);
        }
        if (metadata.TryGetValue("compile", out string? compile))
        {
            try
            {
                Compile(model, compile, metadata.GetValueOrDefault("optimizer"), tensors);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException or NullReferenceException or KeyNotFoundException or OverflowException)
            {
                throw Bad($"its compile or optimizer settings cannot be read ({e.Message})");
            }
        }
        return (model, metadata);
    }

    /// <summary>Compiles a loaded model as its file says, restoring the optimizer's state when the file has it.</summary>
    private static void Compile(Sequential model, string compile, string? opt, OrderedDictionary<string, Tensor> tensors)
    {
        var c = JsonNode.Parse(compile) as JsonObject ?? throw new FormatException("the compile settings are not a JSON object");
        JsonObject? o = opt is null ? null : JsonNode.Parse(opt) as JsonObject ?? throw new FormatException("the optimizer settings are not a JSON object");
        Optimizer optimizer = o is null ? new Adam() : CreateOptimizer(o);
        model.Compile(CreateLoss(c), optimizer, [.. (c["metrics"] as JsonArray ?? []).Select(m => Metric.Get(m!.GetValue<string>()))]);
        if (o is null) return;
        optimizer.Bind(model.Parameters());
        var parameters = model.Parameters().ToArray();
        var buffers = new float[parameters.Length][][];
        for (int i = 0; i < parameters.Length; i++)
        {
            buffers[i] = Enumerable.Range(0, 8).TakeWhile(s => tensors.ContainsKey($"optimizer.{i}.{s}")).Select(s => tensors[$"optimizer.{i}.{s}"].ToArray()).ToArray();
        }
        int iterations = o["iterations"]?.GetValue<int>() ?? 0;
        if (iterations < 0) throw new FormatException($"the optimizer's step count {iterations} is negative");
        optimizer.SetState(iterations, buffers);
    }

    /// <summary>
    /// Returns <paramref name="value"/> when it has no control characters, or throws an
    /// <see cref="FormatException"/>: names and labels read from a file reach the terminal, where
    /// an escape sequence could retitle the window or rewrite what was printed.
    /// </summary>
    internal static string CheckPrintable(string value, string what)
    {
        foreach (char c in value)
        {
            if (char.IsControl(c))
                throw new FormatException($"{what} contains the control character U+{(int)c:X4}; names in a model file must be printable text");
        }
        return value;
    }

    private static JsonObject CompileConfig(Sequential model)
    {
        bool fromLogits = model.Loss switch
        {
            BinaryCrossEntropy b => b.FromLogits,
            CategoricalCrossEntropy c => c.FromLogits,
            SparseCategoricalCrossEntropy s => s.FromLogits,
            _ => false,
        };
        return new JsonObject
        {
            ["loss"] = model.Loss!.Name,
            ["from_logits"] = fromLogits,
            ["metrics"] = new JsonArray(model.Metrics.Select(m => (JsonNode?)(m.Name.StartsWith("top_", StringComparison.Ordinal) ? "top_k_accuracy" : m.Name)).ToArray()),
        };
    }

    private static Loss CreateLoss(JsonObject c)
    {
        string name = c["loss"]?.GetValue<string>() ?? "mse";
        bool logits = c["from_logits"]?.GetValue<bool>() ?? false;
        return name switch
        {
            "binary_crossentropy" => new BinaryCrossEntropy(logits),
            "categorical_crossentropy" => new CategoricalCrossEntropy(logits),
            "sparse_categorical_crossentropy" => new SparseCategoricalCrossEntropy(logits),
            _ => Loss.Get(name),
        };
    }

    private static JsonObject OptimizerConfig(Optimizer o, int iterations)
    {
        var c = new JsonObject { ["type"] = o.GetType().Name, ["learning_rate"] = o.LearningRate, ["weight_decay"] = o.WeightDecay, ["iterations"] = iterations };
        switch (o)
        {
            case SGD s: c["momentum"] = s.Momentum; c["nesterov"] = s.Nesterov; break;
            case Adam a: c["beta1"] = a.Beta1; c["beta2"] = a.Beta2; c["epsilon"] = a.Epsilon; break;
            case RMSProp r: c["rho"] = r.Rho; c["epsilon"] = r.Epsilon; c["momentum"] = r.Momentum; break;
            case Adagrad g: c["epsilon"] = g.Epsilon; break;
        }
        if (o.ClipNorm is float cn) c["clip_norm"] = cn;
        if (o.ClipValue is float cv) c["clip_value"] = cv;
        return c;
    }

    private static Optimizer CreateOptimizer(JsonObject c)
    {
        float F(string k, float d) => c[k]?.GetValue<float>() ?? d;
        float lr = F("learning_rate", 1e-3f), wd = F("weight_decay", 0f);
        Optimizer o = c["type"]?.GetValue<string>() switch
        {
            "SGD" => new SGD(lr, F("momentum", 0f), c["nesterov"]?.GetValue<bool>() ?? false, wd),
            "AdamW" => new AdamW(lr, F("beta1", 0.9f), F("beta2", 0.999f), F("epsilon", 1e-8f), wd),
            "Adam" => new Adam(lr, F("beta1", 0.9f), F("beta2", 0.999f), F("epsilon", 1e-8f), wd),
            "RMSProp" => new RMSProp(lr, F("rho", 0.9f), F("epsilon", 1e-7f), F("momentum", 0f), wd),
            "Adagrad" => new Adagrad(lr, F("epsilon", 1e-10f), wd),
            var t => throw new FormatException($"unknown optimizer type '{CheckPrintable(t ?? "(none)", "the optimizer type")}'"),
        };
        if (c["clip_norm"] is { } cn) o.ClipNorm = cn.GetValue<float>();
        if (c["clip_value"] is { } cv) o.ClipValue = cv.GetValue<float>();
        return o;
    }
}
