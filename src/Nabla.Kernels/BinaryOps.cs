using System.Numerics.Tensors;

namespace Nabla.Kernels;

/// <summary>
/// An elementwise binary operation, in the style of TensorPrimitives' operator structs: one
/// scalar form and three span forms (both spans, span and scalar, scalar and span). The
/// broadcasting skeleton in <see cref="Elementwise.Binary{TOp}"/> is specialised per op by the JIT.
/// </summary>
public interface IBinaryOp
{
    /// <summary>Applies the op to two scalars.</summary>
    static abstract float Invoke(float a, float b);
    /// <summary>Applies the op element by element to two spans of equal length.</summary>
    static abstract void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst);
    /// <summary>Applies the op to each element of <paramref name="a"/> and the scalar <paramref name="b"/>.</summary>
    static abstract void Invoke(ReadOnlySpan<float> a, float b, Span<float> dst);
    /// <summary>Applies the op to the scalar <paramref name="a"/> and each element of <paramref name="b"/>.</summary>
    static abstract void Invoke(float a, ReadOnlySpan<float> b, Span<float> dst);
}

/// <summary>a + b.</summary>
public readonly struct AddOp : IBinaryOp
{
    /// <inheritdoc/>
    public static float Invoke(float a, float b) => a + b;
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst) => TensorPrimitives.Add(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> dst) => TensorPrimitives.Add(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> dst) => TensorPrimitives.Add(b, a, dst);
}

/// <summary>a - b.</summary>
public readonly struct SubtractOp : IBinaryOp
{
    /// <inheritdoc/>
    public static float Invoke(float a, float b) => a - b;
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst) => TensorPrimitives.Subtract(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> dst) => TensorPrimitives.Subtract(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> dst) => TensorPrimitives.Subtract(a, b, dst);
}

/// <summary>a * b.</summary>
public readonly struct MultiplyOp : IBinaryOp
{
    /// <inheritdoc/>
    public static float Invoke(float a, float b) => a * b;
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst) => TensorPrimitives.Multiply(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> dst) => TensorPrimitives.Multiply(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> dst) => TensorPrimitives.Multiply(b, a, dst);
}

/// <summary>a / b.</summary>
public readonly struct DivideOp : IBinaryOp
{
    /// <inheritdoc/>
    public static float Invoke(float a, float b) => a / b;
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst) => TensorPrimitives.Divide(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> dst) => TensorPrimitives.Divide(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> dst) => TensorPrimitives.Divide(a, b, dst);
}

/// <summary>a raised to the power b.</summary>
public readonly struct PowOp : IBinaryOp
{
    /// <inheritdoc/>
    public static float Invoke(float a, float b) => MathF.Pow(a, b);
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst) => TensorPrimitives.Pow(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> dst)
    {
        // Common exponents as multiplications: exact and several times faster than pow.
        if (b == 2f) TensorPrimitives.Multiply(a, a, dst);
        else if (b == 1f) a.CopyTo(dst);
        else TensorPrimitives.Pow(a, b, dst);
    }
    /// <inheritdoc/>
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> dst) => TensorPrimitives.Pow(a, b, dst);
}

/// <summary>The larger of a and b (NaN if either is NaN).</summary>
public readonly struct MaximumOp : IBinaryOp
{
    /// <inheritdoc/>
    public static float Invoke(float a, float b) => MathF.Max(a, b);
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst) => TensorPrimitives.Max(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> dst) => TensorPrimitives.Max(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> dst) => TensorPrimitives.Max(b, a, dst);
}

/// <summary>The smaller of a and b (NaN if either is NaN).</summary>
public readonly struct MinimumOp : IBinaryOp
{
    /// <inheritdoc/>
    public static float Invoke(float a, float b) => MathF.Min(a, b);
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst) => TensorPrimitives.Min(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> dst) => TensorPrimitives.Min(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> dst) => TensorPrimitives.Min(b, a, dst);
}

/// <summary>
/// The loops behind the comparison ops (1 where the predicate holds, else 0); plain loops,
/// since comparisons are not on any hot path.
/// </summary>
internal static class Compare
{
    public static void Loop<TOp>(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst) where TOp : IBinaryOp
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = TOp.Invoke(a[i], b[i]);
    }

    public static void Loop<TOp>(ReadOnlySpan<float> a, float b, Span<float> dst) where TOp : IBinaryOp
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = TOp.Invoke(a[i], b);
    }

    public static void Loop<TOp>(float a, ReadOnlySpan<float> b, Span<float> dst) where TOp : IBinaryOp
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = TOp.Invoke(a, b[i]);
    }
}

/// <summary>1 where a == b, else 0.</summary>
public readonly struct EqualOp : IBinaryOp
{
    /// <inheritdoc/>
    public static float Invoke(float a, float b) => a == b ? 1f : 0f;
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst) => Compare.Loop<EqualOp>(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> dst) => Compare.Loop<EqualOp>(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> dst) => Compare.Loop<EqualOp>(a, b, dst);
}

/// <summary>1 where a != b, else 0.</summary>
public readonly struct NotEqualOp : IBinaryOp
{
    /// <inheritdoc/>
    public static float Invoke(float a, float b) => a != b ? 1f : 0f;
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst) => Compare.Loop<NotEqualOp>(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> dst) => Compare.Loop<NotEqualOp>(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> dst) => Compare.Loop<NotEqualOp>(a, b, dst);
}

/// <summary>1 where a &gt; b, else 0.</summary>
public readonly struct GreaterOp : IBinaryOp
{
    /// <inheritdoc/>
    public static float Invoke(float a, float b) => a > b ? 1f : 0f;
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst) => Compare.Loop<GreaterOp>(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> dst) => Compare.Loop<GreaterOp>(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> dst) => Compare.Loop<GreaterOp>(a, b, dst);
}

/// <summary>1 where a &gt;= b, else 0.</summary>
public readonly struct GreaterEqualOp : IBinaryOp
{
    /// <inheritdoc/>
    public static float Invoke(float a, float b) => a >= b ? 1f : 0f;
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst) => Compare.Loop<GreaterEqualOp>(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> dst) => Compare.Loop<GreaterEqualOp>(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> dst) => Compare.Loop<GreaterEqualOp>(a, b, dst);
}

/// <summary>1 where a &lt; b, else 0.</summary>
public readonly struct LessOp : IBinaryOp
{
    /// <inheritdoc/>
    public static float Invoke(float a, float b) => a < b ? 1f : 0f;
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst) => Compare.Loop<LessOp>(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> dst) => Compare.Loop<LessOp>(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> dst) => Compare.Loop<LessOp>(a, b, dst);
}

/// <summary>1 where a &lt;= b, else 0.</summary>
public readonly struct LessEqualOp : IBinaryOp
{
    /// <inheritdoc/>
    public static float Invoke(float a, float b) => a <= b ? 1f : 0f;
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst) => Compare.Loop<LessEqualOp>(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> dst) => Compare.Loop<LessEqualOp>(a, b, dst);
    /// <inheritdoc/>
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> dst) => Compare.Loop<LessEqualOp>(a, b, dst);
}
