using System.Numerics.Tensors;

namespace Nabla.Kernels;

/// <summary>
/// Reductions over one axis of a contiguous tensor viewed as [outer, n, inner]; the result
/// is [outer, inner]. Sums run in a fixed order, so they are repeatable.
/// </summary>
public static class Reduce
{
    /// <summary>dst[o, j] = sum over i of src[o, i, j].</summary>
    public static void Sum(ReadOnlySpan<float> src, int outer, int n, int inner, Span<float> dst)
    {
        for (int o = 0; o < outer; o++)
        {
            ReadOnlySpan<float> block = src.Slice(o * n * inner, n * inner);
            if (inner == 1)
            {
                dst[o] = TensorPrimitives.Sum(block);
                continue;
            }
            Span<float> d = dst.Slice(o * inner, inner);
            d.Clear();
            for (int i = 0; i < n; i++) TensorPrimitives.Add(d, block.Slice(i * inner, inner), d);
        }
    }

    /// <summary>dst[o, j] = max over i of src[o, i, j] (n must be at least 1).</summary>
    public static void Max(ReadOnlySpan<float> src, int outer, int n, int inner, Span<float> dst) => Extreme(src, outer, n, inner, dst, max: true);

    /// <summary>dst[o, j] = min over i of src[o, i, j] (n must be at least 1).</summary>
    public static void Min(ReadOnlySpan<float> src, int outer, int n, int inner, Span<float> dst) => Extreme(src, outer, n, inner, dst, max: false);

    private static void Extreme(ReadOnlySpan<float> src, int outer, int n, int inner, Span<float> dst, bool max)
    {
        if (n == 0) throw new ArgumentException("Cannot take the max or min over an axis of length 0.");
        for (int o = 0; o < outer; o++)
        {
            ReadOnlySpan<float> block = src.Slice(o * n * inner, n * inner);
            if (inner == 1)
            {
                dst[o] = max ? TensorPrimitives.Max(block) : TensorPrimitives.Min(block);
                continue;
            }
            Span<float> d = dst.Slice(o * inner, inner);
            block[..inner].CopyTo(d);
            for (int i = 1; i < n; i++)
            {
                if (max) TensorPrimitives.Max(d, block.Slice(i * inner, inner), d);
                else TensorPrimitives.Min(d, block.Slice(i * inner, inner), d);
            }
        }
    }

    /// <summary>
    /// dst[o, j] = the index i of the largest (or, with <paramref name="max"/> false, smallest)
    /// src[o, i, j]; the first such index on ties; NaN wins, as in PyTorch.
    /// </summary>
    public static void ArgExtreme(ReadOnlySpan<float> src, int outer, int n, int inner, Span<int> dst, bool max)
    {
        if (n == 0) throw new ArgumentException("Cannot take the argmax or argmin over an axis of length 0.");
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < inner; j++)
            {
                int baseIdx = o * n * inner + j;
                int best = 0;
                float bv = src[baseIdx];
                if (!float.IsNaN(bv))
                {
                    for (int i = 1; i < n; i++)
                    {
                        float v = src[baseIdx + i * inner];
                        if (float.IsNaN(v)) { best = i; break; }
                        if (max ? v > bv : v < bv) { bv = v; best = i; }
                    }
                }
                dst[o * inner + j] = best;
            }
        }
    }
}
