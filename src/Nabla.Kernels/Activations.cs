using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

/// <summary>
/// Activation functions over contiguous spans: each forward beside its backward, which
/// takes the upstream gradient <c>g</c> and whatever the rule reads (input x or output y)
/// and writes the input gradient <c>dx</c>.
/// </summary>
public static class Activations
{
    private const float InvSqrt2 = 0.70710678118654752f;
    private const float InvSqrt2Pi = 0.39894228040143268f;

    /// <summary>y = max(x, 0).</summary>
    public static void Relu(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Max(x, 0f, y);

    /// <summary>dx = g where x &gt; 0, else 0.</summary>
    public static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= dx.Length - 8; i += 8)
            {
                var mask = Vector256.GreaterThan(Vector256.Create(x.Slice(i, 8)), Vector256<float>.Zero);
                Vector256.ConditionalSelect(mask, Vector256.Create(g.Slice(i, 8)), Vector256<float>.Zero).CopyTo(dx.Slice(i, 8));
            }
        }
        for (; i < dx.Length; i++) dx[i] = x[i] > 0f ? g[i] : 0f;
    }

    /// <summary>y = x for x &gt; 0, else slope * x.</summary>
    public static void LeakyRelu(ReadOnlySpan<float> x, float slope, Span<float> y)
    {
        for (int i = 0; i < y.Length; i++) { float v = x[i]; y[i] = v > 0f ? v : slope * v; }
    }

    /// <summary>dx = g for x &gt; 0, else slope * g.</summary>
    public static void LeakyReluBackward(ReadOnlySpan<float> x, float slope, ReadOnlySpan<float> g, Span<float> dx)
    {
        for (int i = 0; i < dx.Length; i++) dx[i] = x[i] > 0f ? g[i] : slope * g[i];
    }

    /// <summary>y = x for x &gt; 0, else alpha * (exp(x) - 1).</summary>
    public static void Elu(ReadOnlySpan<float> x, float alpha, Span<float> y)
    {
        for (int i = 0; i < y.Length; i++) { float v = x[i]; y[i] = v > 0f ? v : alpha * (MathF.Exp(v) - 1f); }
    }

    /// <summary>dx = g for x &gt; 0, else g * (y + alpha), reading the forward output y.</summary>
    public static void EluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, float alpha, ReadOnlySpan<float> g, Span<float> dx)
    {
        for (int i = 0; i < dx.Length; i++) dx[i] = x[i] > 0f ? g[i] : g[i] * (y[i] + alpha);
    }

    /// <summary>y = 1 / (1 + exp(-x)).</summary>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y) => FastMath.Sigmoid(x, y);

    /// <summary>dx = g * y * (1 - y), reading the forward output y.</summary>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> dx)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= dx.Length - 8; i += 8)
            {
                var s = Vector256.Create(y.Slice(i, 8));
                (Vector256.Create(g.Slice(i, 8)) * s * (Vector256<float>.One - s)).CopyTo(dx.Slice(i, 8));
            }
        }
        for (; i < dx.Length; i++) { float s = y[i]; dx[i] = g[i] * s * (1f - s); }
    }

    /// <summary>y = tanh(x).</summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => FastMath.Tanh(x, y);

    /// <summary>dx = g * (1 - y^2), reading the forward output y.</summary>
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> dx)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= dx.Length - 8; i += 8)
            {
                var t = Vector256.Create(y.Slice(i, 8));
                (Vector256.Create(g.Slice(i, 8)) * (Vector256<float>.One - t * t)).CopyTo(dx.Slice(i, 8));
            }
        }
        for (; i < dx.Length; i++) { float t = y[i]; dx[i] = g[i] * (1f - t * t); }
    }

    /// <summary>y = x * sigmoid(x) (SiLU, also called swish).</summary>
    public static void Silu(ReadOnlySpan<float> x, Span<float> y)
    {
        FastMath.Sigmoid(x, y);
        TensorPrimitives.Multiply(x, y, y);
    }

    /// <summary>dx = g * s * (1 + x * (1 - s)) with s = sigmoid(x).</summary>
    public static void SiluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= dx.Length - 8; i += 8)
            {
                Vector256<float> v = Vector256.Create(x.Slice(i, 8)), s = FastMath.Sigmoid(v);
                (Vector256.Create(g.Slice(i, 8)) * s * (Vector256<float>.One + v * (Vector256<float>.One - s))).CopyTo(dx.Slice(i, 8));
            }
        }
        for (; i < dx.Length; i++)
        {
            float v = x[i];
            float s = FastMath.Sigmoid(v);
            dx[i] = g[i] * s * (1f + v * (1f - s));
        }
    }

    /// <summary>
    /// y = log(1 + exp(beta * x)) / beta, computed stably; where beta * x exceeds
    /// <paramref name="threshold"/> it returns x, as PyTorch does.
    /// </summary>
    public static void Softplus(ReadOnlySpan<float> x, float beta, float threshold, Span<float> y)
    {
        for (int i = 0; i < y.Length; i++)
        {
            float z = beta * x[i];
            y[i] = z > threshold ? x[i] : (MathF.Max(z, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(z)))) / beta;
        }
    }

    /// <summary>dx = g * sigmoid(beta * x), or g where beta * x exceeds the threshold.</summary>
    public static void SoftplusBackward(ReadOnlySpan<float> x, float beta, float threshold, ReadOnlySpan<float> g, Span<float> dx)
    {
        for (int i = 0; i < dx.Length; i++)
        {
            float z = beta * x[i];
            dx[i] = z > threshold ? g[i] : g[i] / (1f + MathF.Exp(-z));
        }
    }

    /// <summary>
    /// GELU. Exact form: y = x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)). With
    /// <paramref name="approximate"/>: the tanh form 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    /// </summary>
    public static void Gelu(ReadOnlySpan<float> x, bool approximate, Span<float> y)
    {
        int i = 0;
        InstructionSet isa = Isa.Current;
        if (!approximate && isa == InstructionSet.Avx512)
        {
            // 1.7x the 256-bit path on Zen 4 (one 512-bit division and exponential do the work of two); the same bits.
            for (; i + 16 <= y.Length; i += 16)
            {
                Vector512<float> v = Vector512.Create(x.Slice(i, 16));
                (v * NormalCdf(v)).CopyTo(y.Slice(i, 16));
            }
        }
        if (!approximate && isa >= InstructionSet.Avx2)
        {
            for (; i + Vector256<float>.Count <= y.Length; i += Vector256<float>.Count)
            {
                Vector256<float> v = Vector256.Create(x.Slice(i, Vector256<float>.Count));
                (v * NormalCdf(v)).CopyTo(y.Slice(i, Vector256<float>.Count));
            }
        }
        for (; i < y.Length; i++)
        {
            float v = x[i];
            y[i] = approximate
                ? 0.5f * v * (1f + MathF.Tanh(0.7978845608f * (v + 0.044715f * v * v * v)))
                : v * NormalCdf(v);
        }
    }

    // Phi(x) = 0.5 erfc(-x / sqrt 2), with erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z / 2) for z >= 0
    // (the Chebyshev-fitted form of SpecialFunctions.Erf, fractional error below 1.2e-7): computed
    // from erfc directly on both sides, so the small tail for negative x keeps its precision.
    private static float ErfcPolynomial(float t) =>
        -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f + t * (0.27886807f
            + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));

    private static float NormalCdf(float x)
    {
        float z = MathF.Abs(x) * InvSqrt2;
        float t = 1f / (1f + 0.5f * z);
        float half = 0.5f * t * FastMath.Exp(-z * z + ErfcPolynomial(t));
        return x >= 0 ? 1f - half : half;
    }

    private static Vector512<float> NormalCdf(Vector512<float> x)
    {
        Vector512<float> z = Vector512.Abs(x) * InvSqrt2;
        Vector512<float> t = Vector512<float>.One / (Vector512<float>.One + 0.5f * z);
        Vector512<float> p = Vector512.Create(-0.82215223f) + t * 0.17087277f;
        p = Vector512.Create(1.48851587f) + t * p;
        p = Vector512.Create(-1.13520398f) + t * p;
        p = Vector512.Create(0.27886807f) + t * p;
        p = Vector512.Create(-0.18628806f) + t * p;
        p = Vector512.Create(0.09678418f) + t * p;
        p = Vector512.Create(0.37409196f) + t * p;
        p = Vector512.Create(1.00002368f) + t * p;
        p = Vector512.Create(-1.26551223f) + t * p;
        Vector512<float> half = 0.5f * t * FastMath.Exp(p - z * z);
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero), Vector512<float>.One - half, half);
    }

    private static Vector256<float> NormalCdf(Vector256<float> x)
    {
        Vector256<float> z = Vector256.Abs(x) * InvSqrt2;
        Vector256<float> t = Vector256<float>.One / (Vector256<float>.One + 0.5f * z);
        Vector256<float> p = Vector256.Create(-0.82215223f) + t * 0.17087277f;
        p = Vector256.Create(1.48851587f) + t * p;
        p = Vector256.Create(-1.13520398f) + t * p;
        p = Vector256.Create(0.27886807f) + t * p;
        p = Vector256.Create(-0.18628806f) + t * p;
        p = Vector256.Create(0.09678418f) + t * p;
        p = Vector256.Create(0.37409196f) + t * p;
        p = Vector256.Create(1.00002368f) + t * p;
        p = Vector256.Create(-1.26551223f) + t * p;
        Vector256<float> half = 0.5f * t * FastMath.Exp(p - z * z);
        return Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), Vector256<float>.One - half, half);
    }

    /// <summary>The derivative of <see cref="Gelu"/> times g.</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, bool approximate, ReadOnlySpan<float> g, Span<float> dx)
    {
        int i = 0;
        InstructionSet isa = Isa.Current;
        if (!approximate && isa == InstructionSet.Avx512)
        {
            for (; i + 16 <= dx.Length; i += 16)
            {
                Vector512<float> v = Vector512.Create(x.Slice(i, 16));
                Vector512<float> d = NormalCdf(v) + v * InvSqrt2Pi * FastMath.Exp(-0.5f * v * v);
                (Vector512.Create(g.Slice(i, 16)) * d).CopyTo(dx.Slice(i, 16));
            }
        }
        if (!approximate && isa >= InstructionSet.Avx2)
        {
            for (; i + Vector256<float>.Count <= dx.Length; i += Vector256<float>.Count)
            {
                Vector256<float> v = Vector256.Create(x.Slice(i, Vector256<float>.Count));
                Vector256<float> d = NormalCdf(v) + v * InvSqrt2Pi * FastMath.Exp(-0.5f * v * v);
                (Vector256.Create(g.Slice(i, Vector256<float>.Count)) * d).CopyTo(dx.Slice(i, Vector256<float>.Count));
            }
        }
        for (; i < dx.Length; i++)
        {
            float v = x[i];
            float d;
            if (approximate)
            {
                float inner = 0.7978845608f * (v + 0.044715f * v * v * v);
                float t = MathF.Tanh(inner);
                float dInner = 0.7978845608f * (1f + 3f * 0.044715f * v * v);
                d = 0.5f * (1f + t) + 0.5f * v * (1f - t * t) * dInner;
            }
            else
            {
                d = NormalCdf(v) + v * InvSqrt2Pi * FastMath.Exp(-0.5f * v * v);
            }
            dx[i] = g[i] * d;
        }
    }
}
