namespace Nabla.Kernels.Tests;

public class PackedGemmTests
{
    private static float[] Random(int n, int seed)
    {
        var r = new System.Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1);
        return a;
    }

    public static IEnumerable<object[]> Sizes()
    {
        // Odd sizes; all rows in one block of A (B one micro-panel at a time) and in several;
        // several k blocks; an LSTM step ([32, 128] x [128, 512]) and its backward ([32, 512] x [512, 128]);
        // a convolution's filters ([64, 288] x [288, 196]).
        int[][] sizes = [[1, 1, 1], [3, 17, 7], [17, 65, 65], [63, 129, 300], [65, 33, 700], [150, 20, 700], [200, 70, 33], [32, 512, 128], [32, 128, 512], [64, 196, 288], [4, 513, 784]];
        foreach (int[] s in sizes) yield return [s[0], s[1], s[2]];
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Packed_operands_give_the_products_of_the_unpacked_path_bit_for_bit(int m, int n, int k)
    {
        int saved = Threading.NumThreads;
        try
        {
            foreach (bool ta in new[] { false, true })
            {
                foreach (bool tb in new[] { false, true })
                {
                    int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
                    float[] a = Random((ta ? k : m) * lda, m + k), b = Random((tb ? n : k) * ldb, n + k + 1), c0 = Random(m * ldc, 9);
                    foreach (bool accumulate in new[] { false, true })
                    {
                        float[]? first = null;
                        foreach (int threads in new[] { 1, 2, 3 })
                        {
                            Threading.NumThreads = threads;
                            var plain = (float[])c0.Clone();
                            var withA = (float[])c0.Clone();
                            var withB = (float[])c0.Clone();
                            Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, plain, ldc, accumulate);
                            using (PackedMatrix pa = Gemm.PackA(ta, m, k, a, lda)) Gemm.Multiply(pa, tb, n, b, ldb, withA, ldc, accumulate);
                            using (PackedMatrix pb = Gemm.PackB(tb, k, n, b, ldb)) Gemm.Multiply(ta, m, a, lda, pb, withB, ldc, accumulate);
                            string where = $"ta={ta} tb={tb} accumulate={accumulate} threads={threads}";
                            if (m > 4 && (long)m * n * k >= 4096)
                            {
                                // The unpacked product takes the packed path too: the same sums in the same order.
                                Assert.True(plain.AsSpan().SequenceEqual(withA), $"packed A differs, {where}");
                                Assert.True(plain.AsSpan().SequenceEqual(withB), $"packed B differs, {where}");
                            }
                            else
                            {
                                // Small products skip packing there: equal within rounding.
                                for (int i = 0; i < plain.Length; i++)
                                {
                                    Assert.True(Math.Abs(plain[i] - withA[i]) <= 1e-4f * (1 + Math.Abs(plain[i])), $"packed A at {i}, {where}");
                                    Assert.True(Math.Abs(plain[i] - withB[i]) <= 1e-4f * (1 + Math.Abs(plain[i])), $"packed B at {i}, {where}");
                                }
                            }
                            for (int i = 0; i < m; i++) Assert.Equal(c0[i * ldc + n], withA[i * ldc + n]); // padding column untouched
                            if (first is null) first = withB;
                            else Assert.True(first.AsSpan().SequenceEqual(withB), $"thread counts differ, {where}");
                        }
                    }
                }
            }
        }
        finally
        {
            Threading.NumThreads = saved;
        }
    }

    [Fact]
    public void A_packed_matrix_is_reused_after_dispose_and_refused_when_misused()
    {
        float[] a = Random(20 * 30, 1), b = Random(30 * 40, 2), c = new float[20 * 40];
        PackedMatrix pa = Gemm.PackA(false, 20, 30, a, 30);
        Assert.True(pa.IsA);
        Assert.Equal((20, 30), (pa.Extent, pa.Depth));
        var wrongSide = Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, 20, a, 30, pa, c, 40));
        Assert.Contains("packed A", wrongSide.Message);
        pa.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Gemm.Multiply(pa, false, 40, b, 40, c, 40));
        var shortB = Assert.Throws<ArgumentException>(() =>
        {
            using PackedMatrix again = Gemm.PackA(false, 20, 30, a, 30);
            Gemm.Multiply(again, false, 40, new float[100], 40, c, 40);
        });
        Assert.Contains("B holds 100 values", shortB.Message);
    }
}
