using System.Diagnostics;
using System.Globalization;
using Nabla.Kernels;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Cli;

/// <summary>
/// <c>nabla bench</c>: the workloads of the shared WORKLOADS.md, as JSON lines on stdout
/// (notes on stderr), timed by its rule: warm up at least 5 repetitions and 1 s, then time
/// at least 20 repetitions and 3 s, and report the median.
/// </summary>
internal sealed class Bench(bool quick, TextWriter output, TextWriter notes)
{
    public static readonly string[] Workloads =
        ["gemm-128", "gemm-512", "gemm-1024", "gemm-2048", "mlp-train", "mlp-train-b32", "cnn-train", "lstm-train", "xor-train", "mlp-infer-b1", "mlp-train-alloc", "transformer-train", "lm-generate"];

    private int _reps;
    private long _timedBytes;

    public static int Run(string[] args)
    {
        var options = Options.Parse(args, ["--threads", "--only", "--ranks"], ["--quick"]);
        if (options.Positional.Count > 0) throw new ArgumentException($"bench takes no positional arguments, got '{options.Positional[0]}'.");
        var only = (options.Values.GetValueOrDefault("--only") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        foreach (string w in only)
        {
            if (!Workloads.Contains(w)) throw new ArgumentException($"unknown workload '{w}'. Known: {string.Join(", ", Workloads)}.");
        }
        if (options.Int("--ranks", min: 1) is int ranks) return RunRanks(ranks, args, only, options.Int("--threads", min: 1) ?? 1, options.Flags.Contains("--quick"));
        int? threads = options.Int("--threads");
        int[] counts = threads is int t ? [Math.Max(t, 1)] : [.. new[] { 1, Environment.ProcessorCount }.Distinct()];
        var bench = new Bench(options.Flags.Contains("--quick"), Console.Out, Console.Error);
        foreach (int n in counts) bench.RunAll(n, only);
        return 0;
    }

    private void RunAll(int threads, HashSet<string> only)
    {
        Threading.NumThreads = threads;
        notes.WriteLine($"# nabla: .NET {Environment.Version}, threads={threads}, isa={Isa.Name(Isa.Current)} (widest here: {Isa.Name(Isa.Widest)}; NABLA_ISA narrows it){(quick ? ", QUICK run" : "")}");
        bool Want(string w) => only.Count == 0 || only.Contains(w);
        foreach (int n in new[] { 128, 512, 1024, 2048 })
        {
            if (Want($"gemm-{n}")) Emit($"gemm-{n}", threads, 2.0 * n * n * n / GemmSeconds(n) / 1e9, "GFLOP/s");
        }
        if (Want("mlp-train")) Emit("mlp-train", threads, 128 / TrainStep(Mlp(), [128, 784], 128, out _), "samples/s");
        if (Want("mlp-train-b32")) Emit("mlp-train-b32", threads, 32 / TrainStep(Mlp(), [32, 784], 32, out _), "samples/s");
        if (Want("mlp-train-alloc"))
        {
            TrainStep(Mlp(), [128, 784], 128, out double bytes);
            Emit("mlp-train-alloc", threads, bytes, "bytes/step");
        }
        if (Want("cnn-train")) Emit("cnn-train", threads, 64 / TrainStep(Cnn(), [64, 1, 28, 28], 64, out _), "samples/s");
        if (Want("lstm-train")) Emit("lstm-train", threads, 32 / TrainStep(LstmNet(), [32, 32, 64], 32, out _), "samples/s");
        if (Want("xor-train"))
        {
            float loss = 0;
            double ms = XorSeconds(ref loss) * 1e3;
            Emit("xor-train", threads, ms, "ms");
            Emit("xor-final-loss", threads, loss, "loss", note: false);
        }
        if (Want("mlp-infer-b1")) Emit("mlp-infer-b1", threads, InferSeconds() * 1e6, "us");
        if (Want("transformer-train")) Emit("transformer-train", threads, 32 * 64 / TransformerStep(), "tokens/s");
        if (Want("lm-generate"))
        {
            var (cached, rerun) = GenerationSeconds();
            Emit("lm-generate-cached", threads, cached * 1e3, "ms/token");
            Emit("lm-generate-rerun", threads, rerun * 1e3, "ms/token");
        }
    }

    /// <summary>
    /// Seconds per generated token at 512 tokens of context, with the key/value cache and by running
    /// the whole text again: the language model of transformer-train (128 wide, 2 blocks, 4 heads)
    /// over a context of 528, prompted with 512 tokens, writing 16 greedily.
    /// </summary>
    private (double Cached, double Rerun) GenerationSeconds()
    {
        Generator.ManualSeed(0);
        var lm = new CausalLanguageModel(1000, 528, 128, 4, 2, feedForward: 512, dropout: 0f);
        var g = new Generator(2);
        int[] prompt = [.. Enumerable.Range(0, 512).Select(_ => g.NextInt(1000))];
        const int tokens = 16;
        double cached = Median(() => lm.Generate(prompt, tokens), minWarm: 1, minReps: 3) / tokens;
        double rerun = Median(() => lm.Generate(prompt, tokens, useCache: false), minWarm: 1, minReps: 3) / tokens;
        return (cached, rerun);
    }

    /// <summary>
    /// WORKLOADS.md's small causal language model: ids [32, 64] from 1 000 tokens, token and position
    /// embeddings of 128, two pre-norm blocks (4 heads, causal, GELU 512), a final LayerNorm and the
    /// 1 000-way output, softmax cross-entropy on the next ids; median seconds of one Adam step.
    /// </summary>
    private double TransformerStep()
    {
        Generator.ManualSeed(0);
        var model = new Sequential(
            new TokenAndPositionEmbedding(1000, 64, 128),
            new TransformerEncoderLayer(128, 4, feedForward: 512, dropout: 0f, activation: "gelu", normFirst: true, causal: true),
            new TransformerEncoderLayer(128, 4, feedForward: 512, dropout: 0f, activation: "gelu", normFirst: true, causal: true),
            new LayerNormalization(1e-5f),
            new Dense(1000));
        var g = new Generator(1);
        var ids = new float[32 * 65];
        for (int i = 0; i < ids.Length; i++) ids[i] = g.NextInt(1000);
        Tensor tokens = Tensor.FromArray(ids, 32, 65);
        Tensor x = tokens.Slice(1, 0, 64).Contiguous(), y = tokens.Slice(1, 1, 65).Contiguous().Reshape(32 * 64);
        model.Build(64);
        var loss = new SparseCategoricalCrossEntropy(fromLogits: true);
        var optimizer = new Adam(1e-3f, parameters: model.Parameters());
        return Median(() =>
        {
            using var scope = Tensor.StepScope();
            optimizer.ZeroGrad(setToNone: false);
            loss.Compute(model.Forward(x).Reshape(32 * 64, 1000), y).Backward();
            optimizer.Step();
        }, minWarm: 3, minReps: 10);
    }

    private void Emit(string workload, int threads, double value, string unit, bool note = true, int? ranks = null)
    {
        string v = value.ToString("G7", CultureInfo.InvariantCulture);
        string r = ranks is int n ? $"\"ranks\":{n}," : "";
        output.WriteLine($"{{\"impl\":\"nabla\",\"workload\":\"{workload}\",{r}\"threads\":{threads},\"value\":{v},\"unit\":\"{unit}\",\"isa\":\"{Isa.Name(Isa.Current)}\"}}");
        output.Flush();
        notes.WriteLine($"#   {workload,-16}{(ranks is int k ? $" ranks={k}" : "")} threads={threads} {value,12:G6} {unit,-10}{(note ? $" (median of {_reps} reps)" : "")}");
    }

    /// <summary>The workloads measured on several ranks (data-parallel, WORKLOADS.md's global batches split over the ranks).</summary>
    public static readonly string[] RankWorkloads = ["mlp-train", "cnn-train"];

    /// <summary>
    /// <c>nabla bench --ranks N</c>: outside an MPI job, starts one with mpirun (N processes of this
    /// command) and passes its output on; inside one, measures the data-parallel workloads, rank 0
    /// printing the JSON lines (with "ranks":N).
    /// </summary>
    private static int RunRanks(int ranks, string[] args, HashSet<string> only, int threads, bool quick)
    {
        foreach (string w in only)
        {
            if (!RankWorkloads.Contains(w)) throw new ArgumentException($"bench --ranks measures {string.Join(" and ", RankWorkloads)}, not '{w}'.");
        }
        if (!Nabla.Distributed.MpiCommunicator.IsLaunchedByMpi) return Launch(ranks, args);
        var comm = Nabla.Distributed.MpiCommunicator.World;
        if (comm.Size != ranks) throw new ArgumentException($"bench --ranks {ranks} runs in an MPI job of {comm.Size} ranks; start it without mpirun (it starts mpirun itself) or with -np {ranks}.");
        Threading.NumThreads = threads;
        Console.Error.WriteLine($"# {comm.Greeting}");
        TextWriter notes = comm.Rank == 0 ? Console.Error : TextWriter.Null;
        var bench = new Bench(quick, comm.Rank == 0 ? Console.Out : TextWriter.Null, notes);
        notes.WriteLine($"# nabla: .NET {Environment.Version}, ranks={ranks}, threads={threads} each, isa={Isa.Name(Isa.Current)}, {comm.Library}{(quick ? ", QUICK run" : "")}");
        bool Want(string w) => only.Count == 0 || only.Contains(w);
        if (Want("mlp-train")) bench.Emit("mlp-train", threads, 128 / bench.ParallelStep(comm, Mlp(), [784], 128), "samples/s", ranks: ranks);
        if (Want("cnn-train")) bench.Emit("cnn-train", threads, 64 / bench.ParallelStep(comm, Cnn(), [1, 28, 28], 64), "samples/s", ranks: ranks);
        return 0;
    }

    /// <summary>Starts <c>mpirun -np N</c> of this very command (with the same arguments) and waits for it.</summary>
    private static int Launch(int ranks, string[] args)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("bench --ranks: cannot tell which program is running.");
        var start = new System.Diagnostics.ProcessStartInfo("mpirun") { UseShellExecute = false };
        if (Environment.UserName == "root") start.ArgumentList.Add("--allow-run-as-root");
        // Open MPI binds each rank to one core by default; a .NET process then shares that core with
        // its JIT and GC threads and runs its kernels up to 2.7x slower (cnn-train, measured).
        foreach (string a in new[] { "--bind-to", "none" }) start.ArgumentList.Add(a);
        if (ranks > Environment.ProcessorCount) start.ArgumentList.Add("--oversubscribe");
        foreach (string a in new[] { "-np", ranks.ToString(CultureInfo.InvariantCulture), self }) start.ArgumentList.Add(a);
        // Under `dotnet Nabla.Cli.dll` the program is the dotnet host: pass the assembly too.
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(System.Reflection.Assembly.GetEntryAssembly()!.Location);
        start.ArgumentList.Add("bench");
        foreach (string a in args) start.ArgumentList.Add(a);
        System.Diagnostics.Process process;
        try
        {
            process = System.Diagnostics.Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"bench --ranks {ranks} needs mpirun (Open MPI: apt-get install openmpi-bin, or bash scripts/install-mpi.sh): {e.Message}");
        }
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>
    /// Median seconds of one data-parallel training step on this rank's share of a global batch of
    /// <paramref name="globalBatch"/> random samples of <paramref name="sample"/>: forward, cross-entropy,
    /// backward with the gradients summed across ranks in buckets during backward, Adam. Timed on each
    /// rank between barriers, as the PyTorch DDP peer does; every rank stops after the same step.
    /// </summary>
    private double ParallelStep(Nabla.Distributed.ICommunicator comm, Sequential model, int[] sample, int globalBatch)
    {
        int lo = globalBatch * comm.Rank / comm.Size, hi = globalBatch * (comm.Rank + 1) / comm.Size;
        var g = new Generator(1 + (ulong)comm.Rank);
        Tensor x = Tensor.RandN([hi - lo, .. sample], g);
        var labels = new float[hi - lo];
        for (int i = 0; i < labels.Length; i++) labels[i] = g.NextInt(10);
        Tensor y = Tensor.FromArray(labels);
        var loss = new SparseCategoricalCrossEntropy(fromLogits: true);
        var optimizer = new Adam(1e-3f, parameters: model.Parameters());
        var parallel = new Nabla.Distributed.DataParallel(model, comm, optimizer);
        float share = (float)(hi - lo) / globalBatch;
        void Step()
        {
            using var scope = Tensor.StepScope();
            optimizer.ZeroGrad(setToNone: false);
            parallel.Backward(loss.Compute(model.Forward(x), y), share);
            optimizer.Step();
        }
        double warmS = quick ? 0.1 : 1.0, timeS = quick ? 0.3 : 3.0;
        int minWarm = quick ? 2 : 5, minReps = quick ? 3 : 20;
        // Every rank must take the same number of steps (each is a collective): the ranks agree on
        // when to stop, after warming up as after timing.
        var done = new double[1];
        bool AllDone(bool mine)
        {
            done[0] = mine ? 1 : 0;
            comm.AllReduceSum(done.AsSpan());
            return done[0] == comm.Size;
        }
        var clock = Stopwatch.StartNew();
        for (int n = 1; ; n++)
        {
            Step();
            if (AllDone(n >= minWarm && clock.Elapsed.TotalSeconds >= warmS)) break;
        }
        var times = new List<double>();
        double timed = 0;
        while (true)
        {
            comm.Barrier();
            long start = Stopwatch.GetTimestamp();
            Step();
            comm.Barrier();
            double e = Stopwatch.GetElapsedTime(start).TotalSeconds;
            times.Add(e);
            timed += e;
            if (AllDone(times.Count >= minReps && timed >= timeS)) break;
        }
        _reps = times.Count;
        times.Sort();
        int k = times.Count / 2;
        return times.Count % 2 == 1 ? times[k] : 0.5 * (times[k - 1] + times[k]);
    }

