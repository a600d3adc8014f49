using System.Numerics.Tensors;

namespace Nabla.Kernels;

/// <summary>
/// Softmax and log-softmax along one axis of a contiguous tensor viewed as [outer, n, inner],
/// computed stably (the maximum is subtracted first).
/// </summary>
public static class Softmax
{
    /// <summary>y = exp(x - max) / sum(exp(x - max)) along the axis.</summary>
    public static void Forward(ReadOnlySpan<float> x, int outer, int n, int inner, Span<float> y) => Run(x, outer, n, inner, y, log: false);

    /// <summary>y = x - max - log(sum(exp(x - max))) along the axis.</summary>
    public static void LogForward(ReadOnlySpan<float> x, int outer, int n, int inner, Span<float> y) => Run(x, outer, n, inner, y, log: true);

    /// <summary>
    /// The gradient of a softmax along one row from its output y and the upstream gradient g:
    /// dx = y (g - sum(g y)), over the length of <paramref name="y"/> (dx may be g).
    /// </summary>
    public static void RowBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> dx)
    {
        int n = y.Length;
        TensorPrimitives.Subtract(g[..n], TensorPrimitives.Dot(g[..n], y), dx[..n]);
        TensorPrimitives.Multiply(dx[..n], y, dx[..n]);
    }

    private static void Run(ReadOnlySpan<float> x, int outer, int n, int inner, Span<float> y, bool log)
    {
        if (n == 0) return;
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                ReadOnlySpan<float> row = x.Slice(o * n, n);
                Span<float> dst = y.Slice(o * n, n);
                float m = TensorPrimitives.Max(row);
                TensorPrimitives.Subtract(row, m, dst);
                if (log)
                {
                    float lse = 0f;
                    for (int i = 0; i < n; i++) lse += MathF.Exp(dst[i]);
                    TensorPrimitives.Subtract(dst, MathF.Log(lse), dst);
                }
                else
                {
                    FastMath.Exp(dst, dst);
                    TensorPrimitives.Divide(dst, TensorPrimitives.Sum(dst), dst);
                }
            }
            return;
        }
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < inner; j++)
            {
                int b = o * n * inner + j;
                float m = float.NegativeInfinity;
                for (int i = 0; i < n; i++) m = MathF.Max(m, x[b + i * inner]);
                float s = 0f;
                for (int i = 0; i < n; i++) s += MathF.Exp(x[b + i * inner] - m);
                if (log)
                {
                    float ls = MathF.Log(s);
                    for (int i = 0; i < n; i++) y[b + i * inner] = x[b + i * inner] - m - ls;
                }
                else
                {
                    for (int i = 0; i < n; i++) y[b + i * inner] = MathF.Exp(x[b + i * inner] - m) / s;
                }
            }
        }
    }
}
