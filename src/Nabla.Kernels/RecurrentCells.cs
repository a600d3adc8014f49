namespace Nabla.Kernels;

/// <summary>
/// Fused recurrent cells: one pass over the gate values forward and one backward, instead of a
/// dozen elementwise ops each writing a tensor.
/// </summary>
public static class RecurrentCells
{
    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>
    /// LSTM cell with PyTorch's gate order: <paramref name="gates"/> [n, 4h] pre-activations
    /// (i, f, g, o), <paramref name="c"/> [n, h] the previous cell. Writes [n, 2h] = (h', c') to
    /// <paramref name="hc"/>, and to <paramref name="saved"/> [n, 5h] the activated gates and
    /// tanh(c') for the backward pass.
    /// </summary>
    public static void LstmForward(ReadOnlySpan<float> gates, ReadOnlySpan<float> c, int n, int h, Span<float> hc, Span<float> saved)
    {
        for (int b = 0; b < n; b++)
        {
            ReadOnlySpan<float> g = gates.Slice(b * 4 * h, 4 * h);
            ReadOnlySpan<float> cPrev = c.Slice(b * h, h);
            Span<float> outH = hc.Slice(b * 2 * h, h), outC = hc.Slice(b * 2 * h + h, h);
            Span<float> s = saved.Slice(b * 5 * h, 5 * h);
            for (int j = 0; j < h; j++)
            {
                float i = Sigmoid(g[j]), f = Sigmoid(g[h + j]), gg = MathF.Tanh(g[2 * h + j]), o = Sigmoid(g[3 * h + j]);
                float cNew = f * cPrev[j] + i * gg;
                float tc = MathF.Tanh(cNew);
                outC[j] = cNew;
                outH[j] = o * tc;
                s[j] = i; s[h + j] = f; s[2 * h + j] = gg; s[3 * h + j] = o; s[4 * h + j] = tc;
            }
        }
    }

    /// <summary>
    /// The adjoint of <see cref="LstmForward"/>: from the gradient <paramref name="dhc"/> [n, 2h] of
    /// (h', c'), writes the gradient of the gate pre-activations to <paramref name="dGates"/> [n, 4h]
    /// and of the previous cell to <paramref name="dc"/> [n, h].
    /// </summary>
    public static void LstmBackward(ReadOnlySpan<float> saved, ReadOnlySpan<float> c, ReadOnlySpan<float> dhc, int n, int h, Span<float> dGates, Span<float> dc)
    {
        for (int b = 0; b < n; b++)
        {
            ReadOnlySpan<float> s = saved.Slice(b * 5 * h, 5 * h);
            ReadOnlySpan<float> cPrev = c.Slice(b * h, h);
            ReadOnlySpan<float> dh = dhc.Slice(b * 2 * h, h), dcNext = dhc.Slice(b * 2 * h + h, h);
            Span<float> dg = dGates.Slice(b * 4 * h, 4 * h);
            Span<float> dcPrev = dc.Slice(b * h, h);
            for (int j = 0; j < h; j++)
            {
                float i = s[j], f = s[h + j], gg = s[2 * h + j], o = s[3 * h + j], tc = s[4 * h + j];
                float dcTotal = dcNext[j] + dh[j] * o * (1f - tc * tc);
                dg[j] = dcTotal * gg * i * (1f - i);
                dg[h + j] = dcTotal * cPrev[j] * f * (1f - f);
                dg[2 * h + j] = dcTotal * i * (1f - gg * gg);
                dg[3 * h + j] = dh[j] * tc * o * (1f - o);
                dcPrev[j] = dcTotal * f;
            }
        }
    }
}