    /// <summary>The median seconds of <paramref name="step"/> by the workloads' timing rule.</summary>
    private double Median(Action step, Action? setup = null, int minWarm = 5, int minReps = 20)
    {
        double warmS = quick ? 0.1 : 1.0, timeS = quick ? 0.3 : 3.0;
        if (quick) { minWarm = Math.Min(minWarm, 2); minReps = Math.Min(minReps, 3); }
        var clock = Stopwatch.StartNew();
        for (int n = 0; n < minWarm || clock.Elapsed.TotalSeconds < warmS; n++)
        {
            setup?.Invoke();
            step();
        }
        var times = new List<double>(1024);
        double timed = 0;
        // Managed allocation over the timed repetitions alone (steady state: the warm-up filled the pools).
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        while (times.Count < minReps || timed < timeS)
        {
            setup?.Invoke();
            long start = Stopwatch.GetTimestamp();
            step();
            double e = Stopwatch.GetElapsedTime(start).TotalSeconds;
            times.Add(e);
            timed += e;
        }
        _timedBytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        _reps = times.Count;
        times.Sort();
        int k = times.Count / 2;
        return times.Count % 2 == 1 ? times[k] : 0.5 * (times[k - 1] + times[k]);
    }

    private double GemmSeconds(int n)
    {
        var g = new Generator(0);
        float[] a = Tensor.RandN([n, n], g).ToArray(), b = Tensor.RandN([n, n], g).ToArray(), c = new float[n * n];
        return Median(() => Gemm.Multiply(false, false, n, n, n, a, n, b, n, c, n));
    }

