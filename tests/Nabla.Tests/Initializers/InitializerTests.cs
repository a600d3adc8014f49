using Nabla.Initializers;

namespace Nabla.Tests.Initializers;

public class InitializerTests
{
    private static (double Mean, double Var, float Min, float Max) Stats(Tensor t)
    {
        float[] v = t.ToArray();
        double mean = v.Average(x => (double)x);
        double var = v.Average(x => (x - mean) * (x - mean));
        return (mean, var, v.Min(), v.Max());
    }

    [Theory]
    // [out, in] = [200, 300]: fanIn 300, fanOut 200.
    [InlineData("glorot_uniform", 2.0 / 500)]
    [InlineData("glorot_normal", 2.0 / 500)]
    [InlineData("xavier_uniform", 2.0 / 500)]
    [InlineData("he_uniform", 2.0 / 300)]
    [InlineData("he_normal", 2.0 / 300)]
    [InlineData("lecun_uniform", 1.0 / 300)]
    [InlineData("lecun_normal", 1.0 / 300)]
    public void Variance_scaling_initializers_have_the_documented_variance(string name, double variance)
    {
        Tensor w = Initializer.Get(name).Create([200, 300], new Generator(1));
        var (mean, var, min, max) = Stats(w);
        Assert.InRange(mean, -0.01 * Math.Sqrt(variance) * 10, 0.01 * Math.Sqrt(variance) * 10);
        Assert.InRange(var, variance * 0.95, variance * 1.05);
        if (name.EndsWith("uniform"))
        {
            // Uniform in +-sqrt(3 var).
            Assert.InRange(max, 0.99 * Math.Sqrt(3 * variance), Math.Sqrt(3 * variance));
            Assert.InRange(min, -Math.Sqrt(3 * variance), -0.99 * Math.Sqrt(3 * variance));
        }
        else
        {
            // Truncated at two standard deviations of the untruncated normal.
            double limit = 2 * Math.Sqrt(variance) / 0.87962566103423978;
            Assert.True(max <= limit && min >= -limit);
        }
    }

    [Fact]
    public void Fans_follow_pytorch_layouts()
    {
        Assert.Equal((3, 5), Initializer.Fans([5, 3]));
        Assert.Equal((3 * 9, 16 * 9), Initializer.Fans([16, 3, 3, 3]));
        Assert.Equal((7, 7), Initializer.Fans([7]));
    }

    [Theory]
    [InlineData(4, 6)]
    [InlineData(6, 4)]
    [InlineData(5, 5)]
    public void Orthogonal_gives_orthonormal_rows_or_columns(int rows, int cols)
    {
        Tensor w = new Orthogonal(gain: 2f).Create([rows, cols], new Generator(3));
        Tensor gram = rows <= cols ? w.MatMul(w.T) : w.T.MatMul(w);
        int k = Math.Min(rows, cols);
        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < k; j++) Assert.Equal(i == j ? 4f : 0f, gram[i, j], 4);
        }
    }

    [Fact]
    public void Constants_and_lookups()
    {
        Assert.All(new Constant(0.3f).Create([2, 2], new Generator(1)).ToArray(), v => Assert.Equal(0.3f, v));
        Assert.All(Initializer.Get("ones").Create([3], new Generator(1)).ToArray(), v => Assert.Equal(1f, v));
        Assert.All(Initializer.Get("zeros").Create([3], new Generator(1)).ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal(Initializer.Get("he_normal").Create([4, 4], new Generator(9)).ToArray(), new HeNormal().Create([4, 4], new Generator(9)).ToArray());
        Assert.Contains("glorot_uniform", Assert.Throws<ArgumentException>(() => Initializer.Get("kaiming")).Message);
    }
}
