namespace Nabla.Kernels.Tests;

[Collection("gemm-isa")]
public class GemmTests
{
    private static float[] Random(int n, int seed)
    {
        var r = new System.Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1);
        return a;
    }

    /// <summary>op(A) x op(B) in double, from the stored layouts.</summary>
    private static double[] Reference(bool ta, bool tb, int m, int n, int k, float[] a, int lda, float[] b, int ldb)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (ta ? a[p * lda + i] : a[i * lda + p]) * (double)(tb ? b[j * ldb + p] : b[p * ldb + j]);
                c[i * n + j] = s;
            }
        }
        return c;
    }

    public static IEnumerable<object[]> Sizes()
    {
        int[] dims = [1, 3, 17, 63, 65, 129];
        foreach (int m in dims)
        {
            foreach (int n in new[] { 1, 16, 17, 65, 129 })
            {
                foreach (int k in new[] { 1, 7, 65, 300 })
                {
                    if ((m * 7 + n * 3 + k) % 4 == 0 || (m == 129 && n == 129)) yield return [m, n, k];
                }
            }
        }
        // Several k blocks, with all rows in one block of A (B packed one micro-panel at a time)
        // and with rows in two blocks (B packed a panel at a time).
        yield return [65, 33, 700];
        yield return [150, 20, 700];
        // Matrix-vector products large enough to split C's columns over threads (batch-1 inference).
        yield return [1, 700, 300];
        yield return [3, 257, 400];
        yield return [4, 513, 784];
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Matches_the_reference_for_every_transpose_and_thread_count(int m, int n, int k)
    {
        int saved = Threading.NumThreads;
        try
        {
            foreach (bool ta in new[] { false, true })
            {
                foreach (bool tb in new[] { false, true })
                {
                    // Leading dimensions larger than needed, to catch stride mistakes.
                    int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
                    float[] a = Random((ta ? k : m) * lda, m + k), b = Random((tb ? n : k) * ldb, n + k + 1);
                    double[] expected = Reference(ta, tb, m, n, k, a, lda, b, ldb);
                    float[]? first = null;
                    foreach (int threads in new[] { 1, 2, 3 })
                    {
                        Threading.NumThreads = threads;
                        var c = new float[m * ldc];
                        Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
                        for (int i = 0; i < m; i++)
                        {
                            for (int j = 0; j < n; j++)
                            {
                                double e = expected[i * n + j];
                                Assert.True(Math.Abs(c[i * ldc + j] - e) <= 1e-4 * (Math.Sqrt(k) + Math.Abs(e)),
                                    $"ta={ta} tb={tb} threads={threads} at ({i},{j}): {c[i * ldc + j]} vs {e}");
                            }
                            Assert.Equal(0f, c[i * ldc + n]); // the padding column is untouched
                        }
                        if (first is null) first = c;
                        else Assert.Equal(first, c); // bit-identical across thread counts
                    }
                }
            }
        }
        finally
        {
            Threading.NumThreads = saved;
        }
    }

    [Theory]
    [InlineData(7, 33, 20)]
    [InlineData(70, 40, 300)]
    [InlineData(70, 40, 700)]
    [InlineData(150, 40, 700)]
    public void Accumulate_adds_to_c(int m, int n, int k)
    {
        float[] a = Random(m * k, 1), b = Random(k * n, 2), c0 = Random(m * n, 3);
        var c = (float[])c0.Clone();
        Gemm.Multiply(false, false, m, n, k, a, k, b, n, c, n, accumulate: true);
        double[] e = Reference(false, false, m, n, k, a, k, b, n);
        for (int i = 0; i < c.Length; i++) Assert.True(Math.Abs(c0[i] + e[i] - c[i]) < 1e-3, $"element {i}");
    }

    [Theory]
    [InlineData(50, 70, 90, false, true)]
    [InlineData(150, 100, 400, false, false)]   // A in blocks of 144 rows, k in two balanced blocks
    [InlineData(13, 300, 64, true, false)]      // one block of rows: B packed panel by panel
    [InlineData(301, 97, 35, true, true)]
    [InlineData(3, 64, 40, false, false)]       // the small path (m <= 4), its columns shared out or not
    public void Every_instruction_set_gives_the_same_bits_at_every_thread_count(int m, int n, int k, bool ta, bool tb)
    {
        // Each path sums every element in the same order with fused multiply-adds, so the scalar,
        // 128-bit, AVX2 and AVX-512 kernels agree exactly, whatever the thread count, and also
        // when the caller keeps the product on its own thread (singleThread).
        float[] a = Random(m * k, 4), b = Random(k * n, 5), c0 = Random(m * n, 6);
        float[]? expected = null, expectedAccumulated = null;
        InstructionSet savedIsa = Isa.Current;
        int savedThreads = Threading.NumThreads;
        try
        {
            foreach (var isa in Isa.Supported)
            {
                Isa.Current = isa;
                foreach (int threads in new[] { 1, 2, 3 })
                {
                    Threading.NumThreads = threads;
                    foreach (var (accumulate, singleThread) in new[] { (false, false), (true, false), (false, true), (true, true) })
                    {
                        var c = (float[])c0.Clone();
                        Gemm.Multiply(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, c, n, accumulate, singleThread);
                        if (!accumulate && expected is null)
                        {
                            double[] e = Reference(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n);
                            for (int i = 0; i < c.Length; i++) Assert.True(Math.Abs(e[i] - c[i]) < 1e-3, $"{isa}: element {i}");
                            expected = c;
                        }
                        if (accumulate && expectedAccumulated is null)
                        {
                            // k in several blocks adds each block's part to C in turn: (c + s1) + s2, not c + (s1 + s2).
                            for (int i = 0; i < c.Length; i++) Assert.True(Math.Abs(c0[i] + expected![i] - c[i]) < 1e-3, $"{isa}: accumulated element {i}");
                            expectedAccumulated = c;
                        }
                        Assert.Equal(accumulate ? expectedAccumulated : expected, c);
                    }
                }
            }
        }
        finally
        {
            Isa.Current = savedIsa;
            Threading.NumThreads = savedThreads;
        }
    }

    [Fact]
    public void Zero_k_gives_zeros_and_bad_extents_are_refused()
    {
        var c = Enumerable.Repeat(5f, 12).ToArray();
        Gemm.Multiply(false, false, 3, 4, 0, [], 0, [], 4, c, 4);
        Assert.All(c, v => Assert.Equal(0f, v));
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 3, 4, 5, new float[14], 5, new float[20], 4, new float[12], 4));
        Assert.Contains("A", ex.Message);
    }
}
