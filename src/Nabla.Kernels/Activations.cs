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
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Sigmoid(x, y);

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
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Tanh(x, y);

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
        TensorPrimitives.Sigmoid(x, y);
        TensorPrimitives.Multiply(x, y, y);
    }

    /// <summary>dx = g * s * (1 + x * (1 - s)) with s = sigmoid(x).</summary>
    public static void SiluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx)
    {
        for (int i = 0; i < dx.Length; i++)
        {
            float v = x[i];
            float s = 1f / (1f + MathF.Exp(-v));
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
        for (int i = 0; i < y.Length; i++)
        {
            float v = x[i];
            y[i] = approximate
                ? 0.5f * v * (1f + MathF.Tanh(0.7978845608f * (v + 0.044715f * v * v * v)))
                : (float)(0.5 * v * (1.0 + SpecialFunctions.Erf(v * InvSqrt2)));
        }
    }

    /// <summary>The derivative of <see cref="Gelu"/> times g.</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, bool approximate, ReadOnlySpan<float> g, Span<float> dx)
    {
        for (int i = 0; i < dx.Length; i++)
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
                float cdf = (float)(0.5 * (1.0 + SpecialFunctions.Erf(v * InvSqrt2)));
                d = cdf + v * InvSqrt2Pi * MathF.Exp(-0.5f * v * v);
            }
            dx[i] = g[i] * d;
        }
    }
}
