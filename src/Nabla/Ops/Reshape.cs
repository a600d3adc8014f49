using Nabla.Autograd;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// The same elements in a new shape; one dimension may be -1 and is inferred. Shares
    /// storage when this tensor is contiguous, else copies.
    /// </summary>
    public Tensor Reshape(params int[] shape)
    {
        int[] target = InferShape(shape);
        // A copy is made in the new shape, so the result owns it (and a step scope recycles it).
        Tensor y = IsContiguous ? new Tensor(Storage, Offset, target, Shapes.ContiguousStrides(target)) : ContiguousCopy(target);
        return ShouldRecord(this) ? y.Record(new ReshapeBackward(this)) : y;
    }

    /// <summary>Flattens dimensions <paramref name="startAxis"/> to <paramref name="endAxis"/> (inclusive) into one.</summary>
    public Tensor Flatten(int startAxis = 0, int endAxis = -1)
    {
        if (Rank == 0) return Reshape(1);
        int s = Shapes.NormalizeAxis(startAxis, Rank, "Flatten"), e = Shapes.NormalizeAxis(endAxis, Rank, "Flatten");
        if (s > e) throw new ArgumentException($"Flatten: start axis {startAxis} comes after end axis {endAxis} for shape {ShapeString}.");
        var shape = new List<int>();
        for (int i = 0; i < s; i++) shape.Add(ShapeArray[i]);
        int merged = 1;
        for (int i = s; i <= e; i++) merged *= ShapeArray[i];
        shape.Add(merged);
        for (int i = e + 1; i < Rank; i++) shape.Add(ShapeArray[i]);
        return Reshape([.. shape]);
    }

    /// <summary>Removes dimension <paramref name="axis"/>, which must have size 1; with no axis, removes every size-1 dimension.</summary>
    public Tensor Squeeze(int? axis = null)
    {
        if (axis is int a)
        {
            int ax = Shapes.NormalizeAxis(a, Rank, "Squeeze");
            if (ShapeArray[ax] != 1) throw new ArgumentException($"Squeeze: axis {a} of shape {ShapeString} has size {ShapeArray[ax]}, not 1.");
            var shape = new List<int>(ShapeArray);
            shape.RemoveAt(ax);
            return Reshape([.. shape]);
        }
        return Reshape([.. ShapeArray.Where(d => d != 1)]);
    }

    /// <summary>Inserts a dimension of size 1 at <paramref name="axis"/> (negative counts from the end of the result).</summary>
    public Tensor Unsqueeze(int axis)
    {
        int ax = Shapes.NormalizeAxis(axis, Rank + 1, "Unsqueeze");
        var shape = new List<int>(ShapeArray);
        shape.Insert(ax, 1);
        return Reshape([.. shape]);
    }

    private int[] InferShape(int[] shape)
    {
        int unknown = -1;
        long known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1)
            {
                if (unknown >= 0) throw new ArgumentException($"Reshape: only one dimension can be -1 in {Shapes.Format(shape)}.");
                unknown = i;
            }
            else if (shape[i] < 0)
            {
                throw new ArgumentException($"Reshape: invalid dimension {shape[i]} in {Shapes.Format(shape)}.");
            }
            else
            {
                known *= shape[i];
            }
        }
        int[] result = (int[])shape.Clone();
        if (unknown >= 0)
        {
            if (known == 0 || Size % known != 0)
                throw new ArgumentException($"Reshape: cannot reshape {ShapeString} ({Size} elements) to {Shapes.Format(shape)}.");
            result[unknown] = (int)(Size / known);
        }
        else if (known != Size)
        {
            throw new ArgumentException($"Reshape: cannot reshape {ShapeString} ({Size} elements) to {Shapes.Format(shape)} ({known} elements).");
        }
        return Shapes.Check(result, "Reshape");
    }

    private sealed class ReshapeBackward(Tensor x) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad) => [grad.Reshape(Input(0).ShapeArray)];
    }
}
