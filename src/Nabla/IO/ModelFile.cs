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
        Sequential model = Load(path);
        var (_, metadata) = SafeTensors.LoadWithMetadata(path);
        if (!metadata.TryGetValue("training", out string? text))
            throw new InvalidDataException($"{path}: this model file has no training state; save checkpoints with ModelCheckpoint(saveTrainingState: true).");
        try
        {
            var t = JsonNode.Parse(text) as JsonObject ?? throw new FormatException("not an object");
            int epoch = t["epoch"]!.GetValue<int>();
            ulong[] generator = (t["generator"] as JsonArray ?? throw new FormatException("no generator state")).Select(n => ulong.Parse(n!.GetValue<string>(), CultureInfo.InvariantCulture)).ToArray();
            return (model, new TrainingState(epoch, generator));
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or JsonException or NullReferenceException)
        {
            throw new InvalidDataException($"{path}: its training state cannot be read ({e.Message}).", e);
        }
    }

    /// <summary>Reads a model file: the architecture rebuilt, the weights loaded, compiled (with its optimizer state) when the file says how.</summary>
    public static Sequential Load(string path)
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
        Sequential model;
        try
        {
            var arch = JsonNode.Parse(metadata.GetValueOrDefault("architecture") ?? throw Bad("it has no architecture")) as JsonObject ?? throw Bad("its architecture is not a JSON object");
            var layers = (arch["layers"] as JsonArray ?? throw Bad("its architecture has no layer list")).Select(n => LayerConfig.FromJson(n as JsonObject ?? throw Bad("a layer entry is not an object"))).ToArray();
            int[] inputShape = (arch["input_shape"] as JsonArray ?? throw Bad("its architecture has no input shape")).Select(n => n!.GetValue<int>()).ToArray();
            model = new Sequential(layers) { Name = arch["name"]?.GetValue<string>() ?? "sequential" };
            if (!model.IsBuilt) model.Build(inputShape);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw Bad($"its architecture cannot be read ({e.Message})");
        }
        var weights = tensors.Where(kv => !kv.Key.StartsWith("optimizer.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);
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
            var c = JsonNode.Parse(compile) as JsonObject ?? throw Bad("its compile settings are not a JSON object");
            Optimizer optimizer = metadata.TryGetValue("optimizer", out string? opt)
                ? CreateOptimizer(JsonNode.Parse(opt) as JsonObject ?? throw Bad("its optimizer settings are not a JSON object"))
                : new Adam();
            model.Compile(CreateLoss(c), optimizer, [.. (c["metrics"] as JsonArray ?? []).Select(m => Metric.Get(m!.GetValue<string>()))]);
            if (metadata.TryGetValue("optimizer", out string? o))
            {
                optimizer.Bind(model.Parameters());
                var parameters = model.Parameters().ToArray();
                var buffers = new float[parameters.Length][][];
                for (int i = 0; i < parameters.Length; i++)
                {
                    buffers[i] = Enumerable.Range(0, 8).TakeWhile(s => tensors.ContainsKey($"optimizer.{i}.{s}")).Select(s => tensors[$"optimizer.{i}.{s}"].ToArray()).ToArray();
                }
                int iterations = (JsonNode.Parse(o) as JsonObject)?["iterations"]?.GetValue<int>() ?? 0;
                try
                {
                    optimizer.SetState(iterations, buffers);
                }
                catch (ArgumentException e)
                {
                    throw Bad(e.Message);
                }
            }
        }
        return model;
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
            var t => throw new InvalidDataException($"Unknown optimizer type '{t}' in a model file."),
        };
        if (c["clip_norm"] is { } cn) o.ClipNorm = cn.GetValue<float>();
        if (c["clip_value"] is { } cv) o.ClipValue = cv.GetValue<float>();
        return o;
    }
}
