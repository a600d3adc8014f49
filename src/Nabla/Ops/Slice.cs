using Nabla.Autograd;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// Elements start, start + step, ... before end along <paramref name="axis"/>, as a view.
    /// Negative start and end count from the end; both are clipped to the dimension, as in
    /// Python slicing. The step must be positive.
    /// </summary>
    public Tensor Slice(int axis, int start, int? end = null, int step = 1)
    {
        int ax = Shapes.NormalizeAxis(axis, Rank, "Slice");
        if (step <= 0) throw new ArgumentOutOfRangeException(nameof(step), $"Slice: step must be positive, not {step}.");
        int n = ShapeArray[ax];
        int s = Math.Clamp(start < 0 ? start + n : start, 0, n);
        int e = Math.Clamp(end is int en ? (en < 0 ? en + n : en) : n, 0, n);
        int count = e > s ? (e - s + step - 1) / step : 0;
        int[] shape = (int[])ShapeArray.Clone();
        int[] strides = (int[])Strides.Clone();
        shape[ax] = count;
        strides[ax] = Strides[ax] * step;
        var y = new Tensor(Storage, count == 0 ? Offset : Offset + s * Strides[ax], shape, strides);
        return ShouldRecord(this) ? y.Record(new SliceBackward(this, ax, s, step)) : y;
    }

    /// <summary>The sub-tensor at <paramref name="index"/> along <paramref name="axis"/>, with that dimension removed. A view.</summary>
    public Tensor Select(int axis, int index)
    {
        int ax = Shapes.NormalizeAxis(axis, Rank, "Select");
        int n = ShapeArray[ax];
        int i = index < 0 ? index + n : index;
        if (i < 0 || i >= n)
            throw new IndexOutOfRangeException($"Select: index {index} is out of range for axis {axis} of size {n} (shape {ShapeString}).");
        return Slice(ax, i, i + 1).Squeeze(ax);
    }

    private sealed class SliceBackward(Tensor x, int axis, int start, int step) : Node([x])
    {
        protected internal override bool AccumulatesInPlace => true;

        protected internal override void AccumulateInto(Tensor target, Tensor grad)
        {
            if (grad.Size == 0) return;
            int[] strides = (int[])target.Strides.Clone();
            int offset = target.Offset + start * target.Strides[axis];
            strides[axis] *= step;
            Kernels.Strided.AddInto(grad.Storage, grad.Offset, grad.Strides, target.Storage, offset, strides, grad.ShapeArray);
        }

        // Scatter the gradient into a zero tensor of the input's shape at the sliced positions.
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor x = Input(0);
            var dx = new Tensor((int[])x.ShapeArray.Clone());
            int[] strides = (int[])dx.Strides.Clone();
            int offset = grad.Size == 0 ? 0 : start * dx.Strides[axis];
            strides[axis] *= step;
            Kernels.Strided.Copy(grad.Storage, grad.Offset, grad.Strides, dx.Storage, offset, strides, grad.ShapeArray);
            return [dx];
        }
    }
}
