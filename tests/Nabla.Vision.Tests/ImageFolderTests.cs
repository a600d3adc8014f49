using Nabla.Data;
using SkiaSharp;

namespace Nabla.Vision.Tests;

/// <summary>Decoding and image folders: exact values, resizing, splits, and Fashion-MNIST written as PNG files read back bit for bit.</summary>
public sealed class ImageFolderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nabla-images-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Encodes an RGBA image of <paramref name="w"/> x <paramref name="h"/> from a pixel function.</summary>
    internal static byte[] Encode(int w, int h, Func<int, int, SKColor> pixel, SKEncodedImageFormat format = SKEncodedImageFormat.Png, int quality = 100)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++) bitmap.SetPixel(x, y, pixel(x, y));
        }
        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }

    [Fact]
    public void A_png_decodes_to_exact_channels_first_values()
    {
        byte[] png = Encode(3, 2, (x, y) => new SKColor((byte)(10 * x + y), (byte)(100 + x), (byte)(200 + y)));
        float[] rgb = ImageDecoder.Decode(png, "test.png", 3, 2, 3);
        for (int y = 0; y < 2; y++)
        {
            for (int x = 0; x < 3; x++)
            {
                Assert.Equal((10 * x + y) / 255f, rgb[y * 3 + x]);
                Assert.Equal((100 + x) / 255f, rgb[6 + y * 3 + x]);
                Assert.Equal((200 + y) / 255f, rgb[12 + y * 3 + x]);
            }
        }
        float[] grey = ImageDecoder.Decode(Encode(2, 2, (x, y) => new SKColor(77, 77, 77)), "grey.png", 1, 2, 2);
        Assert.All(grey, v => Assert.Equal(77 / 255f, v));
    }

    [Fact]
    public void A_jpeg_decodes_close_to_its_source_and_resizes()
    {
        byte[] jpeg = Encode(16, 16, (x, y) => new SKColor((byte)(x * 16), (byte)(y * 16), 128), SKEncodedImageFormat.Jpeg, 100);
        float[] rgb = ImageDecoder.Decode(jpeg, "test.jpg", 3, 16, 16);
        for (int y = 0; y < 16; y++)
        {
            for (int x = 0; x < 16; x++) Assert.InRange(rgb[y * 16 + x] * 255f, x * 16 - 12, x * 16 + 12); // JPEG is lossy (chroma subsampling)
        }
        float[] small = ImageDecoder.Decode(jpeg, "test.jpg", 3, 8, 4);
        Assert.Equal(3 * 8 * 4, small.Length);
        // The red ramp still rises left to right after resizing.
        Assert.True(small[3] > small[0] + 0.5f);
    }

    [Fact]
    public void A_folder_lists_classes_in_order_and_splits_by_class_repeatably()
    {
        foreach (var (cls, count) in new[] { ("cat", 10), ("dog", 20) })
        {
            Directory.CreateDirectory(Path.Combine(_dir, cls));
            for (int i = 0; i < count; i++) File.WriteAllBytes(Path.Combine(_dir, cls, $"{i}.png"), Encode(4, 4, (x, y) => new SKColor((byte)i, 0, 0)));
        }
        File.WriteAllText(Path.Combine(_dir, "dog", "notes.txt"), "not an image");
        var data = new ImageFolderDataset(_dir);
        Assert.Equal(["cat", "dog"], data.ClassNames);
        Assert.Equal(30, data.Count);
        Assert.Equal([3, 4, 4], data.SampleShape);
        var (rest, held) = data.Split(0.2, seed: 5);
        Assert.Equal(2, held.Files.Count(f => f.Label == 0));
        Assert.Equal(4, held.Files.Count(f => f.Label == 1));
        Assert.Equal(held.Files, data.Split(0.2, seed: 5).Held.Files);
        Assert.Empty(held.Files.Intersect(rest.Files));
        DataBatch batch = data.Batch([0, 29]);
        Assert.Equal([2, 3, 4, 4], batch.Inputs[0].Shape.ToArray());
        Assert.Equal([0f, 1f], batch.Targets[0].ToArray());
    }

    [SkippableFact]
    public void Fashion_mnist_written_as_png_folders_reads_back_bit_for_bit()
    {
        Skip.IfNot(FashionMnist.Find() is not null, "Fashion-MNIST is not installed (scripts/install-data.sh).");
        var (train, _) = FashionMnist.Load();
        const int count = 500;
        float[] labels = train.Labels.ToArray();
        for (int i = 0; i < count; i++)
        {
            string folder = Path.Combine(_dir, $"{(int)labels[i]}-class");
            Directory.CreateDirectory(folder);
            Nabla.IO.Png.WriteGrey(Path.Combine(folder, $"{i:D5}.png"), train.Images.Select(0, i).Select(0, 0).Contiguous());
        }
        var data = new ImageFolderDataset(_dir, channels: 1);
        Assert.Equal(count, data.Count);
        DataBatch batch = data.Batch([.. Enumerable.Range(0, count)]);
        float[] images = batch.Inputs[0].ToArray(), expected = train.Images.ToArray();
        for (int k = 0; k < count; k++)
        {
            int index = int.Parse(Path.GetFileNameWithoutExtension(data.Files[k].Path), System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(labels[index], batch.Targets[0].ToArray()[k]);
            Assert.True(images.AsSpan(k * 784, 784).SequenceEqual(expected.AsSpan(index * 784, 784)), $"image {index} differs");
        }
    }
}
