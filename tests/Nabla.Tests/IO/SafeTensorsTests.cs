using System.Buffers.Binary;
using System.Text;
using Nabla.IO;

namespace Nabla.Tests.IO;

/// <summary>
/// The safetensors reader on files written byte by byte here: every dtype it converts (F32, F64,
/// F16, BF16) read back to known values, and every check of the header (sizes, offsets, overlaps,
/// gaps, dtypes, shapes) refusing what breaks it.
/// </summary>
public class SafeTensorsTests
{
    private sealed record Entry(string Name, string Dtype, int[] Shape, byte[] Data, long? Begin = null, long? End = null);

    /// <summary>A file from entries laid out in order (or at the offsets given), with an optional raw header.</summary>
    private static byte[] File(IEnumerable<Entry> entries, string? metadata = null, string? rawHeader = null, long? headerLength = null, byte[]? trailing = null)
    {
        var list = entries.ToList();
        var header = new StringBuilder("{");
        if (metadata is not null) header.Append("\"__metadata__\":").Append(metadata).Append(',');
        long offset = 0;
        foreach (var e in list)
        {
            long begin = e.Begin ?? offset, end = e.End ?? begin + e.Data.Length;
            header.Append($"\"{e.Name}\":{{\"dtype\":\"{e.Dtype}\",\"shape\":[{string.Join(",", e.Shape)}],\"data_offsets\":[{begin},{end}]}},");
            offset = end;
        }
        if (header[^1] == ',') header.Length--;
        header.Append('}');
        byte[] json = Encoding.UTF8.GetBytes(rawHeader ?? header.ToString());
        var bytes = new List<byte>();
        var length = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, headerLength ?? json.Length);
        bytes.AddRange(length);
        bytes.AddRange(json);
        foreach (var e in list) bytes.AddRange(e.Data);
        if (trailing is not null) bytes.AddRange(trailing);
        return [.. bytes];
    }

    private static OrderedDictionary<string, Tensor> Read(byte[] bytes) => SafeTensors.Load(new MemoryStream(bytes), "test.safetensors");

    private static string Refused(byte[] bytes)
    {
        var error = Assert.Throws<InvalidDataException>(() => Read(bytes));
        Assert.StartsWith("test.safetensors: not a valid safetensors file: ", error.Message);
        return error.Message;
    }

    private static byte[] Bytes(int count, Action<byte[]> fill)
    {
        var b = new byte[count];
        fill(b);
        return b;
    }

    [Fact]
    public void Every_dtype_reads_back_its_values_in_file_order()
    {
        float[] values = [1.5f, -2.25f, 0f, 65280f, -0.0009765625f, 3.140625f];
        byte[] f32 = Bytes(24, b => { for (int i = 0; i < 6; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), values[i]); });
        byte[] f64 = Bytes(48, b => { for (int i = 0; i < 6; i++) BinaryPrimitives.WriteDoubleLittleEndian(b.AsSpan(i * 8), values[i]); });
        byte[] f16 = Bytes(12, b => { for (int i = 0; i < 6; i++) BinaryPrimitives.WriteHalfLittleEndian(b.AsSpan(i * 2), (Half)values[i]); });
        // bfloat16 is the top half of a float32: these values have no more than 8 significant bits.
        byte[] bf16 = Bytes(12, b => { for (int i = 0; i < 6; i++) BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(i * 2), (ushort)(BitConverter.SingleToInt32Bits(values[i]) >> 16)); });
        var tensors = Read(File([new("z_f32", "F32", [2, 3], f32), new("a_f64", "F64", [3, 2], f64), new("m_f16", "F16", [6], f16), new("b_bf16", "BF16", [1, 6], bf16)]));
        Assert.Equal(["z_f32", "a_f64", "m_f16", "b_bf16"], tensors.Keys);
        Assert.Equal([2, 3], tensors["z_f32"].Shape.ToArray());
        Assert.Equal([3, 2], tensors["a_f64"].Shape.ToArray());
        Assert.Equal([6], tensors["m_f16"].Shape.ToArray());
        Assert.Equal([1, 6], tensors["b_bf16"].Shape.ToArray());
        foreach (var t in tensors.Values) Assert.Equal(values, t.ToArray());
    }

    [Fact]
    public void Metadata_and_empty_and_scalar_tensors_read()
    {
        byte[] one = Bytes(4, b => BinaryPrimitives.WriteSingleLittleEndian(b, 7f));
        var (tensors, metadata) = SafeTensors.LoadWithMetadata(new MemoryStream(File([new("scalar", "F32", [], one), new("empty", "F32", [0, 3], [])], metadata: "{\"format\":\"pt\",\"n\":\"2\"}")), "m");
        Assert.Equal(7f, tensors["scalar"].Item());
        Assert.Equal(0, tensors["scalar"].Rank);
        Assert.Equal([0, 3], tensors["empty"].Shape.ToArray());
        Assert.Equal("pt", metadata["format"]);
        var (_, withNull) = SafeTensors.LoadWithMetadata(new MemoryStream(File([new("s", "F32", [], one)], metadata: "{\"empty\":null}")), "m");
        Assert.Equal("", withNull["empty"]);
        Assert.Equal("2", metadata["n"]);
    }

    [Fact]
    public void Sizes_offsets_overlaps_gaps_and_dtypes_are_checked()
    {
        byte[] eight = new byte[8];
        Assert.Contains("too short", Refused([1, 2, 3]));
        Assert.Contains("header length", Refused(File([new("a", "F32", [2], eight)], headerLength: 1)));
        Assert.Contains("header length", Refused(File([new("a", "F32", [2], eight)], headerLength: 10_000)));
        Assert.Contains("header length", Refused(File([new("a", "F32", [2], eight)], headerLength: -5)));
        Assert.Contains("not a JSON object", Refused(File([], rawHeader: "[1, 2]")));
        Assert.Contains("not valid safetensors JSON", Refused(File([], rawHeader: "{\"a\": ")));
        Assert.Contains("not valid safetensors JSON", Refused(File([], rawHeader: "{\"a\": {\"shape\": [1], \"data_offsets\": [0, 4]}}")));
        Assert.Contains("__metadata__ is not an object", Refused(File([], rawHeader: "{\"__metadata__\": 3}")));
        Assert.Contains("tensor 'a' has 3 data offsets, not 2", Refused(File([], rawHeader: "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4, 8]}}")));
        Assert.Contains("tensor 'a' has dtype I64; only F32, F64, F16 and BF16", Refused(File([new("a", "I64", [1], eight)])));
        Assert.Contains("tensor 'a' has dtype ; only", Refused(File([], rawHeader: "{\"a\": {\"dtype\": null, \"shape\": [1], \"data_offsets\": [0, 4]}}")));
        // The largest count a tensor holds passes that check and fails on its size.
        Assert.Contains("needs 8589934588 bytes but claims 0", Refused(File([new("a", "F32", [2147483647], [])])));
        // An 8-byte file is long enough for the length, not for a header.
        Assert.Contains("the header length 0 does not fit a file of 8 bytes", Refused(new byte[8]));
        // A header that runs a few bytes past the end of the file.
        Assert.Contains("does not fit a file of", Refused(File([new("a", "F32", [2], eight)], headerLength: 75)));
        Assert.Contains("negative dimension", Refused(File([new("a", "F32", [-2], eight)])));
        Assert.Contains("more elements than a tensor can hold", Refused(File([new("a", "F32", [65536, 65536], eight)])));
        Assert.Contains("needs 8 bytes but claims 4", Refused(File([new("a", "F32", [2], new byte[4])])));
        Assert.Contains("needs 16 bytes but claims 8", Refused(File([new("a", "F64", [2], eight)])));
        Assert.Contains("tensor 'b' of shape [2] and dtype F64 needs 16 bytes but claims 8", Refused(File([new("a", "F32", [2], eight), new("b", "F64", [2], eight)])));
        Assert.Contains("claims bytes 0..16", Refused(File([new("a", "F32", [4], eight, 0, 16)])));
        Assert.Contains("claims bytes -4..4", Refused(File([new("a", "F32", [2], eight, -4, 4)])));
        Assert.Contains("claims bytes 8..4", Refused(File([new("a", "F32", [1], eight, 8, 4)])));
        Assert.Contains("'a' and 'b' overlap", Refused(File([new("a", "F32", [2], eight, 0, 8), new("b", "F32", [2], [], 4, 12)], trailing: new byte[4])));
        Assert.Contains("4 bytes before tensor 'a'", Refused(File([new("a", "F32", [1], new byte[8], 4, 8)])));
        Assert.Contains("4 bytes before tensor 'b'", Refused(File([new("a", "F32", [2], eight, 0, 8), new("b", "F32", [1], new byte[8], 12, 16)])));
        Assert.Contains("3 bytes after the last tensor", Refused(File([new("a", "F32", [2], eight)], trailing: [1, 2, 3])));
        Assert.Contains("after the last tensor", Refused(File([], trailing: [1])));
        // The same entries laid out correctly read.
        Assert.Equal(2, Read(File([new("a", "F32", [2], eight), new("b", "F32", [2], eight)])).Count);
    }

    [Fact]
    public void Save_writes_what_load_reads_and_refuses_a_name_twice()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nabla-{Guid.NewGuid():N}.safetensors");
        try
        {
            var x = Tensor.FromArray([1f, -2f, 3.5f, 4f, 5f, 6f], 2, 3);
            SafeTensors.Save(path, [new("x", x), new("s", Tensor.Scalar(-1f)), new("t", x.T)], new Dictionary<string, string> { ["k"] = "v" });
            byte[] bytes = System.IO.File.ReadAllBytes(path);
            long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
            Assert.Equal(0, headerLength % 8);
            Assert.Equal(8 + headerLength + 4 * (6 + 1 + 6), bytes.Length);
            var (tensors, metadata) = SafeTensors.LoadWithMetadata(path);
            Assert.Equal(x.ToArray(), tensors["x"].ToArray());
            Assert.Equal(-1f, tensors["s"].Item());
            Assert.Equal(x.T.ToArray(), tensors["t"].ToArray());
            Assert.Equal([3, 2], tensors["t"].Shape.ToArray());
            Assert.Equal("v", metadata["k"]);
            Assert.Contains("'x' appears twice", Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, [new("x", x), new("x", x)])).Message);
            Assert.Contains("No such file: ", Assert.Throws<FileNotFoundException>(() => SafeTensors.Load(path + ".missing")).Message);
            Assert.Equal("path", Assert.Throws<ArgumentException>(() => SafeTensors.Load("")).ParamName);
            Assert.Equal("path", Assert.Throws<ArgumentNullException>(() => SafeTensors.Load((string)null!)).ParamName);
            Assert.Equal("path", Assert.Throws<ArgumentException>(() => SafeTensors.Save("", [new("x", x)])).ParamName);
            Assert.Equal("tensors", Assert.Throws<ArgumentNullException>(() => SafeTensors.Save(path, null!)).ParamName);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }
}
