namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// This tensor with <paramref name="value"/> wherever <paramref name="mask"/> (broadcast to this
    /// shape) is non-zero, as PyTorch's masked_fill: attention's padding and causal masks fill with
    /// negative infinity before the softmax. The gradient flows to the elements not filled.
    /// </summary>
    public Tensor MaskedFill(Tensor mask, float value)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (!Shapes.Equal(Shapes.Broadcast(ShapeArray, mask.ShapeArray, "MaskedFill"), ShapeArray))
            throw new ArgumentException($"MaskedFill: mask {mask.ShapeString} must broadcast to the tensor's shape {ShapeString}.");
        return Where(mask, Scalar(value), this);
    }

    /// <summary>
    /// The upper triangle of the last two axes (PyTorch's triu): elements with column - row &gt;=
    /// <paramref name="diagonal"/> kept, the rest zero (never multiplied, so infinities below stay out).
    /// </summary>
    public Tensor Triu(int diagonal = 0) => Triangle(diagonal, upper: true);

    /// <summary>The lower triangle of the last two axes (PyTorch's tril): column - row &lt;= <paramref name="diagonal"/> kept.</summary>
    public Tensor Tril(int diagonal = 0) => Triangle(diagonal, upper: false);

    private Tensor Triangle(int diagonal, bool upper)
    {
        if (Rank < 2) throw new ArgumentException($"{(upper ? "Triu" : "Tril")} needs at least two dimensions, got {ShapeString}.");
        int rows = ShapeArray[^2], cols = ShapeArray[^1];
        return Where(TriangleMask(rows, cols, diagonal, upper), this, Scalar(0f));
    }

    /// <summary>A [rows, cols] tensor of ones where column - row &gt;= diagonal (upper) or &lt;= diagonal (lower), zeros elsewhere.</summary>
    internal static Tensor TriangleMask(int rows, int cols, int diagonal, bool upper)
    {
        var mask = new Tensor([rows, cols]);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                if (upper ? j - i >= diagonal : j - i <= diagonal) mask.Storage[i * cols + j] = 1f;
            }
        }
        return mask;
    }

    /// <summary>
    /// log(sum(exp(x))) along <paramref name="axis"/>, computed stably (the maximum taken out first,
    /// as PyTorch's logsumexp); its gradient is the softmax along that axis.
    /// </summary>
    public Tensor LogSumExp(int axis = -1, bool keepDim = false)
    {
        int ax = Shapes.NormalizeAxis(axis, Rank, "LogSumExp");
        Tensor max = Max(ax, keepDim: true).Detach();
        // A row of -inf (or +inf) would make x - max NaN: shift by 0 there instead.
        max = Where(max.Abs().Lt(float.PositiveInfinity), max, Scalar(0f));
        Tensor y = (this - max).Exp().Sum(ax, keepDim: true).Log() + max;
        return keepDim ? y : y.Squeeze(ax);
    }

    /// <summary>
    /// This tensor padded along <paramref name="axis"/> with <paramref name="before"/> and
    /// <paramref name="after"/> elements of <paramref name="value"/> (PyTorch's F.pad, constant mode, one axis).
    /// </summary>
    public Tensor Pad(int axis, int before, int after, float value = 0f)
    {
        int ax = Shapes.NormalizeAxis(axis, Rank, "Pad");
        if (before < 0 || after < 0) throw new ArgumentException($"Pad: sizes must be non-negative, got {before} and {after}.");
        if (before == 0 && after == 0) return this;
        var parts = new List<Tensor>(3);
        int[] shape = (int[])ShapeArray.Clone();
        if (before > 0)
        {
            shape[ax] = before;
            parts.Add(Full((int[])shape.Clone(), value));
        }
        parts.Add(this);
        if (after > 0)
        {
            shape[ax] = after;
            parts.Add(Full(shape, value));
        }
        return Concat(parts, ax);
    }

    /// <summary>Shifts the elements along <paramref name="axis"/> by <paramref name="shift"/> places, those pushed off the end coming back at the start (PyTorch's roll).</summary>
    public Tensor Roll(int shift, int axis)
    {
        int ax = Shapes.NormalizeAxis(axis, Rank, "Roll");
        int n = ShapeArray[ax];
        if (n == 0) return this;
        int s = ((shift % n) + n) % n;
        return s == 0 ? this : Concat([Slice(ax, n - s), Slice(ax, 0, n - s)], ax);
    }
}
