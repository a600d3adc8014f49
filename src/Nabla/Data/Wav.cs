using System.Buffers.Binary;

namespace Nabla.Data;

/// <summary>A mono sound: samples in [-1, 1] at <paramref name="SampleRate"/> per second.</summary>
/// <param name="Samples">The samples (channels averaged).</param>
/// <param name="SampleRate">Samples per second.</param>
public sealed record AudioClip(float[] Samples, int SampleRate)
{
    /// <summary>The length in seconds.</summary>
    public double Seconds => (double)Samples.Length / SampleRate;
}

/// <summary>
/// Reads and writes WAV files: PCM of 8, 16, 24 and 32 bits and IEEE float of 32 and 64 bits,
/// plain or WAVE_FORMAT_EXTENSIBLE, any number of channels (averaged to mono), any rate
/// (resampled on request with a windowed-sinc filter). Every size is checked against the file
/// before anything is allocated; errors name the file and the chunk.
/// </summary>
public static class Wav
{
    /// <summary>The largest WAV file read (1 GB).</summary>
    public const long MaxFileBytes = 1L << 30;

    /// <summary>Reads <paramref name="path"/> as mono, resampled to <paramref name="sampleRate"/> when given.</summary>
    public static AudioClip Read(string path, int? sampleRate = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"WAV file '{path}' does not exist.", path);
        if (info.Length > MaxFileBytes) throw new InvalidDataException($"WAV file '{path}' is {info.Length} bytes; files up to {MaxFileBytes} bytes are read.");
        return Read(File.ReadAllBytes(path), path, sampleRate);
    }

    /// <summary>Reads WAV bytes; <paramref name="source"/> names them in errors.</summary>
    public static AudioClip Read(ReadOnlySpan<byte> bytes, string source, int? sampleRate = null)
    {
        if (sampleRate is < 1 or > 1_000_000) throw new ArgumentOutOfRangeException(nameof(sampleRate), $"sample rate {sampleRate} is not allowed.");
        if (bytes.Length < 12 || !bytes[..4].SequenceEqual("RIFF"u8) || !bytes[8..12].SequenceEqual("WAVE"u8))
            throw Bad(source, "it does not start with a RIFF/WAVE header");
        int format = 0, channels = 0, rate = 0, bits = 0, blockAlign = 0;
        bool haveFormat = false;
        ReadOnlySpan<byte> data = default;
        bool haveData = false;
        int at = 12;
        while (at + 8 <= bytes.Length)
        {
            ReadOnlySpan<byte> id = bytes.Slice(at, 4);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(at + 4)..]);
            long end = at + 8L + size;
            string name = System.Text.Encoding.ASCII.GetString(id);
            if (id.SequenceEqual("data"u8))
            {
                // Writers that stream set the size to the largest value; anything else must fit the file.
                if (end > bytes.Length)
                {
                    if (size is not (0xFFFFFFFF or 0x7FFFF000 or 0)) throw Bad(source, $"its data chunk declares {size} bytes, but only {bytes.Length - at - 8} follow");
                    end = bytes.Length;
                }
                data = bytes[(at + 8)..(int)end];
                haveData = true;
                break;
            }
            if (end > bytes.Length) throw Bad(source, $"chunk '{Printable(name)}' declares {size} bytes, but only {bytes.Length - at - 8} follow");
            if (id.SequenceEqual("fmt "u8))
            {
                if (size < 16) throw Bad(source, $"its fmt chunk has {size} bytes, fewer than 16");
                ReadOnlySpan<byte> f = bytes.Slice(at + 8, (int)size);
                format = BinaryPrimitives.ReadUInt16LittleEndian(f);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(f[2..]);
                rate = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(f[4..]));
                blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(f[12..]);
                bits = BinaryPrimitives.ReadUInt16LittleEndian(f[14..]);
                if (format == 0xFFFE)
                {
                    if (size < 40) throw Bad(source, "its extensible fmt chunk is shorter than 40 bytes");
                    format = BinaryPrimitives.ReadUInt16LittleEndian(f[24..]); // the sub-format GUID starts with the format code
                }
                haveFormat = true;
            }
            at = (int)(end + (size & 1)); // chunks are padded to an even size
        }
        if (!haveFormat) throw Bad(source, "it has no fmt chunk before its data");
        if (!haveData) throw Bad(source, "it has no data chunk");
        if (format is not (1 or 3)) throw Bad(source, $"its sample format {format} is neither PCM (1) nor IEEE float (3)");
        if (channels < 1 || channels > 64) throw Bad(source, $"it declares {channels} channels");
        if (rate < 1 || rate > 1_000_000) throw Bad(source, $"it declares {rate} samples per second");
        if (format == 1 && bits is not (8 or 16 or 24 or 32) || format == 3 && bits is not (32 or 64))
            throw Bad(source, $"{bits}-bit {(format == 1 ? "PCM" : "float")} samples are not supported");
        int width = bits / 8;
        if (blockAlign != width * channels) throw Bad(source, $"its block size {blockAlign} is not {channels} channel(s) of {width} bytes");
        int frames = data.Length / blockAlign;
        var samples = new float[frames];
        for (int i = 0; i < frames; i++)
        {
            float sum = 0;
            for (int c = 0; c < channels; c++)
            {
                ReadOnlySpan<byte> s = data.Slice(i * blockAlign + c * width, width);
                sum += (format, bits) switch
                {
                    (1, 8) => (s[0] - 128) / 128f,
                    (1, 16) => BinaryPrimitives.ReadInt16LittleEndian(s) / 32768f,
                    (1, 24) => ((s[0] | s[1] << 8 | (sbyte)s[2] << 16)) / 8388608f,
                    (1, _) => (float)(BinaryPrimitives.ReadInt32LittleEndian(s) / 2147483648.0),
                    (_, 32) => BinaryPrimitives.ReadSingleLittleEndian(s),
                    _ => (float)BinaryPrimitives.ReadDoubleLittleEndian(s),
                };
            }
            float v = sum / channels;
            samples[i] = float.IsFinite(v) ? v : throw Bad(source, $"sample {i} is not a finite number");
        }
        var clip = new AudioClip(samples, rate);
        return sampleRate is int target && target != rate ? new AudioClip(Resample(samples, rate, target), target) : clip;
    }

    /// <summary>Writes mono <paramref name="samples"/> (clipped to [-1, 1]) as 16-bit PCM at <paramref name="sampleRate"/>, atomically.</summary>
    public static void Write(string path, ReadOnlySpan<float> samples, int sampleRate)
    {
        byte[] bytes = Encode(samples, sampleRate);
        IO.AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <summary>Mono <paramref name="samples"/> as the bytes of a 16-bit PCM WAV file.</summary>
    public static byte[] Encode(ReadOnlySpan<float> samples, int sampleRate)
    {
        var bytes = new byte[44 + 2 * samples.Length];
        "RIFF"u8.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)(36 + 2 * samples.Length));
        "WAVEfmt "u8.CopyTo(bytes.AsSpan(8));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), 16);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(22), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(24), (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(28), (uint)sampleRate * 2);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(32), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(34), 16);
        "data"u8.CopyTo(bytes.AsSpan(36));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(40), (uint)(2 * samples.Length));
        for (int i = 0; i < samples.Length; i++)
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(44 + 2 * i), (short)Math.Round(Math.Clamp(samples[i], -1f, 1f) * 32767f));
        return bytes;
    }

    /// <summary>
    /// Changes the sample rate with a Hann-windowed sinc filter (16 zero crossings each side),
    /// cut at the lower rate's Nyquist frequency, so downsampling does not alias.
    /// </summary>
    public static float[] Resample(ReadOnlySpan<float> samples, int from, int to)
    {
        if (from < 1 || to < 1) throw new ArgumentOutOfRangeException(nameof(from), $"sample rates {from} and {to} must be positive.");
        if (from == to) return samples.ToArray();
        long length = (long)Math.Ceiling(samples.Length * (double)to / from);
        if (length > int.MaxValue / 2) throw new ArgumentException($"resampling {samples.Length} samples from {from} to {to} Hz gives too many.");
        var output = new float[length];
        double ratio = (double)to / from, cutoff = Math.Min(1.0, ratio);
        const int zeros = 16;
        double halfWidth = zeros / cutoff;
        for (long j = 0; j < length; j++)
        {
            double t = j / ratio;
            int first = (int)Math.Ceiling(t - halfWidth), last = (int)Math.Floor(t + halfWidth);
            double sum = 0;
            for (int k = Math.Max(first, 0); k <= Math.Min(last, samples.Length - 1); k++)
            {
                double x = (k - t) * cutoff;
                double sinc = x == 0 ? 1 : Math.Sin(Math.PI * x) / (Math.PI * x);
                double window = 0.5 + 0.5 * Math.Cos(Math.PI * (k - t) / halfWidth);
                sum += samples[k] * sinc * window * cutoff;
            }
            output[j] = (float)sum;
        }
        return output;
    }

    private static string Printable(string s) => string.Concat(s.Select(c => char.IsControl(c) || c > '~' ? '?' : c));

    private static InvalidDataException Bad(string source, string what) => new($"WAV file '{source}': {what}.");
}