    private static Sequential Mlp()
    {
        Generator.ManualSeed(0);
        return new Sequential(new Dense(512, "relu", inputFeatures: 784), new Dense(256, "relu"), new Dense(10));
    }

    /// <summary>The cnn-train model: two 3x3 convolutions with ReLU and 2x2 max pooling, then 3136 -> 128 -> 10.</summary>
    private static Sequential Cnn()
    {
        Generator.ManualSeed(0);
        return new Sequential(
            new Conv2D(32, 3, padding: 1, activation: "relu", inputShape: [1, 28, 28]), new MaxPooling2D(2),
            new Conv2D(64, 3, padding: 1, activation: "relu"), new MaxPooling2D(2),
            new Flatten(), new Dense(128, "relu"), new Dense(10));
    }

    /// <summary>The lstm-train model: LSTM 64 -> 128 over 32 steps, the last hidden state -> Dense 10.</summary>
    private static Sequential LstmNet()
    {
        Generator.ManualSeed(0);
        return new Sequential(new LSTM(128, inputShape: [32, 64]), new Dense(10));
    }

    /// <summary>Median seconds of one training step (forward, cross-entropy, backward, Adam) on random inputs of <paramref name="shape"/>; also managed bytes allocated per timed step.</summary>
    private double TrainStep(Sequential model, int[] shape, int batch, out double bytesPerStep)
    {
        var g = new Generator(1);
        Tensor x = Tensor.RandN(shape, g);
        var labels = new float[batch];
        for (int i = 0; i < batch; i++) labels[i] = g.NextInt(10);
        Tensor y = Tensor.FromArray(labels);
        var loss = new SparseCategoricalCrossEntropy(fromLogits: true);
        var optimizer = new Adam(1e-3f, parameters: model.Parameters());
        void Step()
        {
            // Zero-filled gradient buffers, as PyTorch 1.13's zero_grad() does by default; the
            // step's activations are recycled for the next one, as Fit does.
            using var scope = Tensor.StepScope();
            optimizer.ZeroGrad(setToNone: false);
            loss.Compute(model.Forward(x), y).Backward();
            optimizer.Step();
        }
        double seconds = Median(Step);
        bytesPerStep = _timedBytes / (double)_reps;
        return seconds;
    }

