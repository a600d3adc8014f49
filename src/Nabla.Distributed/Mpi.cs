using System.Runtime.InteropServices;

namespace Nabla.Distributed;

/// <summary>The two MPI application binary interfaces found on Linux.</summary>
public enum MpiAbi
{
    /// <summary>Open MPI (<c>libmpi.so.40</c>): handles are addresses of exported objects such as <c>ompi_mpi_comm_world</c>; MPI_IN_PLACE is 1.</summary>
    OpenMpi,

    /// <summary>MPICH and its derivatives (<c>libmpich.so.12</c>): handles are fixed integers; MPI_IN_PLACE is -1.</summary>
    Mpich,
}

/// <summary>
/// A small binding of our own over MPI's C API, loaded at run time from the library the job was
/// started with: the functions data-parallel training calls, with each ABI's handles. Not thread
/// safe: <see cref="MpiCommunicator"/> makes the calls one at a time.
/// </summary>
internal sealed unsafe class Mpi
{
    // Calls come from several threads, never two at once (MpiCommunicator serialises them).
    private const int ThreadSerialized = 2;

    private readonly nint _lib;
    private readonly nint _commWorld, _float, _double, _byte, _sum, _inPlace;

    private readonly delegate* unmanaged<int*, int> _initialized, _finalized;
    private readonly delegate* unmanaged<int*, nint, int, int*, int> _initThread;
    private readonly delegate* unmanaged<int> _finalize;
    private readonly delegate* unmanaged<nint, int*, int> _commRank, _commSize;
    private readonly delegate* unmanaged<nint, nint, int, nint, nint, nint, int> _allreduce;
    private readonly delegate* unmanaged<nint, int, nint, int, nint, int> _bcast;
    private readonly delegate* unmanaged<nint, int> _barrier;
    private readonly delegate* unmanaged<nint, int, int> _abort;
    private readonly delegate* unmanaged<nint, int, nint, nint, int, nint, nint, int> _allgather;
    private readonly delegate* unmanaged<nint, int*, int*, nint, nint, int*, int*, nint, nint, int> _alltoallv;
    private readonly delegate* unmanaged<nint, int, nint, nint, int*, int*, nint, nint, int> _allgatherv;
    private readonly delegate* unmanaged<byte*, int*, int> _libraryVersion;
    private readonly delegate* unmanaged<int, byte*, int*, int> _errorString;

    private Mpi(nint lib, MpiAbi abi, string path)
    {
        _lib = lib;
        Abi = abi;
        LibraryPath = path;
        if (abi == MpiAbi.OpenMpi)
        {
            _commWorld = Symbol("ompi_mpi_comm_world");
            _float = Symbol("ompi_mpi_float");
            _double = Symbol("ompi_mpi_double");
            _byte = Symbol("ompi_mpi_byte");
            _sum = Symbol("ompi_mpi_op_sum");
            _inPlace = 1;
        }
        else
        {
            _commWorld = 0x44000000;
            _float = 0x4c00040a;
            _double = 0x4c00080b;
            _byte = 0x4c00010d;
            _sum = 0x58000003;
            _inPlace = -1;
        }
        _initialized = (delegate* unmanaged<int*, int>)Symbol("MPI_Initialized");
        _finalized = (delegate* unmanaged<int*, int>)Symbol("MPI_Finalized");
        _initThread = (delegate* unmanaged<int*, nint, int, int*, int>)Symbol("MPI_Init_thread");
        _finalize = (delegate* unmanaged<int>)Symbol("MPI_Finalize");
        _commRank = (delegate* unmanaged<nint, int*, int>)Symbol("MPI_Comm_rank");
        _commSize = (delegate* unmanaged<nint, int*, int>)Symbol("MPI_Comm_size");
        _allreduce = (delegate* unmanaged<nint, nint, int, nint, nint, nint, int>)Symbol("MPI_Allreduce");
        _bcast = (delegate* unmanaged<nint, int, nint, int, nint, int>)Symbol("MPI_Bcast");
        _barrier = (delegate* unmanaged<nint, int>)Symbol("MPI_Barrier");
        _abort = (delegate* unmanaged<nint, int, int>)Symbol("MPI_Abort");
        _allgather = (delegate* unmanaged<nint, int, nint, nint, int, nint, nint, int>)Symbol("MPI_Allgather");
        _alltoallv = (delegate* unmanaged<nint, int*, int*, nint, nint, int*, int*, nint, nint, int>)Symbol("MPI_Alltoallv");
        _allgatherv = (delegate* unmanaged<nint, int, nint, nint, int*, int*, nint, nint, int>)Symbol("MPI_Allgatherv");
        _libraryVersion = (delegate* unmanaged<byte*, int*, int>)Symbol("MPI_Get_library_version");
        _errorString = (delegate* unmanaged<int, byte*, int*, int>)Symbol("MPI_Error_string");
    }

    /// <summary>Which ABI the loaded library speaks.</summary>
    public MpiAbi Abi { get; }

    /// <summary>The library file loaded.</summary>
    public string LibraryPath { get; }

    /// <summary>The MPI datatype handle for float, double or byte.</summary>
    public nint Float => _float;

    /// <inheritdoc cref="Float"/>
    public nint Double => _double;

    /// <inheritdoc cref="Float"/>
    public nint Byte => _byte;

