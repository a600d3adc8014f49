using System.IO.Compression;
using Nabla.Data;
using Nabla.IO;

namespace Nabla.Tests.Trust;

/// <summary>
/// The file readers on mutated inputs from a fixed seed: every input is either read or refused
/// with the documented InvalidDataException; no other exception, no hang, and no allocation
/// beyond a small multiple of the input's real size.
/// </summary>
public class FuzzTests
{
    private static byte[] Mutate(byte[] original, Generator g)
    {
        var bytes = new List<byte>(original);
        int edits = 1 + g.NextInt(4);
        for (int e = 0; e < edits; e++)
        {
            switch (g.NextInt(5))
            {
                case 0 when bytes.Count > 0: bytes[g.NextInt(bytes.Count)] = (byte)g.NextInt(256); break;
                case 1 when bytes.Count > 0:
                    int start = g.NextInt(bytes.Count);
                    bytes.RemoveRange(start, Math.Min(bytes.Count - start, g.NextInt(16)));
                    break;
                case 2: bytes.Insert(g.NextInt(bytes.Count + 1), (byte)g.NextInt(256)); break;
                case 3 when bytes.Count > 8: bytes.RemoveRange(bytes.Count - 1 - g.NextInt(Math.Min(bytes.Count - 1, 64)), 1); break;
                case 4 when bytes.Count > 8:
                    // Overwrite a 4-byte word near the start (sizes, lengths) with a random value.
                    int w = g.NextInt(Math.Min(bytes.Count - 4, 16));
                    for (int k = 0; k < 4; k++) bytes[w + k] = (byte)g.NextInt(256);
                    break;
                default: if (bytes.Count > 4) { int i = g.NextInt(Math.Min(bytes.Count, 24)); bytes[i] = (byte)(bytes[i] ^ (1 << g.NextInt(8))); } break;
            }
        }
        return [.. bytes];
    }

    private static void Fuzz(byte[] valid, Action<byte[]> read, int iterations = 400)
    {
        var g = new Generator(1234);
        for (int it = 0; it < iterations; it++)
        {
            byte[] input = Mutate(valid, g);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                read(input);
            }
            catch (InvalidDataException)
            {
            }
            catch (Exception e)
            {
                Assert.Fail($"iteration {it}: {e.GetType().Name}: {e.Message}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 64L * input.Length + (4 << 20), $"iteration {it}: allocated {allocated} bytes for a {input.Length}-byte input");
        }
    }

    private static byte[] ValidIdx()
    {
        var bytes = new List<byte> { 0, 0, 8, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6 };
        bytes.AddRange(Enumerable.Range(0, 120).Select(i => (byte)i));
        return [.. bytes];
    }

    [Fact]
    public void Idx_reader_survives_mutations()
    {
        Fuzz(ValidIdx(), input => Idx.ReadBytes(new MemoryStream(input), "fuzz", input.Length));
    }

    [Fact]
    public void Gzipped_idx_reader_survives_mutations_of_the_decompressed_stream()
    {
        // The gzip layer itself throws InvalidDataException on corrupt data; fuzz what it yields.
        Fuzz(ValidIdx(), input =>
        {
            var gz = new MemoryStream();
            using (var z = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true)) z.Write(input);
            gz.Position = 0;
            using var reader = new GZipStream(gz, CompressionMode.Decompress);
            Idx.ReadBytes(reader, "fuzz.gz");
        });
    }

    [Fact]
    public void Safetensors_reader_survives_mutations()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nabla-fuzz-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensors.Save(path, new Dictionary<string, Tensor>
            {
                ["0.weight"] = Tensor.RandN([3, 4], new Generator(1)),
                ["0.bias"] = Tensor.RandN([3], new Generator(2)),
                ["scalar"] = Tensor.Scalar(5f),
            }, new Dictionary<string, string> { ["format"] = "pt" });
            byte[] valid = File.ReadAllBytes(path);
            Assert.Equal(3, SafeTensors.Load(new MemoryStream(valid), "valid").Count);
            Fuzz(valid, input => SafeTensors.Load(new MemoryStream(input), "fuzz"), iterations: 600);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>Runs alone: it measures the process's live heap, which parallel tests would disturb.</summary>
[CollectionDefinition("Serial", DisableParallelization = true)]
public class SerialCollection
{
}

[Collection("Serial")]
public class LongRunTests
{
    [Fact]
    public void Memory_stays_flat_over_many_epochs()
    {
        Generator.ManualSeed(1);
        var model = new Nabla.Sequential(new Nabla.Layers.Dense(64, "relu", inputFeatures: 20), new Nabla.Layers.Dropout(0.2f),
            new Nabla.Layers.BatchNormalization(), new Nabla.Layers.Dense(3));
        model.Compile(new Nabla.Losses.SparseCategoricalCrossEntropy(fromLogits: true), "adam", "accuracy");
        var g = new Generator(2);
        var x = Tensor.RandN([256, 20], g);
        var y = Tensor.FromArray(Enumerable.Range(0, 256).Select(i => (float)(i % 3)).ToArray());
        var heap = new List<long>();
        var probe = new Nabla.Callbacks.LambdaCallback(onEpochEnd: (epoch, logs) =>
        {
            if (epoch % 10 == 0) heap.Add(GC.GetTotalMemory(forceFullCollection: true));
        });
        model.Fit(x, y, epochs: 60, batchSize: 16, validationSplit: 0.2f, verbose: 0, callbacks: [probe]);
        // Live memory after epoch 10 and after epoch 60: no growth beyond noise (graphs are released every step).
        Assert.Equal(6, heap.Count);
        Assert.True(heap[^1] < heap[0] + (2 << 20), $"live heap grew from {heap[0]} to {heap[^1]} bytes");
    }
}

public class CsvFuzzTests
{
    [Fact]
    public void Csv_reader_survives_mutations()
    {
        byte[] valid = System.Text.Encoding.UTF8.GetBytes("a,b,\"c, d\"\n1,2,\"x\"\"y\"\n3,4,5\n\"6\n7\",8,9\n");
        var g = new Generator(99);
        for (int it = 0; it < 500; it++)
        {
            byte[] input = (byte[])valid.Clone();
            for (int e = 0; e < 1 + g.NextInt(3); e++) input[g.NextInt(input.Length)] = (byte)"\",\n ab1"[g.NextInt(7)];
            try
            {
                var t = CsvTable.Parse(new StringReader(System.Text.Encoding.UTF8.GetString(input)), "fuzz.csv");
                Assert.All(t.Rows, r => Assert.Equal(t.Columns.Count, r.Length));
            }
            catch (InvalidDataException)
            {
            }
        }
    }
}
