using System.Buffers.Binary;
using Nabla.Data;

namespace Nabla.Tests.Data;

/// <summary>WAV reading: every sample format, channels, resampling, and hostile files.</summary>
public class WavTests
{
    /// <summary>A WAV file of the given format holding <paramref name="frames"/> frames of <paramref name="channels"/> channels.</summary>
    private static byte[] Make(int format, int bits, int channels, int rate, double[][] frames, bool extensible = false)
    {
        int width = bits / 8, block = width * channels, fmtSize = extensible ? 40 : 16;
        var data = new byte[frames.Length * block];
        for (int i = 0; i < frames.Length; i++)
        {
            for (int c = 0; c < channels; c++)
            {
                Span<byte> s = data.AsSpan(i * block + c * width, width);
                double v = frames[i][c];
                switch (format, bits)
                {
                    case (1, 8): s[0] = (byte)(v * 128 + 128); break;
                    case (1, 16): BinaryPrimitives.WriteInt16LittleEndian(s, (short)(v * 32768)); break;
                    case (1, 24):
                        int i24 = (int)(v * 8388608);
                        s[0] = (byte)i24; s[1] = (byte)(i24 >> 8); s[2] = (byte)(i24 >> 16);
                        break;
                    case (1, 32): BinaryPrimitives.WriteInt32LittleEndian(s, (int)(v * 2147483648.0)); break;
                    case (3, 32): BinaryPrimitives.WriteSingleLittleEndian(s, (float)v); break;
                    default: BinaryPrimitives.WriteDoubleLittleEndian(s, v); break;
                }
            }
        }
        var bytes = new byte[12 + 8 + fmtSize + 8 + data.Length];
        "RIFF"u8.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)(bytes.Length - 8));
        "WAVEfmt "u8.CopyTo(bytes.AsSpan(8));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), (uint)fmtSize);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(20), (ushort)(extensible ? 0xFFFE : format));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(22), (ushort)channels);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(24), (uint)rate);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(28), (uint)(rate * block));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(32), (ushort)block);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(34), (ushort)bits);
        if (extensible) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(20 + 24), (ushort)format);
        int at = 20 + fmtSize;
        "data"u8.CopyTo(bytes.AsSpan(at));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + 4), (uint)data.Length);
        data.CopyTo(bytes, at + 8);
        return bytes;
    }

    [Theory]
    [InlineData(1, 8, 1e-2)]
    [InlineData(1, 16, 1e-4)]
    [InlineData(1, 24, 1e-6)]
    [InlineData(1, 32, 1e-6)]
    [InlineData(3, 32, 1e-7)]
    [InlineData(3, 64, 1e-7)]
    public void Every_sample_format_reads_back_with_channels_averaged(int format, int bits, double tolerance)
    {
        double[][] frames = [[0.5, -0.25], [-0.75, 0.125], [0.0, 0.5]];
        foreach (bool extensible in new[] { false, true })
        {
            AudioClip clip = Wav.Read(Make(format, bits, 2, 22050, frames, extensible), "test.wav");
            Assert.Equal(22050, clip.SampleRate);
            Assert.Equal(3, clip.Samples.Length);
            for (int i = 0; i < 3; i++) Assert.Equal((frames[i][0] + frames[i][1]) / 2, clip.Samples[i], tolerance);
        }
    }

    [Fact]
    public void Resampling_keeps_a_tone_and_its_length()
    {
        var tone = new float[22050];
        for (int i = 0; i < tone.Length; i++) tone[i] = 0.5f * MathF.Sin(2 * MathF.PI * 440 * i / 22050f);
        AudioClip clip = Wav.Read(Wav.Encode(tone, 22050), "tone.wav", sampleRate: 16000);
        Assert.Equal(16000, clip.Samples.Length);
        for (int i = 200; i < 15800; i += 97) Assert.Equal(0.5 * Math.Sin(2 * Math.PI * 440 * i / 16000.0), clip.Samples[i], 0.01);
    }

    [Fact]
    public void Hostile_files_get_clear_errors_and_bounded_memory()
    {
        byte[] good = Make(1, 16, 1, 16000, [.. Enumerable.Range(0, 400).Select(i => new[] { Math.Sin(i / 10.0) * 0.5 })]);
        void Refused(byte[] bytes, string expected)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.Throws<InvalidDataException>(() => Wav.Read(bytes, "bad.wav"));
            Assert.Contains("bad.wav", e.Message);
            Assert.Contains(expected, e.Message);
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        }
        Refused(good[..20], "chunk 'fmt ' declares 16 bytes, but only 0 follow");
        Refused(good[..12], "no fmt chunk");
        var huge = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(huge.AsSpan(40), 0x7FFF0000);
        Refused(huge, "data chunk declares");
        var lyingFmt = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(lyingFmt.AsSpan(16), 1_000_000);
        Refused(lyingFmt, "chunk 'fmt ' declares");
        var badBits = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(badBits.AsSpan(34), 12);
        Refused(badBits, "12-bit");
        Refused("RIFF\0\0\0\0WAVX"u8.ToArray(), "RIFF/WAVE");

        var rng = new Random(11);
        for (int trial = 0; trial < 300; trial++)
        {
            byte[] bad = (byte[])good.Clone();
            for (int k = 0, flips = 1 + rng.Next(4); k < flips; k++) bad[rng.Next(Math.Min(bad.Length, 60))] = (byte)rng.Next(256);
            if (trial % 3 == 0) bad = bad[..rng.Next(bad.Length)];
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                AudioClip clip = Wav.Read(bad, "mutated.wav", sampleRate: 16000);
                Assert.All(clip.Samples, v => Assert.True(float.IsFinite(v)));
            }
            catch (InvalidDataException e)
            {
                Assert.Contains("mutated.wav", e.Message);
            }
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64L << 20, $"trial {trial} allocated too much");
        }
    }
}
