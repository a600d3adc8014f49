using System.Buffers.Binary;
using SkiaSharp;

namespace Nabla.Vision.Tests;

/// <summary>Truncated, corrupt and lying image files get clear errors and bounded memory.</summary>
public class HostileImageTests
{
    private static void AssertRefused(byte[] bytes, string what)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            float[] pixels = ImageDecoder.Decode(bytes, what, 3, 8, 8);
            Assert.Equal(3 * 64, pixels.Length);
        }
        catch (InvalidDataException e)
        {
            Assert.Contains(what, e.Message);
        }
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64L << 20, $"{what} allocated {(GC.GetAllocatedBytesForCurrentThread() - before) >> 20} MB");
    }

    [Fact]
    public void A_png_that_declares_a_huge_size_is_refused_before_decoding()
    {
        byte[] png = ImageFolderTests.Encode(8, 8, (x, y) => SKColors.Red);
        // IHDR follows the 8-byte signature and the chunk's length and type: width and height at 16 and 20.
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), 100_000);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), 100_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(png, "huge.png", 3, 8, 8));
        Assert.Contains("huge.png", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16L << 20);
    }

    [Fact]
    public void Truncated_files_are_refused_by_name()
    {
        foreach (var format in new[] { SKEncodedImageFormat.Png, SKEncodedImageFormat.Jpeg })
        {
            byte[] image = ImageFolderTests.Encode(32, 32, (x, y) => new SKColor((byte)x, (byte)y, 9), format, 90);
            var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(image.AsSpan(0, image.Length / 2), $"half.{format}", 3, 32, 32));
            Assert.Contains($"half.{format}", e.Message);
            Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(image.AsSpan(0, 10), "ten-bytes", 3, 32, 32));
        }
        Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode([], "empty", 3, 8, 8));
    }

    [Fact]
    public void Mutated_files_decode_or_fail_clearly()
    {
        var rng = new Random(77);
        foreach (var format in new[] { SKEncodedImageFormat.Png, SKEncodedImageFormat.Jpeg })
        {
            byte[] good = ImageFolderTests.Encode(24, 24, (x, y) => new SKColor((byte)(x * 10), (byte)(y * 10), 50), format, 80);
            for (int trial = 0; trial < 150; trial++)
            {
                byte[] bad = (byte[])good.Clone();
                for (int k = 0, flips = 1 + rng.Next(6); k < flips; k++) bad[rng.Next(bad.Length)] = (byte)rng.Next(256);
                if (trial % 3 == 0) bad = bad[..rng.Next(1, bad.Length)];
                AssertRefused(bad, $"mutation {trial} of a {format}");
            }
        }
    }
}
