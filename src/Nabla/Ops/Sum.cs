using Nabla.Autograd;

namespace Nabla;

/// <summary>A reduction kernel over a contiguous [outer, n, inner] block.</summary>
internal delegate void AxisReduction(ReadOnlySpan<float> src, int outer, int n, int inner, Span<float> dst);

public sealed partial class Tensor
{
    /// <summary>
    /// The sum over <paramref name="axes"/> (null: all axes). With <paramref name="keepDim"/>,
    /// reduced axes stay as size 1.
    /// </summary>
    public Tensor Sum(int[]? axes = null, bool keepDim = false)
    {
        int[] ax = Shapes.NormalizeAxes(axes, Rank, "Sum");
        var y = ReduceAxes(this, ax, keepDim, Kernels.Reduce.Sum);
        return ShouldRecord(this) ? y.Record(new SumBackward(this, ax, keepDim)) : y;
    }

    /// <summary>The sum over one axis.</summary>
    public Tensor Sum(int axis, bool keepDim = false) => Sum([axis], keepDim);

    /// <summary>The mean over <paramref name="axes"/> (null: all axes).</summary>
    public Tensor Mean(int[]? axes = null, bool keepDim = false)
    {
        int[] ax = Shapes.NormalizeAxes(axes, Rank, "Mean");
        int count = 1;
        foreach (int a in ax) count *= ShapeArray[a];
        // One op rather than a sum and a division (a loss's mean every step): the same arithmetic,
        // the sum divided by the count forward and the gradient divided by it backward.
        var y = ReduceAxes(this, ax, keepDim, Kernels.Reduce.Sum);
        System.Numerics.Tensors.TensorPrimitives.Divide(y.Data, count, y.Storage.AsSpan(y.Offset, y.Size));
        return ShouldRecord(this) ? y.Record(new SumBackward(this, ax, keepDim, count)) : y;
    }

    /// <summary>The mean over one axis.</summary>
    public Tensor Mean(int axis, bool keepDim = false) => Mean([axis], keepDim);

    /// <summary>
    /// The variance over <paramref name="axes"/> (null: all axes), dividing by N - <paramref name="correction"/>:
    /// 1 (the default, as PyTorch) gives the unbiased estimate, 0 the population variance.
    /// </summary>
    public Tensor Var(int[]? axes = null, bool keepDim = false, int correction = 1)
    {
        int[] ax = Shapes.NormalizeAxes(axes, Rank, "Var");
        int count = 1;
        foreach (int a in ax) count *= ShapeArray[a];
        Tensor centered = this - Mean(ax, keepDim: true);
        return (centered * centered).Sum(ax, keepDim) / Math.Max(count - correction, 0);
    }

    /// <summary>The variance over one axis.</summary>
    public Tensor Var(int axis, bool keepDim = false, int correction = 1) => Var([axis], keepDim, correction);

    /// <summary>
    /// Applies <paramref name="kernel"/> over the sorted <paramref name="axes"/>, each run of
    /// neighbouring axes in one pass, from the last run to the first; records nothing.
    /// </summary>
    internal static Tensor ReduceAxes(Tensor x, int[] axes, bool keepDim, AxisReduction kernel)
    {
        int[] shape = (int[])x.ShapeArray.Clone();
        ReadOnlySpan<float> current = x.Data;
        float[]? result = null;
        int end = axes.Length;
        while (end > 0)
        {
            int start = end - 1;
            while (start > 0 && axes[start - 1] == axes[start] - 1) start--;
            int first = axes[start], last = axes[end - 1];
            int outer = 1, n = 1, inner = 1;
            for (int i = 0; i < first; i++) outer *= shape[i];
            for (int i = first; i <= last; i++) n *= shape[i];
            for (int i = last + 1; i < shape.Length; i++) inner *= shape[i];
            result = new float[outer * inner];
            kernel(current, outer, n, inner, result);
            for (int i = first; i <= last; i++) shape[i] = 1;
            current = result;
            end = start;
        }
        int[] outShape = Shapes.Reduced(x.ShapeArray, axes, keepDim);
        return new Tensor(result ?? current.ToArray(), outShape);
    }

    /// <summary>The shape with reduced axes kept as 1, for broadcasting a reduced gradient back.</summary>
    internal int[] KeptShape(int[] axes) => Shapes.Reduced(ShapeArray, axes, keepDim: true);

    /// <summary>The gradient of a sum (or, with a <paramref name="divisor"/> other than 1, a mean): the upstream gradient spread over the reduced axes.</summary>
    private sealed class SumBackward(Tensor x, int[] axes, bool keepDim, int divisor = 1) : Node([x])
    {
        /// <inheritdoc/>
        public override string Name => divisor == 1 ? "SumBackward" : "MeanBackward";

        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor x = Input(0);
            Tensor g = keepDim ? grad : grad.Reshape(x.KeptShape(axes));
            if (divisor != 1) g /= divisor;
            return [g.Expand(x.ShapeArray)];
        }
    }
}
