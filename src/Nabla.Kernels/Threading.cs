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

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, <paramref name="count"/>) split into
    /// contiguous chunks, one per thread, in parallel only when the total work (in multiply-adds
    /// or similar units) is worth waking a worker. Each index is processed exactly once, by one
    /// thread, so results do not depend on the thread count.
    /// </summary>
    public static void For(int count, long workPerItem, Action<int, int> body)
    {
        int threads = Math.Min(NumThreads, count);
        if (threads <= 1 || count * workPerItem < 1 << 16)
        {
            body(0, count);
            return;
        }
        Split(count, threads, body);
    }

    // Apart from For, so the closure is made only when the work is really split (a lambda's
    // captured parameters would otherwise be allocated on every call).
    private static void Split(int count, int threads, Action<int, int> body) =>
        WorkerPool.Run(threads, part =>
        {
            int start = (int)((long)count * part / threads), end = (int)((long)count * (part + 1) / threads);
            if (start < end) body(start, end);
        });
}
