using System.Buffers.Binary;
using System.IO.Compression;

namespace Nabla.Data;

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST: two zero bytes, a type byte (0x08:
/// unsigned byte), the number of dimensions, one big-endian int32 per dimension, then the data
/// row-major. Gzip-compressed files (.gz) are read transparently. The header is checked
/// before anything is allocated, and the body must be exactly as long as the dimensions say.
/// </summary>
public static class Idx
{
    private const long MaxElements = 1L << 31;

    /// <summary>The dimensions and the raw bytes of an unsigned-byte IDX file.</summary>
    public static (int[] Dimensions, byte[] Data) ReadBytes(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file not found: {path}", path);
        using Stream file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        return ReadBytes(stream, path, path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? null : file.Length);
    }

    /// <summary>Reads an unsigned-byte IDX stream; <paramref name="source"/> names it in errors; <paramref name="length"/> is its size when known.</summary>
    public static (int[] Dimensions, byte[] Data) ReadBytes(Stream stream, string source, long? length = null)
    {
        Span<byte> magic = stackalloc byte[4];
        if (ReadFully(stream, magic) != 4) throw Bad(source, "it ends before the 4-byte magic number");
        if (magic[0] != 0 || magic[1] != 0) throw Bad(source, $"the magic number starts with {magic[0]:x2} {magic[1]:x2}, not 00 00");
        if (magic[2] != 0x08) throw Bad(source, $"the element type is 0x{magic[2]:x2}; only unsigned bytes (0x08) are supported");
        int rank = magic[3];
        if (rank is < 1 or > 8) throw Bad(source, $"it declares {rank} dimensions");
        var dims = new int[rank];
        Span<byte> word = stackalloc byte[4];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            if (ReadFully(stream, word) != 4) throw Bad(source, $"it ends inside the size of dimension {i}");
            int d = BinaryPrimitives.ReadInt32BigEndian(word);
            if (d < 0) throw Bad(source, $"dimension {i} has negative size {d}");
            dims[i] = d;
            count *= d;
            if (count > MaxElements) throw Bad(source, $"the dimensions {string.Join("x", dims[..(i + 1)])} describe more than {MaxElements} elements");
        }
        long header = 4 + 4L * rank;
        if (length is long len && len - header != count)
            throw Bad(source, $"the dimensions {string.Join("x", dims)} need {count} bytes of data but the file has {len - header}");
        byte[] data;
        if (length is not null)
        {
            // The size was checked against the file above, so this allocation is justified.
            data = new byte[count];
            int got = ReadFully(stream, data);
            if (got != count) throw Bad(source, $"the dimensions {string.Join("x", dims)} need {count} bytes of data but it ends after {got}");
        }
        else
        {
            // A compressed stream's length is unknown: grow with the data actually read, so a
            // header that lies about its size cannot make the reader allocate what is not there.
            data = ReadUpTo(stream, count, out long got);
            if (got != count) throw Bad(source, $"the dimensions {string.Join("x", dims)} need {count} bytes of data but it ends after {got}");
        }
        if (stream.ReadByte() != -1) throw Bad(source, $"it has data beyond the {count} bytes its dimensions {string.Join("x", dims)} describe");
        return (dims, data);
    }

    private static byte[] ReadUpTo(Stream s, long count, out long got)
    {
        var buffer = new byte[(int)Math.Min(count, 1 << 20)];
        got = 0;
        while (got < count)
        {
            if (got == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(count, (long)buffer.Length * 2));
            int n = s.Read(buffer, (int)got, buffer.Length - (int)got);
            if (n == 0) break;
            got += n;
        }
        return buffer;
    }

    private static int ReadFully(Stream s, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = s.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static InvalidDataException Bad(string source, string what) => new($"{source}: not a valid IDX file: {what}.");
}
