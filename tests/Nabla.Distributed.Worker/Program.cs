using System.Globalization;
using System.Runtime.InteropServices;
using Nabla;
using Nabla.Callbacks;
using Nabla.Data;
using Nabla.Distributed;
using Nabla.Layers;
using Nabla.Optimizers;

// One rank of a scenario of the distributed tests: `Worker SCENARIO OUTDIR [ARGS]`. Each scenario
// writes what the test compares into OUTDIR (parameters as raw float bits, one file per rank) and
// exits 0, or prints why not and exits 1.
string scenario = args.Length > 0 ? args[0] : throw new ArgumentException("usage: Worker SCENARIO OUTDIR [ARGS]");
string outDir = args.Length > 1 ? args[1] : ".";
Directory.CreateDirectory(outDir);
Nabla.Kernels.Threading.NumThreads = 1;

switch (scenario)
{
    case "collectives": return Collectives();
    case "train": return Train(MpiCommunicator.World, args[2] == "bn", epochs: Int(args[3]), resumeFrom: args.Length > 4 ? args[4] : null);
    case "single": return Train(null, args[2] == "bn", epochs: Int(args[3]), resumeFrom: null);
    case "reference": return Reference(args[2] == "bn", ranks: Int(args[3]), epochs: Int(args[4]));
    case "fail": return Fail();
    case "fashion": return Fashion(args.Length > 2 && args[2] == "distributed" ? MpiCommunicator.World : null);
    default: Console.Error.WriteLine($"unknown scenario {scenario}"); return 2;
}

static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

// Sums of 0, 1, 7 and 1M floats and of doubles, broadcasts of as many floats: every rank checks the exact result.
int Collectives()
{
    var comm = MpiCommunicator.World;
    Console.WriteLine(comm.Greeting);
    int failures = 0;
    foreach (int n in new[] { 0, 1, 7, 1 << 20 })
    {
        static float Value(int rank, int i) => (rank + 1) * 0.37f + (i % 1000) * 1.0001f;
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = Value(comm.Rank, i);
        comm.AllReduceSum(v);
        for (int i = 0; i < n; i++)
        {
            float expected = Value(0, i);
            for (int r = 1; r < comm.Size; r++) expected += Value(r, i);
            if (BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(v[i]))
            {
                Console.Error.WriteLine($"rank {comm.Rank}: sum of {n} floats, element {i}: {v[i]} instead of {expected}");
                failures++;
                break;
            }
        }
        File.WriteAllBytes(Path.Combine(outDir, $"sum{n}.rank{comm.Rank}.bin"), MemoryMarshal.AsBytes(v.AsSpan()).ToArray());
    }
    var d = new double[] { comm.Rank, 1, 0.1 * comm.Rank };
    comm.AllReduceSum(d.AsSpan());
    double ranks = comm.Size;
    if (d[0] != ranks * (ranks - 1) / 2 || d[1] != ranks) { Console.Error.WriteLine($"rank {comm.Rank}: doubles [{string.Join(", ", d)}]"); failures++; }
    // Broadcasts of 0, 1, 7 and 1M floats from the last rank.
    foreach (int n in new[] { 0, 1, 7, 1 << 20 })
    {
        var f = new float[n];
        int root = comm.Size - 1;
        if (comm.Rank == root) for (int i = 0; i < n; i++) f[i] = i * 0.5f - 3f;
        comm.Broadcast(MemoryMarshal.AsBytes(f.AsSpan()), root);
        for (int i = 0; i < n; i++)
        {
            if (f[i] != i * 0.5f - 3f) { Console.Error.WriteLine($"rank {comm.Rank}: broadcast of {n} floats, element {i} is {f[i]}"); failures++; break; }
        }
    }
    Console.WriteLine($"rank {comm.Rank}: {(failures == 0 ? "ok" : "FAILED")}");
    return failures == 0 ? 0 : 1;
}

// A small classifier on a fixed synthetic table, global batch 32. With dropout: 98 rows, so each
// epoch ends with a batch of 2 (with 3 ranks, one rank gets no row). With batch normalisation
// (which needs two rows per rank): 102 rows, a last batch of 6.
(Tensor X, Tensor Y) Table(bool batchNorm)
{
    int rows = batchNorm ? 102 : 98;
    var g = new Generator(11);
    var x = new float[rows * 6];
    var y = new float[rows];
    for (int i = 0; i < rows; i++)
    {
        int c = i % 3;
        for (int j = 0; j < 6; j++) x[i * 6 + j] = (float)(g.NextNormal() + (j % 3 == c ? 1.5 : 0));
        y[i] = c;
    }
    return (Tensor.FromArray(x, rows, 6), Tensor.FromArray(y, rows));
}

Sequential Network(bool batchNorm)
{
    Generator.ManualSeed(5);
    Layer middle = batchNorm ? new BatchNormalization() : new Dropout(0.25f);
    var model = new Sequential(new Input(6), new Dense(16), middle, new Activation("relu"), new Dense(3));
    model.Compile(new Nabla.Losses.SparseCategoricalCrossEntropy(fromLogits: true), new Adam(0.01f), "accuracy");
    return model;
}

void WriteParameters(Module model, string name)
{
    using var file = File.Create(Path.Combine(outDir, name));
    foreach (var p in model.Parameters().Select(p => p.Value).Concat(model.NamedBuffers().Select(b => b.Buffer)))
        file.Write(MemoryMarshal.AsBytes(p.ToArray().AsSpan()));
}

