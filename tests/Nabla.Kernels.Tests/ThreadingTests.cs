namespace Nabla.Kernels.Tests;

/// <summary>Threading.For's split, and the scope that keeps a thread's kernels on that thread.</summary>
[Collection("gemm-isa")] // sets NumThreads, as the GEMM tests do
public class ThreadingTests
{
    private static HashSet<int> ThreadsUsed(int count)
    {
        var used = new HashSet<int>();
        var covered = new int[count];
        Threading.For(count, 1 << 20, (start, end) =>
        {
            lock (used) used.Add(Environment.CurrentManagedThreadId);
            for (int i = start; i < end; i++) Interlocked.Increment(ref covered[i]);
        });
        Assert.All(covered, c => Assert.Equal(1, c));
        return used;
    }

    [Fact]
    public void A_calling_thread_only_scope_keeps_every_part_on_the_calling_thread_and_restores_the_setting()
    {
        int saved = Threading.NumThreads;
        try
        {
            Threading.NumThreads = 2;
            int me = Environment.CurrentManagedThreadId;
            using (Threading.CallingThreadOnly())
            {
                Assert.Equal([me], ThreadsUsed(8));
                using (Threading.CallingThreadOnly(on: false)) Assert.Equal([me], ThreadsUsed(8)); // false keeps the outer setting
                Assert.Equal([me], ThreadsUsed(8));
            }
            // Outside the scope the work is shared again. Tests of other classes run beside this
            // one and may hold the worker pool through a long product (the work then runs on the
            // calling thread, by design): tries for up to 30 s, not a fixed number of times (20
            // quick tries once all fell inside one such product in a fresh-clone CI run).
            bool shared = false;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!shared && clock.Elapsed < TimeSpan.FromSeconds(30))
            {
                shared = ThreadsUsed(8).Count == 2;
                if (!shared) Thread.Sleep(5);
            }
            Assert.True(shared, "after the scope, Threading.For never used a second thread in 30 s");
        }
        finally
        {
            Threading.NumThreads = saved;
        }
    }
}
