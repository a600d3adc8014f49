using System.Runtime.ExceptionServices;

namespace Nabla.Kernels;

/// <summary>
/// A small persistent pool for fork/join inside kernels: the calling thread runs part 0 and
/// parked workers run parts 1..n-1. Waking a parked worker costs about a microsecond and
/// allocates nothing, where Parallel.For costs several and allocates. Calls from inside a
/// part, from a second thread while the pool is busy, or inside a
/// <see cref="Threading.CallingThreadOnly"/> scope run their parts sequentially, so the pool
/// never deadlocks or oversubscribes the cores.
/// </summary>
internal static class WorkerPool
{
    private static readonly object s_gate = new();
    private static Worker[] s_workers = [];
    [ThreadStatic] private static bool t_inPart;

    private static Action<int>? s_body;
    private static int s_remaining;
    private static ExceptionDispatchInfo? s_error;
    private static readonly ManualResetEventSlim s_done = new(false, spinCount: 2000);

    /// <summary>Runs <paramref name="body"/>(0..parts-1), each part exactly once.</summary>
    public static void Run(int parts, Action<int> body)
    {
        if (parts <= 1 || t_inPart || Threading.IsCallingThreadOnly || !Monitor.TryEnter(s_gate))
        {
            RunSequential(parts, body);
            return;
        }
        try
        {
            EnsureWorkers(parts - 1);
            s_body = body;
            s_error = null;
            s_done.Reset();
            Volatile.Write(ref s_remaining, parts - 1);
            for (int w = 0; w < parts - 1; w++) s_workers[w].Start(w + 1);
            t_inPart = true;
            try
            {
                body(0);
            }
            finally
            {
                t_inPart = false;
                s_done.Wait();
                s_body = null;
            }
            s_error?.Throw();
        }
        finally
        {
            Monitor.Exit(s_gate);
        }
    }

    private static void RunSequential(int parts, Action<int> body)
    {
        for (int i = 0; i < parts; i++) body(i);
    }

    private static void EnsureWorkers(int count)
    {
        if (s_workers.Length >= count) return;
        var workers = new Worker[count];
        Array.Copy(s_workers, workers, s_workers.Length);
        for (int i = s_workers.Length; i < count; i++) workers[i] = new Worker(i);
        s_workers = workers;
    }

    private static void PartDone()
    {
        if (Interlocked.Decrement(ref s_remaining) == 0) s_done.Set();
    }

    private sealed class Worker
    {
        private readonly SemaphoreSlim _wake = new(0);
        private int _part;

        public Worker(int index)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Nabla worker {index + 1}" };
            thread.Start();
        }

        public void Start(int part)
        {
            _part = part;
            _wake.Release();
        }

        private void Loop()
        {
            t_inPart = true;
            while (true)
            {
                _wake.Wait();
                try
                {
                    s_body!(_part);
                }
                catch (Exception e)
                {
                    s_error ??= ExceptionDispatchInfo.Capture(e);
                }
                finally
                {
                    PartDone();
                }
            }
        }
    }
}
