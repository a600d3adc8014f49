namespace Nabla.Kernels.Tests;

/// <summary>The exact GELU and its derivative give the same bits on every instruction set the machine has (512-, 256-bit and scalar paths).</summary>
[Collection("gemm-isa")] // switches Isa.Current, as the GEMM tests do: not beside them
public class GeluIsaTests
{
    [Fact]
    public void Exact_gelu_and_its_derivative_give_the_same_bits_on_every_instruction_set()
    {
        // An odd length from an odd offset, so every width and the scalar tail take part, over
        // [-12, 12] (both tails and the steep middle) plus the edges.
        var random = new Random(9);
        float[] x = [.. Enumerable.Range(0, 4099).Select(_ => (float)(random.NextDouble() * 24 - 12)), 0f, -0f, 1e-30f, -1e-30f, 30f, -30f];
        float[] g = [.. Enumerable.Range(0, x.Length).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        (float[] Y, float[] D) Run(InstructionSet isa)
        {
            var y = new float[x.Length];
            var d = new float[x.Length];
            InstructionSet saved = Isa.Current;
            try
            {
                Isa.Current = isa;
                Activations.Gelu(x.AsSpan(1), false, y.AsSpan(1));
                Activations.GeluBackward(x.AsSpan(1), false, g.AsSpan(1), d.AsSpan(1));
            }
            finally
            {
                Isa.Current = saved;
            }
            return (y, d);
        }
        var (scalarY, scalarD) = Run(InstructionSet.Scalar);
        foreach (InstructionSet isa in Isa.Supported)
        {
            var (y, d) = Run(isa);
            for (int i = 1; i < x.Length; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(scalarY[i]) == BitConverter.SingleToInt32Bits(y[i]), $"{Isa.Name(isa)}: gelu({x[i]:R}) = {y[i]:R}, scalar {scalarY[i]:R}");
                Assert.True(BitConverter.SingleToInt32Bits(scalarD[i]) == BitConverter.SingleToInt32Bits(d[i]), $"{Isa.Name(isa)}: gelu'({x[i]:R}) g = {d[i]:R}, scalar {scalarD[i]:R}");
            }
        }
        // And the scalar path is the function: within 2e-6 relative of double precision.
        for (int i = 1; i < x.Length; i++)
        {
            double v = x[i], cdf = 0.5 * (1 + SpecialFunctions.Erf(v / Math.Sqrt(2)));
            Assert.True(Math.Abs(v * cdf - scalarY[i]) <= 2e-6 * Math.Abs(v * cdf) + 1e-7, $"gelu({v}) = {scalarY[i]}, reference {v * cdf}");
        }
    }
}