    private double XorSeconds(ref float finalLoss)
    {
        Tensor x = Tensor.FromArray([0f, 0f, 0f, 1f, 1f, 0f, 1f, 1f], 4, 2);
        Tensor y = Tensor.FromArray([0f, 1f, 1f, 0f], 4, 1);
        Sequential? model = null;
        Adam? optimizer = null;
        var bce = new BinaryCrossEntropy();
        float last = 0;
        double seconds = Median(
            () =>
            {
                for (int i = 0; i < 1000; i++)
                {
                    using var scope = Tensor.StepScope();
                    optimizer!.ZeroGrad(setToNone: false);
                    Tensor l = bce.Compute(model!.Forward(x), y);
                    l.Backward();
                    optimizer.Step();
                    last = l.Item();
                }
            },
            setup: () =>
            {
                Generator.ManualSeed(0);
                model = new Sequential(new Dense(8, "tanh", inputFeatures: 2), new Dense(1, "sigmoid"));
                optimizer = new Adam(0.05f, parameters: model.Parameters());
            },
            minWarm: 2, minReps: 10);
        finalLoss = last;
        return seconds;
    }

    private double InferSeconds()
    {
        Sequential model = Mlp();
        model.Eval();
        Tensor x = Tensor.RandN([1, 784], new Generator(2));
        return Median(() =>
        {
            using var noGrad = Tensor.NoGrad();
            model.Forward(x);
        });
    }
}
