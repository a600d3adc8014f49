namespace Nabla.Kernels;

/// <summary>Elementwise kernels over strided (possibly broadcast) operands.</summary>
public static class Elementwise
{
    /// <summary>
    /// <c>dst = TOp(a, b)</c> where <paramref name="dst"/> is contiguous with <paramref name="shape"/>
    /// and <paramref name="a"/>, <paramref name="b"/> are strided views of the same shape
    /// (broadcast dimensions have stride 0). The innermost run goes through the op's span forms.
    /// </summary>
    public static void Binary<TOp>(ReadOnlySpan<int> shape,
        ReadOnlySpan<float> a, int aOffset, ReadOnlySpan<int> aStrides,
        ReadOnlySpan<float> b, int bOffset, ReadOnlySpan<int> bStrides,
        Span<float> dst) where TOp : IBinaryOp
    {
        int rank = shape.Length;
        if (Strided.Size(shape) == 0) return;
        if (rank == 0) { dst[0] = TOp.Invoke(a[aOffset], b[bOffset]); return; }
        Span<int> sh = stackalloc int[rank];
        Span<int> sd = stackalloc int[rank];
        Span<int> sa = stackalloc int[rank];
        Span<int> sb = stackalloc int[rank];
        shape.CopyTo(sh); aStrides.CopyTo(sa); bStrides.CopyTo(sb);
        Strided.ContiguousStrides(shape, sd);
        int r = Strided.Coalesce(sh, sd, sa, sb);
        sh = sh[..r]; sd = sd[..r]; sa = sa[..r]; sb = sb[..r];
        int n = sh[r - 1], aIn = sa[r - 1], bIn = sb[r - 1];
        Span<int> idx = stackalloc int[r];
        idx.Clear();
        int outer = Strided.Size(sh[..(r - 1)]);
        int aOff = aOffset, bOff = bOffset, dOff = 0;
        for (int o = 0; o < outer; o++)
        {
            Span<float> d = dst.Slice(dOff, n);
            if (aIn == 1 && bIn == 1) TOp.Invoke(a.Slice(aOff, n), b.Slice(bOff, n), d);
            else if (aIn == 1 && bIn == 0) TOp.Invoke(a.Slice(aOff, n), b[bOff], d);
            else if (aIn == 0 && bIn == 1) TOp.Invoke(a[aOff], b.Slice(bOff, n), d);
            else
            {
                for (int i = 0, ia = aOff, ib = bOff; i < n; i++, ia += aIn, ib += bIn) d[i] = TOp.Invoke(a[ia], b[ib]);
            }
            dOff += n;
            Strided.Advance(idx, sh, sa, sb, ref aOff, ref bOff);
        }
    }

    /// <summary>
    /// <c>dst[i] = cond[i] != 0 ? a[i] : b[i]</c> over three strided operands of one shape;
    /// <paramref name="dst"/> is contiguous.
    /// </summary>
    public static void Where(ReadOnlySpan<int> shape,
        ReadOnlySpan<float> cond, int cOffset, ReadOnlySpan<int> cStrides,
        ReadOnlySpan<float> a, int aOffset, ReadOnlySpan<int> aStrides,
        ReadOnlySpan<float> b, int bOffset, ReadOnlySpan<int> bStrides,
        Span<float> dst)
    {
        int rank = shape.Length;
        if (Strided.Size(shape) == 0) return;
        if (rank == 0) { dst[0] = cond[cOffset] != 0 ? a[aOffset] : b[bOffset]; return; }
        Span<int> idx = stackalloc int[rank];
        idx.Clear();
        int n = shape[rank - 1];
        int cIn = cStrides[rank - 1], aIn = aStrides[rank - 1], bIn = bStrides[rank - 1];
        int outer = Strided.Size(shape[..(rank - 1)]);
        int cOff = cOffset, aOff = aOffset, bOff = bOffset, dOff = 0;
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0, ic = cOff, ia = aOff, ib = bOff; i < n; i++, ic += cIn, ia += aIn, ib += bIn)
                dst[dOff + i] = cond[ic] != 0 ? a[ia] : b[ib];
            dOff += n;
            Strided.Advance(idx, shape, cStrides, aStrides, bStrides, ref cOff, ref aOff, ref bOff);
        }
    }
}