    /// <summary>
    /// Loads the MPI library the job was started with: <c>NABLA_MPI_LIBRARY</c> when set (a file
    /// name or path); else MPICH when its launcher's variables are present (PMI_RANK without
    /// OMPI_COMM_WORLD_RANK); else Open MPI, then MPICH.
    /// </summary>
    public static Mpi Load()
    {
        // UCX (Open MPI's transport on some builds) installs a SIGSEGV handler that turns .NET's
        // null-reference handling into a crash; it reads this variable when it loads.
        SetEnv("UCX_ERROR_SIGNALS", "");
        string? forced = Environment.GetEnvironmentVariable("NABLA_MPI_LIBRARY");
        bool mpichLauncher = Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_RANK") is null &&
            (Environment.GetEnvironmentVariable("PMI_RANK") is not null || Environment.GetEnvironmentVariable("MPI_LOCALRANKID") is not null);
        string[] candidates = forced is { Length: > 0 } ? [forced]
            : mpichLauncher ? ["libmpich.so.12", "libmpi.so.40"] : ["libmpi.so.40", "libmpich.so.12"];
        var tried = new List<string>();
        foreach (string name in candidates)
        {
            if (!NativeLibrary.TryLoad(name, out nint lib))
            {
                tried.Add(name);
                continue;
            }
            bool openMpi = NativeLibrary.TryGetExport(lib, "ompi_mpi_comm_world", out _);
            return new Mpi(lib, openMpi ? MpiAbi.OpenMpi : MpiAbi.Mpich, name);
        }
        throw new DllNotFoundException($"MPI: no MPI library could be loaded (tried {string.Join(", ", tried)}). Install Open MPI or MPICH (Debian: apt-get install openmpi-bin, or mpich), or set NABLA_MPI_LIBRARY to the library's path.");
    }

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnvNative(string name, string value, int overwrite);

    private static void SetEnv(string name, string value)
    {
        Environment.SetEnvironmentVariable(name, value);
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) _ = SetEnvNative(name, value, 1);
    }

    private nint Symbol(string name) => NativeLibrary.TryGetExport(_lib, name, out nint address) ? address
        : throw new EntryPointNotFoundException($"MPI: {LibraryPath} has no symbol {name}; it is not an MPI-3 library of the {Abi} ABI.");

    /// <summary>Initialises MPI (MPI_THREAD_SERIALIZED) unless done already; returns false when it was.</summary>
    public bool Init()
    {
        int flag;
        Check(_initialized(&flag), "MPI_Initialized");
        if (flag != 0) return false;
        int provided;
        Check(_initThread(null, 0, ThreadSerialized, &provided), "MPI_Init_thread");
        return true;
    }

    /// <summary>True once MPI_Finalize has run.</summary>
    public bool IsFinalized
    {
        get
        {
            int flag;
            Check(_finalized(&flag), "MPI_Finalized");
            return flag != 0;
        }
    }

    public void Finalize_() => Check(_finalize(), "MPI_Finalize");

    public int Rank()
    {
        int r;
        Check(_commRank(_commWorld, &r), "MPI_Comm_rank");
        return r;
    }

    public int Size()
    {
        int s;
        Check(_commSize(_commWorld, &s), "MPI_Comm_size");
        return s;
    }

    public string LibraryVersion()
    {
        byte* buffer = stackalloc byte[8192];
        int length;
        Check(_libraryVersion(buffer, &length), "MPI_Get_library_version");
        string text = System.Text.Encoding.UTF8.GetString(buffer, Math.Clamp(length, 0, 8192)).TrimEnd('\0');
        // "Open MPI v4.1.4, package: ..." or "MPICH Version:\t4.0.2\n...": the name and version.
        string first = text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? Abi.ToString();
        return first.Split(',')[0].Replace("Version:", "", StringComparison.Ordinal).Replace('\t', ' ').Replace("  ", " ", StringComparison.Ordinal).Trim();
    }

    /// <summary>MPI_Allreduce(MPI_IN_PLACE, ...) with MPI_SUM; the order of the sum is the library's.</summary>
    public void AllReduceSumInPlace(void* data, int count, nint type) =>
        Check(_allreduce(_inPlace, (nint)data, count, type, _sum, _commWorld), "MPI_Allreduce");

    public void Broadcast(void* data, int count, nint type, int root) =>
        Check(_bcast((nint)data, count, type, root, _commWorld), "MPI_Bcast");

    public void Barrier() => Check(_barrier(_commWorld), "MPI_Barrier");

    public void Abort(int code) => _abort(_commWorld, code);

    public void AllGather(void* send, int count, nint type, void* receive) =>
        Check(_allgather((nint)send, count, type, (nint)receive, count, type, _commWorld), "MPI_Allgather");

    public void AllToAllV(void* send, int* sendCounts, int* sendDispl, void* receive, int* receiveCounts, int* receiveDispl, nint type) =>
        Check(_alltoallv((nint)send, sendCounts, sendDispl, type, (nint)receive, receiveCounts, receiveDispl, type, _commWorld), "MPI_Alltoallv");

    /// <summary>MPI_Allgatherv with MPI_IN_PLACE: each rank's part is already at its displacement in <paramref name="data"/>.</summary>
    public void AllGatherVInPlace(void* data, int* counts, int* displ, nint type) =>
        Check(_allgatherv(_inPlace, 0, type, (nint)data, counts, displ, type, _commWorld), "MPI_Allgatherv");

    private void Check(int code, string function)
    {
        if (code == 0) return;
        string message = $"error code {code}";
        byte* buffer = stackalloc byte[1024];
        int length = 0;
        if (_errorString != null && _errorString(code, buffer, &length) == 0)
            message = System.Text.Encoding.UTF8.GetString(buffer, Math.Clamp(length, 0, 1024)).TrimEnd('\0');
        throw new InvalidOperationException($"MPI: {function} failed in {LibraryPath}: {message}.");
    }
}
