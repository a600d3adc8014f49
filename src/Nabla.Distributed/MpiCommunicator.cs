using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace Nabla.Distributed;

/// <summary>
/// The ranks of an MPI job (MPI_COMM_WORLD) as an <see cref="ICommunicator"/>. Start the program
/// with <c>mpirun -np N dotnet app.dll</c> (Open MPI) or <c>mpiexec.mpich -n N ...</c> (MPICH);
/// the library is found at run time, so nothing native ships with Nabla.
/// <para>
/// Sums are deterministic: each rank owns a slice of the vector, receives that slice from every
/// rank (MPI_Ialltoallv), adds the contributions in rank order and sends the result to all
/// (MPI_Iallgatherv). Every rank therefore holds the same bits, and the result equals a single
/// process adding the ranks' vectors in turn. MPI calls are serialised by a lock, so any thread may
/// use the communicator.
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
    private readonly Lock _gate = new();
    private readonly bool _owner;
    private bool _disposed;

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
    /// Initialises MPI once per process and returns the world communicator. Also arranges that an
    /// unhandled exception aborts the whole job and that MPI is finalised at exit.
    /// </summary>
    public static MpiCommunicator World
    {
        get
        {
            lock (s_initGate)
            {
                if (s_world is not null) return s_world;
                var mpi = Mpi.Load();
                bool owner = mpi.Init();
                var world = new MpiCommunicator(mpi, owner);
                AppDomain.CurrentDomain.UnhandledException += (_, e) =>
                {
                    Console.Error.WriteLine($"rank {world.Rank}: unhandled {e.ExceptionObject.GetType().Name}: {(e.ExceptionObject as Exception)?.Message}; aborting the MPI job.");
                    world.Abort(70);
                };
                AppDomain.CurrentDomain.ProcessExit += (_, _) => world.Dispose();
                return s_world = world;
            }
        }
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

    /// <summary>The MPI library's own version line (MPI_Get_library_version).</summary>
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
        var buffer = values.ToArray();
        StartAllReduceSum(buffer, 0, buffer.Length).Wait();
        buffer.CopyTo(values);
    }

    /// <inheritdoc/>
    public void AllReduceSum(Span<double> values)
    {
        if (Size == 1 || values.Length == 0) return;
        var all = new double[(long)values.Length * Size];
        var mine = values.ToArray();
        lock (_gate)
        {
            fixed (double* s = mine)
            fixed (double* r = all)
                _mpi.AllGather(s, values.Length, _mpi.Double, r);
        }
        // Rank order: ((v0 + v1) + v2) ...
        values.Clear();
        for (int k = 0; k < Size; k++)
        {
            var part = all.AsSpan(k * values.Length, values.Length);
            for (int i = 0; i < values.Length; i++) values[i] += part[i];
        }
    }

    /// <inheritdoc/>
    public IPendingReduction StartAllReduceSum(float[] buffer, int offset, int count)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (offset + (long)count > buffer.Length) throw new ArgumentOutOfRangeException(nameof(count), $"AllReduceSum: {count} values from {offset} overrun a buffer of {buffer.Length}.");
        ObjectDisposedException.ThrowIf(_disposed, this);
        var pending = new PendingSum(this, buffer, offset, count);
        pending.Start();
        return pending;
    }

    /// <inheritdoc/>
    public void Broadcast(Span<byte> data, int root)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        if (Size == 1) return;
        lock (_gate)
        {
            fixed (byte* p = data)
            {
                // MPI counts are ints: send in pieces of at most 1 GiB.
                for (long start = 0; start < data.Length; start += 1 << 30)
                {
                    int n = (int)Math.Min(1 << 30, data.Length - start);
                    _mpi.Broadcast(p + start, n, _mpi.Byte, root);
                }
            }
        }
    }

    /// <inheritdoc/>
    public void Barrier()
    {
        lock (_gate) _mpi.Barrier();
    }

    /// <inheritdoc/>
    [DoesNotReturn]
    public void Abort(int errorCode)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        _mpi.Abort(errorCode);
        Environment.Exit(errorCode);
    }

    /// <summary>Finalises MPI (once; only if this process initialised it). Called at process exit too.</summary>
    public void Dispose()
    {
        lock (s_initGate)
        {
            if (_disposed) return;
            _disposed = true;
            lock (_gate)
            {
                if (_owner && !_mpi.IsFinalized) _mpi.Finalize_();
            }
        }
    }

    /// <summary>
    /// One deterministic sum in flight: exchange of slices (all-to-all), the owner's in-order sum,
    /// then the all-gather of the summed slices. Buffers stay pinned until it completes.
    /// </summary>
    private sealed class PendingSum : IPendingReduction
    {
        private readonly MpiCommunicator _comm;
        private readonly float[] _buffer;
        private readonly int _offset, _count;
        private readonly int[] _counts, _displ, _receiveCounts, _receiveDispl;
        private float[] _scratch = [];
        private GCHandle _pinBuffer, _pinScratch, _pinCounts, _pinDispl, _pinReceiveCounts, _pinReceiveDispl;
        private nint _request;
        private int _phase; // 1 exchanging slices, 2 gathering sums, 3 done

        public PendingSum(MpiCommunicator comm, float[] buffer, int offset, int count)
        {
            _comm = comm;
            _buffer = buffer;
            _offset = offset;
            _count = count;
            int size = comm.Size;
            _counts = new int[size];
            _displ = new int[size];
            _receiveCounts = new int[size];
            _receiveDispl = new int[size];
        }

        private int SliceStart(int rank) => (int)((long)_count * rank / _comm.Size);

        public void Start()
        {
            int size = _comm.Size, me = _comm.Rank;
            if (size == 1 || _count == 0)
            {
                _phase = 3;
                return;
            }
            int mine = SliceStart(me + 1) - SliceStart(me);
            for (int j = 0; j < size; j++)
            {
                _counts[j] = SliceStart(j + 1) - SliceStart(j);
                _displ[j] = _offset + SliceStart(j);
                _receiveCounts[j] = mine;
                _receiveDispl[j] = j * mine;
            }
            _scratch = new float[Math.Max(1, mine * size)];
            _pinBuffer = GCHandle.Alloc(_buffer, GCHandleType.Pinned);
            _pinScratch = GCHandle.Alloc(_scratch, GCHandleType.Pinned);
            _pinCounts = GCHandle.Alloc(_counts, GCHandleType.Pinned);
            _pinDispl = GCHandle.Alloc(_displ, GCHandleType.Pinned);
            _pinReceiveCounts = GCHandle.Alloc(_receiveCounts, GCHandleType.Pinned);
            _pinReceiveDispl = GCHandle.Alloc(_receiveDispl, GCHandleType.Pinned);
            lock (_comm._gate)
            {
                _request = _comm._mpi.IAllToAllV((void*)_pinBuffer.AddrOfPinnedObject(), (int*)_pinCounts.AddrOfPinnedObject(), (int*)_pinDispl.AddrOfPinnedObject(),
                    (void*)_pinScratch.AddrOfPinnedObject(), (int*)_pinReceiveCounts.AddrOfPinnedObject(), (int*)_pinReceiveDispl.AddrOfPinnedObject(), _comm._mpi.Float);
            }
            _phase = 1;
        }

        public bool Test()
        {
            if (_phase == 3) return true;
            bool done;
            lock (_comm._gate) done = _comm._mpi.Test(ref _request);
            if (done) Advance();
            return _phase == 3;
        }

        public void Wait()
        {
            while (_phase != 3)
            {
                lock (_comm._gate) _comm._mpi.Wait(ref _request);
                Advance();
            }
        }

        // Called when the current phase's request has completed.
        private void Advance()
        {
            if (_phase == 1)
            {
                int me = _comm.Rank, mine = _receiveCounts[0];
                var sum = _buffer.AsSpan(_offset + SliceStart(me), mine);
                _scratch.AsSpan(0, mine).CopyTo(sum);
                for (int j = 1; j < _comm.Size; j++)
                    System.Numerics.Tensors.TensorPrimitives.Add(sum, _scratch.AsSpan(j * mine, mine), sum);
                for (int j = 0; j < _comm.Size; j++)
                {
                    _receiveCounts[j] = _counts[j];
                    _receiveDispl[j] = _displ[j];
                }
                lock (_comm._gate)
                {
                    _request = _comm._mpi.IAllGatherV(InPlace, 0, (void*)_pinBuffer.AddrOfPinnedObject(), (int*)_pinReceiveCounts.AddrOfPinnedObject(),
                        (int*)_pinReceiveDispl.AddrOfPinnedObject(), _comm._mpi.Float);
                }
                _phase = 2;
            }
            else if (_phase == 2)
            {
                _phase = 3;
                _pinBuffer.Free();
                _pinScratch.Free();
                _pinCounts.Free();
                _pinDispl.Free();
                _pinReceiveCounts.Free();
                _pinReceiveDispl.Free();
                _scratch = [];
            }
        }

        private void* InPlace => _comm._mpi.Abi == MpiAbi.OpenMpi ? (void*)1 : (void*)-1;
    }
}
