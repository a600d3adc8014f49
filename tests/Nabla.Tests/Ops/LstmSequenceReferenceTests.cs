namespace Nabla.Tests.Ops;

/// <summary>
/// The fused LSTM sequence against the cell equations written out here (gates i, f, g, o; padded
/// steps keep both states), from non-zero initial states, with batches large enough to take the
/// packed-weight path; and each of its guards.
/// </summary>
public class LstmSequenceReferenceTests
{
    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    [Theory]
    [InlineData(2, 3, 2, false)]
    [InlineData(9, 4, 5, true)]
    [InlineData(1, 5, 3, true)]
    public void Every_steps_hidden_state_and_cell_follow_the_equations(int n, int t, int h, bool masked)
    {
        var g = new Generator(21);
        Tensor projected = Tensor.RandN([n, t, 4 * h], g), biasIh = Tensor.RandN([4 * h], g), weightHh = Tensor.RandN([4 * h, h], g) * 0.5f, biasHh = Tensor.RandN([4 * h], g);
        Tensor h0 = Tensor.RandN([n, h], g), c0 = Tensor.RandN([n, h], g);
        float[]? maskValues = masked ? Enumerable.Range(0, n * t).Select(i => (i * 7 + 3) % 4 == 0 ? 0f : 1f).ToArray() : null;
        Tensor? mask = maskValues is null ? null : Tensor.FromArray(maskValues, n, t);
        float[] y = Tensor.LstmSequence(projected, biasIh, weightHh, biasHh, h0, c0, mask).ToArray();
        float[] p = projected.ToArray(), bi = biasIh.ToArray(), w = weightHh.ToArray(), bh = biasHh.ToArray(), hv = h0.ToArray(), cv = c0.ToArray();
        for (int r = 0; r < n; r++)
        {
            double[] hs = Enumerable.Range(0, h).Select(k => (double)hv[r * h + k]).ToArray(), cs = Enumerable.Range(0, h).Select(k => (double)cv[r * h + k]).ToArray();
            for (int s = 0; s < t; s++)
            {
                if (maskValues is null || maskValues[r * t + s] != 0f)
                {
                    var z = new double[4 * h];
                    for (int q = 0; q < 4 * h; q++)
                    {
                        z[q] = p[(r * t + s) * 4 * h + q] + bi[q] + bh[q];
                        for (int k = 0; k < h; k++) z[q] += w[q * h + k] * hs[k];
                    }
                    for (int k = 0; k < h; k++)
                    {
                        double i = Sigmoid(z[k]), f = Sigmoid(z[h + k]), c = Math.Tanh(z[2 * h + k]), o = Sigmoid(z[3 * h + k]);
                        cs[k] = f * cs[k] + i * c;
                        hs[k] = o * Math.Tanh(cs[k]);
                    }
                }
                for (int k = 0; k < h; k++)
                {
                    int at = (r * t + s) * 2 * h;
                    Assert.True(Math.Abs(hs[k] - y[at + k]) < 1e-5, $"row {r} step {s} h[{k}]: {y[at + k]} vs {hs[k]}");
                    Assert.True(Math.Abs(cs[k] - y[at + h + k]) < 1e-5, $"row {r} step {s} c[{k}]: {y[at + h + k]} vs {cs[k]}");
                }
            }
        }
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Either_bias_alone_gets_its_gradient(bool inputBias, bool hiddenBias)
    {
        var g = new Generator(22);
        Tensor projected = Tensor.RandN([2, 3, 8], g), weightHh = Tensor.RandN([8, 2], g), h0 = Tensor.RandN([2, 2], g), c0 = Tensor.RandN([2, 2], g);
        Tensor bi = Tensor.RandN([8], g), bh = Tensor.RandN([8], g);
        if (inputBias) bi.RequireGrad();
        if (hiddenBias) bh.RequireGrad();
        Tensor up = Tensor.RandN([2, 3, 4], g);
        (Tensor.LstmSequence(projected, bi, weightHh, bh, h0, c0) * up).Sum().Backward();
        // The same gradient as when both biases ask for it.
        Tensor bi2 = bi.Detach().RequireGrad(), bh2 = bh.Detach().RequireGrad();
        (Tensor.LstmSequence(projected, bi2, weightHh, bh2, h0, c0) * up).Sum().Backward();
        Tensor asked = inputBias ? bi : bh;
        Assert.NotNull(asked.Grad);
        Assert.Equal(bi2.Grad!.ToArray(), asked.Grad!.ToArray());
        Assert.Null((inputBias ? bh : bi).Grad);
    }

    [Fact]
    public void Guards_name_the_bad_shape()
    {
        Tensor P(params int[] s) => Tensor.Ones(s);
        string Error(Func<Tensor> f) => Assert.Throws<ArgumentException>(() => f()).Message;
        Assert.Contains("projected inputs must be [N, T, 4H], got [2, 3, 6]", Error(() => Tensor.LstmSequence(P(2, 3, 6), P(8), P(8, 2), P(8), P(2, 2), P(2, 2))));
        Assert.Contains("projected inputs must be [N, T, 4H], got [2, 8]", Error(() => Tensor.LstmSequence(P(2, 8), P(8), P(8, 2), P(8), P(2, 2), P(2, 2))));
        Assert.Contains("weightHh must be [8, 2], got [8, 3]", Error(() => Tensor.LstmSequence(P(2, 3, 8), P(8), P(8, 3), P(8), P(2, 2), P(2, 2))));
        Assert.Contains("weightHh must be [8, 2], got [4, 2]", Error(() => Tensor.LstmSequence(P(2, 3, 8), P(8), P(4, 2), P(8), P(2, 2), P(2, 2))));
        Assert.Contains("weightHh must be [8, 2], got [8]", Error(() => Tensor.LstmSequence(P(2, 3, 8), P(8), P(8), P(8), P(2, 2), P(2, 2))));
        Assert.Contains("biases must be [8], got [4]", Error(() => Tensor.LstmSequence(P(2, 3, 8), P(4), P(8, 2), P(8), P(2, 2), P(2, 2))));
        Assert.Contains("biases must be [8], got [8, 1]", Error(() => Tensor.LstmSequence(P(2, 3, 8), P(8), P(8, 2), P(8, 1), P(2, 2), P(2, 2))));
        Assert.Contains("initial states must be [2, 2], got [3, 2]", Error(() => Tensor.LstmSequence(P(2, 3, 8), P(8), P(8, 2), P(8), P(3, 2), P(2, 2))));
        Assert.Contains("initial states must be [2, 2], got [2, 1]", Error(() => Tensor.LstmSequence(P(2, 3, 8), P(8), P(8, 2), P(8), P(2, 2), P(2, 1))));
        Assert.Contains("initial states must be [2, 2], got [4]", Error(() => Tensor.LstmSequence(P(2, 3, 8), P(8), P(8, 2), P(8), P(4), P(2, 2))));
        Assert.Contains("the sequence has no steps", Error(() => Tensor.LstmSequence(P(2, 0, 8), P(8), P(8, 2), P(8), P(2, 2), P(2, 2))));
        Assert.Contains("mask must be [2, 3], got [2, 4]", Error(() => Tensor.LstmSequence(P(2, 3, 8), P(8), P(8, 2), P(8), P(2, 2), P(2, 2), P(2, 4))));
        Assert.Contains("mask must be [2, 3], got [6]", Error(() => Tensor.LstmSequence(P(2, 3, 8), P(8), P(8, 2), P(8), P(2, 2), P(2, 2), P(6))));
        Assert.Contains("mask must be [2, 3], got [3, 3]", Error(() => Tensor.LstmSequence(P(2, 3, 8), P(8), P(8, 2), P(8), P(2, 2), P(2, 2), P(3, 3))));
        Assert.Throws<ArgumentNullException>(() => Tensor.LstmSequence(null!, P(8), P(8, 2), P(8), P(2, 2), P(2, 2)));
        Assert.Throws<ArgumentNullException>(() => Tensor.LstmSequence(P(2, 3, 8), null!, P(8, 2), P(8), P(2, 2), P(2, 2)));
        Assert.Throws<ArgumentNullException>(() => Tensor.LstmSequence(P(2, 3, 8), P(8), null!, P(8), P(2, 2), P(2, 2)));
        Assert.Throws<ArgumentNullException>(() => Tensor.LstmSequence(P(2, 3, 8), P(8), P(8, 2), null!, P(2, 2), P(2, 2)));
        Assert.Throws<ArgumentNullException>(() => Tensor.LstmSequence(P(2, 3, 8), P(8), P(8, 2), P(8), null!, P(2, 2)));
        Assert.Throws<ArgumentNullException>(() => Tensor.LstmSequence(P(2, 3, 8), P(8), P(8, 2), P(8), P(2, 2), null!));
    }
}
