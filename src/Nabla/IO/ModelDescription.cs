using System.Text.Json;
using System.Text.Json.Nodes;
using Nabla.Initializers;
using Nabla.Layers;

namespace Nabla.IO;

/// <summary>
/// Layers described by hand in JSON, as <c>nabla train --model model.json</c> reads them:
/// <code>
/// { "layers": [
///     { "type": "Dense", "units": 64, "activation": "relu", "kernel_initializer": "he_uniform" },
///     { "type": "Dropout", "rate": 0.2 },
///     { "type": "BatchNormalization" },
///     { "type": "Dense", "units": 32, "activation": "relu" } ] }
/// </code>
/// (a bare array of layers works too). Each layer is its type and its arguments, with the
/// constructor's defaults for those left out; any layer type of <see cref="LayerConfig"/> may be
/// named. A mistake (bad JSON, an unknown type, an unknown or misspelt argument, a value out of
/// range) is an error naming the file, the layer's position and type, and what was wrong.
/// </summary>
public static class ModelDescription
{
    // Arguments each type accepts when written by hand, with the defaults filled in for those left out.
    private static readonly Dictionary<string, JsonObject> Defaults = new(StringComparer.Ordinal)
    {
        [nameof(Dense)] = new() { ["activation"] = "linear", ["use_bias"] = true, ["kernel_initializer"] = null },
        [nameof(Dropout)] = new(),
        [nameof(Activation)] = new(),
        [nameof(BatchNormalization)] = new() { ["momentum"] = 0.99f, ["epsilon"] = 1e-3f },
        [nameof(LayerNormalization)] = new() { ["epsilon"] = 1e-3f },
        [nameof(Flatten)] = new(),
        [nameof(Reshape)] = new(),
        [nameof(Embedding)] = new() { ["padding_index"] = null },
        [nameof(Conv1D)] = new() { ["strides"] = 1, ["padding"] = "valid", ["dilation"] = 1, ["activation"] = "linear", ["use_bias"] = true },
        [nameof(Conv2D)] = new() { ["strides"] = new JsonArray(1, 1), ["padding"] = "valid", ["dilation"] = new JsonArray(1, 1), ["activation"] = "linear", ["use_bias"] = true },
        [nameof(SimpleRNN)] = new() { ["activation"] = "tanh", ["return_sequences"] = false },
        [nameof(LSTM)] = new() { ["return_sequences"] = false },
        [nameof(GRU)] = new() { ["return_sequences"] = false },
    };

    private static readonly Dictionary<string, string[]> Required = new(StringComparer.Ordinal)
    {
        [nameof(Dense)] = ["units"],
        [nameof(Dropout)] = ["rate"],
        [nameof(Activation)] = ["activation"],
        [nameof(Reshape)] = ["target_shape"],
        [nameof(Embedding)] = ["input_dim", "output_dim"],
        [nameof(Conv1D)] = ["filters", "kernel_size"],
        [nameof(Conv2D)] = ["filters", "kernel_size"],
        [nameof(SimpleRNN)] = ["units"],
        [nameof(LSTM)] = ["units"],
        [nameof(GRU)] = ["units"],
    };

    /// <summary>Reads the layers described in <paramref name="path"/>.</summary>
    public static IReadOnlyList<Layer> ReadLayers(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"model description not found: {path}", path);
        return ParseLayers(File.ReadAllText(path), path);
    }

    /// <summary>Parses a description; <paramref name="source"/> names it in errors.</summary>
    public static IReadOnlyList<Layer> ParseLayers(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: line {e.LineNumber + 1}, position {e.BytePositionInLine + 1}: not valid JSON.", e);
        }
        JsonArray layers = root switch
        {
            JsonArray a => a,
            JsonObject o when o["layers"] is JsonArray a => a,
            JsonObject o when o.Any(kv => kv.Key != "layers") => throw new InvalidDataException($"{source}: unknown key '{o.First(kv => kv.Key != "layers").Key}'; a model description is {{\"layers\": [...]}}."),
            _ => throw new InvalidDataException($"{source}: a model description is {{\"layers\": [...]}} or a list of layers."),
        };
        if (layers.Count == 0) throw new InvalidDataException($"{source}: the list of layers is empty.");
        var result = new List<Layer>();
        for (int i = 0; i < layers.Count; i++)
        {
            string where = $"{source}: layer {i + 1}";
            if (layers[i] is not JsonObject spec) throw new InvalidDataException($"{where}: expected an object like {{\"type\": \"Dense\", \"units\": 64}}.");
            string type = spec["type"] is JsonValue t && t.TryGetValue(out string? s) ? s
                : throw new InvalidDataException($"{where}: no \"type\" (Dense, Dropout, BatchNormalization, ...).");
            where += $" ({type})";
            if (!Defaults.TryGetValue(type, out JsonObject? defaults))
                throw new InvalidDataException($"{where}: unknown layer type; known: {string.Join(", ", Defaults.Keys)}.");
            var config = (JsonObject)defaults.DeepClone();
            string[] required = Required.GetValueOrDefault(type, []);
            string? name = null;
            foreach (var (key, value) in spec)
            {
                if (key == "type") continue;
                if (key == "name") { name = value?.GetValue<string>(); continue; }
                if (!config.ContainsKey(key) && !required.Contains(key))
                    throw new InvalidDataException($"{where}: unknown argument '{key}'; {type} takes {string.Join(", ", required.Concat(defaults.Select(kv => kv.Key)).Append("name"))}.");
                config[key] = value?.DeepClone();
            }
            foreach (string key in required)
            {
                if (!spec.ContainsKey(key)) throw new InvalidDataException($"{where}: missing argument '{key}'.");
            }
            try
            {
                result.Add(type == nameof(Dense) ? MakeDense(config, name) : LayerConfig.FromJson(new JsonObject { ["type"] = type, ["name"] = name, ["config"] = config }));
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"{where}: {e.Message}", e);
            }
        }
        return result;
    }

    private static Dense MakeDense(JsonObject c, string? name)
    {
        int units = c["units"]!.GetValue<int>();
        string? initializer = c["kernel_initializer"]?.GetValue<string>();
        return new Dense(units, Activations.Get(c["activation"]!.GetValue<string>()), c["use_bias"]!.GetValue<bool>(),
            kernelInitializer: initializer is null ? null : Initializer.Get(initializer), name: name);
    }
}
