using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nabla.Layers;
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

    /// <summary>The newest format version this code writes and reads.</summary>
    public const int Version = 2;

    private const string FormatName = "nabla-model";

    /// <summary>The format version of a file holding a functional model (a Sequential one is still written as version 1, which older readers take).</summary>
    private const int FunctionalVersion = 2;

    /// <summary>
    /// Writes <paramref name="model"/> (a <see cref="Sequential"/> or functional model) to
    /// <paramref name="path"/>. A subclassed model has no architecture to write: save its weights.
    /// </summary>
    public static void Save(Model model, string path, bool includeOptimizer = false, TrainingState? training = null,
        IReadOnlyDictionary<string, string>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.IsBuilt) throw new InvalidOperationException($"Save: model '{model.Name}' has no weights yet; build or fit it first.");
        var (architecture, version) = Architecture(model);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatName,
            ["version"] = version.ToString(CultureInfo.InvariantCulture),
            ["architecture"] = architecture.ToJsonString(),
        };
        var tensors = model.StateDict().ToList();
        if (model.Loss is not null) metadata["compile"] = CompileConfig(model).ToJsonString();
        if (includeOptimizer && model.Optimizer is { } optimizer)
        {
            var (iterations, buffers) = optimizer.GetState();
            var optimizerConfig = optimizer.GetConfig();
            optimizerConfig["iterations"] = iterations;
            metadata["optimizer"] = optimizerConfig.ToJsonString();
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
    public static (Model Model, TrainingState State) LoadCheckpoint(string path)
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

    /// <summary>Reads a model file: the architecture rebuilt (a <see cref="Sequential"/> or functional model), the weights loaded, compiled (with its optimizer state) when the file says how.</summary>
    public static Model LoadModel(string path) => LoadWithMetadata(path).Model;

    /// <summary>Reads a model file that holds a <see cref="Sequential"/> model; a functional one is an error that says to use <see cref="LoadModel"/>.</summary>
    public static Sequential Load(string path) => LoadWithMetadata(path).Model as Sequential
        ?? throw new InvalidDataException($"{path}: it holds a functional model, not a Sequential one; read it with Model.Load.");

    /// <summary>As <see cref="Load"/>, with the file's string metadata (the extra entries a caller saved beside the model), from one read of the file.</summary>
    public static (Model Model, IReadOnlyDictionary<string, string> Metadata) LoadWithMetadata(string path)
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
        Model model;
        // The architecture may ask only for about as many weights as the file holds (see LoadBudget);
        // layers built now are filled from the file, so their initializers' work is skipped.
        long stored = weights.Values.Sum(t => (long)t.Size);
        using (LoadBudget.Open(2 * stored + (1L << 20)))
        {
            try
            {
                var arch = JsonNode.Parse(metadata.GetValueOrDefault("architecture") ?? throw new FormatException("it has no architecture")) as JsonObject ?? throw new FormatException("its architecture is not a JSON object");
                model = arch["class"]?.GetValue<string>() == "Functional" ? ReadFunctional(arch) : ReadSequential(arch);
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

    /// <summary>The architecture of a Sequential model (format version 1) or a functional one (version 2).</summary>
    private static (JsonObject Architecture, int Version) Architecture(Model model)
    {
        if (model is Sequential sequential)
        {
            return (new JsonObject
            {
                ["name"] = sequential.Name,
                ["input_shape"] = ConfigReader.Json(sequential.Layers[0].BuiltInputShape.ToArray()),
                ["layers"] = new JsonArray(sequential.Layers.Select(l => (JsonNode?)LayerCatalog.ToJson(l)).ToArray()),
            }, 1);
        }
        var graph = model.Graph ?? throw new NotSupportedException(
            $"Save: model '{model.Name}' is a subclass of Model whose computation is code, not a graph of layers, so its architecture cannot be written; save its weights (SaveWeights) and rebuild it in code.");
        var nodes = new JsonArray();
        foreach (var node in graph.Nodes)
            nodes.Add((JsonNode)new JsonObject { ["layer"] = node.Layer.Name, ["inputs"] = ConfigReader.Json(node.Inputs.Select(graph.IndexOf)) });
        return (new JsonObject
        {
            ["class"] = "Functional",
            ["name"] = model.Name,
            ["layers"] = new JsonArray(graph.Layers.Select(l => (JsonNode?)LayerCatalog.ToJson(l)).ToArray()),
            ["nodes"] = nodes,
            ["inputs"] = ConfigReader.Json(graph.Inputs.Select(graph.IndexOf)),
            ["outputs"] = ConfigReader.Json(graph.Outputs.Select(graph.IndexOf)),
        }, FunctionalVersion);
    }

    /// <summary>Rebuilds a functional model: its layers by name, then each call in the file's order (every call after those it takes from).</summary>
    private static Model ReadFunctional(JsonObject arch)
    {
        string name = CheckPrintable(arch["name"]?.GetValue<string>() ?? "functional", "the model's name");
        var layers = new Dictionary<string, Layer>();
        foreach (var n in arch["layers"] as JsonArray ?? throw new FormatException("its architecture has no layer list"))
        {
            var layer = LayerCatalog.FromJson(n as JsonObject ?? throw new FormatException("a layer entry is not an object"));
            if (layer.Name is null || !layers.TryAdd(layer.Name, layer)) throw new FormatException($"a layer has no name or a name used twice ('{layer.Name}')");
        }
        var nodes = new List<SymbolicTensor>();
        foreach (var n in arch["nodes"] as JsonArray ?? throw new FormatException("its architecture has no node list"))
        {
            var node = n as JsonObject ?? throw new FormatException("a node entry is not an object");
            string layerName = node["layer"]?.GetValue<string>() ?? throw new FormatException($"node {nodes.Count} names no layer");
            var layer = layers.GetValueOrDefault(layerName) ?? throw new FormatException($"node {nodes.Count} calls layer '{CheckPrintable(layerName, "a layer name")}', which is not in the layer list");
            int[] from = Indices(node["inputs"], nodes.Count, $"node {nodes.Count}'s inputs");
            if (layer is Input input)
            {
                if (from.Length != 0 || nodes.Any(t => t.Layer == input)) throw new FormatException($"input '{layerName}' is used as a call or twice");
                nodes.Add(input.Output);
            }
            else nodes.Add(layer.Apply([.. from.Select(i => nodes[i])]));
        }
        SymbolicTensor[] Pick(string key) => [.. Indices(arch[key], nodes.Count, $"the model's {key}").Select(i => nodes[i])];
        return new Model(Pick("inputs"), Pick("outputs"), name);
    }

    /// <summary>A list of node numbers, each below <paramref name="limit"/>.</summary>
    private static int[] Indices(JsonNode? node, int limit, string what)
    {
        var list = (node as JsonArray ?? throw new FormatException($"{what} are not a list")).Select(v => v?.GetValue<int>() ?? -1).ToArray();
        if (list.Any(i => i < 0 || i >= limit)) throw new FormatException($"{what} name a node that does not come before ({string.Join(", ", list)})");
        return list;
    }

    private static Sequential ReadSequential(JsonObject arch)
    {
        int[] inputShape = (arch["input_shape"] as JsonArray ?? throw new FormatException("its architecture has no input shape")).Select(n => n!.GetValue<int>()).ToArray();
        long values = 1;
        foreach (int d in inputShape) values = Math.Min(values * d, LoadBudget.MaxActivationFloats + 1); // capped, so it cannot overflow
        if (inputShape.Any(d => d < 1) || values > LoadBudget.MaxActivationFloats)
            throw new FormatException($"its input_shape {Shapes.Format(inputShape)} is not a positive shape of at most {LoadBudget.MaxActivationFloats:N0} values");
        var layers = (arch["layers"] as JsonArray ?? throw new FormatException("its architecture has no layer list")).Select(n => LayerCatalog.FromJson(n as JsonObject ?? throw new FormatException("a layer entry is not an object"))).ToArray();
        string name = CheckPrintable(arch["name"]?.GetValue<string>() ?? "sequential", "the model's name");
        var model = new Sequential(layers) { Name = name };
        if (!model.IsBuilt) model.Build(inputShape);
        return model;
    }

    /// <summary>Compiles a loaded model as its file says, restoring the optimizer's state when the file has it.</summary>
    private static void Compile(Model model, string compile, string? opt, OrderedDictionary<string, Tensor> tensors)
    {
        var c = JsonNode.Parse(compile) as JsonObject ?? throw new FormatException("the compile settings are not a JSON object");
        JsonObject? o = opt is null ? null : JsonNode.Parse(opt) as JsonObject ?? throw new FormatException("the optimizer settings are not a JSON object");
        Optimizer optimizer = o is null ? new Adam() : Optimizer.FromConfig(o);
        static Metric[] Metrics(JsonObject c) => [.. (c["metrics"] as JsonArray ?? []).Select(m => Metric.Get(m!.GetValue<string>()))];
        if (c["outputs"] is JsonArray outputs)
        {
            var each = outputs.Select(n => n as JsonObject ?? throw new FormatException("an output's compile settings are not an object")).ToArray();
            model.Compile([.. each.Select(CreateLoss)], optimizer, [.. each.Select(e => e["weight"]?.GetValue<float>() ?? 1f)], [.. each.Select(Metrics)]);
        }
        else model.Compile(CreateLoss(c), optimizer, Metrics(c));
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
    public static string CheckPrintable(string value, string what)
    {
        foreach (char c in value)
        {
            if (char.IsControl(c))
                throw new FormatException($"{what} contains the control character U+{(int)c:X4}; names in a model file must be printable text");
        }
        return value;
    }

    /// <summary>The compile settings: the loss and metrics (one output), or a list of them with each output's loss weight.</summary>
    private static JsonObject CompileConfig(Model model)
    {
        JsonObject Output(int o)
        {
            var loss = model.Losses[o];
            bool fromLogits = loss switch
            {
                BinaryCrossEntropy b => b.FromLogits,
                CategoricalCrossEntropy c => c.FromLogits,
                SparseCategoricalCrossEntropy s => s.FromLogits,
                _ => false,
            };
            return new JsonObject
            {
                ["loss"] = loss.Name,
                ["from_logits"] = fromLogits,
                ["metrics"] = new JsonArray(model.OutputMetrics[o].Select(m => (JsonNode?)(m.Name.StartsWith("top_", StringComparison.Ordinal) ? "top_k_accuracy" : m.Name)).ToArray()),
            };
        }
        if (model.Losses.Count == 1) return Output(0);
        var outputs = new JsonArray();
        for (int o = 0; o < model.Losses.Count; o++)
        {
            var e = Output(o);
            e["weight"] = model.LossWeights[o];
            outputs.Add((JsonNode)e);
        }
        return new JsonObject { ["outputs"] = outputs };
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
}
