namespace Nabla.Kernels.Tests;

public class OptimizerUpdateTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Adam_vector_path_matches_the_formula_for_every_length(bool decoupled)
    {
        for (int n = 0; n <= 40; n++)
        {
            var r = new System.Random(n);
            float[] p = Enumerable.Range(0, n).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
            float[] g = Enumerable.Range(0, n).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
            float[] m = Enumerable.Range(0, n).Select(_ => (float)r.NextDouble() * 0.1f).ToArray();
            float[] v = Enumerable.Range(0, n).Select(_ => (float)r.NextDouble() * 0.01f).ToArray();
            float[] p0 = (float[])p.Clone(), m0 = (float[])m.Clone(), v0 = (float[])v.Clone();
            const float lr = 0.01f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.1f;
            const int step = 3;
            OptimizerUpdates.Adam(p, g, m, v, lr, b1, b2, eps, wd, decoupled, step);
            for (int i = 0; i < n; i++)
            {
                double pi = p0[i], gi = g[i];
                if (decoupled) pi *= 1 - lr * wd; else gi += wd * pi;
                double mi = b1 * m0[i] + (1 - b1) * gi, vi = b2 * v0[i] + (1 - b2) * gi * gi;
                double expected = pi - lr * (mi / (1 - Math.Pow(b1, step))) / (Math.Sqrt(vi / (1 - Math.Pow(b2, step))) + eps);
                Assert.True(Math.Abs(expected - p[i]) < 1e-6, $"n={n} i={i}: {p[i]} vs {expected}");
                Assert.True(Math.Abs(mi - m[i]) < 1e-6 && Math.Abs(vi - v[i]) < 1e-7, $"n={n} i={i}: moments");
            }
        }
    }
}

public class OptimizerUpdateThreadTests
{
    [Fact]
    public void A_large_adam_update_is_the_same_on_one_thread_and_on_several()
    {
        // Long enough to be shared over the threads, and not a whole number of blocks or vectors.
        const int n = 100_003;
        var r = new System.Random(9);
        float[] g = Enumerable.Range(0, n).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
        float[] p0 = Enumerable.Range(0, n).Select(_ => (float)r.NextDouble() - 0.5f).ToArray();
        float[]? first = null;
        int saved = Threading.NumThreads;
        try
        {
            foreach (int threads in new[] { 1, 2, 3 })
            {
                Threading.NumThreads = threads;
                float[] p = (float[])p0.Clone(), m = new float[n], v = new float[n];
                for (int step = 1; step <= 3; step++) OptimizerUpdates.Adam(p, g, m, v, 0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, true, step);
                if (first is null)
                {
                    first = p;
                    Assert.NotEqual(p0, p);
                }
                else
                {
                    Assert.Equal(first, p);
                }
            }
        }
        finally
        {
            Threading.NumThreads = saved;
        }
        Assert.Throws<ArgumentException>(() => OptimizerUpdates.Adam(new float[8], new float[8], new float[4], new float[8], 0.01f, 0.9f, 0.999f, 1e-8f, 0f, false, 1));
    }
}

public class ActivationBackwardLengthTests
{
    [Fact]
    public void Vectorised_backward_kernels_match_the_formulas_for_every_length()
    {
        for (int n = 0; n <= 40; n++)
        {
            var r = new System.Random(n);
            float[] x = Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 4 - 2)).ToArray();
            float[] g = Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
            var dx = new float[n];
            Activations.ReluBackward(x, g, dx);
            for (int i = 0; i < n; i++) Assert.Equal(x[i] > 0 ? g[i] : 0f, dx[i]);
            float[] s = x.Select(v => 1f / (1f + MathF.Exp(-v))).ToArray();
            Activations.SigmoidBackward(s, g, dx);
            for (int i = 0; i < n; i++) Assert.Equal(g[i] * s[i] * (1 - s[i]), dx[i], 6);
            float[] t = x.Select(MathF.Tanh).ToArray();
            Activations.TanhBackward(t, g, dx);
            for (int i = 0; i < n; i++) Assert.Equal(g[i] * (1 - t[i] * t[i]), dx[i], 6);
        }
    }
}
