namespace Nabla.Kernels.Tests;

/// <summary>
/// The SGD, RMSProp and Adagrad update kernels and the softmax kernel against their formulas in
/// double precision, with every setting away from its neutral value, over lengths that reach the
/// vector loops and their tails, and rows (inner = 1) as well as strided columns (inner &gt; 1).
/// </summary>
public class UpdateAndSoftmaxReferenceTests
{
    private static float[] Random(int n, int seed, float scale = 1f)
    {
        var r = new System.Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() - 0.5) * 2 * scale).ToArray();
    }

    private static void Close(double expected, float actual, string what, double tolerance = 1e-5)
    {
        Assert.True(Math.Abs(expected - actual) <= tolerance * (1 + Math.Abs(expected)), $"{what}: reference {expected}, kernel {actual}");
    }

    [Theory]
    [InlineData(0f, false, 0f, true)]
    [InlineData(0f, false, 0.1f, false)]
    [InlineData(0.9f, false, 0.1f, true)]
    [InlineData(0.9f, false, 0.1f, false)]
    [InlineData(0.7f, true, 0.05f, false)]
    [InlineData(0.7f, true, 0.05f, true)]
    public void Sgd_follows_pytorch(float momentum, bool nesterov, float weightDecay, bool firstStep)
    {
        const int n = 21;
        const float lr = 0.05f;
        float[] p = Random(n, 1), g = Random(n, 2), velocity = Random(n, 3);
        float[] p0 = (float[])p.Clone(), v0 = (float[])velocity.Clone();
        OptimizerUpdates.Sgd(p, g, momentum == 0f ? default : velocity, lr, momentum, nesterov, weightDecay, firstStep);
        for (int i = 0; i < n; i++)
        {
            double d = g[i] + weightDecay * (double)p0[i];
            if (momentum != 0f)
            {
                double v = firstStep ? d : momentum * v0[i] + d;
                Close(v, velocity[i], $"velocity {i}");
                d = nesterov ? d + momentum * v : v;
            }
            else
            {
                Assert.Equal(v0[i], velocity[i]);
            }
            Close(p0[i] - lr * d, p[i], $"parameter {i}");
        }
    }

    [Theory]
    [InlineData(0f, 0f, 1e-7f)]
    [InlineData(0.6f, 0.1f, 0.2f)]
    public void RmsProp_follows_pytorch(float momentum, float weightDecay, float epsilon)
    {
        const int n = 19;
        const float lr = 0.02f, rho = 0.8f;
        float[] p = Random(n, 4), g = Random(n, 5), square = Random(n, 6).Select(Math.Abs).ToArray(), buffer = Random(n, 7);
        float[] p0 = (float[])p.Clone(), s0 = (float[])square.Clone(), b0 = (float[])buffer.Clone();
        OptimizerUpdates.RmsProp(p, g, square, buffer, lr, rho, epsilon, momentum, weightDecay);
        for (int i = 0; i < n; i++)
        {
            double d = g[i] + weightDecay * (double)p0[i];
            double s = rho * s0[i] + (1 - rho) * d * d;
            Close(s, square[i], $"square {i}");
            double step = d / (Math.Sqrt(s) + epsilon);
            if (momentum != 0f)
            {
                step = momentum * b0[i] + step;
                Close(step, buffer[i], $"buffer {i}");
            }
            else
            {
                Assert.Equal(b0[i], buffer[i]);
            }
            Close(p0[i] - lr * step, p[i], $"parameter {i}");
        }
    }

    [Theory]
    [InlineData(0f, 1e-10f)]
    [InlineData(0.2f, 0.3f)]
    public void Adagrad_follows_pytorch(float weightDecay, float epsilon)
    {
        const int n = 19;
        const float lr = 0.1f;
        float[] p = Random(n, 8), g = Random(n, 9), sum = Random(n, 10).Select(Math.Abs).ToArray();
        float[] p0 = (float[])p.Clone(), s0 = (float[])sum.Clone();
        OptimizerUpdates.Adagrad(p, g, sum, lr, epsilon, weightDecay);
        for (int i = 0; i < n; i++)
        {
            double d = g[i] + weightDecay * (double)p0[i];
            double s = s0[i] + d * d;
            Close(s, sum[i], $"sum {i}");
            Close(p0[i] - lr * d / (Math.Sqrt(s) + epsilon), p[i], $"parameter {i}");
        }
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(4, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public void Adam_with_a_large_epsilon_and_uneven_betas_follows_the_formula(int step, bool decoupled)
    {
        const int n = 27;
        const float lr = 0.03f, b1 = 0.7f, b2 = 0.9f, eps = 0.05f, wd = 0.2f;
        float[] p = Random(n, 11), g = Random(n, 12), m = Random(n, 13, 0.1f), v = Random(n, 14, 0.1f).Select(Math.Abs).ToArray();
        float[] p0 = (float[])p.Clone(), m0 = (float[])m.Clone(), v0 = (float[])v.Clone();
        OptimizerUpdates.Adam(p, g, m, v, lr, b1, b2, eps, wd, decoupled, step);
        for (int i = 0; i < n; i++)
        {
            double pi = p0[i], gi = g[i];
            if (decoupled) pi *= 1 - lr * wd; else gi += wd * pi;
            double mi = b1 * m0[i] + (1 - b1) * gi, vi = b2 * v0[i] + (1 - b2) * gi * gi;
            Close(mi, m[i], $"m {i}");
            Close(vi, v[i], $"v {i}");
            Close(pi - lr * (mi / (1 - Math.Pow(b1, step))) / (Math.Sqrt(vi / (1 - Math.Pow(b2, step))) + eps), p[i], $"parameter {i}");
        }
        var error = Assert.Throws<ArgumentException>(() => OptimizerUpdates.Adam(new float[8], new float[7], new float[8], new float[8], lr, b1, b2, eps, wd, decoupled, 1));
        Assert.Contains("Adam: the gradient (7) and state (8, 8) must cover the parameter's 8 values", error.Message);
        Assert.Throws<ArgumentException>(() => OptimizerUpdates.Adam(new float[8], new float[8], new float[8], new float[5], lr, b1, b2, eps, wd, decoupled, 1));
    }

    [Theory]
    [InlineData(3, 7, 1)]
    [InlineData(2, 17, 1)]
    [InlineData(2, 5, 3)]
    [InlineData(1, 1, 4)]
    [InlineData(4, 1, 1)]
    public void Softmax_kernel_follows_the_definition_along_rows_and_strided_columns(int outer, int n, int inner)
    {
        // Large values: without the maximum subtracted, exp overflows.
        float[] x = Random(outer * n * inner, outer * 100 + n * 10 + inner, 40f);
        var y = new float[x.Length];
        var logY = new float[x.Length];
        Softmax.Forward(x, outer, n, inner, y);
        Softmax.LogForward(x, outer, n, inner, logY);
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < inner; j++)
            {
                int At(int i) => (o * n + i) * inner + j;
                double max = Enumerable.Range(0, n).Max(i => (double)x[At(i)]);
                double sum = Enumerable.Range(0, n).Sum(i => Math.Exp(x[At(i)] - max));
                for (int i = 0; i < n; i++)
                {
                    Close(Math.Exp(x[At(i)] - max) / sum, y[At(i)], $"softmax [{o}, {i}, {j}]");
                    Close(x[At(i)] - max - Math.Log(sum), logY[At(i)], $"log-softmax [{o}, {i}, {j}]");
                }
            }
        }
    }

    [Fact]
    public void Softmax_kernel_handles_empty_axes_and_infinite_logits()
    {
        var untouched = new float[] { 7f, 7f };
        Softmax.Forward([], 2, 0, 1, untouched);
        Assert.Equal([7f, 7f], untouched);
        // -inf logits (masked positions) get probability 0 and log-probability -inf; the rest share the mass.
        float[] x = [float.NegativeInfinity, 0f, 0f, float.NegativeInfinity];
        foreach (int inner in new[] { 1, 2 })
        {
            int n = inner == 1 ? 4 : 2;
            var y = new float[4];
            var logY = new float[4];
            Softmax.Forward(x, 1, n, inner, y);
            Softmax.LogForward(x, 1, n, inner, logY);
            Assert.Equal(inner == 1 ? [0f, 0.5f, 0.5f, 0f] : [0f, 1f, 1f, 0f], y);
            Assert.True(float.IsNegativeInfinity(logY[0]) && float.IsNegativeInfinity(logY[3]));
        }
    }
}
