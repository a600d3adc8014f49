using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// A view of this tensor broadcast to <paramref name="shape"/> (stride 0 along the expanded
    /// dimensions, no copy). Dimensions of size 1 may grow; new leading dimensions may be added.
    /// Its gradient is the sum back to this tensor's shape.
    /// </summary>
    public Tensor Expand(params int[] shape)
    {
        int[] target = Shapes.Check(shape, "Expand");
        if (target.Length < Rank)
            throw new ArgumentException($"Expand: cannot expand shape {ShapeString} to the lower rank {Shapes.Format(target)}.");
        int lead = target.Length - Rank;
        for (int i = 0; i < Rank; i++)
        {
            if (ShapeArray[i] != 1 && ShapeArray[i] != target[lead + i])
                throw new ArgumentException($"Expand: cannot expand shape {ShapeString} to {Shapes.Format(target)} (dimension {i}: {ShapeArray[i]} vs {target[lead + i]}).");
        }
        var y = new Tensor(Storage, Offset, target, BroadcastStrides(target));
        return ShouldRecord(this) ? y.Record(new ExpandBackward(this)) : y;
    }

    private sealed class ExpandBackward(Tensor x) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad) => [grad.SumTo(Input(0).ShapeArray)];
    }

    /// <summary>
    /// Sums a broadcast result back to <paramref name="shape"/>: the reduction that is the
    /// gradient of broadcasting. Returns this tensor when the shapes already match.
    /// </summary>
    internal Tensor SumTo(int[] shape)
    {
        if (Shapes.Equal(ShapeArray, shape)) return this;
        int lead = Rank - shape.Length;
        var axes = new List<int>();
        for (int i = 0; i < Rank; i++)
        {
            if (i < lead || (shape[i - lead] == 1 && ShapeArray[i] != 1)) axes.Add(i);
        }
        return Sum(axes.ToArray(), keepDim: true).Reshape(shape);
    }

    /// <summary>Elementwise <typeparamref name="TOp"/> with NumPy broadcasting; records nothing.</summary>
    internal static Tensor BroadcastBinary<TOp>(Tensor a, Tensor b, string op) where TOp : IBinaryOp
    {
        int[] shape = Shapes.Broadcast(a.ShapeArray, b.ShapeArray, op);
        var y = ForOverwrite(shape);
        if (WorthSharing(y.Size, CheapGrain) && a.IsContiguous && b.IsContiguous && a.Size == y.Size && b.Size == y.Size)
            BinaryInParts<TOp>(a.Storage, a.Offset, b.Storage, b.Offset, y.Storage, y.Size);
        else Elementwise.Binary<TOp>(shape, a.Storage, a.Offset, a.BroadcastStrides(shape), b.Storage, b.Offset, b.BroadcastStrides(shape), y.Storage);
        return y;
    }

    /// <summary>Two operands of the output's shape, in pieces of <see cref="CheapGrain"/> elements over the threads (element by element: the same bits for any split).</summary>
    private static void BinaryInParts<TOp>(float[] a, int aOffset, float[] b, int bOffset, float[] y, int size) where TOp : IBinaryOp =>
        ForPieces(size, CheapGrain, (start, length) => Elementwise.Binary<TOp>([length], a, aOffset + start, [1], b, bOffset + start, [1], y.AsSpan(start, length)));
}
