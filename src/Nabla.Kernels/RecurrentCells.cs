using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

/// <summary>
/// Fused recurrent cells: one pass over the gate values forward and one backward, instead of a
/// dozen elementwise ops each writing a tensor.
/// </summary>
public static class RecurrentCells
{
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
            Span<float> s = saved.Slice(b * 5 * h, 5 * h);
            // Activated gates, vectorised: sigmoid for i and f, tanh for g, sigmoid for o.
            FastMath.Sigmoid(g[..(2 * h)], s[..(2 * h)]);
            FastMath.Tanh(g.Slice(2 * h, h), s.Slice(2 * h, h));
            FastMath.Sigmoid(g.Slice(3 * h, h), s.Slice(3 * h, h));
            Span<float> outH = hc.Slice(b * 2 * h, h), outC = hc.Slice(b * 2 * h + h, h);
            // c' = f c + i g; h' = o tanh(c').
            TensorPrimitives.Multiply(s[..h], s.Slice(2 * h, h), outC);
            TensorPrimitives.MultiplyAdd(s.Slice(h, h), c.Slice(b * h, h), outC, outC);
            FastMath.Tanh(outC, s.Slice(4 * h, h));
            TensorPrimitives.Multiply(s.Slice(3 * h, h), s.Slice(4 * h, h), outH);
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
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var one = Vector256<float>.One;
                for (; j + 8 <= h; j += 8)
                {
                    var i = Vector256.Create(s.Slice(j, 8));
                    var f = Vector256.Create(s.Slice(h + j, 8));
                    var gg = Vector256.Create(s.Slice(2 * h + j, 8));
                    var o = Vector256.Create(s.Slice(3 * h + j, 8));
                    var tc = Vector256.Create(s.Slice(4 * h + j, 8));
                    var dhj = Vector256.Create(dh.Slice(j, 8));
                    var dcTotal = Vector256.Create(dcNext.Slice(j, 8)) + dhj * o * (one - tc * tc);
                    (dcTotal * gg * i * (one - i)).CopyTo(dg.Slice(j, 8));
                    (dcTotal * Vector256.Create(cPrev.Slice(j, 8)) * f * (one - f)).CopyTo(dg.Slice(h + j, 8));
                    (dcTotal * i * (one - gg * gg)).CopyTo(dg.Slice(2 * h + j, 8));
                    (dhj * tc * o * (one - o)).CopyTo(dg.Slice(3 * h + j, 8));
                    (dcTotal * f).CopyTo(dcPrev.Slice(j, 8));
                }
            }
            for (; j < h; j++)
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

    /// <summary>
    /// One row of a GRU step (PyTorch's gates r, z, n, the reset gate applied to the hidden
    /// product): from the input projection <paramref name="xp"/> [3h] without its bias
    /// <paramref name="bih"/>, the hidden projection <paramref name="hp"/> [3h] without its bias
    /// <paramref name="bhh"/>, and the previous state, writes h' to <paramref name="hOut"/> and
    /// (r, z, n, h W_hn^T + b_hn) to <paramref name="saved"/> [4h] for the backward pass.
    /// </summary>
    public static void GruForward(ReadOnlySpan<float> xp, ReadOnlySpan<float> bih, ReadOnlySpan<float> hp, ReadOnlySpan<float> bhh,
        ReadOnlySpan<float> hPrev, int h, Span<float> hOut, Span<float> saved)
    {
        Span<float> rz = saved[..(2 * h)], n = saved.Slice(2 * h, h), hpn = saved.Slice(3 * h, h);
        // r and z: sigmoid of both projections and both biases.
        TensorPrimitives.Add(xp[..(2 * h)], bih[..(2 * h)], rz);
        TensorPrimitives.Add(rz, hp[..(2 * h)], rz);
        TensorPrimitives.Add(rz, bhh[..(2 * h)], rz);
        FastMath.Sigmoid(rz, rz);
        // n = tanh(x_n + b_in + r (h W_hn^T + b_hn)).
        TensorPrimitives.Add(hp.Slice(2 * h, h), bhh.Slice(2 * h, h), hpn);
        TensorPrimitives.Multiply(rz[..h], hpn, n);
        TensorPrimitives.Add(n, xp.Slice(2 * h, h), n);
        TensorPrimitives.Add(n, bih.Slice(2 * h, h), n);
        FastMath.Tanh(n, n);
        // h' = (1 - z) n + z h = n + z (h - n).
        TensorPrimitives.Subtract(hPrev, n, hOut);
        TensorPrimitives.Multiply(hOut, rz.Slice(h, h), hOut);
        TensorPrimitives.Add(hOut, n, hOut);
    }

    /// <summary>
    /// The adjoint of <see cref="GruForward"/> for one row: from the gradient <paramref name="dh"/>
    /// of h', writes the gradients of the input projection (and its bias) to <paramref name="dXp"/>
    /// [3h], of the hidden projection (and its bias) to <paramref name="dHp"/> [3h], and the part of
    /// the previous state's gradient that does not go through W_hh to <paramref name="dhPrev"/>.
    /// </summary>
    public static void GruBackward(ReadOnlySpan<float> saved, ReadOnlySpan<float> hPrev, ReadOnlySpan<float> dh, int h,
        Span<float> dXp, Span<float> dHp, Span<float> dhPrev)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // Eight units at a time, each value computed in the same order as the scalar loop.
            var one = Vector256<float>.One;
            for (; j + 8 <= h; j += 8)
            {
                var r = Vector256.Create(saved.Slice(j, 8));
                var z = Vector256.Create(saved.Slice(h + j, 8));
                var n = Vector256.Create(saved.Slice(2 * h + j, 8));
                var hpn = Vector256.Create(saved.Slice(3 * h + j, 8));
                var g = Vector256.Create(dh.Slice(j, 8));
                var dnPre = g * (one - z) * (one - n * n);
                var dzPre = g * (Vector256.Create(hPrev.Slice(j, 8)) - n) * z * (one - z);
                var drPre = dnPre * hpn * r * (one - r);
                drPre.CopyTo(dXp.Slice(j, 8));
                dzPre.CopyTo(dXp.Slice(h + j, 8));
                dnPre.CopyTo(dXp.Slice(2 * h + j, 8));
                drPre.CopyTo(dHp.Slice(j, 8));
                dzPre.CopyTo(dHp.Slice(h + j, 8));
                (dnPre * r).CopyTo(dHp.Slice(2 * h + j, 8));
                (g * z).CopyTo(dhPrev.Slice(j, 8));
            }
        }
        for (; j < h; j++)
        {
            float r = saved[j], z = saved[h + j], n = saved[2 * h + j], hpn = saved[3 * h + j], g = dh[j];
            float dnPre = g * (1f - z) * (1f - n * n);
            float dzPre = g * (hPrev[j] - n) * z * (1f - z);
            float drPre = dnPre * hpn * r * (1f - r);
            dXp[j] = drPre;
            dXp[h + j] = dzPre;
            dXp[2 * h + j] = dnPre;
            dHp[j] = drPre;
            dHp[h + j] = dzPre;
            dHp[2 * h + j] = dnPre * r;
            dhPrev[j] = g * z;
        }
    }
}
