namespace Nabla.Kernels.Tests;

/// <summary>
/// GEMM paths the main size table reaches less: the scalar micro-kernel and packing (machines
/// without AVX2) for every transpose with and without accumulation, the small path with a
/// transposed A, leading dimensions wider than the matrix, and every argument check by name.
/// </summary>
[Collection("gemm-isa")]
public class GemmPathTests
{
    private static float[] Random(int n, int seed)
    {
        var r = new System.Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    private static void Check(bool ta, bool tb, int m, int n, int k, int pad, bool accumulate, string what)
    {
        // Leading dimensions wider than the stored matrices by `pad`.
        int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
        float[] a = Random((ta ? k : m) * lda, m * 31 + k), b = Random((tb ? n : k) * ldb, n * 17 + k), c0 = Random(m * ldc, m + n);
        var c = (float[])c0.Clone();
        Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < ldc; j++)
            {
                if (j >= n)
                {
                    Assert.Equal(c0[i * ldc + j], c[i * ldc + j]); // padding untouched
                    continue;
                }
                double s = accumulate ? c0[i * ldc + j] : 0;
                for (int p = 0; p < k; p++) s += (ta ? a[p * lda + i] : a[i * lda + p]) * (double)(tb ? b[j * ldb + p] : b[p * ldb + j]);
                Assert.True(Math.Abs(s - c[i * ldc + j]) <= 1e-4 * (1 + Math.Abs(s)) + 1e-4, $"{what} ta={ta} tb={tb} [{m}x{n}x{k}] acc={accumulate} C[{i},{j}]: {c[i * ldc + j]} vs {s}");
            }
        }
    }

    /// <summary>Every instruction set the machine has, with shapes that reach full and partial tiles, pairs of B panels and single ones.</summary>
    public static IEnumerable<object[]> Shapes() =>
        from isa in Isa.Supported
        from shape in new[] { (7, 19, 13, 0), (13, 33, 70, 3), (70, 40, 330, 1), (6, 16, 8, 0), (150, 17, 40, 2), (12, 64, 40, 0), (20, 95, 33, 1) }
        select new object[] { isa, shape.Item1, shape.Item2, shape.Item3, shape.Item4 };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_instruction_sets_kernel_and_packing_match_the_definition(InstructionSet isa, int m, int n, int k, int pad)
    {
        InstructionSet saved = Isa.Current;
        try
        {
            Isa.Current = isa;
            foreach (bool ta in new[] { false, true })
            {
                foreach (bool tb in new[] { false, true })
                {
                    foreach (bool accumulate in new[] { false, true }) Check(ta, tb, m, n, k, pad, accumulate, Isa.Name(isa));
                }
            }
        }
        finally
        {
            Isa.Current = saved;
        }
    }

    [Fact]
    public void The_instruction_set_is_chosen_from_nabla_isa_and_never_wider_than_the_processor()
    {
        Assert.Equal(Isa.Widest, Isa.Choose(null));
        Assert.Equal(Isa.Widest, Isa.Choose(""));
        foreach (var isa in Isa.Supported) Assert.Equal(isa, Isa.Choose(Isa.Name(isa).ToUpperInvariant()));
        Assert.Contains("not one of avx512, avx2, vector128, scalar", Assert.Throws<ArgumentException>(() => Isa.Choose("sse9")).Message);
        Assert.Contains("not one of", Assert.Throws<ArgumentException>(() => Isa.Choose("7")).Message);
        if (Isa.Widest < InstructionSet.Avx512)
            Assert.Contains("widest instruction set", Assert.Throws<ArgumentException>(() => Isa.Choose("avx512")).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Isa.Current = (InstructionSet)99);
        Assert.Contains(InstructionSet.Scalar, Isa.Supported);
    }

    [Theory]
    [InlineData(3, 21, 9)]
    [InlineData(4, 40, 33)]
    [InlineData(2, 5, 1)]
    public void The_small_path_matches_for_every_transpose_and_padding(int m, int n, int k)
    {
        foreach (bool ta in new[] { false, true })
        {
            foreach (bool tb in new[] { false, true })
            {
                foreach (bool accumulate in new[] { false, true }) Check(ta, tb, m, n, k, 2, accumulate, "small");
            }
        }
    }

    [Fact]
    public void Arguments_are_checked_by_name()
    {
        string Error(Action a) => Assert.Throws<ArgumentException>(a).Message;
        Assert.Contains("Gemm: negative size m=-1, n=2, k=2", Error(() => Gemm.Multiply(false, false, -1, 2, 2, new float[4], 2, new float[4], 2, new float[4], 2)));
        Assert.Contains("negative size m=2, n=-1, k=2", Error(() => Gemm.Multiply(false, false, 2, -1, 2, new float[4], 2, new float[4], 2, new float[4], 2)));
        Assert.Contains("negative size m=2, n=2, k=-1", Error(() => Gemm.Multiply(false, false, 2, 2, -1, new float[4], 2, new float[4], 2, new float[4], 2)));
        Assert.Contains("Gemm: B holds 5 values, but [3, 2] with leading dimension 2 needs 6", Error(() => Gemm.Multiply(false, false, 2, 2, 3, new float[6], 3, new float[5], 2, new float[4], 2)));
        Assert.Contains("Gemm: C holds 3 values, but [2, 2] with leading dimension 2 needs 4", Error(() => Gemm.Multiply(false, false, 2, 2, 3, new float[6], 3, new float[6], 2, new float[3], 2)));
        Assert.Contains("Gemm: leading dimension 1 of A is less than its 3 columns", Error(() => Gemm.Multiply(false, false, 2, 2, 3, new float[6], 1, new float[6], 2, new float[4], 2)));
        Assert.Contains("leading dimension 2 of B is less than its 3 columns", Error(() => Gemm.Multiply(false, true, 2, 3, 3, new float[6], 3, new float[9], 2, new float[6], 3)));
        // A single row may have any leading dimension; an empty product leaves C alone.
        var row = new float[3];
        Gemm.Multiply(false, false, 1, 3, 2, [1f, 2f], 0, [1f, 2f, 3f, 4f, 5f, 6f], 3, row, 0);
        Assert.Equal([9f, 12f, 15f], row);
        var untouched = new[] { 4f, 4f };
        Gemm.Multiply(false, false, 0, 2, 3, [], 3, new float[6], 2, untouched, 2);
        Gemm.Multiply(false, false, 2, 0, 3, new float[6], 3, [], 0, untouched, 0);
        Assert.Equal([4f, 4f], untouched);
        // k = 0: C is zeroed, or kept when accumulating.
        var c = new[] { 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f };
        Gemm.Multiply(false, false, 5, 2, 0, [], 0, [], 2, c, 2, accumulate: true);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f], c);
        Gemm.Multiply(false, false, 5, 2, 0, [], 0, [], 2, c, 2);
        Assert.All(c, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void A_packed_product_over_no_steps_zeroes_c_or_keeps_it()
    {
        // The packed path reaches the blocked kernel without the small path's shortcut for k = 0.
        using PackedMatrix a = Gemm.PackA(false, 8, 0, [], 0);
        var c = Enumerable.Range(0, 8 * 40).Select(i => (float)i).ToArray();
        Gemm.Multiply(a, false, 40, [], 40, c, 40, accumulate: true);
        Assert.Equal(Enumerable.Range(0, 8 * 40).Select(i => (float)i), c);
        Gemm.Multiply(a, false, 40, [], 40, c, 40);
        Assert.All(c, v => Assert.Equal(0f, v));
    }
}
