using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Nabla.IO;

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON
/// header mapping each name to its dtype, shape and byte range, then the raw little-endian
/// data. Files are written atomically (temporary file, flush, rename). Reading validates the
/// header before trusting it: sizes, offsets, overlaps and dtypes.
/// </summary>
public static class SafeTensors
{
    private const long MaxHeaderBytes = 100L * 1024 * 1024;

    /// <summary>Writes float32 tensors to <paramref name="path"/>, replacing any file there only once the new one is complete.</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = tensors.ToList();
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is not null)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            var names = new HashSet<string>();
            foreach (var (name, t) in entries)
            {
                if (!names.Add(name)) throw new ArgumentException($"SafeTensors.Save: the name '{name}' appears twice.");
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (int d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += 4L * t.Size;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // Pad the header with spaces to a multiple of 8 bytes, as the reference writer does.
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');

        AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(len, header.Length);
            stream.Write(len);
            header.Position = 0;
            header.CopyTo(stream);
            foreach (var (_, t) in entries)
            {
                float[] values = t.ToArray();
                var bytes = new byte[values.Length * 4];
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
                stream.Write(bytes);
            }
        });
    }

    /// <summary>Reads every tensor of a safetensors file (F32, and F64/F16/BF16 converted to float32), in file order.</summary>
    public static OrderedDictionary<string, Tensor> Load(string path) => LoadWithMetadata(path).Tensors;

    /// <summary>Reads a safetensors file's tensors and its string metadata (the <c>__metadata__</c> entry).</summary>
    public static (OrderedDictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) LoadWithMetadata(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No such file: {path}", path);
        using var stream = File.OpenRead(path);
        return LoadWithMetadata(stream, path);
    }

    /// <summary>Reads a safetensors stream; <paramref name="source"/> names it in error messages.</summary>
    public static OrderedDictionary<string, Tensor> Load(Stream stream, string source) => LoadWithMetadata(stream, source).Tensors;

    /// <summary>Reads a safetensors stream's tensors and metadata; <paramref name="source"/> names it in error messages.</summary>
    public static (OrderedDictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) LoadWithMetadata(Stream stream, string source)
    {
        var metadata = new Dictionary<string, string>();
        long fileLength = stream.Length;
        Span<byte> lenBytes = stackalloc byte[8];
        if (fileLength < 8 || stream.Read(lenBytes) != 8) throw Bad(source, $"the file is {fileLength} bytes, too short for the 8-byte header length");
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(lenBytes);
        if (headerLength < 2 || headerLength > MaxHeaderBytes || headerLength > fileLength - 8)
            throw Bad(source, $"the header length {headerLength} does not fit a file of {fileLength} bytes");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        long dataLength = fileLength - 8 - headerLength;

        var specs = new List<(string Name, string Dtype, int[] Shape, long Begin, long End)>();
        try
        {
            using var doc = JsonDocument.Parse(headerBytes);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad(source, "the header is not a JSON object");
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object) throw Bad(source, "__metadata__ is not an object");
                    foreach (var m in prop.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                    continue;
                }
                var e = prop.Value;
                string dtype = e.GetProperty("dtype").GetString() ?? "";
                int[] shape = e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
                long[] offsets = e.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                if (offsets.Length != 2) throw Bad(source, $"tensor '{prop.Name}' has {offsets.Length} data offsets, not 2");
                specs.Add((prop.Name, dtype, shape, offsets[0], offsets[1]));
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw Bad(source, $"the header is not valid safetensors JSON ({e.Message})");
        }

        foreach (var s in specs)
        {
            int width = s.Dtype switch { "F32" => 4, "F64" => 8, "F16" or "BF16" => 2, _ => 0 };
            if (width == 0) throw Bad(source, $"tensor '{s.Name}' has dtype {s.Dtype}; only F32, F64, F16 and BF16 are supported");
            if (s.Shape.Any(d => d < 0)) throw Bad(source, $"tensor '{s.Name}' has a negative dimension in {Shapes.Format(s.Shape)}");
            long count = 1;
            foreach (int d in s.Shape)
            {
                count *= d;
                if (count > int.MaxValue) throw Bad(source, $"tensor '{s.Name}' of shape {Shapes.Format(s.Shape)} has more elements than a tensor can hold");
            }
            if (s.Begin < 0 || s.End < s.Begin || s.End > dataLength)
                throw Bad(source, $"tensor '{s.Name}' claims bytes {s.Begin}..{s.End} but the data section has {dataLength} bytes");
            if (s.End - s.Begin != count * width)
                throw Bad(source, $"tensor '{s.Name}' of shape {Shapes.Format(s.Shape)} and dtype {s.Dtype} needs {count * width} bytes but claims {s.End - s.Begin}");
        }
        var sorted = specs.OrderBy(s => s.Begin).ToList();
        long covered = 0;
        for (int i = 0; i < sorted.Count; i++)
        {
            if (i > 0 && sorted[i].Begin < sorted[i - 1].End) throw Bad(source, $"tensors '{sorted[i - 1].Name}' and '{sorted[i].Name}' overlap");
            // As the format's reference reader: the tensors fill the data section with no gaps.
            if (sorted[i].Begin != covered) throw Bad(source, $"{sorted[i].Begin - covered} bytes before tensor '{sorted[i].Name}' belong to no tensor");
            covered = sorted[i].End;
        }
        if (covered != dataLength) throw Bad(source, $"{dataLength - covered} bytes after the last tensor belong to no tensor (a truncated header or trailing data)");

        var result = new OrderedDictionary<string, Tensor>();
        long dataStart = 8 + headerLength;
        foreach (var s in specs)
        {
            int width = s.Dtype switch { "F32" => 4, "F64" => 8, _ => 2 };
            var bytes = new byte[s.End - s.Begin];
            stream.Position = dataStart + s.Begin;
            stream.ReadExactly(bytes);
            int n = bytes.Length / width;
            var values = new float[n];
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<byte> b = bytes.AsSpan(i * width, width);
                values[i] = s.Dtype switch
                {
                    "F32" => BinaryPrimitives.ReadSingleLittleEndian(b),
                    "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
                    "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(b),
                    _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16),
                };
            }
            result.Add(s.Name, Tensor.FromArray(values).Reshape(s.Shape));
        }
        return (result, metadata);
    }

    private static InvalidDataException Bad(string source, string what) => new($"{source}: not a valid safetensors file: {what}.");
}
