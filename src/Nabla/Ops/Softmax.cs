using Nabla.Autograd;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>Softmax along <paramref name="axis"/> (default the last): exp(x) / sum(exp(x)), computed stably.</summary>
    public Tensor Softmax(int axis = -1)
    {
        var (outer, n, inner) = AxisBlocks(Shapes.NormalizeAxis(axis, Rank, "Softmax"));
        var y = MapRows(this, outer, (x, rows, y) => Kernels.Softmax.Forward(x, rows, n, inner, y));
        return ShouldRecord(this) ? y.Record(new SoftmaxBackward(this, y, axis)) : y;
    }

    /// <summary>Log-softmax along <paramref name="axis"/> (default the last): x - log(sum(exp(x))), computed stably.</summary>
    public Tensor LogSoftmax(int axis = -1)
    {
        var (outer, n, inner) = AxisBlocks(Shapes.NormalizeAxis(axis, Rank, "LogSoftmax"));
        var y = MapRows(this, outer, (x, rows, y) => Kernels.Softmax.LogForward(x, rows, n, inner, y));
        return ShouldRecord(this) ? y.Record(new LogSoftmaxBackward(this, y, axis)) : y;
    }

    /// <summary>Views the shape as [outer, n, inner] around one axis.</summary>
    internal (int Outer, int N, int Inner) AxisBlocks(int axis)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= ShapeArray[i];
        for (int i = axis + 1; i < Rank; i++) inner *= ShapeArray[i];
        return (outer, ShapeArray[axis], inner);
    }

    private sealed class SoftmaxBackward(Tensor x, Tensor y, int axis) : Node([x], y)
    {
        // dx = y * (g - sum(g * y)) along the axis: one pass per row over the last axis, else three ops.
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor y = Saved[0];
            if (Shapes.NormalizeAxis(axis, y.Rank, "Softmax") != y.Rank - 1 || y.Size == 0) return [y * (grad - (grad * y).Sum([axis], keepDim: true))];
            int n = y.ShapeArray[^1], rows = y.Size / n;
            float[] g = grad.DenseArray();
            var dx = ForOverwrite((int[])y.ShapeArray.Clone());
            if (!WorthSharing((long)rows * n)) LastAxisGrad(y.Storage, g, dx.Storage, n, 0, rows);
            else LastAxisGradInParts(y.Storage, g, dx.Storage, n, rows);
            return [dx];
        }

        private static void LastAxisGrad(float[] y, float[] g, float[] dx, int n, int r0, int r1)
        {
            for (int r = r0; r < r1; r++)
            {
                Kernels.Softmax.RowBackward(y.AsSpan(r * n, n), g.AsSpan(r * n, n), dx.AsSpan(r * n, n));
            }
        }

        private static void LastAxisGradInParts(float[] y, float[] g, float[] dx, int n, int rows) =>
            ForRows(rows, 3 * n, (r0, r1) => LastAxisGrad(y, g, dx, n, r0, r1));
    }

    private sealed class LogSoftmaxBackward(Tensor x, Tensor y, int axis) : Node([x], y)
    {
        // dx = g - softmax(x) * sum(g) along the axis; softmax(x) = exp(y).
        protected internal override Tensor?[] Backward(Tensor grad) =>
            [grad - Saved[0].Exp() * grad.Sum([axis], keepDim: true)];
    }
}
