using Nabla.Autograd;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// Running sums along <paramref name="axis"/>: <c>y[..., i, ...] = x[..., 0, ...] + ... + x[..., i, ...]</c>
    /// (PyTorch's cumsum). The gradient is the running sum of the upstream gradient taken from the other end.
    /// </summary>
    public Tensor CumSum(int axis)
    {
        int ax = Shapes.NormalizeAxis(axis, Rank, "CumSum");
        var (outer, n, inner) = AxisBlocks(ax);
        var y = ForOverwrite((int[])ShapeArray.Clone());
        Scan(Data, y.Storage, outer, n, inner, reverse: false);
        return ShouldRecord(this) ? y.Record(new CumSumBackward(this, outer, n, inner)) : y;
    }

    /// <summary>Running sums over [outer, n, inner] blocks along n, from the start or (reverse) from the end.</summary>
    private static void Scan(ReadOnlySpan<float> x, Span<float> y, int outer, int n, int inner, bool reverse)
    {
        for (int o = 0; o < outer; o++)
        {
            int block = o * n * inner;
            for (int step = 0; step < n; step++)
            {
                int i = reverse ? n - 1 - step : step;
                int at = block + i * inner, previous = at + (reverse ? inner : -inner);
                for (int j = 0; j < inner; j++) y[at + j] = step == 0 ? x[at + j] : y[previous + j] + x[at + j];
            }
        }
    }

    private sealed class CumSumBackward(Tensor x, int outer, int n, int inner) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            var dx = ForOverwrite((int[])Input(0).ShapeArray.Clone());
            Scan(grad.Data, dx.Storage, outer, n, inner, reverse: true);
            return [dx];
        }
    }

    /// <summary>
    /// This tensor plus <paramref name="source"/> scattered along <paramref name="axis"/>: for axis 0,
    /// <c>y[index[i][j]][j] += source[i][j]</c> (PyTorch's scatter_add; repeated indices add up).
    /// <paramref name="index"/> has <paramref name="source"/>'s shape and this tensor's rank. The
    /// gradient reaches this tensor as it is and <paramref name="source"/> gathered from the same places.
    /// </summary>
    public Tensor ScatterAdd(int axis, Tensor index, Tensor source)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(source);
        int ax = Shapes.NormalizeAxis(axis, Rank, "ScatterAdd");
        if (index.Rank != Rank || !Shapes.Equal(index.ShapeArray, source.ShapeArray))
            throw new ArgumentException($"ScatterAdd: index {index.ShapeString} and source {source.ShapeString} must have one shape, of the rank of {ShapeString}.");
        for (int d = 0; d < Rank; d++)
        {
            if (d != ax && index.ShapeArray[d] > ShapeArray[d])
                throw new ArgumentException($"ScatterAdd: index shape {index.ShapeString} exceeds the tensor's shape {ShapeString} in dimension {d}.");
        }
        int[] idx = index.ToIndices(ShapeArray[ax], new IndexUse("ScatterAdd", ax, this));
        var y = ContiguousCopy();
        int[] positions = y.GatherPositions(index.ShapeArray, ax, idx);
        ReadOnlySpan<float> s = source.Data;
        for (int i = 0; i < positions.Length; i++) y.Storage[positions[i]] += s[i];
        return ShouldRecord(this, source) ? y.Record(new ScatterAddBackward(this, source, ax, index.Detach())) : y;
    }

    private sealed class ScatterAddBackward(Tensor x, Tensor source, int axis, Tensor index) : Node([x, source], index)
    {
        protected internal override Tensor?[] Backward(Tensor grad) =>
            [NeedsGrad(0) ? grad : null, NeedsGrad(1) ? grad.Detach().Gather(axis, Saved[0]) : null];
    }
}
