using Nabla.Autograd;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>Joins tensors along an existing <paramref name="axis"/>; all other dimensions must match.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException("Concat: no tensors given.");
        Tensor first = tensors[0];
        int ax = Shapes.NormalizeAxis(axis, first.Rank, "Concat");
        int total = 0;
        for (int t = 0; t < tensors.Count; t++)
        {
            Tensor x = tensors[t];
            bool fits = x.Rank == first.Rank;
            for (int i = 0; fits && i < x.Rank; i++) fits = i == ax || x.ShapeArray[i] == first.ShapeArray[i];
            if (!fits)
                throw new ArgumentException($"Concat: tensor {t} has shape {x.ShapeString}, which does not match {first.ShapeString} outside axis {ax}.");
            total += x.ShapeArray[ax];
        }
        int[] shape = (int[])first.ShapeArray.Clone();
        shape[ax] = total;
        var y = new Tensor(shape);
        int offset = 0;
        var sizes = new int[tensors.Count];
        for (int t = 0; t < tensors.Count; t++)
        {
            Tensor x = tensors[t];
            sizes[t] = x.ShapeArray[ax];
            Kernels.Strided.Copy(x.Storage, x.Offset, x.Strides, y.Storage, offset * y.Strides[ax], y.Strides, x.ShapeArray);
            offset += sizes[t];
        }
        Tensor[] inputs = [.. tensors];
        return ShouldRecord(inputs) ? y.Record(new ConcatBackward(inputs, ax, sizes)) : y;
    }

    /// <summary>Joins tensors of one shape along a new <paramref name="axis"/>.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException("Stack: no tensors given.");
        for (int t = 1; t < tensors.Count; t++)
        {
            if (!Shapes.Equal(tensors[t].Shape, tensors[0].Shape))
                throw new ArgumentException($"Stack: tensor {t} has shape {tensors[t].ShapeString} but tensor 0 has {tensors[0].ShapeString}.");
        }
        int ax = Shapes.NormalizeAxis(axis, tensors[0].Rank + 1, "Stack");
        var parts = new Tensor[tensors.Count];
        for (int t = 0; t < parts.Length; t++) parts[t] = tensors[t].Unsqueeze(ax);
        return Concat(parts, ax);
    }

    private sealed class ConcatBackward(Tensor[] inputs, int axis, int[] sizes) : Node(inputs)
    {
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            var grads = new Tensor?[sizes.Length];
            int offset = 0;
            for (int t = 0; t < sizes.Length; t++)
            {
                if (NeedsGrad(t)) grads[t] = grad.Slice(axis, offset, offset + sizes[t]);
                offset += sizes[t];
            }
            return grads;
        }
    }
}
