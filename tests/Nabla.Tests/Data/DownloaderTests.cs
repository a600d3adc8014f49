using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using Nabla.Data;

namespace Nabla.Tests.Data;

/// <summary>Downloads from a small HTTP server on loopback serving files the test writes.</summary>
public class DownloaderTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "nabla-dl-" + Guid.NewGuid().ToString("N"));
    private readonly HttpListener _listener = new();
    private readonly Uri _base;
    private int _requests;

    public DownloaderTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "served"));
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _base = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(_base.ToString());
        _listener.Start();
        _ = Task.Run(Serve);
    }

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            Interlocked.Increment(ref _requests);
            string path = Path.Combine(_root, "served", ctx.Request.Url!.AbsolutePath.TrimStart('/'));
            if (File.Exists(path))
            {
                byte[] body = await File.ReadAllBytesAsync(path);
                ctx.Response.ContentLength64 = body.Length;
                await ctx.Response.OutputStream.WriteAsync(body);
            }
            else
            {
                ctx.Response.StatusCode = 404;
            }
            ctx.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        Directory.Delete(_root, recursive: true);
    }

    private static byte[] Idx(int[] dims, byte[] body)
    {
        var bytes = new List<byte> { 0, 0, 8, (byte)dims.Length };
        foreach (int d in dims) bytes.AddRange(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(d)));
        bytes.AddRange(body);
        return [.. bytes];
    }

    /// <summary>Writes the four gzipped files to the served folder and returns their names and digests.</summary>
    private List<RemoteFile> Publish()
    {
        var files = new (string Name, byte[] Content)[]
        {
            ("train-images-idx3-ubyte.gz", Idx([2, 28, 28], new byte[2 * 784])),
            ("train-labels-idx1-ubyte.gz", Idx([2], [3, 5])),
            ("t10k-images-idx3-ubyte.gz", Idx([1, 28, 28], new byte[784])),
            ("t10k-labels-idx1-ubyte.gz", Idx([1], [9])),
        };
        var list = new List<RemoteFile>();
        foreach (var (name, content) in files)
        {
            string path = Path.Combine(_root, "served", name);
            using (var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest)) gz.Write(content);
            list.Add(new RemoteFile(name, Downloader.Digest(path)));
        }
        return list;
    }

    private MnistLayoutDataset Dataset(IReadOnlyList<RemoteFile> digests) =>
        new("test-set", null, "(test hint)", ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"], _base, digests, Path.Combine(_root, "cache"));

    [Fact]
    public void Missing_data_is_downloaded_into_the_cache_verified_and_loaded_once()
    {
        var dataset = Dataset(Publish());
        var (train, test) = dataset.Load();
        Assert.Equal([3f, 5f], train.Labels.ToArray());
        Assert.Equal(1, test.Count);
        Assert.True(File.Exists(Path.Combine(_root, "cache", "t10k-labels-idx1-ubyte.gz")));
        int requests = _requests;
        dataset.Load();
        Assert.Equal(requests, _requests); // found in the cache: no second download
    }

    [Fact]
    public void A_file_with_the_wrong_digest_is_refused_and_not_kept()
    {
        var digests = Publish();
        digests[1] = digests[1] with { Sha256 = new string('0', 64) };
        var ex = Assert.Throws<FileNotFoundException>(() => Dataset(digests).Load());
        Assert.Contains("SHA-256", ex.Message);
        Assert.Contains("train-labels-idx1-ubyte.gz", ex.Message);
        Assert.False(File.Exists(Path.Combine(_root, "cache", "train-labels-idx1-ubyte.gz")));
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "cache"), "*.download"));
    }

    [Fact]
    public void A_missing_remote_file_names_the_address_and_status()
    {
        var digests = Publish();
        File.Delete(Path.Combine(_root, "served", "t10k-images-idx3-ubyte.gz"));
        var ex = Assert.Throws<FileNotFoundException>(() => Dataset(digests).Load());
        Assert.Contains("t10k-images-idx3-ubyte.gz", ex.Message);
        Assert.Contains("404", ex.Message);
        Assert.Contains("(test hint)", ex.Message);
    }
}
