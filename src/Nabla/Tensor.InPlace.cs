using Nabla.Autograd;
using System.Numerics.Tensors;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// this -= other, in place (other broadcast to this shape). For weight updates: allowed
    /// only on tensors not produced by a recorded op, and only with grad mode off or on
    /// tensors that do not require grad, so a recorded graph is never changed behind its back.
    /// </summary>
    public void SubInPlace(Tensor other) => InPlace(other, "SubInPlace", static (d, s) => TensorPrimitives.Subtract(d, s, d));

    /// <summary>this += other, in place (other broadcast to this shape). Same rules as <see cref="SubInPlace"/>.</summary>
    public void AddInPlace(Tensor other) => InPlace(other, "AddInPlace", static (d, s) => TensorPrimitives.Add(d, s, d));

    /// <summary>Copies <paramref name="source"/> (broadcast to this shape) into this tensor. Same rules as <see cref="SubInPlace"/>.</summary>
    public void CopyFrom(Tensor source) => InPlace(source, "CopyFrom", static (d, s) => s.CopyTo(d));

    private delegate void InPlaceKernel(Span<float> destination, ReadOnlySpan<float> source);

    private void InPlace(Tensor other, string op, InPlaceKernel kernel)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (GradFn is not null)
            throw new InvalidOperationException($"{op}: the tensor was produced by {GradFn.Name}; in-place changes are only allowed on leaves.");
        if (RequiresGrad && GradMode.IsEnabled)
            throw new InvalidOperationException($"{op}: the tensor requires grad; update it inside a Tensor.NoGrad() scope.");
        if (!IsContiguous)
            throw new InvalidOperationException($"{op}: the tensor {ShapeString} is a non-contiguous view; in-place updates need contiguous storage.");
        int[] shape = Shapes.Broadcast(ShapeArray, other.ShapeArray, op);
        if (!Shapes.Equal(shape, ShapeArray))
            throw new ArgumentException($"{op}: a tensor of shape {other.ShapeString} cannot be broadcast into shape {ShapeString}.");
        Tensor src = Shapes.Equal(other.ShapeArray, ShapeArray) && other.IsContiguous ? other : other.Expand(ShapeArray).ContiguousCopy();
        kernel(Storage.AsSpan(Offset, Size), src.Storage.AsSpan(src.Offset, Size));
    }
}
