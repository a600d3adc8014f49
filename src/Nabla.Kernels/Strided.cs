namespace Nabla.Kernels;

/// <summary>
/// Loops over strided n-dimensional layouts. Every elementwise kernel that accepts views
/// (transposed, sliced, broadcast with stride 0) walks its operands through these helpers,
/// so the innermost loop always runs over one dimension with fixed strides.
/// </summary>
public static class Strided
{
    /// <summary>The largest rank the strided kernels accept.</summary>
    public const int MaxRank = 16;

    /// <summary>
    /// Removes size-1 dimensions and merges neighbouring dimensions that are laid out
    /// contiguously in all three operands. Works in place and returns the new rank (at least 1).
    /// </summary>
    public static int Coalesce(Span<int> shape, Span<int> s0, Span<int> s1, Span<int> s2)
    {
        int rank = shape.Length;
        int r = 0;
        for (int i = 0; i < rank; i++)
        {
            if (shape[i] == 1) continue;
            shape[r] = shape[i]; s0[r] = s0[i]; s1[r] = s1[i]; s2[r] = s2[i];
            r++;
        }
        if (r == 0)
        {
            shape[0] = 1; s0[0] = 0; s1[0] = 0; s2[0] = 0;
            return 1;
        }
        int w = 0;
        for (int i = 1; i < r; i++)
        {
            int n = shape[i];
            if (s0[w] == s0[i] * n && s1[w] == s1[i] * n && s2[w] == s2[i] * n)
            {
                shape[w] *= n; s0[w] = s0[i]; s1[w] = s1[i]; s2[w] = s2[i];
            }
            else
            {
                w++;
                shape[w] = n; s0[w] = s0[i]; s1[w] = s1[i]; s2[w] = s2[i];
            }
        }
        return w + 1;
    }

    /// <summary>Number of elements of a shape (1 for rank 0).</summary>
    public static int Size(ReadOnlySpan<int> shape)
    {
        foreach (int d in shape)
        {
            if (d == 0) return 0;
        }
        long n = 1;
        foreach (int d in shape)
        {
            n *= d; // checked at each step, so that many large dimensions cannot wrap around
            if (n > int.MaxValue) throw new ArgumentException($"A shape of {shape.Length} dimensions ({string.Join(", ", shape.ToArray())}) has more elements than a tensor can hold ({int.MaxValue}).");
        }
        return (int)n;
    }

