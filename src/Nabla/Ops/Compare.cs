using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    // Comparisons give 1 where true and 0 where false, broadcast, and are never differentiated.

    /// <summary>1 where this == other, else 0.</summary>
    public Tensor Eq(Tensor other) => BroadcastBinary<EqualOp>(this, other, "Eq");

    /// <summary>1 where this == value, else 0.</summary>
    public Tensor Eq(float value) => Eq(Scalar(value));

    /// <summary>1 where this != other, else 0.</summary>
    public Tensor Ne(Tensor other) => BroadcastBinary<NotEqualOp>(this, other, "Ne");

    /// <summary>1 where this != value, else 0.</summary>
    public Tensor Ne(float value) => Ne(Scalar(value));

    /// <summary>1 where this &gt; other, else 0.</summary>
    public Tensor Gt(Tensor other) => BroadcastBinary<GreaterOp>(this, other, "Gt");

    /// <summary>1 where this &gt; value, else 0.</summary>
    public Tensor Gt(float value) => Gt(Scalar(value));

    /// <summary>1 where this &gt;= other, else 0.</summary>
    public Tensor Ge(Tensor other) => BroadcastBinary<GreaterEqualOp>(this, other, "Ge");

    /// <summary>1 where this &gt;= value, else 0.</summary>
    public Tensor Ge(float value) => Ge(Scalar(value));

    /// <summary>1 where this &lt; other, else 0.</summary>
    public Tensor Lt(Tensor other) => BroadcastBinary<LessOp>(this, other, "Lt");

    /// <summary>1 where this &lt; value, else 0.</summary>
    public Tensor Lt(float value) => Lt(Scalar(value));

    /// <summary>1 where this &lt;= other, else 0.</summary>
    public Tensor Le(Tensor other) => BroadcastBinary<LessEqualOp>(this, other, "Le");

    /// <summary>1 where this &lt;= value, else 0.</summary>
    public Tensor Le(float value) => Le(Scalar(value));

    /// <inheritdoc cref="Gt(Tensor)"/>
    public static Tensor operator >(Tensor a, Tensor b) => a.Gt(b);

    /// <inheritdoc cref="Lt(Tensor)"/>
    public static Tensor operator <(Tensor a, Tensor b) => a.Lt(b);

    /// <inheritdoc cref="Ge(Tensor)"/>
    public static Tensor operator >=(Tensor a, Tensor b) => a.Ge(b);

    /// <inheritdoc cref="Le(Tensor)"/>
    public static Tensor operator <=(Tensor a, Tensor b) => a.Le(b);

    /// <inheritdoc cref="Gt(float)"/>
    public static Tensor operator >(Tensor a, float b) => a.Gt(b);

    /// <inheritdoc cref="Lt(float)"/>
    public static Tensor operator <(Tensor a, float b) => a.Lt(b);

    /// <inheritdoc cref="Ge(float)"/>
    public static Tensor operator >=(Tensor a, float b) => a.Ge(b);

    /// <inheritdoc cref="Le(float)"/>
    public static Tensor operator <=(Tensor a, float b) => a.Le(b);

    /// <summary>
    /// Index of the largest element along <paramref name="axis"/> (null: over the flattened
    /// tensor), as a float tensor of integer values; the first on ties.
    /// </summary>
    public Tensor ArgMax(int? axis = null, bool keepDim = false) => ArgExtreme(axis, keepDim, max: true);

    /// <summary>Index of the smallest element along <paramref name="axis"/> (null: flattened); the first on ties.</summary>
    public Tensor ArgMin(int? axis = null, bool keepDim = false) => ArgExtreme(axis, keepDim, max: false);

    private Tensor ArgExtreme(int? axis, bool keepDim, bool max)
    {
        string op = max ? "ArgMax" : "ArgMin";
        if (Size == 0) throw new ArgumentException($"{op}: the tensor {ShapeString} is empty.");
        if (axis is null)
        {
            Tensor flat = Reshape(-1).ArgExtreme(0, false, max);
            return keepDim ? flat.Reshape([.. Enumerable.Repeat(1, Rank)]) : flat;
        }
        int ax = Shapes.NormalizeAxis(axis.Value, Rank, op);
        var (outer, n, inner) = AxisBlocks(ax);
        var idx = new int[outer * inner];
        Reduce.ArgExtreme(Data, outer, n, inner, idx, max);
        var y = new Tensor(Shapes.Reduced(ShapeArray, [ax], keepDim));
        for (int i = 0; i < idx.Length; i++) y.Storage[i] = idx[i];
        return y;
    }
}
