using Nabla.Autograd;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>Reorders the dimensions: result dimension i is this tensor's dimension axes[i]. A view.</summary>
    public Tensor Permute(params int[] axes)
    {
        if (axes.Length != Rank)
            throw new ArgumentException($"Permute: {axes.Length} axes given for a tensor of rank {Rank} (shape {ShapeString}).");
        var seen = new bool[Rank];
        var shape = new int[Rank];
        var strides = new int[Rank];
        var order = new int[Rank];
        for (int i = 0; i < Rank; i++)
        {
            int a = Shapes.NormalizeAxis(axes[i], Rank, "Permute");
            if (seen[a]) throw new ArgumentException($"Permute: axis {a} appears twice in {Shapes.Format(axes)}.");
            seen[a] = true;
            order[i] = a;
            shape[i] = ShapeArray[a];
            strides[i] = Strides[a];
        }
        var y = new Tensor(Storage, Offset, shape, strides);
        return ShouldRecord(this) ? y.Record(new PermuteBackward(this, order)) : y;
    }

    /// <summary>Swaps two dimensions. A view.</summary>
    public Tensor Transpose(int axis0, int axis1)
    {
        int a0 = Shapes.NormalizeAxis(axis0, Rank, "Transpose"), a1 = Shapes.NormalizeAxis(axis1, Rank, "Transpose");
        var order = new int[Rank];
        for (int i = 0; i < Rank; i++) order[i] = i;
        (order[a0], order[a1]) = (order[a1], order[a0]);
        return Permute(order);
    }

    /// <summary>All dimensions reversed (the matrix transpose for 2-D). A view.</summary>
    public Tensor T
    {
        get
        {
            var order = new int[Rank];
            for (int i = 0; i < Rank; i++) order[i] = Rank - 1 - i;
            return Permute(order);
        }
    }

    /// <summary>This tensor if contiguous, else a contiguous copy; gradients pass straight through.</summary>
    public Tensor Contiguous()
    {
        if (IsContiguous) return this;
        var y = ContiguousCopy();
        return ShouldRecord(this) ? y.Record(new ContiguousBackward(this)) : y;
    }

    private sealed class PermuteBackward(Tensor x, int[] order) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            var inverse = new int[order.Length];
            for (int i = 0; i < order.Length; i++) inverse[order[i]] = i;
            return [grad.Permute(inverse)];
        }
    }

    private sealed class ContiguousBackward(Tensor x) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad) => [grad];
    }
}
