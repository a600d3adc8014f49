using Nabla.Kernels;

namespace Nabla;

/// <summary>A unary kernel over contiguous spans: y = f(x), element by element.</summary>
internal delegate void SpanMap(ReadOnlySpan<float> x, Span<float> y);

/// <summary>A backward kernel over contiguous spans: dx = f(saved, g), element by element.</summary>
internal delegate void SpanGrad(ReadOnlySpan<float> saved, ReadOnlySpan<float> grad, Span<float> dx);

/// <summary>A kernel over whole rows: y = f(x) for <c>rows</c> consecutive rows of one length, each row on its own.</summary>
internal delegate void SpanRows(ReadOnlySpan<float> x, int rows, Span<float> y);

public sealed partial class Tensor
{
    /// <summary>
    /// Elements in one piece of an elementwise map (the last piece also takes the remainder, so
    /// none is shorter): a multiple of 64, so every piece starts on a whole number of 512-bit
    /// vectors and each element goes through the same code (vector body or tail) as in one pass
    /// over the whole span: the result does not depend on the thread count. Below two pieces the
    /// map runs on the calling thread.
    /// </summary>
    private const int MapGrain = 1 << 14;

    /// <summary>
    /// The same for operations of a load or two and a store per element (copies, additions): a piece
    /// of 16 384 such elements takes about as long as waking a worker, so their pieces are four times
    /// larger.
    /// </summary>
    private const int CheapGrain = 1 << 16;

    /// <summary>
    /// Whether work over <paramref name="elements"/> elements is shared out over the threads: at
    /// least two pieces of <paramref name="grain"/> and more than one thread. The one rule every op
    /// below asks, with its serial path a plain call, so that the closure of the shared path is only
    /// made when the work is shared.
    /// </summary>
    internal static bool WorthSharing(long elements, int grain = MapGrain) => elements >= 2L * grain && Threading.NumThreads > 1;

    /// <summary>Applies an elementwise span kernel to the elements of <paramref name="x"/>, split over the threads when large; records nothing.</summary>
    internal static Tensor Map(Tensor x, SpanMap kernel)
    {
        var y = ForOverwrite((int[])x.ShapeArray.Clone());
        if (!WorthSharing(x.Size) || !x.IsContiguous) kernel(x.Data, y.Storage);
        else MapInParts(x.Storage, x.Offset, y.Storage, x.Size, kernel);
        return y;
    }

    /// <summary>Applies an elementwise backward span kernel to a saved tensor and the upstream gradient (same shape), split over the threads when large.</summary>
    internal static Tensor MapGrad(Tensor saved, Tensor grad, SpanGrad kernel)
    {
        var dx = ForOverwrite((int[])saved.ShapeArray.Clone());
        if (!WorthSharing(saved.Size) || !saved.IsContiguous || !grad.IsContiguous) kernel(saved.Data, grad.Data, dx.Storage);
        else MapGradInParts(saved.Storage, saved.Offset, grad.Storage, grad.Offset, dx.Storage, saved.Size, kernel);
        return dx;
    }

    /// <summary>
    /// Applies a row kernel to <paramref name="x"/> viewed as <paramref name="rows"/> rows of equal
    /// length, split over the threads by whole rows when large (each row is computed the same way
    /// whichever thread takes it); records nothing.
    /// </summary>
    internal static Tensor MapRows(Tensor x, int rows, SpanRows kernel)
    {
        var y = ForOverwrite((int[])x.ShapeArray.Clone());
        if (!WorthSharing(x.Size) || rows < 2 || !x.IsContiguous) kernel(x.Data, rows, y.Storage);
        else MapRowsInParts(x.Storage, x.Offset, y.Storage, rows, x.Size / rows, kernel);
        return y;
    }

    /// <summary>Runs <paramref name="body"/>(first row, end row) over [0, <paramref name="rows"/>) in contiguous parts, one per thread when the rows hold enough elements to be worth it.</summary>
    internal static void ForRows(int rows, int rowLength, Action<int, int> body)
    {
        if (!WorthSharing((long)rows * rowLength) || rows < 2) body(0, rows);
        else Threading.For(rows, 2L * Math.Max(1, rowLength), body);
    }

    // The parallel paths are methods of their own, so the closures they make are not allocated on the serial path.
    private static void MapRowsInParts(float[] x, int offset, float[] y, int rows, int length, SpanRows kernel) =>
        Threading.For(rows, 2L * length, (r0, r1) => kernel(x.AsSpan(offset + r0 * length, (r1 - r0) * length), r1 - r0, y.AsSpan(r0 * length, (r1 - r0) * length)));

    private static void MapInParts(float[] x, int offset, float[] y, int size, SpanMap kernel) =>
        ForPieces(size, MapGrain, (start, length) => kernel(x.AsSpan(offset + start, length), y.AsSpan(start, length)));

    private static void MapGradInParts(float[] saved, int savedOffset, float[] grad, int gradOffset, float[] dx, int size, SpanGrad kernel) =>
        ForPieces(size, MapGrain, (start, length) => kernel(saved.AsSpan(savedOffset + start, length), grad.AsSpan(gradOffset + start, length), dx.AsSpan(start, length)));

    /// <summary>
    /// Runs <paramref name="body"/>(start, length) over [0, <paramref name="size"/>) in pieces of
    /// <paramref name="grain"/> elements (the last also takes the remainder), the pieces shared
    /// over the threads.
    /// </summary>
    internal static void ForPieces(int size, int grain, Action<int, int> body) =>
        Threading.For(size / grain, 2L * grain, (p0, p1) =>
        {
            int start = p0 * grain, end = p1 == size / grain ? size : p1 * grain;
            body(start, end - start);
        });
}
