using System.Text.Json;

namespace Nabla.IO;

/// <summary>
/// Reads weights saved by PyTorch or Hugging Face: one safetensors file, or a sharded checkpoint
/// (a folder, or its <c>model.safetensors.index.json</c>, whose <c>weight_map</c> names the shard
/// of every tensor). F16 and BF16 tensors are converted to float32, exactly. Every shard is
/// validated as a single file is, and the index must agree with the shards: each listed tensor
/// is in its shard, no shard holds a tensor the index does not list, no name is given twice.
/// </summary>
public static class Checkpoint
{
    /// <summary>The index file's name in a Hugging Face checkpoint folder.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>The single-file checkpoint's name in a Hugging Face checkpoint folder.</summary>
    public const string SingleFileName = "model.safetensors";

    private const long MaxIndexBytes = 64L << 20;

    /// <summary>
    /// Every tensor of the checkpoint at <paramref name="path"/>: a <c>.safetensors</c> file, an
    /// index file, or a folder holding either (the index is preferred).
    /// </summary>
    public static OrderedDictionary<string, Tensor> Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
        {
            string index = Path.Combine(path, IndexFileName), single = Path.Combine(path, SingleFileName);
            if (File.Exists(index)) return LoadSharded(index);
            if (File.Exists(single)) return SafeTensors.Load(single);
            throw new FileNotFoundException($"Checkpoint folder '{path}' holds neither {IndexFileName} nor {SingleFileName}.");
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"No such checkpoint: {path}", path);
        return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? LoadSharded(path) : SafeTensors.Load(path);
    }

    /// <summary>
    /// Loads the checkpoint at <paramref name="path"/> into <paramref name="module"/> through
    /// <see cref="Layers.Module.LoadStateDict"/>, renaming with <paramref name="rename"/> (see
    /// <see cref="StateDictNames"/>); returns what matched.
    /// </summary>
    public static Layers.StateDictReport LoadInto(Layers.Module module, string path, bool strict = true, Func<string, string?>? rename = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        return module.LoadStateDict(Load(path), strict, rename);
    }

    private static OrderedDictionary<string, Tensor> LoadSharded(string indexPath)
    {
        var info = new FileInfo(indexPath);
        if (info.Length > MaxIndexBytes) throw Bad(indexPath, $"it is {info.Length} bytes; an index of more than {MaxIndexBytes} bytes is refused");
        string folder = info.DirectoryName ?? ".";
        var weightMap = new List<(string Tensor, string Shard)>();
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw Bad(indexPath, "it has no \"weight_map\" object");
            foreach (var entry in map.EnumerateObject())
            {
                string shard = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : throw Bad(indexPath, $"the shard of '{entry.Name}' is not a file name");
                // Shards are plain names beside the index: no folders, no way out of it.
                if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or ".." || shard.Contains('\\') || shard.Contains('\0'))
                    throw Bad(indexPath, $"the shard '{shard}' of '{entry.Name}' is not a file name beside the index");
                weightMap.Add((entry.Name, shard));
            }
        }
        catch (JsonException e)
        {
            throw Bad(indexPath, $"it is not valid JSON ({e.Message})");
        }
        if (weightMap.Count == 0) throw Bad(indexPath, "its weight_map is empty");
        var byShard = weightMap.GroupBy(w => w.Shard, StringComparer.Ordinal).ToList();
        var result = new OrderedDictionary<string, Tensor>();
        foreach (var group in byShard)
        {
            string shardPath = Path.Combine(folder, group.Key);
            if (!File.Exists(shardPath)) throw Bad(indexPath, $"its shard '{group.Key}' (of '{group.First().Tensor}') does not exist");
            var tensors = SafeTensors.Load(shardPath);
            var listed = group.Select(g => g.Tensor).ToHashSet(StringComparer.Ordinal);
            foreach (string name in listed)
            {
                if (!tensors.ContainsKey(name)) throw Bad(indexPath, $"'{name}' is listed in shard '{group.Key}', which does not hold it");
            }
            foreach (var (name, tensor) in tensors)
            {
                if (!listed.Contains(name)) throw Bad(indexPath, $"shard '{group.Key}' holds '{name}', which the index does not list there");
                result.Add(name, tensor);
            }
        }
        // The index's order, which is the model's (shards are read in the order they first appear).
        var ordered = new OrderedDictionary<string, Tensor>();
        foreach (var (name, _) in weightMap) ordered.TryAdd(name, result[name]);
        return ordered;
    }

    private static InvalidDataException Bad(string path, string what) => new($"Checkpoint index '{path}': {what}.");
}
