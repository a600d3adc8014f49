using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

/// <summary>
/// Parameter update rules over spans, with PyTorch's formulas. The gradient passed in already
/// includes clipping; coupled weight decay (L2) is added to it here.
/// </summary>
public static class OptimizerUpdates
{
    /// <summary>
    /// SGD: g = grad + wd p; with momentum, v = m v + g (v = g on the first step) and the step
    /// uses v, or g + m v with Nesterov; p -= lr * step.
    /// </summary>
    public static void Sgd(Span<float> p, ReadOnlySpan<float> grad, Span<float> velocity, float lr, float momentum, bool nesterov, float weightDecay, bool firstStep)
    {
        for (int i = 0; i < p.Length; i++)
        {
            float g = grad[i] + weightDecay * p[i];
            if (momentum != 0f)
            {
                float v = firstStep ? g : momentum * velocity[i] + g;
                velocity[i] = v;
                g = nesterov ? g + momentum * v : v;
            }
            p[i] -= lr * g;
        }
    }

    /// <summary>
    /// Adam (decoupled = false, L2 weight decay added to the gradient) or AdamW (decoupled = true,
    /// p *= 1 - lr wd first): m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    /// p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
    /// </summary>
    public static unsafe void Adam(Span<float> p, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, float lr,
        float beta1, float beta2, float epsilon, float weightDecay, bool decoupled, int step)
    {
        int n = p.Length;
        if (grad.Length < n || m.Length < n || v.Length < n)
            throw new ArgumentException($"Adam: the gradient ({grad.Length}) and state ({m.Length}, {v.Length}) must cover the parameter's {n} values.");
        if (Threading.NumThreads > 1 && n >= ParallelLength)
        {
            fixed (float* pp = p, pg = grad, pm = m, pv = v)
            {
                AdamShared(n, (nint)pp, (nint)pg, (nint)pm, (nint)pv, lr, beta1, beta2, epsilon, weightDecay, decoupled, step);
            }
            return;
        }
        AdamRange(p, grad, m, v, lr, beta1, beta2, epsilon, weightDecay, decoupled, step);
    }

    /// <summary>
    /// A large parameter's update in blocks shared over the threads; blocks are whole vectors, so
    /// every value is computed exactly as on one thread. (Apart from <see cref="Adam"/>, so that its
    /// closure is only made here.)
    /// </summary>
    private static unsafe void AdamShared(int n, nint ap, nint ag, nint am, nint av, float lr,
        float beta1, float beta2, float epsilon, float weightDecay, bool decoupled, int step) =>
        Threading.For((n + Block - 1) / Block, Block, (b0, b1) =>
        {
            int s = b0 * Block, e = Math.Min(n, b1 * Block);
            AdamRange(new Span<float>((float*)ap + s, e - s), new ReadOnlySpan<float>((float*)ag + s, e - s),
                new Span<float>((float*)am + s, e - s), new Span<float>((float*)av + s, e - s), lr, beta1, beta2, epsilon, weightDecay, decoupled, step);
        });

    // Updates of parameters at least this long are shared over the threads, in blocks of Block values.
    private const int ParallelLength = 1 << 15, Block = 4096;

    private static void AdamRange(Span<float> p, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, float lr,
        float beta1, float beta2, float epsilon, float weightDecay, bool decoupled, int step)
    {
        float c1 = 1f - MathF.Pow(beta1, step);
        float c2 = 1f - MathF.Pow(beta2, step);
        float stepSize = lr / c1;
        float invSqrtC2 = 1f / MathF.Sqrt(c2);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vb1 = Vector256.Create(beta1);
            var vb1c = Vector256.Create(1f - beta1);
            var vb2 = Vector256.Create(beta2);
            var vb2c = Vector256.Create(1f - beta2);
            var vstep = Vector256.Create(stepSize);
            var vinv = Vector256.Create(invSqrtC2);
            var veps = Vector256.Create(epsilon);
            var vdecay = Vector256.Create(decoupled ? 1f - lr * weightDecay : 1f);
            var vl2 = Vector256.Create(decoupled ? 0f : weightDecay);
            for (; i <= p.Length - 8; i += 8)
            {
                var pv = Vector256.Create(p.Slice(i, 8));
                var g = Vector256.Create(grad.Slice(i, 8)) + vl2 * pv;
                pv *= vdecay;
                var mi = vb1 * Vector256.Create(m.Slice(i, 8)) + vb1c * g;
                var vi = vb2 * Vector256.Create(v.Slice(i, 8)) + vb2c * g * g;
                mi.CopyTo(m.Slice(i, 8));
                vi.CopyTo(v.Slice(i, 8));
                (pv - vstep * mi / (Vector256.Sqrt(vi) * vinv + veps)).CopyTo(p.Slice(i, 8));
            }
        }
        for (; i < p.Length; i++)
        {
            float g = grad[i];
            if (decoupled) p[i] *= 1f - lr * weightDecay;
            else g += weightDecay * p[i];
            float mi = beta1 * m[i] + (1f - beta1) * g;
            float vi = beta2 * v[i] + (1f - beta2) * g * g;
            m[i] = mi;
            v[i] = vi;
            p[i] -= stepSize * mi / (MathF.Sqrt(vi) * invSqrtC2 + epsilon);
        }
    }

    /// <summary>
    /// RMSProp: s = rho s + (1 - rho) g^2; with momentum, b = mu b + g / (sqrt(s) + eps) and p -= lr b;
    /// else p -= lr g / (sqrt(s) + eps).
    /// </summary>
    public static void RmsProp(Span<float> p, ReadOnlySpan<float> grad, Span<float> square, Span<float> buffer, float lr,
        float rho, float epsilon, float momentum, float weightDecay)
    {
        for (int i = 0; i < p.Length; i++)
        {
            float g = grad[i] + weightDecay * p[i];
            float s = rho * square[i] + (1f - rho) * g * g;
            square[i] = s;
            float d = g / (MathF.Sqrt(s) + epsilon);
            if (momentum != 0f)
            {
                d = momentum * buffer[i] + d;
                buffer[i] = d;
            }
            p[i] -= lr * d;
        }
    }

    /// <summary>Adagrad: s += g^2; p -= lr g / (sqrt(s) + eps).</summary>
    public static void Adagrad(Span<float> p, ReadOnlySpan<float> grad, Span<float> sum, float lr, float epsilon, float weightDecay)
    {
        for (int i = 0; i < p.Length; i++)
        {
            float g = grad[i] + weightDecay * p[i];
            float s = sum[i] + g * g;
            sum[i] = s;
            p[i] -= lr * g / (MathF.Sqrt(s) + epsilon);
        }
    }
}