int Train(ICommunicator? comm, bool batchNorm, int epochs, string? resumeFrom)
{
    var (x, y) = Table(batchNorm);
    Sequential model;
    int initialEpoch = 0;
    if (resumeFrom is not null)
    {
        var (loaded, state) = Nabla.IO.ModelFile.LoadCheckpoint(resumeFrom);
        model = (Sequential)loaded;
        initialEpoch = state.Epoch;
        Generator.Default.SetState(state.Generator);
    }
    else
    {
        model = Network(batchNorm);
        Generator.ManualSeed(9);
    }
    var callbacks = new List<Callback> { new ModelCheckpoint(Path.Combine(outDir, "checkpoint.nabla"), monitor: "loss", saveTrainingState: true) };
    var history = model.Fit(x, y, epochs: epochs, batchSize: 32, callbacks: callbacks, verbose: 0, initialEpoch: initialEpoch, distributed: comm);
    int rank = comm?.Rank ?? 0;
    WriteParameters(model, $"params.rank{rank}.bin");
    File.WriteAllText(Path.Combine(outDir, $"loss.rank{rank}.txt"), history["loss"][^1].ToString("R", CultureInfo.InvariantCulture));
    return 0;
}

// One process doing what the ranks do together: each step, the shards' gradients in turn (each
// shard's loss scaled by its share of the batch), summed in rank order, then one optimizer step.
int Reference(bool batchNorm, int ranks, int epochs)
{
    var (x, y) = Table(batchNorm);
    var model = Network(batchNorm);
    Generator.ManualSeed(9);
    var optimizer = model.Optimizer!;
    optimizer.Bind(model.Parameters());
    var loss = model.Loss!;
    var trainable = model.Parameters().Where(p => p.Trainable).ToArray();
    var loader = new DataLoader(new TensorDataset(x, y), 32, shuffle: true, Generator.Default, prefetch: false);
    model.Train();
    for (int epoch = 0; epoch < epochs; epoch++)
    {
        var global = loader.Shards(0, 1).Select(s => s.Batch!).ToList();
        foreach (var batch in global)
        {
            int n = batch.Count;
            float[][]? sums = null;
            float[][]? keptBuffers = null;
            var genBefore = Generator.Default.GetState();
            ulong[]? genAfter = null;
            for (int r = 0; r < ranks; r++)
            {
                int lo = (int)((long)n * r / ranks), hi = (int)((long)n * (r + 1) / ranks);
                var grads = new float[trainable.Length][];
                if (hi > lo)
                {
                    Generator.Default.SetState(genBefore);
                    using var shard = BatchShard.Enter(lo, hi - lo, n);
                    var xs = batch.X.Slice(0, lo, hi);
                    var ys = batch.Y.Slice(0, lo, hi);
                    optimizer.ZeroGrad();
                    // Each shard's loss counts by its share of the batch.
                    float w = (float)(hi - lo) / n;
                    (loss.Compute(model.Forward(xs), ys) * w).Backward();
                    genAfter ??= Generator.Default.GetState();
                    for (int i = 0; i < trainable.Length; i++)
                        grads[i] = trainable[i].Grad?.Contiguous().ToArray() ?? new float[trainable[i].Value.Size];
                    // The ranks keep the buffers of rank 0, or of the last rank when some had no rows.
                    if (r == (n < ranks ? ranks - 1 : 0)) keptBuffers = [.. model.NamedBuffers().Select(b => b.Buffer.ToArray())];
                }
                else
                {
                    for (int i = 0; i < trainable.Length; i++) grads[i] = new float[trainable[i].Value.Size];
                }
                if (sums is null) sums = grads;
                else for (int i = 0; i < sums.Length; i++) System.Numerics.Tensors.TensorPrimitives.Add(sums[i], grads[i], sums[i]);
            }
            Generator.Default.SetState(genAfter!);
            int k = 0;
            foreach (var (_, buffer) in model.NamedBuffers()) buffer.CopyFrom(Tensor.FromArray(keptBuffers![k++]).Reshape(buffer.Shape.ToArray()));
            for (int i = 0; i < trainable.Length; i++) trainable[i].Value.Grad = Tensor.FromArray(sums![i], trainable[i].Value.Shape.ToArray());
            optimizer.Step();
        }
    }
    WriteParameters(model, "params.reference.bin");
    return 0;
}

// Rank 1 fails in the middle of training; the job must end, not hang.
int Fail()
{
    var comm = MpiCommunicator.World;
    var (x, y) = Table(false);
    var model = Network(false);
    var callbacks = new List<Callback> { new LambdaCallback(onBatchEnd: (batch, _) => { if (comm.Rank == 1 && batch == 2) throw new InvalidOperationException("injected failure on rank 1"); }) };
    model.Fit(x, y, epochs: 1000, batchSize: 32, callbacks: callbacks, verbose: 0, distributed: comm);
    return 0;
}

// Fashion-MNIST (10 000 training images, the 10 000 test images): test accuracy of a small MLP.
int Fashion(ICommunicator? comm)
{
    var (train, test) = FashionMnist.Load();
    train = train.Take(10000);
    Tensor trainX = train.Images.Reshape(10000, 784), trainY = train.Labels;
    Tensor testX = test.Images.Reshape(test.Count, 784), testY = test.Labels;
    Generator.ManualSeed(3);
    var model = new Sequential(new Input(784), new Dense(128, Activations.Relu), new Dropout(0.1f), new Dense(10));
    model.Compile(new Nabla.Losses.SparseCategoricalCrossEntropy(fromLogits: true), new Adam(1e-3f), "accuracy");
    model.Fit(trainX, trainY, epochs: 3, batchSize: 64, verbose: 0, distributed: comm);
    var result = model.Evaluate(testX, testY, 500);
    int rank = comm?.Rank ?? 0;
    File.WriteAllText(Path.Combine(outDir, $"accuracy.{(comm is null ? "single" : "rank" + rank)}.txt"), result["accuracy"].ToString("R", CultureInfo.InvariantCulture));
    return 0;
}
