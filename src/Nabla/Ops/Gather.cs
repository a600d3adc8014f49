using Nabla.Autograd;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// PyTorch's gather: <c>out[i][j][k] = x[index[i][j][k]][j][k]</c> for axis 0 (and so on for
    /// other axes). <paramref name="index"/> has this tensor's rank, and each of its dimensions
    /// other than <paramref name="axis"/> is at most this tensor's. Picking the score of each
    /// sample's label is <c>scores.Gather(1, labels.Unsqueeze(1))</c>. The gradient scatters
    /// back, adding where indices repeat.
    /// </summary>
    public Tensor Gather(int axis, Tensor index)
    {
        ArgumentNullException.ThrowIfNull(index);
        int ax = Shapes.NormalizeAxis(axis, Rank, "Gather");
        if (index.Rank != Rank)
            throw new ArgumentException($"Gather: index of shape {index.ShapeString} must have the rank of the input {ShapeString}.");
        for (int d = 0; d < Rank; d++)
        {
            if (d != ax && index.ShapeArray[d] > ShapeArray[d])
                throw new ArgumentException($"Gather: index shape {index.ShapeString} exceeds input shape {ShapeString} in dimension {d}.");
        }
        int[] idx = index.ToIndices(ShapeArray[ax], new IndexUse("Gather", ax, this));
        int[] positions = GatherPositions(index.ShapeArray, ax, idx);
        var y = new Tensor((int[])index.ShapeArray.Clone());
        for (int i = 0; i < positions.Length; i++) y.Storage[i] = Storage[positions[i]];
        return ShouldRecord(this) ? y.Record(new GatherBackward(this, ax, idx, (int[])index.ShapeArray.Clone())) : y;
    }

    /// <summary>Storage position in this tensor of each gathered element.</summary>
    private int[] GatherPositions(int[] indexShape, int axis, int[] idx)
    {
        var positions = new int[idx.Length];
        Span<int> multi = stackalloc int[Rank];
        multi.Clear();
        for (int flat = 0; flat < idx.Length; flat++)
        {
            int pos = Offset;
            for (int d = 0; d < Rank; d++) pos += (d == axis ? idx[flat] : multi[d]) * Strides[d];
            positions[flat] = pos;
            for (int d = Rank - 1; d >= 0; d--)
            {
                if (++multi[d] < indexShape[d]) break;
                multi[d] = 0;
            }
        }
        return positions;
    }

    private sealed class GatherBackward(Tensor x, int axis, int[] idx, int[] indexShape) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor x = Input(0);
            var dx = new Tensor((int[])x.ShapeArray.Clone());
            // Positions computed in a contiguous tensor of x's shape (offset 0, row-major strides).
            int[] positions = dx.GatherPositions(indexShape, axis, idx);
            ReadOnlySpan<float> g = grad.Data;
            for (int i = 0; i < positions.Length; i++) dx.Storage[positions[i]] += g[i];
            return [dx];
        }
    }
}
