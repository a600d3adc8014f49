using Nabla.Autograd;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// Picks entries along <paramref name="axis"/> by integer <paramref name="indices"/> of any
    /// shape S: the result has shape x.shape[..axis] + S + x.shape[axis+1..]. An embedding
    /// lookup is <c>weights.IndexSelect(0, tokenIds)</c>. The gradient adds back into the
    /// picked rows (repeated indices accumulate).
    /// </summary>
    public Tensor IndexSelect(int axis, Tensor indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        int ax = Shapes.NormalizeAxis(axis, Rank, "IndexSelect");
        int[] idx = indices.ToIndices(ShapeArray[ax], new IndexUse("IndexSelect", ax, this));
        var (outer, n, inner) = AxisBlocks(ax);
        int[] shape = [.. ShapeArray.AsSpan(0, ax), .. indices.ShapeArray, .. ShapeArray.AsSpan(ax + 1)];
        var y = new Tensor(shape);
        ReadOnlySpan<float> src = Data;
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < idx.Length; j++)
            {
                src.Slice((o * n + idx[j]) * inner, inner).CopyTo(y.Storage.AsSpan((o * idx.Length + j) * inner, inner));
            }
        }
        return ShouldRecord(this) ? y.Record(new IndexSelectBackward(this, ax, idx)) : y;
    }

    /// <summary>
    /// Reads the elements as integer indices in [0, <paramref name="bound"/>), or throws naming
    /// <paramref name="what"/> and the first bad value.
    /// </summary>
    internal int[] ToIndices(int bound, IndexUse what)
    {
        var result = new int[Size];
        ToIndices(bound, what, result);
        return result;
    }

    /// <summary>As <see cref="ToIndices(int, IndexUse)"/>, into the first <see cref="Size"/> elements of <paramref name="result"/>.</summary>
    internal void ToIndices(int bound, IndexUse what, int[] result)
    {
        ReadOnlySpan<float> values = Data;
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            int k = (int)v;
            if (k != v || k < 0 || k >= bound)
                throw new IndexOutOfRangeException($"{what}: index {v} at position {i} is not an integer in [0, {bound}).");
            result[i] = k;
        }
    }

    /// <summary>
    /// What a tensor of indices is for, named in the error when one is out of range: the op, the
    /// axis (or -1) and the tensor indexed. The message is built only when it is thrown, so a
    /// training step does not format a string per op.
    /// </summary>
    internal readonly record struct IndexUse(string Op, int Axis = -1, Tensor? Of = null)
    {
        /// <inheritdoc/>
        public override string ToString() =>
            Op + (Axis >= 0 ? $" on axis {Axis}" : "") + (Of is null ? "" : $" of shape {Of.ShapeString}");
    }

    private sealed class IndexSelectBackward(Tensor x, int axis, int[] idx) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor x = Input(0);
            var (outer, n, inner) = x.AxisBlocks(axis);
            var dx = new Tensor((int[])x.ShapeArray.Clone());
            ReadOnlySpan<float> g = grad.Data;
            for (int o = 0; o < outer; o++)
            {
                for (int j = 0; j < idx.Length; j++)
                {
                    Span<float> row = dx.Storage.AsSpan((o * n + idx[j]) * inner, inner);
                    System.Numerics.Tensors.TensorPrimitives.Add(row, g.Slice((o * idx.Length + j) * inner, inner), row);
                }
            }
            return [dx];
        }
    }
}
