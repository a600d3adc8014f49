using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Nabla.IO;

/// <summary>Writes 8-bit greyscale PNG images (for saliency maps and sample grids), with no dependency beyond the runtime's zlib.</summary>
public static class Png
{
    private static readonly uint[] s_crcTable = MakeCrcTable();

    /// <summary>
    /// Writes <paramref name="pixels"/> [height, width] (values clipped to [0, 1]; 0 black, 1 white)
    /// as a greyscale PNG, atomically.
    /// </summary>
    public static void WriteGrey(string path, Tensor pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Rank != 2) throw new ArgumentException($"Png.WriteGrey: pixels must be [height, width], got {pixels.ShapeString}.");
        int h = pixels.Shape[0], w = pixels.Shape[1];
        ReadOnlySpan<float> v = pixels.Data;
        var raw = new byte[h * (w + 1)];
        for (int y = 0; y < h; y++)
        {
            raw[y * (w + 1)] = 0; // filter: none
            for (int x = 0; x < w; x++)
            {
                float p = v[y * w + x];
                raw[y * (w + 1) + 1 + x] = (byte)Math.Clamp((int)MathF.Round((float.IsNaN(p) ? 0 : p) * 255f), 0, 255);
            }
        }
        using var compressed = new MemoryStream();
        using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, w);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), h);
        header[8] = 8; // bit depth
        header[9] = 0; // greyscale
        AtomicFile.Write(path, s =>
        {
            s.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
            Chunk(s, "IHDR", header);
            Chunk(s, "IDAT", compressed.ToArray());
            Chunk(s, "IEND", []);
        });
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        byte[] typeBytes = Encoding.ASCII.GetBytes(type);
        s.Write(typeBytes);
        s.Write(data);
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in typeBytes) crc = s_crcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        foreach (byte b in data) crc = s_crcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        BinaryPrimitives.WriteUInt32BigEndian(len, crc ^ 0xFFFFFFFFu);
        s.Write(len);
    }

    private static uint[] MakeCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
