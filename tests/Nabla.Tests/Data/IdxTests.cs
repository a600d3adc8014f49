using System.IO.Compression;
using Nabla.Data;

namespace Nabla.Tests.Data;

public class IdxTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "nabla-idx-" + Guid.NewGuid().ToString("N"));

    public IdxTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Encode(byte type, int[] dims, byte[] body)
    {
        var bytes = new List<byte> { 0, 0, type, (byte)dims.Length };
        foreach (int d in dims) bytes.AddRange(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(d)));
        bytes.AddRange(body);
        return [.. bytes];
    }

    private string Write(string name, byte[] content, bool gzip = false)
    {
        string path = Path.Combine(_dir, name + (gzip ? ".gz" : ""));
        if (!gzip)
        {
            File.WriteAllBytes(path, content);
            return path;
        }
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        gz.Write(content);
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_dimensions_and_bytes_plain_or_gzipped(bool gzip)
    {
        byte[] body = Enumerable.Range(0, 24).Select(i => (byte)(i * 10)).ToArray();
        var (dims, data) = Idx.ReadBytes(Write("ok", Encode(8, [2, 3, 4], body), gzip));
        Assert.Equal([2, 3, 4], dims);
        Assert.Equal(body, data);
    }

    [Theory]
    [InlineData("magic", "magic number")]
    [InlineData("type", "element type")]
    [InlineData("truncated", "ends after")]
    [InlineData("lying", "need 1000000 bytes")]
    [InlineData("extra", "beyond")]
    [InlineData("header", "inside the size of dimension 1")]
    [InlineData("negative", "negative size")]
    public void Refuses_bad_files_naming_the_file_and_the_problem(string kind, string expected)
    {
        byte[] good = Encode(8, [2, 3], new byte[6]);
        byte[] content = kind switch
        {
            "magic" => [1, 0, .. good[2..]],
            "type" => [0, 0, 0x0D, .. good[3..]],
            "truncated" => good[..^2],
            "lying" => Encode(8, [1000, 1000], new byte[6]),
            "extra" => [.. good, 7],
            "header" => good[..9],
            _ => Encode(8, [2, -3], new byte[6]),
        };
        // Gzipped, so the reader cannot check the length up front and must notice while reading.
        string path = Write(kind, content, gzip: true);
        var ex = Assert.Throws<InvalidDataException>(() => Idx.ReadBytes(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains(expected, ex.Message);
        // Uncompressed, the size is checked against the header before the body is allocated.
        if (kind == "lying")
        {
            var ex2 = Assert.Throws<InvalidDataException>(() => Idx.ReadBytes(Write(kind, content)));
            Assert.Contains("the file has 6", ex2.Message);
        }
    }

    [Fact]
    public void Fashion_mnist_loader_names_the_places_it_searched()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(Path.Combine(_dir, "nowhere")));
        Assert.Contains("nowhere", ex.Message);
        Assert.Contains("dataset-fashion-mnist", ex.Message);
    }

    [Theory]
    [InlineData("fashion-mnist")]
    [InlineData("mnist")]
    public void Mnist_layout_loaders_read_a_folder_of_small_files(string dataset)
    {
        MnistLayoutDataset loader = dataset == "mnist" ? Mnist.Dataset : FashionMnist.Dataset;
        byte[] pixels = Enumerable.Range(0, 3 * 28 * 28).Select(i => (byte)(i % 256)).ToArray();
        Write("train-images-idx3-ubyte", Encode(8, [3, 28, 28], pixels), gzip: true);
        Write("train-labels-idx1-ubyte", Encode(8, [3], [0, 9, 4]));
        Write("t10k-images-idx3-ubyte", Encode(8, [1, 28, 28], new byte[784]));
        Write("t10k-labels-idx1-ubyte", Encode(8, [1], [7]));
        var (train, test) = loader.Load(_dir);
        Assert.Equal([3, 1, 28, 28], train.Images.Shape.ToArray());
        Assert.Equal([0f, 9f, 4f], train.Labels.ToArray());
        Assert.Equal(255f / 255f, train.Images[0, 0, 9, 3]);
        Assert.Equal(1, test.Count);
        Write("t10k-labels-idx1-ubyte", Encode(8, [1], [12]));
        Assert.Contains("label 12", Assert.Throws<InvalidDataException>(() => loader.Load(_dir)).Message);
        Assert.Contains(dataset + " not found", Assert.Throws<FileNotFoundException>(() => loader.Load(Path.Combine(_dir, "empty"))).Message);
    }
}
