using Nabla.Autograd;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// The maximum over <paramref name="axes"/> (null: all axes). The gradient is shared equally
    /// among tied maxima (as PyTorch's amax).
    /// </summary>
    public Tensor Max(int[]? axes = null, bool keepDim = false) => Extreme(axes, keepDim, max: true);

    /// <summary>The maximum over one axis.</summary>
    public Tensor Max(int axis, bool keepDim = false) => Max([axis], keepDim);

    /// <summary>The minimum over <paramref name="axes"/> (null: all axes); ties share the gradient.</summary>
    public Tensor Min(int[]? axes = null, bool keepDim = false) => Extreme(axes, keepDim, max: false);

    /// <summary>The minimum over one axis.</summary>
    public Tensor Min(int axis, bool keepDim = false) => Min([axis], keepDim);

    private Tensor Extreme(int[]? axes, bool keepDim, bool max)
    {
        string op = max ? "Max" : "Min";
        int[] ax = Shapes.NormalizeAxes(axes, Rank, op);
        foreach (int a in ax)
        {
            if (ShapeArray[a] == 0) throw new ArgumentException($"{op}: axis {a} of shape {ShapeString} is empty.");
        }
        var y = ReduceAxes(this, ax, keepDim, max ? Kernels.Reduce.Max : Kernels.Reduce.Min);
        return ShouldRecord(this) ? y.Record(new MaxMinBackward(this, y, ax, keepDim)) : y;
    }

    private sealed class MaxMinBackward(Tensor x, Tensor y, int[] axes, bool keepDim) : Node([x], y)
    {
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor x = Input(0);
            int[] kept = x.KeptShape(axes);
            Tensor y = keepDim ? Saved[0] : Saved[0].Reshape(kept);
            Tensor g = keepDim ? grad : grad.Reshape(kept);
            Tensor mask = x.Eq(y);
            Tensor count = mask.Sum(axes, keepDim: true);
            return [mask * (g / count)];
        }
    }
}
