namespace Nabla.Kernels;

/// <summary>
/// The one setting for intra-op parallelism. Kernels that split work across threads use at
/// most <see cref="NumThreads"/> of them. The start-up value comes from the
/// <c>NABLA_NUM_THREADS</c> environment variable, else the processor count.
/// </summary>
public static class Threading
{
    private static int s_numThreads = FromEnvironment();

    /// <summary>The most threads one kernel call may use (at least 1).</summary>
    public static int NumThreads
    {
        get => s_numThreads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(NumThreads));
            s_numThreads = value;
        }
    }

    private static int FromEnvironment()
    {
        string? v = Environment.GetEnvironmentVariable("NABLA_NUM_THREADS");
        return int.TryParse(v, out int n) && n >= 1 ? n : Environment.ProcessorCount;
    }

    [ThreadStatic] private static bool t_callingThreadOnly;

    /// <summary>True inside a <see cref="CallingThreadOnly"/> scope on this thread: kernels run their parts one after another here.</summary>
    internal static bool IsCallingThreadOnly => t_callingThreadOnly;

    /// <summary>
    /// Until the returned scope is disposed, kernels called on this thread run on it alone, never
    /// waking the workers. For work beside the training step (a batch prefetched on a background
    /// thread, trials that already run in parallel): otherwise such a thread can take the worker
    /// pool at the moment the step's own large kernel wants it, and the step's kernel then runs on
    /// one thread. Results are the same bits either way. Scopes nest.
    /// </summary>
    /// <param name="on">False leaves the thread as it is (for callers that decide at run time).</param>
    public static CallingThreadScope CallingThreadOnly(bool on = true)
    {
        bool previous = t_callingThreadOnly;
        t_callingThreadOnly = previous || on;
        return new CallingThreadScope(previous);
    }

    /// <summary>The scope of <see cref="CallingThreadOnly"/>; disposing it restores the thread's setting before.</summary>
    public readonly struct CallingThreadScope : IDisposable
    {
        private readonly bool _previous;

        internal CallingThreadScope(bool previous) => _previous = previous;

        /// <summary>Restores the setting the scope replaced.</summary>
        public void Dispose() => t_callingThreadOnly = _previous;
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, <paramref name="count"/>) split into
    /// contiguous chunks, one per thread, in parallel only when the total work (in multiply-adds
    /// or similar units) is worth waking a worker. Each index is processed exactly once, by one
    /// thread, so results do not depend on the thread count.
    /// </summary>
    public static void For(int count, long workPerItem, Action<int, int> body)
    {
        int threads = Math.Min(NumThreads, count);
        if (threads <= 1 || count * workPerItem < 1 << 16 || t_callingThreadOnly)
        {
            body(0, count);
            return;
        }
        Splitter.Run(count, threads, body);
    }

    /// <summary>
    /// Hands out contiguous chunks of [0, count) as the worker pool's parts. Kept per calling thread
    /// with its delegate made once, so splitting the work allocates nothing; a call while the
    /// thread's splitter is in use makes another.
    /// </summary>
    private sealed class Splitter
    {
        [ThreadStatic] private static Splitter? t_free;

        private readonly Action<int> _part;
        private Action<int, int>? _body;
        private int _count, _threads;

        private Splitter() => _part = Part;

        public static void Run(int count, int threads, Action<int, int> body)
        {
            Splitter splitter = t_free ?? new Splitter();
            t_free = null;
            (splitter._count, splitter._threads, splitter._body) = (count, threads, body);
            try
            {
                WorkerPool.Run(threads, splitter._part);
            }
            finally
            {
                splitter._body = null;
                t_free = splitter;
            }
        }

        private void Part(int part)
        {
            int start = (int)((long)_count * part / _threads), end = (int)((long)_count * (part + 1) / _threads);
            if (start < end) _body!(start, end);
        }
    }
}
