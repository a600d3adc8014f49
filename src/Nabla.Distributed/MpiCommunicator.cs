using System.Diagnostics.CodeAnalysis;

namespace Nabla.Distributed;

/// <summary>
/// The ranks of an MPI job (MPI_COMM_WORLD) as an <see cref="ICommunicator"/>. Start the program
/// with <c>mpirun -np N dotnet app.dll</c> (Open MPI) or <c>mpiexec.mpich -n N ...</c> (MPICH);
/// the library is found at run time, so nothing native ships with Nabla.
/// <para>
/// Sums are deterministic: with two ranks one MPI_Allreduce (a sum of two terms is the same
/// whichever rank adds); with more, each rank owns a slice of the vector, receives that slice from
/// every rank (MPI_Alltoallv), adds the contributions in rank order and sends the result to all
/// (MPI_Allgatherv). Every rank therefore holds the same bits, and the result equals a single
/// process adding the ranks' vectors in turn.
/// </para>
/// <para>
/// MPI calls are made one at a time, in the order they were asked for: a sum started during
/// backward (<see cref="StartAllReduceSum"/>) runs on the communicator's own thread with MPI's
/// blocking, tuned algorithms while backward goes on; a call waited for at once runs on the
/// caller's thread when nothing is queued. Every rank issues its collectives in the same order.
/// Any thread may use the communicator.
/// </para>
/// <para>
/// An exception that reaches the top of any rank's program calls MPI_Abort, which ends every rank
/// within seconds instead of leaving them waiting in a collective.
/// </para>
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator, IDisposable
{
    private static MpiCommunicator? s_world;
    private static readonly Lock s_initGate = new();

    private readonly Mpi _mpi;
    private readonly bool _owner;
    private readonly Queue<Job> _jobs = new();
    private readonly object _queueGate = new();
    private bool _disposed;
    private volatile bool _aborting;

    private MpiCommunicator(Mpi mpi, bool owner)
    {
        _mpi = mpi;
        _owner = owner;
        Rank = mpi.Rank();
        Size = mpi.Size();
        Library = mpi.LibraryVersion();
        Description = $"{Library} ({mpi.Abi} ABI, {mpi.LibraryPath})";
    }

    /// <summary>
    /// Initialises MPI once per process (on the communicator's own thread) and returns the world
    /// communicator. Also arranges that an unhandled exception aborts the whole job and that MPI is
    /// finalised at exit.
    /// </summary>
    public static MpiCommunicator World
    {
        get
        {
            lock (s_initGate)
            {
                if (s_world is not null) return s_world;
                MpiCommunicator? world = null;
                Exception? failure = null;
                using var ready = new ManualResetEventSlim();
                var thread = new Thread(() =>
                {
                    try
                    {
                        var mpi = Mpi.Load();
                        bool owner = mpi.Init();
                        world = new MpiCommunicator(mpi, owner);
                    }
                    catch (Exception e)
                    {
                        failure = e;
                    }
                    ready.Set();
                    world?.Serve();
                })
                { IsBackground = true, Name = "Nabla MPI" };
                thread.Start();
                ready.Wait();
                if (failure is not null) throw failure;
                AppDomain.CurrentDomain.UnhandledException += (_, e) =>
                {
                    Console.Error.WriteLine($"rank {world!.Rank}: unhandled {e.ExceptionObject.GetType().Name}: {(e.ExceptionObject as Exception)?.Message}; aborting the MPI job.");
                    world.Abort(70);
                };
                AppDomain.CurrentDomain.ProcessExit += (_, _) => world!.Dispose();
                if (Environment.GetEnvironmentVariable("NABLA_NUM_THREADS") is null)
                {
                    // Ranks that share a machine share its cores.
                    int local = world!.LocalSize;
                    if (local > 1) Kernels.Threading.NumThreads = Math.Max(1, Environment.ProcessorCount / local);
                }
                return s_world = world!;
            }
        }
    }

    /// <inheritdoc/>
    public int LocalSize { get; } = LocalRanks();

    /// <summary>The ranks on this machine, from the launcher's variables (1 when unknown).</summary>
    private static int LocalRanks()
    {
        foreach (string name in new[] { "OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE" })
        {
            if (int.TryParse(Environment.GetEnvironmentVariable(name), out int n) && n >= 1) return n;
        }
        return 1;
    }

    /// <summary>True when this process was started by an MPI launcher (mpirun, mpiexec, srun with PMI): its variables are set.</summary>
    public static bool IsLaunchedByMpi =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null ||
        Environment.GetEnvironmentVariable("PMI_SIZE") is not null ||
        Environment.GetEnvironmentVariable("PMIX_RANK") is not null;

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int Size { get; }

    /// <summary>The MPI library's own version line (MPI_Get_library_version), up to its first comma.</summary>
    public string Library { get; }

    /// <summary>The ABI of the loaded library.</summary>
    public MpiAbi Abi => _mpi.Abi;

    /// <inheritdoc/>
    public string Description { get; }

    /// <summary>The line each rank prints at start: its rank, the MPI library and its kernel threads.</summary>
    public string Greeting => $"rank {Rank} of {Size}: {Library}, {Kernels.Threading.NumThreads} thread(s)";

    /// <inheritdoc/>
    public void AllReduceSum(Span<float> values)
    {
        if (Size == 1 || values.Length == 0) return;
        fixed (float* p = values)
        {
            nint address = (nint)p;
            int count = values.Length;
            Run(() => Sum(new Span<float>((float*)address, count)));
        }
    }

    /// <inheritdoc/>
    public void AllReduceSum(Span<double> values)
    {
        if (Size == 1 || values.Length == 0) return;
        int n = values.Length;
        var all = new double[(long)n * Size];
        var mine = values.ToArray();
        Run(() =>
        {
            fixed (double* s = mine)
            fixed (double* r = all)
                _mpi.AllGather(s, n, _mpi.Double, r);
        });
        // Rank order: ((v0 + v1) + v2) ...
        values.Clear();
        for (int k = 0; k < Size; k++)
        {
            var part = all.AsSpan(k * n, n);
            for (int i = 0; i < n; i++) values[i] += part[i];
        }
    }

    /// <inheritdoc/>
    public IPendingReduction StartAllReduceSum(float[] buffer, int offset, int count)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (offset + (long)count > buffer.Length) throw new ArgumentOutOfRangeException(nameof(count), $"AllReduceSum: {count} values from {offset} overrun a buffer of {buffer.Length}.");
        if (Size == 1 || count == 0) return Job.Completed;
        return Submit(() => Sum(buffer.AsSpan(offset, count)));
    }

    // The slices every rank sends this one, kept from call to call (the sum runs on one thread at a time).
    private float[] _scratch = [0f];

    /// <summary>
    /// The deterministic sum, on the MPI thread. Two ranks: MPI_Allreduce in place. More: each rank
    /// receives its slice from every rank (MPI_Alltoallv), adds them in rank order, and the summed
    /// slices are gathered by all (MPI_Allgatherv).
    /// </summary>
    private void Sum(Span<float> values)
    {
        int count = values.Length;
        fixed (float* data = values)
        {
            if (Size == 2)
            {
                _mpi.AllReduceSumInPlace(data, count, _mpi.Float);
                return;
            }
            int size = Size, me = Rank;
            int Slice(int rank) => (int)((long)count * rank / size);
            int mine = Slice(me + 1) - Slice(me);
            int[] counts = new int[size], displ = new int[size], receiveCounts = new int[size], receiveDispl = new int[size];
            for (int j = 0; j < size; j++)
            {
                counts[j] = Slice(j + 1) - Slice(j);
                displ[j] = Slice(j);
                receiveCounts[j] = mine;
                receiveDispl[j] = j * mine;
            }
            if (_scratch.Length < mine * size) _scratch = new float[mine * size];
            float[] scratch = _scratch;
            fixed (float* r = scratch)
            fixed (int* c = counts, d = displ, rc = receiveCounts, rd = receiveDispl)
            {
                _mpi.AllToAllV(data, c, d, r, rc, rd, _mpi.Float);
                var sum = values.Slice(Slice(me), mine);
                scratch.AsSpan(0, mine).CopyTo(sum);
                for (int j = 1; j < size; j++)
                    System.Numerics.Tensors.TensorPrimitives.Add(sum, scratch.AsSpan(j * mine, mine), sum);
                _mpi.AllGatherVInPlace(data, c, d, _mpi.Float);
            }
        }
    }

    /// <inheritdoc/>
    public void Broadcast(Span<byte> data, int root)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        if (Size == 1 || data.Length == 0) return;
        var copy = data.ToArray();
        Run(() =>
        {
            fixed (byte* p = copy)
            {
                // MPI counts are ints: send in pieces of at most 1 GiB.
                for (long start = 0; start < copy.Length; start += 1 << 30)
                    _mpi.Broadcast(p + start, (int)Math.Min(1 << 30, copy.Length - start), _mpi.Byte, root);
            }
        });
        copy.CopyTo(data);
    }

    /// <inheritdoc/>
    public void Barrier() => Run(_mpi.Barrier);

    /// <inheritdoc/>
    [DoesNotReturn]
    public void Abort(int errorCode)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        // Straight from this thread: the MPI thread may be waiting in a collective that will never
        // end, so exiting must not try to finalise MPI either.
        _aborting = true;
        _mpi.Abort(errorCode);
        Environment.Exit(errorCode);
    }

    /// <summary>Finalises MPI (once; only if this process initialised it). Called at process exit too.</summary>
    public void Dispose()
    {
        lock (s_initGate)
        {
            if (_disposed || _aborting) return;
            Run(() =>
            {
                if (_owner && !_mpi.IsFinalized) _mpi.Finalize_();
            });
            _disposed = true;
        }
    }

    // A call made and waited for at once runs on the caller's thread when nothing is queued or
    // running (no hand-over to the MPI thread and back); otherwise it queues behind the others.
    private void Run(Action work)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_queueGate)
        {
            if (_jobs.Count > 0 || _busy)
            {
                var job = new Job(work);
                _jobs.Enqueue(job);
                Monitor.Pulse(_queueGate);
                Monitor.Exit(_queueGate);
                try
                {
                    job.Wait();
                }
                finally
                {
                    Monitor.Enter(_queueGate);
                }
                return;
            }
            _busy = true;
        }
        try
        {
            work();
        }
        finally
        {
            lock (_queueGate)
            {
                _busy = false;
                Monitor.PulseAll(_queueGate);
            }
        }
    }

    private Job Submit(Action work)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var job = new Job(work);
        lock (_queueGate)
        {
            _jobs.Enqueue(job);
            Monitor.PulseAll(_queueGate);
        }
        return job;
    }

    // True while a call is being made (by the MPI thread or inline): MPI calls never overlap.
    private bool _busy;

    // The MPI thread: runs the submitted calls in order, for the life of the process.
    private void Serve()
    {
        while (true)
        {
            Job job;
            lock (_queueGate)
            {
                while (_jobs.Count == 0 || _busy) Monitor.Wait(_queueGate);
                job = _jobs.Dequeue();
                _busy = true;
            }
            job.Execute();
            lock (_queueGate)
            {
                _busy = false;
                Monitor.PulseAll(_queueGate);
            }
        }
    }

    /// <summary>One call for the MPI thread, and its completion.</summary>
    private sealed class Job(Action? work) : IPendingReduction
    {
        private readonly ManualResetEventSlim _done = new(work is null);
        private Exception? _error;

        public static Job Completed { get; } = new(null);

        public void Execute()
        {
            try
            {
                work!();
            }
            catch (Exception e)
            {
                _error = e;
            }
            _done.Set();
        }

        public bool Test() => _done.IsSet;

        public void Wait()
        {
            _done.Wait();
            if (_error is not null) throw new InvalidOperationException($"MPI: {_error.Message}", _error);
        }
    }
}
