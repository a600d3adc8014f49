using System.Buffers.Binary;
using System.IO.Compression;
using Nabla.Examples;
using Nabla.IO;

namespace Nabla.Tests.Trust;

public class PngAndSaliencyTests
{
    [Fact]
    public void Png_holds_the_pixels_with_valid_chunks()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nabla-{Guid.NewGuid():N}.png");
        try
        {
            var pixels = Tensor.FromArray([0f, 0.5f, 1f, 2f, -1f, 0.25f], 2, 3);
            Png.WriteGrey(path, pixels);
            byte[] file = File.ReadAllBytes(path);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], file[..8]);
            Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(file, 12, 4));
            Assert.Equal(3, BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(16)));
            Assert.Equal(2, BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(20)));
            int idatLength = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(33));
            Assert.Equal("IDAT", System.Text.Encoding.ASCII.GetString(file, 37, 4));
            using var z = new ZLibStream(new MemoryStream(file, 41, idatLength), CompressionMode.Decompress);
            var raw = new MemoryStream();
            z.CopyTo(raw);
            Assert.Equal([0, 0, 128, 255, 0, 255, 0, 64], raw.ToArray());
            Assert.Equal("IEND", System.Text.Encoding.ASCII.GetString(file, file.Length - 8, 4));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Saliency_example_renders_maps_and_integrated_gradients_are_complete()
    {
        var result = new SaliencyExample().Run(new ExampleOptions(Epochs: 1, Verbose: 0, Limit: 3000), TextWriter.Null);
        try
        {
            Assert.True(result["ig_completeness_error"] < 0.01, result.ToJson());
            Assert.True(new FileInfo(SaliencyExample.OutputFile).Length > 500);
        }
        finally
        {
            File.Delete(SaliencyExample.OutputFile);
        }
    }
}

public class OverfittingExampleTests
{
    [Fact]
    public void Dropout_weight_decay_and_early_stopping_each_close_the_gap()
    {
        var result = new Nabla.Examples.OverfittingExample().Run(new Nabla.Examples.ExampleOptions(Epochs: 150, Verbose: 0), TextWriter.Null);
        try
        {
            Assert.True(result["none_gap"] > 0.3, result.ToJson());
            foreach (string cure in new[] { "dropout", "weight_decay", "early_stopping" })
                Assert.True(result[$"{cure}_gap"] < 0.5 * result["none_gap"], $"{cure}: {result.ToJson()}");
            Assert.Contains("<polyline", File.ReadAllText(Nabla.Examples.OverfittingExample.OutputFile));
        }
        finally
        {
            File.Delete(Nabla.Examples.OverfittingExample.OutputFile);
        }
    }
}
