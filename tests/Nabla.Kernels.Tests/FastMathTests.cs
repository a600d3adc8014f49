namespace Nabla.Kernels.Tests;

/// <summary>FastMath's exp, sigmoid and tanh against double precision, at the edges, and alike on every instruction set.</summary>
[Collection("gemm-isa")] // switches Isa.Current, as the GEMM tests do: not beside them
public class FastMathTests
{
    private delegate void SpanFunction(ReadOnlySpan<float> x, Span<float> y);

    private static float[] Inputs()
    {
        var values = new List<float> { 0f, -0f, 1f, -1f, 0.5f, 88.7f, 88.72f, 88.73f, 100f, -87.3f, -100f, -103.9f, -104f, -110f,
            float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.Epsilon, -float.Epsilon, 1e-30f, -1e-30f };
        var random = new Random(5);
        for (int i = 0; i < 20_000; i++) values.Add((float)(random.NextDouble() * 200 - 110));
        for (int i = 0; i < 5_000; i++) values.Add((float)(random.NextDouble() * 2 - 1));
        return [.. values];
    }

    /// <summary>How many representable floats lie between a and b (0 when equal).</summary>
    private static long UlpDistance(float a, float b)
    {
        static long Ordered(float f)
        {
            int bits = BitConverter.SingleToInt32Bits(f);
            return bits < 0 ? int.MinValue - (long)bits : bits;
        }
        return Math.Abs(Ordered(a) - Ordered(b));
    }

    [Fact]
    public void Exp_is_within_two_ulp_of_the_double_precision_value_and_exact_at_the_edges()
    {
        foreach (float x in Inputs())
        {
            float got = FastMath.Exp(x), want = (float)Math.Exp(x);
            if (float.IsNaN(x)) Assert.True(float.IsNaN(got));
            else if (x > 88.72283905206835f) Assert.Equal(float.PositiveInfinity, got);
            else if (x < -103.972077f) Assert.Equal(0f, got);
            else if (want < 1e-37f) Assert.True(Math.Abs(got - want) <= 2 * float.Epsilon + 1e-6 * want, $"exp({x:R}) = {got:R}, not {want:R}"); // subnormals: absolute
            else Assert.True(UlpDistance(got, want) <= 2, $"exp({x:R}) = {got:R}, {UlpDistance(got, want)} ulp from {want:R}");
        }
        Assert.Equal(1f, FastMath.Exp(0f));
        Assert.Equal(0f, FastMath.Exp(float.NegativeInfinity));
    }

    [Fact]
    public void Sigmoid_and_tanh_are_within_a_few_ulp_of_the_double_precision_values()
    {
        foreach (float x in Inputs())
        {
            if (float.IsNaN(x))
            {
                Assert.True(float.IsNaN(FastMath.Sigmoid(x)) && float.IsNaN(FastMath.Tanh(x)));
                continue;
            }
            float sigmoid = (float)(1 / (1 + Math.Exp(-(double)x))), tanh = (float)Math.Tanh(x);
            // Past exp's range the sigmoid of a very negative x is 0, not a subnormal.
            Assert.True(UlpDistance(FastMath.Sigmoid(x), sigmoid) <= 3 || Math.Abs(FastMath.Sigmoid(x) - sigmoid) < 1.2e-38f, $"sigmoid({x:R}) = {FastMath.Sigmoid(x):R}, {UlpDistance(FastMath.Sigmoid(x), sigmoid)} ulp from {sigmoid:R}");
            Assert.True(UlpDistance(FastMath.Tanh(x), tanh) <= 3, $"tanh({x:R}) = {FastMath.Tanh(x):R}, {UlpDistance(FastMath.Tanh(x), tanh)} ulp from {tanh:R}");
        }
        Assert.Equal(0f, FastMath.Tanh(0f));
        Assert.Equal(0.5f, FastMath.Sigmoid(0f));
        Assert.Equal(-1f, FastMath.Tanh(float.NegativeInfinity));
        Assert.Equal(1f, FastMath.Sigmoid(float.PositiveInfinity));
        Assert.Equal(0f, FastMath.Sigmoid(float.NegativeInfinity));
    }

    public static IEnumerable<object[]> Paths() => Isa.Supported.Select(isa => new object[] { isa });

    [Theory]
    [MemberData(nameof(Paths))]
    public void Every_instruction_set_gives_the_scalar_bits(InstructionSet isa)
    {
        float[] x = Inputs();
        var functions = new (string Name, SpanFunction Span, Func<float, float> Scalar)[]
        {
            ("exp", FastMath.Exp, FastMath.Exp), ("sigmoid", FastMath.Sigmoid, FastMath.Sigmoid), ("tanh", FastMath.Tanh, FastMath.Tanh),
        };
        foreach (var (name, span, scalar) in functions)
        {
            float[] y = new float[x.Length + 3];
            InstructionSet saved = Isa.Current;
            try
            {
                Isa.Current = isa;
                // An odd length and an offset start, so that every width and the scalar tail are used.
                span(x.AsSpan(1), y.AsSpan(1));
            }
            finally
            {
                Isa.Current = saved;
            }
            for (int i = 1; i < x.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(scalar(x[i])) == BitConverter.SingleToInt32Bits(y[i]) || (float.IsNaN(y[i]) && float.IsNaN(x[i])), $"{Isa.Name(isa)}: {name}({x[i]:R}) = {y[i]:R}, scalar {scalar(x[i]):R}");
        }
    }
}
