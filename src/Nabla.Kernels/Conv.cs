using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels;

/// <summary>
/// The geometry of a 2-D convolution over channels-first images [N, C, H, W]: kernel KH x KW,
/// strides, zero padding (top and left; bottom and right follow from the output size) and
/// dilation. OH and OW are the output's height and width.
/// </summary>
public readonly record struct ConvGeometry(int C, int H, int W, int KH, int KW, int StrideH, int StrideW,
    int PadTop, int PadLeft, int DilationH, int DilationW, int OH, int OW)
{
    /// <summary>Rows of the lowered matrix: C * KH * KW.</summary>
    public int Rows => C * KH * KW;

    /// <summary>Output positions per image: OH * OW.</summary>
    public int Positions => OH * OW;
}

/// <summary>
/// Lowering of convolutions to GEMM (im2col) and its adjoint (col2im). The lowered matrix of a
/// batch is [C * KH * KW, N * OH * OW]: row (c, ki, kj), column (image, oh, ow), so one GEMM
/// with the [Cout, C * KH * KW] weight gives every output of the batch.
/// </summary>
public static class Conv
{
    /// <summary>Fills <paramref name="cols"/> [C*KH*KW, N*OH*OW] from <paramref name="x"/> [N, C, H, W]; padding reads as zero.</summary>
    public static void Im2Col(float[] x, int n, ConvGeometry g, float[] cols)
    {
        int positions = g.Positions, total = n * positions;
        Threading.For(g.Rows, (long)total, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int c = r / (g.KH * g.KW), ki = r / g.KW % g.KH, kj = r % g.KW;
                for (int b = 0; b < n; b++)
                {
                    var dst = cols.AsSpan(r * total + b * positions, positions);
                    var plane = x.AsSpan((b * g.C + c) * g.H * g.W, g.H * g.W);
                    LowerPlane(plane, g, ki, kj, dst);
                }
            }
        });
    }

    /// <summary>
    /// Lowers one image <paramref name="image"/> [C, H, W] into <paramref name="cols"/>
    /// [C*KH*KW, OH*OW] on the calling thread: the per-image layout, for convolutions computed one
    /// image at a time straight into [N, Cout, OH, OW].
    /// </summary>
    public static void Im2ColImage(ReadOnlySpan<float> image, ConvGeometry g, Span<float> cols)
    {
        int positions = g.Positions, plane = g.H * g.W;
        for (int r = 0; r < g.Rows; r++)
        {
            int c = r / (g.KH * g.KW), ki = r / g.KW % g.KH, kj = r % g.KW;
            LowerPlane(image.Slice(c * plane, plane), g, ki, kj, cols.Slice(r * positions, positions));
        }
    }

    /// <summary>The adjoint of <see cref="Im2ColImage"/>: adds <paramref name="cols"/> [C*KH*KW, OH*OW] back into one image's gradient <paramref name="dx"/> [C, H, W].</summary>
    public static void Col2ImImage(ReadOnlySpan<float> cols, ConvGeometry g, Span<float> dx)
    {
        int positions = g.Positions, plane = g.H * g.W;
        for (int c = 0; c < g.C; c++)
        {
            for (int ki = 0; ki < g.KH; ki++)
            {
                for (int kj = 0; kj < g.KW; kj++)
                {
                    int r = (c * g.KH + ki) * g.KW + kj;
                    RaisePlane(cols.Slice(r * positions, positions), g, ki, kj, dx.Slice(c * plane, plane));
                }
            }
        }
    }

    private static void LowerPlane(ReadOnlySpan<float> plane, ConvGeometry g, int ki, int kj, Span<float> dst)
    {
        int offset = kj * g.DilationW - g.PadLeft;
        // Valid outputs ow have 0 <= ow * stride + offset < W; with stride 1 they are one range,
        // the same for every row: one short copy between zero edges.
        int lo = Math.Clamp(-offset, 0, g.OW), hi = Math.Clamp(g.W - offset, lo, g.OW);
        if (g.StrideH == 1 && g.StrideW == 1 && g.OW == g.W)
        {
            LowerPlaneSamePitch(plane, g, ki * g.DilationH - g.PadTop, offset, lo, hi, dst);
            return;
        }
        for (int oh = 0; oh < g.OH; oh++)
        {
            int ih = oh * g.StrideH - g.PadTop + ki * g.DilationH;
            Span<float> row = dst.Slice(oh * g.OW, g.OW);
            if (ih < 0 || ih >= g.H)
            {
                row.Clear();
                continue;
            }
            ReadOnlySpan<float> src = plane.Slice(ih * g.W, g.W);
            if (g.StrideW == 1)
            {
                for (int q = 0; q < lo; q++) row[q] = 0f;
                CopyShort(src.Slice(lo + offset, hi - lo), row.Slice(lo, hi - lo));
                for (int q = hi; q < g.OW; q++) row[q] = 0f;
            }
            else
            {
                for (int ow = 0; ow < g.OW; ow++)
                {
                    int iw = ow * g.StrideW + offset;
                    row[ow] = (uint)iw < (uint)g.W ? src[iw] : 0f;
                }
            }
        }
    }

    /// <summary>
    /// Stride 1 with output rows as wide as input rows ("same" padding): the valid rows of the
    /// lowered plane are the input plane shifted by <c>rowShift</c> rows and <paramref name="offset"/>
    /// columns, so they are one contiguous copy; the few values that wrapped in from a neighbouring
    /// row (outside [lo, hi) in each row) and the rows outside the image are then set to zero.
    /// </summary>
    private static void LowerPlaneSamePitch(ReadOnlySpan<float> plane, ConvGeometry g, int rowShift, int offset, int lo, int hi, Span<float> dst)
    {
        int w = g.W;
        int oh0 = Math.Clamp(-rowShift, 0, g.OH), oh1 = Math.Clamp(g.H - rowShift, oh0, g.OH);
        dst[..(oh0 * w)].Clear();
        dst[(oh1 * w)..(g.OH * w)].Clear();
        if (oh1 == oh0) return;
        // dst[oh * w + ow] = plane[(oh + rowShift) * w + ow + offset] over the valid rows.
        int start = oh0 * w, end = oh1 * w;
        int src = (oh0 + rowShift) * w + offset;
        int first = Math.Max(start, start - src), last = Math.Min(end, end - (src + (end - start) - plane.Length));
        if (last > first) plane.Slice(src + (first - start), last - first).CopyTo(dst[first..last]);
        dst[start..first].Clear();
        if (end > last) dst[last..end].Clear();
        if (lo == 0 && hi == w) return;
        for (int oh = oh0; oh < oh1; oh++)
        {
            Span<float> row = dst.Slice(oh * w, w);
            for (int q = 0; q < lo; q++) row[q] = 0f;
            for (int q = hi; q < w; q++) row[q] = 0f;
        }
    }

    /// <summary>Copies a short row (an image row of a few to a few dozen values) with vector moves: two overlapping ones when 8 to 16 long.</summary>
    private static void CopyShort(ReadOnlySpan<float> src, Span<float> dst)
    {
        int n = src.Length;
        if (n >= 8 && n <= 16 && Vector256.IsHardwareAccelerated)
        {
            Vector256.Create(src[..8]).CopyTo(dst);
            Vector256.Create(src.Slice(n - 8, 8)).CopyTo(dst[(n - 8)..]);
            return;
        }
        src.CopyTo(dst);
    }

    /// <summary>dst += src for a short row, eight and then four values at a time.</summary>
    private static void AddShort(ReadOnlySpan<float> src, Span<float> dst)
    {
        int n = Math.Min(src.Length, dst.Length), i = 0;
        ref float s = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(src);
        ref float d = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(dst);
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8) (Vector256.LoadUnsafe(ref d, (nuint)i) + Vector256.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 4 <= n; i += 4) (Vector128.LoadUnsafe(ref d, (nuint)i) + Vector128.LoadUnsafe(ref s, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
        }
        for (; i < n; i++) System.Runtime.CompilerServices.Unsafe.Add(ref d, i) += System.Runtime.CompilerServices.Unsafe.Add(ref s, i);
    }

    /// <summary>Adds each entry of <paramref name="cols"/> back to the input position it was read from (the adjoint of <see cref="Im2Col"/>); <paramref name="dx"/> [N, C, H, W] is accumulated into.</summary>
    public static void Col2Im(float[] cols, int n, ConvGeometry g, float[] dx)
    {
        int positions = g.Positions, total = n * positions;
        // Split over (image, channel) planes: every plane is written by one thread, in a fixed order.
        Threading.For(n * g.C, (long)g.KH * g.KW * positions, (p0, p1) =>
        {
            for (int p = p0; p < p1; p++)
            {
                int b = p / g.C, c = p % g.C;
                Span<float> plane = dx.AsSpan(p * g.H * g.W, g.H * g.W);
                for (int ki = 0; ki < g.KH; ki++)
                {
                    for (int kj = 0; kj < g.KW; kj++)
                    {
                        int r = (c * g.KH + ki) * g.KW + kj;
                        RaisePlane(cols.AsSpan(r * total + b * positions, positions), g, ki, kj, plane);
                    }
                }
            }
        });
    }

    /// <summary>Adds one lowered row <paramref name="src"/> [OH*OW] (kernel offset ki, kj) back into the input plane it was read from.</summary>
    private static void RaisePlane(ReadOnlySpan<float> src, ConvGeometry g, int ki, int kj, Span<float> plane)
    {
        int offset = kj * g.DilationW - g.PadLeft;
        for (int oh = 0; oh < g.OH; oh++)
        {
            int ih = oh * g.StrideH - g.PadTop + ki * g.DilationH;
            if (ih < 0 || ih >= g.H) continue;
            Span<float> dst = plane.Slice(ih * g.W, g.W);
            if (g.StrideW == 1)
            {
                // Valid outputs ow have 0 <= ow + offset < W: one vectorised add over that range.
                int lo = Math.Clamp(-offset, 0, g.OW), hi = Math.Clamp(g.W - offset, lo, g.OW);
                AddShort(src.Slice(oh * g.OW + lo, hi - lo), dst.Slice(lo + offset, hi - lo));
                continue;
            }
            for (int ow = 0; ow < g.OW; ow++)
            {
                int iw = ow * g.StrideW + offset;
                if ((uint)iw < (uint)g.W) dst[iw] += src[oh * g.OW + ow];
            }
        }
    }

    /// <summary>
    /// Max pooling over windows of KH x KW (geometry with C channels); writes the maxima and the
    /// index within the input plane of each maximum (the first on ties); padding never wins.
    /// </summary>
    public static void MaxPool(float[] x, int n, ConvGeometry g, float[] y, int[] argmax)
    {
        if (g.KH == 2 && g.KW == 2 && g.StrideH == 2 && g.StrideW == 2 && g.PadTop == 0 && g.PadLeft == 0 && g.DilationH == 1 && g.DilationW == 1
            && 2 * g.OH <= g.H && 2 * g.OW <= g.W)
        {
            MaxPool2x2(x, n, g, y, argmax);
            return;
        }
        Threading.For(n * g.C, (long)g.Positions * g.KH * g.KW, (p0, p1) =>
        {
            for (int p = p0; p < p1; p++)
            {
                ReadOnlySpan<float> plane = x.AsSpan(p * g.H * g.W, g.H * g.W);
                int o = p * g.Positions;
                for (int oh = 0; oh < g.OH; oh++)
                {
                    for (int ow = 0; ow < g.OW; ow++, o++)
                    {
                        float best = float.NegativeInfinity;
                        int bestIndex = -1;
                        for (int ki = 0; ki < g.KH; ki++)
                        {
                            int ih = oh * g.StrideH - g.PadTop + ki * g.DilationH;
                            if ((uint)ih >= (uint)g.H) continue;
                            for (int kj = 0; kj < g.KW; kj++)
                            {
                                int iw = ow * g.StrideW - g.PadLeft + kj * g.DilationW;
                                if ((uint)iw >= (uint)g.W) continue;
                                float v = plane[ih * g.W + iw];
                                if (v > best || bestIndex < 0 || float.IsNaN(v))
                                {
                                    best = v;
                                    bestIndex = ih * g.W + iw;
                                    if (float.IsNaN(v)) goto done;
                                }
                            }
                        }
                    done:
                        y[o] = best;
                        argmax[o] = bestIndex;
                    }
                }
            }
        });
    }

    /// <summary>The common 2 x 2, stride 2, unpadded case: every window lies inside the image. (NaN does not win here.)</summary>
    private static void MaxPool2x2(float[] x, int n, ConvGeometry g, float[] y, int[] argmax) =>
        ForEachWindowRow(n, g, new PoolWindows(x, y, argmax));

    /// <summary>
    /// What a 2 x 2, stride-2 pass does with the windows of one row of outputs: eight, four or one
    /// at a time, from output column <c>ow</c> (output index <c>o</c>), over input rows r0 and r1
    /// of the plane at <c>plane</c>.
    /// </summary>
    private interface IWindowRow
    {
        void Eight(int plane, int r0, int r1, int ow, int o);

        void Four(int plane, int r0, int r1, int ow, int o);

        void One(int plane, int r0, int r1, int ow, int o);
    }

    /// <summary>
    /// Every row of 2 x 2 windows of every plane, planes shared over the threads: eight windows at a
    /// time where rows are that wide, four where they are narrower, one at a time below that; a ragged
    /// end is one more block overlapping the last full one (doing a few windows twice, to the same values).
    /// </summary>
    private static void ForEachWindowRow<TRow>(int n, ConvGeometry g, TRow op) where TRow : struct, IWindowRow
    {
        Threading.For(n * g.C, (long)g.Positions * 4, (p0, p1) =>
        {
            for (int p = p0; p < p1; p++)
            {
                int plane = p * g.H * g.W;
                for (int oh = 0; oh < g.OH; oh++)
                {
                    int r0 = 2 * oh * g.W, r1 = r0 + g.W, row = p * g.Positions + oh * g.OW;
                    int ow = 0;
                    if (Avx2.IsSupported && g.OW >= 8)
                    {
                        for (; ow + 8 <= g.OW; ow += 8) op.Eight(plane, r0, r1, ow, row + ow);
                        if (ow < g.OW) op.Eight(plane, r0, r1, g.OW - 8, row + g.OW - 8);
                        continue;
                    }
                    if (Sse2.IsSupported && g.OW >= 4)
                    {
                        // (Scalar selects mispredict on every window: the winner is random.)
                        for (; ow + 4 <= g.OW; ow += 4) op.Four(plane, r0, r1, ow, row + ow);
                        if (ow < g.OW) op.Four(plane, r0, r1, g.OW - 4, row + g.OW - 4);
                        continue;
                    }
                    for (; ow < g.OW; ow++) op.One(plane, r0, r1, ow, row + ow);
                }
            }
        });
    }

    /// <summary>Max pooling's forward: each window's maximum and where it is (the first on ties).</summary>
    private readonly struct PoolWindows(float[] x, float[] y, int[] argmax) : IWindowRow
    {
        public void Eight(int plane, int r0, int r1, int ow, int o) => Pool8(x, plane, r0, r1, ow, y, argmax, o);

        public void Four(int plane, int r0, int r1, int ow, int o) => Pool4(x, plane, r0, r1, ow, y, argmax, o);

        public void One(int plane, int r0, int r1, int ow, int o)
        {
            int c0 = 2 * ow;
            int bestIndex = r0 + c0;
            float best = x[plane + bestIndex];
            float v = x[plane + r0 + c0 + 1];
            if (v > best) { best = v; bestIndex = r0 + c0 + 1; }
            v = x[plane + r1 + c0];
            if (v > best) { best = v; bestIndex = r1 + c0; }
            v = x[plane + r1 + c0 + 1];
            if (v > best) { best = v; bestIndex = r1 + c0 + 1; }
            y[o] = best;
            argmax[o] = bestIndex;
        }
    }

    /// <summary>Max pooling's backward where the windows tile the image: each window's four inputs get the gradient where the max was and zero elsewhere.</summary>
    private readonly struct UnpoolWindows(float[] dy, int[] argmax, float[] dx) : IWindowRow
    {
        public void Eight(int plane, int r0, int r1, int ow, int o) => Unpool8(dy, argmax, o, r0, r1, 2 * ow, dx, plane);

        public void Four(int plane, int r0, int r1, int ow, int o) => Unpool4(dy, argmax, o, r0, r1, 2 * ow, dx, plane);

        public void One(int plane, int r0, int r1, int ow, int o)
        {
            int k = argmax[o], c0 = 2 * ow;
            float d = dy[o];
            dx[plane + r0 + c0] = k == r0 + c0 ? d : 0f;
            dx[plane + r0 + c0 + 1] = k == r0 + c0 + 1 ? d : 0f;
            dx[plane + r1 + c0] = k == r1 + c0 ? d : 0f;
            dx[plane + r1 + c0 + 1] = k == r1 + c0 + 1 ? d : 0f;
        }
    }

    /// <summary>Eight 2 x 2 windows of rows <paramref name="r0"/> and <paramref name="r1"/> from output column <paramref name="ow"/>, branch-free.</summary>
    private static void Pool8(float[] x, int plane, int r0, int r1, int ow, float[] y, int[] argmax, int o)
    {
        int c0 = 2 * ow;
        var (a, b) = Deinterleave(x.AsSpan(plane + r0 + c0, 16));
        var (c, d) = Deinterleave(x.AsSpan(plane + r1 + c0, 16));
        var lane = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
        Vector256<int> ia = lane + Vector256.Create(r0 + c0), ic = lane + Vector256.Create(r1 + c0);
        Vector256<float> best = a;
        Vector256<int> index = ia;
        Vector256<float> m = Vector256.GreaterThan(b, best);
        best = Vector256.ConditionalSelect(m, b, best);
        index = Vector256.ConditionalSelect(m.AsInt32(), ia + Vector256<int>.One, index);
        m = Vector256.GreaterThan(c, best);
        best = Vector256.ConditionalSelect(m, c, best);
        index = Vector256.ConditionalSelect(m.AsInt32(), ic, index);
        m = Vector256.GreaterThan(d, best);
        best = Vector256.ConditionalSelect(m, d, best);
        index = Vector256.ConditionalSelect(m.AsInt32(), ic + Vector256<int>.One, index);
        best.CopyTo(y.AsSpan(o, 8));
        index.CopyTo(argmax.AsSpan(o, 8));
    }

    /// <summary>Four 2 x 2 windows, as <see cref="Pool8"/> with 128-bit vectors (for rows of 4 to 7 outputs).</summary>
    private static void Pool4(float[] x, int plane, int r0, int r1, int ow, float[] y, int[] argmax, int o)
    {
        int c0 = 2 * ow;
        var lo0 = Vector128.Create(x.AsSpan(plane + r0 + c0, 4));
        var hi0 = Vector128.Create(x.AsSpan(plane + r0 + c0 + 4, 4));
        var lo1 = Vector128.Create(x.AsSpan(plane + r1 + c0, 4));
        var hi1 = Vector128.Create(x.AsSpan(plane + r1 + c0 + 4, 4));
        Vector128<float> a = Sse.Shuffle(lo0, hi0, 0x88), b = Sse.Shuffle(lo0, hi0, 0xDD);
        Vector128<float> c = Sse.Shuffle(lo1, hi1, 0x88), d = Sse.Shuffle(lo1, hi1, 0xDD);
        var lane = Vector128.Create(0, 2, 4, 6);
        Vector128<int> ia = lane + Vector128.Create(r0 + c0), ic = lane + Vector128.Create(r1 + c0);
        Vector128<float> best = a;
        Vector128<int> index = ia;
        Vector128<float> m = Vector128.GreaterThan(b, best);
        best = Vector128.ConditionalSelect(m, b, best);
        index = Vector128.ConditionalSelect(m.AsInt32(), ia + Vector128<int>.One, index);
        m = Vector128.GreaterThan(c, best);
        best = Vector128.ConditionalSelect(m, c, best);
        index = Vector128.ConditionalSelect(m.AsInt32(), ic, index);
        m = Vector128.GreaterThan(d, best);
        best = Vector128.ConditionalSelect(m, d, best);
        index = Vector128.ConditionalSelect(m.AsInt32(), ic + Vector128<int>.One, index);
        best.CopyTo(y.AsSpan(o, 4));
        index.CopyTo(argmax.AsSpan(o, 4));
    }

    /// <summary>Splits 16 consecutive floats into their even- and odd-indexed halves.</summary>
    private static (Vector256<float> Even, Vector256<float> Odd) Deinterleave(ReadOnlySpan<float> s)
    {
        var lo = Vector256.Create(s[..8]);
        var hi = Vector256.Create(s.Slice(8, 8));
        var even = Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0x88).AsDouble(), 0xD8).AsSingle();
        var odd = Avx2.Permute4x64(Avx.Shuffle(lo, hi, 0xDD).AsDouble(), 0xD8).AsSingle();
        return (even, odd);
    }

    /// <summary>
    /// True when <see cref="MaxPoolBackward"/> writes every element of its output, so it need not
    /// be cleared first: 2 x 2 windows with stride 2 that tile the image exactly.
    /// </summary>
    public static bool MaxPoolBackwardWritesAll(ConvGeometry g) =>
        g.KH == 2 && g.KW == 2 && g.StrideH == 2 && g.StrideW == 2 && g.PadTop == 0 && g.PadLeft == 0 && g.DilationH == 1 && g.DilationW == 1
        && 2 * g.OH == g.H && 2 * g.OW == g.W;

    /// <summary>
    /// Sends each output gradient to the input position that won the max: accumulating into
    /// <paramref name="dx"/>, except where <see cref="MaxPoolBackwardWritesAll"/> holds, when every
    /// element of <paramref name="dx"/> is written (the gradient or zero) and its prior contents do not matter.
    /// </summary>
    public static void MaxPoolBackward(float[] dy, int[] argmax, int n, ConvGeometry g, float[] dx)
    {
        if (MaxPoolBackwardWritesAll(g))
        {
            MaxPool2x2Backward(dy, argmax, n, g, dx);
            return;
        }
        Threading.For(n * g.C, g.Positions, (p0, p1) =>
        {
            for (int p = p0; p < p1; p++)
            {
                int plane = p * g.H * g.W, o = p * g.Positions;
                for (int i = 0; i < g.Positions; i++)
                {
                    int k = argmax[o + i];
                    if (k >= 0) dx[plane + k] += dy[o + i];
                }
            }
        });
    }

    /// <summary>The tiling 2 x 2 case: each window's four inputs written at once, the gradient where the max was and zero elsewhere.</summary>
    private static void MaxPool2x2Backward(float[] dy, int[] argmax, int n, ConvGeometry g, float[] dx) =>
        ForEachWindowRow(n, g, new UnpoolWindows(dy, argmax, dx));

    /// <summary>Eight windows' gradients from output <paramref name="o"/>: the 16 inputs of rows <paramref name="r0"/> and <paramref name="r1"/> from column <paramref name="c0"/>.</summary>
    private static void Unpool8(float[] dy, int[] argmax, int o, int r0, int r1, int c0, float[] dx, int plane)
    {
        var d = Vector256.Create(dy.AsSpan(o, 8));
        var k = Vector256.Create(argmax.AsSpan(o, 8));
        var lane = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14);
        Vector256<int> ia = lane + Vector256.Create(r0 + c0), ic = lane + Vector256.Create(r1 + c0);
        Interleave(d & Vector256.Equals(k, ia).AsSingle(), d & Vector256.Equals(k, ia + Vector256<int>.One).AsSingle(), dx.AsSpan(plane + r0 + c0, 16));
        Interleave(d & Vector256.Equals(k, ic).AsSingle(), d & Vector256.Equals(k, ic + Vector256<int>.One).AsSingle(), dx.AsSpan(plane + r1 + c0, 16));
    }

    /// <summary>Four windows' gradients, as <see cref="Unpool8"/> with 128-bit vectors (for rows of 4 to 7 outputs).</summary>
    private static void Unpool4(float[] dy, int[] argmax, int o, int r0, int r1, int c0, float[] dx, int plane)
    {
        var d = Vector128.Create(dy.AsSpan(o, 4));
        var k = Vector128.Create(argmax.AsSpan(o, 4));
        var lane = Vector128.Create(0, 2, 4, 6);
        Vector128<int> ia = lane + Vector128.Create(r0 + c0), ic = lane + Vector128.Create(r1 + c0);
        Interleave(d & Vector128.Equals(k, ia).AsSingle(), d & Vector128.Equals(k, ia + Vector128<int>.One).AsSingle(), dx.AsSpan(plane + r0 + c0, 8));
        Interleave(d & Vector128.Equals(k, ic).AsSingle(), d & Vector128.Equals(k, ic + Vector128<int>.One).AsSingle(), dx.AsSpan(plane + r1 + c0, 8));
    }

    private static void Interleave(Vector128<float> even, Vector128<float> odd, Span<float> dst)
    {
        Sse.UnpackLow(even, odd).CopyTo(dst[..4]);
        Sse.UnpackHigh(even, odd).CopyTo(dst.Slice(4, 4));
    }

    /// <summary>Writes even[0], odd[0], even[1], odd[1], ... (the inverse of <see cref="Deinterleave"/>).</summary>
    private static void Interleave(Vector256<float> even, Vector256<float> odd, Span<float> dst)
    {
        Vector256<float> lo = Avx.UnpackLow(even, odd), hi = Avx.UnpackHigh(even, odd);
        Avx.Permute2x128(lo, hi, 0x20).CopyTo(dst[..8]);
        Avx.Permute2x128(lo, hi, 0x31).CopyTo(dst.Slice(8, 8));
    }

    /// <summary>Average pooling: the mean of the window's positions inside the image (padding is not counted, as Keras's "same").</summary>
    public static void AvgPool(float[] x, int n, ConvGeometry g, float[] y) => AvgPoolCore(x, n, g, y, backward: false);

    /// <summary>The adjoint of <see cref="AvgPool"/>: each output gradient shared equally by its window's valid positions, accumulated into <paramref name="dx"/>.</summary>
    public static void AvgPoolBackward(float[] dy, int n, ConvGeometry g, float[] dx) => AvgPoolCore(dy, n, g, dx, backward: true);

    private static void AvgPoolCore(float[] src, int n, ConvGeometry g, float[] dst, bool backward)
    {
        Threading.For(n * g.C, (long)g.Positions * g.KH * g.KW, (p0, p1) =>
        {
            for (int p = p0; p < p1; p++)
            {
                int plane = p * g.H * g.W, o = p * g.Positions;
                for (int oh = 0; oh < g.OH; oh++)
                {
                    int h0 = Math.Max(oh * g.StrideH - g.PadTop, 0), h1 = Math.Min(oh * g.StrideH - g.PadTop + (g.KH - 1) * g.DilationH + 1, g.H);
                    for (int ow = 0; ow < g.OW; ow++, o++)
                    {
                        int w0 = Math.Max(ow * g.StrideW - g.PadLeft, 0), w1 = Math.Min(ow * g.StrideW - g.PadLeft + (g.KW - 1) * g.DilationW + 1, g.W);
                        int count = 0;
                        float sum = 0f;
                        for (int ih = h0; ih < h1; ih++)
                        {
                            if ((ih - (oh * g.StrideH - g.PadTop)) % g.DilationH != 0) continue;
                            for (int iw = w0; iw < w1; iw++)
                            {
                                if ((iw - (ow * g.StrideW - g.PadLeft)) % g.DilationW != 0) continue;
                                count++;
                                if (!backward) sum += src[plane + ih * g.W + iw];
                            }
                        }
                        if (!backward)
                        {
                            dst[o] = count == 0 ? 0f : sum / count;
                            continue;
                        }
                        if (count == 0) continue;
                        float share = src[o] / count;
                        for (int ih = h0; ih < h1; ih++)
                        {
                            if ((ih - (oh * g.StrideH - g.PadTop)) % g.DilationH != 0) continue;
                            for (int iw = w0; iw < w1; iw++)
                            {
                                if ((iw - (ow * g.StrideW - g.PadLeft)) % g.DilationW != 0) continue;
                                dst[plane + ih * g.W + iw] += share;
                            }
                        }
                    }
                }
            }
        });
    }
}
