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
/// constructor's defaults for those left out; any layer type of <see cref="LayerCatalog"/> may be
/// named (a user's own, once registered). A mistake (bad JSON, an unknown type, an unknown or misspelt argument, a value out of
/// range) is an error naming the file, the layer's position and type, and what was wrong.
/// </summary>
public static class ModelDescription
{
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
            string? name = spec["name"] is JsonValue n && n.TryGetValue(out string? nm) ? nm
                : spec["name"] is null ? null : throw new InvalidDataException($"{where}: \"name\" must be a string.");
            var config = new JsonObject();
            foreach (var (key, value) in spec)
            {
                if (key is not ("type" or "name")) config[key] = value?.DeepClone();
            }
            result.Add(LayerCatalog.Create(type, name, config, where));
        }
        return result;
    }

    /// <summary>
    /// The optional <c>"training"</c> object of a description (written by <c>nabla train --tune</c>):
    /// optimizer, learning_rate, weight_decay, batch_size, epochs and validation, each optional;
    /// null when the description has none. An unknown key is an error naming the accepted ones.
    /// </summary>
    public static TrainingSettings? ReadTraining(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip }) is not JsonObject root
            || root["training"] is not JsonNode node)
            return null;
        if (node is not JsonObject t) throw new InvalidDataException($"{path}: \"training\" must be an object.");
        string[] known = ["optimizer", "learning_rate", "weight_decay", "batch_size", "epochs", "validation"];
        foreach (var (key, _) in t)
        {
            if (!known.Contains(key)) throw new InvalidDataException($"{path}: training setting '{key}' is unknown; the settings are {string.Join(", ", known)}.");
        }
        try
        {
            return new TrainingSettings(t["optimizer"]?.GetValue<string>(), t["learning_rate"]?.GetValue<float>(), t["weight_decay"]?.GetValue<float>(),
                t["batch_size"]?.GetValue<int>(), t["epochs"]?.GetValue<int>(), t["validation"]?.GetValue<float>());
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: a training setting has the wrong type ({e.Message}).", e);
        }
    }
}

/// <summary>Training settings kept beside a model description; null where the description leaves the command's own.</summary>
/// <param name="Optimizer">The optimizer's name (adam, adamw, sgd, ...).</param>
/// <param name="LearningRate">The learning rate.</param>
/// <param name="WeightDecay">The weight decay.</param>
/// <param name="BatchSize">The batch size.</param>
/// <param name="Epochs">The epochs.</param>
/// <param name="Validation">The fraction of training rows held out for validation.</param>
public sealed record TrainingSettings(string? Optimizer, float? LearningRate, float? WeightDecay, int? BatchSize, int? Epochs, float? Validation);
