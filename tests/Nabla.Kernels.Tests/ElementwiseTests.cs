namespace Nabla.Kernels.Tests;

/// <summary>Kernels against scalar references, over every length 0..256 so every SIMD tail path runs.</summary>
public class ElementwiseTests
{
    private static float[] Random(int n, int seed, float scale = 2f)
    {
        var r = new System.Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1) * scale;
        return a;
    }

    public static IEnumerable<object[]> Lengths() => Enumerable.Range(0, 257).Where(n => n < 40 || n % 7 == 0 || n == 256).Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Binary_ops_match_scalar_for_contiguous_and_broadcast_operands(int n)
    {
        float[] a = Random(n, 1), b = Random(n, 2);
        var dst = new float[n];
        int[] shape = [n];
        Elementwise.Binary<AddOp>(shape, a, 0, [1], b, 0, [1], dst);
        for (int i = 0; i < n; i++) Assert.Equal(a[i] + b[i], dst[i]);
        Elementwise.Binary<DivideOp>(shape, a, 0, [1], b, 0, [0], dst);
        for (int i = 0; i < n; i++) Assert.Equal(a[i] / b[0], dst[i]);
        Elementwise.Binary<SubtractOp>(shape, a, 0, [0], b, 0, [1], dst);
        for (int i = 0; i < n; i++) Assert.Equal(a[0] - b[i], dst[i]);
        Elementwise.Binary<GreaterOp>(shape, a, 0, [1], b, 0, [1], dst);
        for (int i = 0; i < n; i++) Assert.Equal(a[i] > b[i] ? 1f : 0f, dst[i]);
    }

    [Fact]
    public void Binary_broadcasts_over_several_dimensions_with_strides()
    {
        // a: [3, 4] transposed view of a [4, 3] buffer; b: [4] broadcast along rows.
        float[] a = Random(12, 3), b = Random(4, 4);
        var dst = new float[12];
        Elementwise.Binary<MultiplyOp>([3, 4], a, 0, [1, 3], b, 0, [0, 1], dst);
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 4; j++) Assert.Equal(a[j * 3 + i] * b[j], dst[i * 4 + j]);
        }
    }

    [Fact]
    public void Strided_copy_transposes_and_slices()
    {
        float[] src = Enumerable.Range(0, 24).Select(i => (float)i).ToArray();
        var dst = new float[24];
        // View [4, 6] of storage as its transpose [6, 4].
        Strided.Copy(src, 0, [1, 6], dst, 0, [4, 1], [6, 4]);
        for (int i = 0; i < 6; i++)
        {
            for (int j = 0; j < 4; j++) Assert.Equal(src[j * 6 + i], dst[i * 4 + j]);
        }
        // Every other column from offset 1: shape [4, 3].
        var part = new float[12];
        Strided.Copy(src, 1, [6, 2], part, 0, [3, 1], [4, 3]);
        Assert.Equal([1f, 3f, 5f, 7f, 9f, 11f, 13f, 15f, 17f, 19f, 21f, 23f], part);
    }

    [Fact]
    public void Coalesce_merges_contiguous_dimensions_and_drops_ones()
    {
        int[] shape = [2, 1, 3, 4], s0 = [12, 12, 4, 1], s1 = [12, 12, 4, 1], s2 = [0, 0, 0, 0];
        int rank = Strided.Coalesce(shape, s0, s1, s2);
        Assert.Equal(1, rank);
        Assert.Equal(24, shape[0]);
        int[] shape2 = [2, 3, 4], t0 = [12, 4, 1], t1 = [0, 1, 0], t2 = [12, 4, 1];
        Assert.Equal(3, Strided.Coalesce(shape2, t0, t1, t2));
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 5, 1)]
    [InlineData(2, 7, 9)]
    [InlineData(1, 256, 1)]
    public void Reductions_match_naive(int outer, int n, int inner)
    {
        float[] src = Random(outer * n * inner, 7);
        var sum = new float[outer * inner];
        var max = new float[outer * inner];
        var min = new float[outer * inner];
        var arg = new int[outer * inner];
        Reduce.Sum(src, outer, n, inner, sum);
        Reduce.Max(src, outer, n, inner, max);
        Reduce.Min(src, outer, n, inner, min);
        Reduce.ArgExtreme(src, outer, n, inner, arg, max: true);
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < inner; j++)
            {
                var column = Enumerable.Range(0, n).Select(i => src[(o * n + i) * inner + j]).ToArray();
                Assert.Equal(column.Sum(), sum[o * inner + j], 4);
                Assert.Equal(column.Max(), max[o * inner + j]);
                Assert.Equal(column.Min(), min[o * inner + j]);
                Assert.Equal(Array.IndexOf(column, column.Max()), arg[o * inner + j]);
            }
        }
    }

    [Fact]
    public void Softmax_rows_and_columns_match_the_definition()
    {
        float[] x = Random(2 * 3 * 4, 8, 5f);
        var y = new float[x.Length];
        var logY = new float[x.Length];
        Softmax.Forward(x, 2, 3, 4, y);
        Softmax.LogForward(x, 2, 3, 4, logY);
        for (int o = 0; o < 2; o++)
        {
            for (int j = 0; j < 4; j++)
            {
                double z = Enumerable.Range(0, 3).Sum(i => Math.Exp(x[(o * 3 + i) * 4 + j]));
                for (int i = 0; i < 3; i++)
                {
                    int p = (o * 3 + i) * 4 + j;
                    Assert.Equal(Math.Exp(x[p]) / z, y[p], 5);
                    Assert.Equal(x[p] - Math.Log(z), logY[p], 4);
                }
            }
        }
    }

    [Fact]
    public void Erf_matches_reference_values()
    {
        // Reference values of erf to 9 digits.
        Assert.Equal(0.0, SpecialFunctions.Erf(0), 7);
        Assert.Equal(0.520499878, SpecialFunctions.Erf(0.5), 7);
        Assert.Equal(0.842700793, SpecialFunctions.Erf(1), 7);
        Assert.Equal(-0.995322265, SpecialFunctions.Erf(-2), 7);
        Assert.Equal(0.999977910, SpecialFunctions.Erf(3), 7);
    }

    [Fact]
    public void Exact_gelu_and_its_derivative_match_a_double_precision_reference_on_every_path()
    {
        // 1 001 points over [-10, 10]: the vector path (8 at a time) and the scalar tail both.
        int n = 1001;
        float[] x = Enumerable.Range(0, n).Select(i => -10f + 20f * i / (n - 1)).ToArray();
        var y = new float[n];
        var d = new float[n];
        Activations.Gelu(x, false, y);
        Activations.GeluBackward(x, false, Enumerable.Repeat(1f, n).ToArray(), d);
        for (int i = 0; i < n; i++)
        {
            double v = x[i], cdf = 0.5 * (1 + SpecialFunctions.Erf(v / Math.Sqrt(2)));
            double want = v * cdf, slope = cdf + v * Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI);
            Assert.True(Math.Abs(want - y[i]) <= 2e-6 * Math.Abs(want) + 1e-7, $"gelu({v}) = {y[i]}, reference {want}");
            Assert.True(Math.Abs(slope - d[i]) <= 2e-6 * Math.Abs(slope) + 1e-6, $"gelu'({v}) = {d[i]}, reference {slope}");
        }
        // Far in the negative tail, where 1 + erf cancels, the value keeps its relative precision.
        var tail = new float[8];
        Activations.Gelu(Enumerable.Repeat(-6f, 8).ToArray(), false, tail);
        double exact = -6 * 0.5 * Erfc(6 / Math.Sqrt(2));
        Assert.All(tail, t => Assert.True(Math.Abs(t - exact) <= 1e-5 * Math.Abs(exact), $"gelu(-6) = {t}, reference {exact}"));
    }

    /// <summary>erfc for large arguments by its continued fraction (the reference for the tail).</summary>
    private static double Erfc(double z)
    {
        double f = 0;
        for (int k = 60; k >= 1; k--) f = k / 2.0 / (z + f);
        return Math.Exp(-z * z) / Math.Sqrt(Math.PI) / (z + f);
    }

    [Fact]
    public void Activation_backward_kernels_match_finite_differences()
    {
        float[] x = Random(64, 9, 3f).Select(v => MathF.Abs(v) < 0.05f ? 0.3f : v).ToArray();
        float[] g = Enumerable.Repeat(1f, 64).ToArray();
        void CheckRule(Action<float[], float[]> forward, Action<float[], float[], float[]> backward)
        {
            var dx = new float[64];
            backward(x, g, dx);
            const float h = 1e-3f;
            for (int i = 0; i < 64; i++)
            {
                float[] plus = [x[i] + h], minus = [x[i] - h], yp = new float[1], ym = new float[1];
                forward(plus, yp);
                forward(minus, ym);
                double numeric = (yp[0] - (double)ym[0]) / (2 * h);
                Assert.True(Math.Abs(numeric - dx[i]) < 2e-2 * (1 + Math.Abs(numeric)), $"x={x[i]}: {dx[i]} vs {numeric}");
            }
        }
        CheckRule((a, y) => Activations.Gelu(a, false, y), (a, gg, d) => Activations.GeluBackward(a, false, gg, d));
        CheckRule((a, y) => Activations.Gelu(a, true, y), (a, gg, d) => Activations.GeluBackward(a, true, gg, d));
        CheckRule((a, y) => Activations.Silu(a, y), (a, gg, d) => Activations.SiluBackward(a, gg, d));
        CheckRule((a, y) => Activations.Softplus(a, 1f, 20f, y), (a, gg, d) => Activations.SoftplusBackward(a, 1f, 20f, gg, d));
        CheckRule((a, y) => Activations.Relu(a, y), (a, gg, d) => Activations.ReluBackward(a, gg, d));
    }
}