    /// <summary>Writes row-major (C-order) strides of <paramref name="shape"/> into <paramref name="strides"/>.</summary>
    public static void ContiguousStrides(ReadOnlySpan<int> shape, Span<int> strides)
    {
        int s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= shape[i];
        }
    }

    /// <summary>
    /// Copies a strided source into a strided destination of the same shape:
    /// <c>dst[dstOffset + sum(i_k * dstStrides_k)] = src[srcOffset + sum(i_k * srcStrides_k)]</c>.
    /// </summary>
    public static void Copy(ReadOnlySpan<float> src, int srcOffset, ReadOnlySpan<int> srcStrides,
        Span<float> dst, int dstOffset, ReadOnlySpan<int> dstStrides, ReadOnlySpan<int> shape) =>
        Walk<CopyInto>(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape);

    /// <summary>
    /// Adds a strided source into a strided destination of the same shape:
    /// <c>dst[...] += src[...]</c>. The destination must not overlap itself (no stride 0).
    /// </summary>
    public static void AddInto(ReadOnlySpan<float> src, int srcOffset, ReadOnlySpan<int> srcStrides,
        Span<float> dst, int dstOffset, ReadOnlySpan<int> dstStrides, ReadOnlySpan<int> shape) =>
        Walk<AccumulateInto>(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape);

    /// <summary>How a strided walk writes one run: contiguous, broadcast (source stride 0) or strided.</summary>
    private interface IRunWriter
    {
        static abstract void Contiguous(ReadOnlySpan<float> src, Span<float> dst);
        static abstract void Broadcast(float src, Span<float> dst);
        static abstract void Element(ref float dst, float src);
    }

    private readonly struct CopyInto : IRunWriter
    {
        public static void Contiguous(ReadOnlySpan<float> src, Span<float> dst) => src.CopyTo(dst);
        public static void Broadcast(float src, Span<float> dst) => dst.Fill(src);
        public static void Element(ref float dst, float src) => dst = src;
    }

    private readonly struct AccumulateInto : IRunWriter
    {
        public static void Contiguous(ReadOnlySpan<float> src, Span<float> dst) => System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
        public static void Broadcast(float src, Span<float> dst) => System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
        public static void Element(ref float dst, float src) => dst += src;
    }

    private static void Walk<TWriter>(ReadOnlySpan<float> src, int srcOffset, ReadOnlySpan<int> srcStrides,
        Span<float> dst, int dstOffset, ReadOnlySpan<int> dstStrides, ReadOnlySpan<int> shape) where TWriter : IRunWriter
    {
        int rank = shape.Length;
        if (Size(shape) == 0) return;
        if (rank == 0) { TWriter.Element(ref dst[dstOffset], src[srcOffset]); return; }
        Span<int> sh = stackalloc int[rank];
        Span<int> sd = stackalloc int[rank];
        Span<int> ss = stackalloc int[rank];
        Span<int> unused = stackalloc int[rank];
        shape.CopyTo(sh); dstStrides.CopyTo(sd); srcStrides.CopyTo(ss); unused.Clear();
        int r = Coalesce(sh, sd, ss, unused);
        sh = sh[..r]; sd = sd[..r]; ss = ss[..r];
        int n = sh[r - 1], dIn = sd[r - 1], sIn = ss[r - 1];
        Span<int> idx = stackalloc int[r];
        idx.Clear();
        int outer = Size(sh[..(r - 1)]);
        int dOff = dstOffset, sOff = srcOffset;
        for (int o = 0; o < outer; o++)
        {
            if (dIn == 1 && sIn == 1)
            {
                TWriter.Contiguous(src.Slice(sOff, n), dst.Slice(dOff, n));
            }
            else if (dIn == 1 && sIn == 0)
            {
                TWriter.Broadcast(src[sOff], dst.Slice(dOff, n));
            }
            else
            {
                for (int i = 0, d = dOff, s = sOff; i < n; i++, d += dIn, s += sIn) TWriter.Element(ref dst[d], src[s]);
            }
            Advance(idx, sh, sd, ss, ref dOff, ref sOff);
        }
    }

    /// <summary>Steps a multi-index over all dimensions but the last, updating two running offsets.</summary>
    internal static void Advance(Span<int> idx, ReadOnlySpan<int> shape, ReadOnlySpan<int> s0, ReadOnlySpan<int> s1, ref int off0, ref int off1)
    {
        for (int k = shape.Length - 2; k >= 0; k--)
        {
            idx[k]++;
            off0 += s0[k]; off1 += s1[k];
            if (idx[k] < shape[k]) return;
            off0 -= s0[k] * shape[k]; off1 -= s1[k] * shape[k];
            idx[k] = 0;
        }
    }

    /// <summary>Steps a multi-index over all dimensions but the last, updating three running offsets.</summary>
    internal static void Advance(Span<int> idx, ReadOnlySpan<int> shape, ReadOnlySpan<int> s0, ReadOnlySpan<int> s1, ReadOnlySpan<int> s2, ref int off0, ref int off1, ref int off2)
    {
        for (int k = shape.Length - 2; k >= 0; k--)
        {
            idx[k]++;
            off0 += s0[k]; off1 += s1[k]; off2 += s2[k];
            if (idx[k] < shape[k]) return;
            off0 -= s0[k] * shape[k]; off1 -= s1[k] * shape[k]; off2 -= s2[k] * shape[k];
            idx[k] = 0;
        }
    }
}
