using System.Numerics.Tensors;
using Nabla.Autograd;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// Causal attention weights in one op: softmax(<paramref name="scale"/> x) over the last axis of
    /// scores [..., Tq, Tk], where query i sees keys 0 .. i + (Tk - Tq) and the keys after it get
    /// weight 0; the same as scaling, filling the upper triangle with -inf and a softmax, in one pass
    /// over each row forward and one backward (instead of three ops and their rules), split over the
    /// threads by rows. Needs Tk &gt;= Tq, so that every query sees at least one key.
    /// </summary>
    internal Tensor ScaledCausalSoftmax(float scale)
    {
        if (Rank < 2 || ShapeArray[^1] < ShapeArray[^2])
            throw new ArgumentException($"ScaledCausalSoftmax: scores [..., Tq, Tk] with Tk >= Tq, got {ShapeString}.");
        int tq = ShapeArray[^2], tk = ShapeArray[^1], rows = Size / Math.Max(1, tk);
        Tensor x = IsContiguous ? this : ContiguousCopy();
        var y = ForOverwrite((int[])ShapeArray.Clone());
        if (!WorthSharing((long)rows * tk)) CausalRows(x.Storage, x.Offset, y.Storage, tq, tk, scale, 0, rows);
        else CausalRowsInParts(x.Storage, x.Offset, y.Storage, tq, tk, scale, rows);
        return ShouldRecord(this) ? y.Record(new ScaledCausalSoftmaxBackward(this, y, scale)) : y;
    }

    /// <summary>Keys row r of the scores may see: up to its query's index plus Tk - Tq.</summary>
    private static int CausalKeys(int r, int tq, int tk) => r % tq + tk - tq + 1;

    private static void CausalRows(float[] x, int offset, float[] y, int tq, int tk, float scale, int r0, int r1)
    {
        for (int r = r0; r < r1; r++)
        {
            int seen = CausalKeys(r, tq, tk);
            Span<float> o = y.AsSpan(r * tk, tk);
            Span<float> live = o[..seen];
            TensorPrimitives.Multiply(x.AsSpan(offset + r * tk, seen), scale, live);
            Kernels.Softmax.Forward(live, 1, seen, 1, live);
            o[seen..].Clear();
        }
    }

    private static void CausalRowsInParts(float[] x, int offset, float[] y, int tq, int tk, float scale, int rows) =>
        ForRows(rows, 4 * tk, (r0, r1) => CausalRows(x, offset, y, tq, tk, scale, r0, r1));

    private sealed class ScaledCausalSoftmaxBackward(Tensor x, Tensor y, float scale) : Node([x], y)
    {
        // dx = scale y (g - sum(g y)) along the row; zero where the weight is (the masked keys).
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor y = Saved[0];
            int tq = y.ShapeArray[^2], tk = y.ShapeArray[^1], rows = y.Size / Math.Max(1, tk);
            float[] g = grad.DenseArray();
            var dx = ForOverwrite((int[])y.ShapeArray.Clone());
            if (!WorthSharing((long)rows * tk)) GradRows(y.Storage, g, dx.Storage, tq, tk, scale, 0, rows);
            else GradRowsInParts(y.Storage, g, dx.Storage, tq, tk, scale, rows);
            return [dx];
        }

        private static void GradRows(float[] y, float[] g, float[] dx, int tq, int tk, float scale, int r0, int r1)
        {
            for (int r = r0; r < r1; r++)
            {
                int seen = CausalKeys(r, tq, tk);
                Span<float> o = dx.AsSpan(r * tk, tk), live = o[..seen];
                Kernels.Softmax.RowBackward(y.AsSpan(r * tk, seen), g.AsSpan(r * tk, seen), live);
                TensorPrimitives.Multiply(live, scale, live);
                o[seen..].Clear();
            }
        }

        private static void GradRowsInParts(float[] y, float[] g, float[] dx, int tq, int tk, float scale, int rows) =>
            ForRows(rows, 4 * tk, (r0, r1) => GradRows(y, g, dx, tq, tk, scale, r0, r1));
    }
}
