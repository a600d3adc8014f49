using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

/// <summary>
/// exp(x), and the sigmoid and tanh made from it, in single precision, vectorised at every width with the same operations (fused
/// multiply-adds throughout), so the scalar, 128-, 256- and 512-bit forms give the same bits for
/// the same input and a kernel's result does not depend on which of them an element went through.
/// Cephes' method: x = n ln 2 + r with |r| &lt;= ln 2 / 2 (ln 2 in two parts), exp(r) by its degree-7
/// minimax polynomial, then scaled by 2^n through the exponent bits (in two halves, so that 2^128
/// and results down to the smallest subnormal are reached). Error within 2 ulp of the true value
/// (tested against double precision). .NET's own float exp widens to double on the 512-bit path
/// and ran at about 2 ns an element here; this one runs at a fraction of that.
/// </summary>
public static class FastMath
{
    // ln(float.MaxValue) and a little below ln(the smallest subnormal), from Cephes' expf.
    private const float MaxArg = 88.72283905206835f, MinArg = -103.972077f;
    private const float Log2E = 1.44269504088896341f, Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
    private const float P0 = 1.9875691500E-4f, P1 = 1.3981999507E-3f, P2 = 8.3334519073E-3f, P3 = 4.1665795894E-2f, P4 = 1.6666665459E-1f, P5 = 5.0000001201E-1f;

    /// <summary>exp(x): +inf above ln(float.MaxValue), 0 below the subnormals, NaN for NaN.</summary>
    public static float Exp(float x)
    {
        if (float.IsNaN(x)) return x;
        if (x > MaxArg) return float.PositiveInfinity;
        if (x < MinArg) return 0f;
        float n = MathF.Floor(MathF.FusedMultiplyAdd(x, Log2E, 0.5f));
        float r = MathF.FusedMultiplyAdd(n, -Ln2Lo, MathF.FusedMultiplyAdd(n, -Ln2Hi, x));
        float p = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(P0, r, P1), r, P2), r, P3), r, P4), r, P5);
        float e = MathF.FusedMultiplyAdd(p, r * r, r) + 1f;
        int k = (int)n, k1 = k >> 1;
        return e * BitConverter.Int32BitsToSingle((k1 + 127) << 23) * BitConverter.Int32BitsToSingle((k - k1 + 127) << 23);
    }

    /// <inheritdoc cref="Exp(float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        Vector512<float> c = Vector512.Min(Vector512.Max(x, Vector512.Create(MinArg)), Vector512.Create(MaxArg));
        Vector512<float> n = Vector512.Floor(Vector512.FusedMultiplyAdd(c, Vector512.Create(Log2E), Vector512.Create(0.5f)));
        Vector512<float> r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), c));
        Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        Vector512<float> e = Vector512.FusedMultiplyAdd(p, r * r, r) + Vector512<float>.One;
        Vector512<int> k = Vector512.ConvertToInt32(n), k1 = Vector512.ShiftRightArithmetic(k, 1), bias = Vector512.Create(127);
        Vector512<float> y = e * Vector512.ShiftLeft(k1 + bias, 23).AsSingle() * Vector512.ShiftLeft(k - k1 + bias, 23).AsSingle();
        y = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(MaxArg)), Vector512.Create(float.PositiveInfinity), y);
        y = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(MinArg)), Vector512<float>.Zero, y);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x);
    }

    /// <inheritdoc cref="Exp(float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        Vector256<float> c = Vector256.Min(Vector256.Max(x, Vector256.Create(MinArg)), Vector256.Create(MaxArg));
        Vector256<float> n = Vector256.Floor(Vector256.FusedMultiplyAdd(c, Vector256.Create(Log2E), Vector256.Create(0.5f)));
        Vector256<float> r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), c));
        Vector256<float> p = Vector256.FusedMultiplyAdd(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P5));
        Vector256<float> e = Vector256.FusedMultiplyAdd(p, r * r, r) + Vector256<float>.One;
        Vector256<int> k = Vector256.ConvertToInt32(n), k1 = Vector256.ShiftRightArithmetic(k, 1), bias = Vector256.Create(127);
        Vector256<float> y = e * Vector256.ShiftLeft(k1 + bias, 23).AsSingle() * Vector256.ShiftLeft(k - k1 + bias, 23).AsSingle();
        y = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(MaxArg)), Vector256.Create(float.PositiveInfinity), y);
        y = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(MinArg)), Vector256<float>.Zero, y);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x);
    }

    /// <inheritdoc cref="Exp(float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        Vector128<float> c = Vector128.Min(Vector128.Max(x, Vector128.Create(MinArg)), Vector128.Create(MaxArg));
        Vector128<float> n = Vector128.Floor(Vector128.FusedMultiplyAdd(c, Vector128.Create(Log2E), Vector128.Create(0.5f)));
        Vector128<float> r = Vector128.FusedMultiplyAdd(n, Vector128.Create(-Ln2Lo), Vector128.FusedMultiplyAdd(n, Vector128.Create(-Ln2Hi), c));
        Vector128<float> p = Vector128.FusedMultiplyAdd(Vector128.Create(P0), r, Vector128.Create(P1));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(P2));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(P3));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(P4));
        p = Vector128.FusedMultiplyAdd(p, r, Vector128.Create(P5));
        Vector128<float> e = Vector128.FusedMultiplyAdd(p, r * r, r) + Vector128<float>.One;
        Vector128<int> k = Vector128.ConvertToInt32(n), k1 = Vector128.ShiftRightArithmetic(k, 1), bias = Vector128.Create(127);
        Vector128<float> y = e * Vector128.ShiftLeft(k1 + bias, 23).AsSingle() * Vector128.ShiftLeft(k - k1 + bias, 23).AsSingle();
        y = Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128.Create(MaxArg)), Vector128.Create(float.PositiveInfinity), y);
        y = Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128.Create(MinArg)), Vector128<float>.Zero, y);
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), y, x);
    }

    // tanh(x) = x + x^3 P(x^2) below 0.625 in magnitude (Cephes' tanhf), else sign(x) (1 - 2 / (exp(2|x|) + 1)).
    private const float TanhSmall = 0.625f, T0 = -5.70498872745E-3f, T1 = 2.06390887954E-2f, T2 = -5.37397155531E-2f, T3 = 1.33314422036E-1f, T4 = -3.33332819422E-1f;

    /// <summary>The logistic sigmoid 1 / (1 + exp(-x)).</summary>
    public static float Sigmoid(float x) => 1f / (1f + Exp(-x));

    /// <summary>tanh(x), within a few ulp (exact 0 at 0, ±1 far out, NaN for NaN).</summary>
    public static float Tanh(float x)
    {
        float ax = MathF.Abs(x);
        if (ax < TanhSmall)
        {
            float z = x * x;
            float p = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(T0, z, T1), z, T2), z, T3), z, T4);
            return MathF.FusedMultiplyAdd(x * z, p, x);
        }
        return MathF.CopySign(1f - 2f / (Exp(ax + ax) + 1f), x);
    }

    /// <inheritdoc cref="Sigmoid(float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + Exp(-x));

    /// <inheritdoc cref="Sigmoid(float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Sigmoid(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + Exp(-x));

    /// <inheritdoc cref="Sigmoid(float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sigmoid(Vector128<float> x) => Vector128<float>.One / (Vector128<float>.One + Exp(-x));

    /// <inheritdoc cref="Tanh(float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        Vector512<float> ax = Vector512.Abs(x), z = x * x;
        Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(T0), z, Vector512.Create(T1));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(T2));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(T3));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(T4));
        Vector512<float> small = Vector512.FusedMultiplyAdd(x * z, p, x);
        Vector512<float> large = Vector512.CopySign(Vector512<float>.One - Vector512.Create(2f) / (Exp(ax + ax) + Vector512<float>.One), x);
        return Vector512.ConditionalSelect(Vector512.LessThan(ax, Vector512.Create(TanhSmall)), small, large);
    }

    /// <inheritdoc cref="Tanh(float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x)
    {
        Vector256<float> ax = Vector256.Abs(x), z = x * x;
        Vector256<float> p = Vector256.FusedMultiplyAdd(Vector256.Create(T0), z, Vector256.Create(T1));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(T2));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(T3));
        p = Vector256.FusedMultiplyAdd(p, z, Vector256.Create(T4));
        Vector256<float> small = Vector256.FusedMultiplyAdd(x * z, p, x);
        Vector256<float> large = Vector256.CopySign(Vector256<float>.One - Vector256.Create(2f) / (Exp(ax + ax) + Vector256<float>.One), x);
        return Vector256.ConditionalSelect(Vector256.LessThan(ax, Vector256.Create(TanhSmall)), small, large);
    }

    /// <inheritdoc cref="Tanh(float)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Tanh(Vector128<float> x)
    {
        Vector128<float> ax = Vector128.Abs(x), z = x * x;
        Vector128<float> p = Vector128.FusedMultiplyAdd(Vector128.Create(T0), z, Vector128.Create(T1));
        p = Vector128.FusedMultiplyAdd(p, z, Vector128.Create(T2));
        p = Vector128.FusedMultiplyAdd(p, z, Vector128.Create(T3));
        p = Vector128.FusedMultiplyAdd(p, z, Vector128.Create(T4));
        Vector128<float> small = Vector128.FusedMultiplyAdd(x * z, p, x);
        Vector128<float> large = Vector128.CopySign(Vector128<float>.One - Vector128.Create(2f) / (Exp(ax + ax) + Vector128<float>.One), x);
        return Vector128.ConditionalSelect(Vector128.LessThan(ax, Vector128.Create(TanhSmall)), small, large);
    }

    /// <summary>y = sigmoid(x) element by element (see <see cref="Exp(ReadOnlySpan{float}, Span{float})"/> for the paths).</summary>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y) => Apply<SigmoidFunction>(x, y, "Sigmoid");

    /// <summary>y = tanh(x) element by element (see <see cref="Exp(ReadOnlySpan{float}, Span{float})"/> for the paths).</summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => Apply<TanhFunction>(x, y, "Tanh");

    /// <summary>y = exp(x) element by element, on the widest path <see cref="Isa.Current"/> allows (x and y may be the same span).</summary>
    public static void Exp(ReadOnlySpan<float> x, Span<float> y) => Apply<ExpFunction>(x, y, "Exp");

    /// <summary>One function at every width, for <see cref="Apply{TFunction}"/>.</summary>
    private interface IFunction
    {
        static abstract float Of(float x);
        static abstract Vector128<float> Of(Vector128<float> x);
        static abstract Vector256<float> Of(Vector256<float> x);
        static abstract Vector512<float> Of(Vector512<float> x);
    }

    private readonly struct ExpFunction : IFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Of(float x) => Exp(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Of(Vector128<float> x) => Exp(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Of(Vector256<float> x) => Exp(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Of(Vector512<float> x) => Exp(x);
    }

    private readonly struct SigmoidFunction : IFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Of(float x) => Sigmoid(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Of(Vector128<float> x) => Sigmoid(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Of(Vector256<float> x) => Sigmoid(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Of(Vector512<float> x) => Sigmoid(x);
    }

    private readonly struct TanhFunction : IFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Of(float x) => Tanh(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Of(Vector128<float> x) => Tanh(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Of(Vector256<float> x) => Tanh(x);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Of(Vector512<float> x) => Tanh(x);
    }

    /// <summary>
    /// y = f(x) over the spans: whole 512-bit vectors where <see cref="Isa.Current"/> is AVX-512,
    /// then 256-bit and 128-bit ones as the path allows, then one element at a time; every width
    /// gives the same bits, so where the tail starts does not matter.
    /// </summary>
    private static void Apply<TFunction>(ReadOnlySpan<float> x, Span<float> y, string name) where TFunction : struct, IFunction
    {
        if (y.Length < x.Length) throw new ArgumentException($"FastMath.{name}: the output holds {y.Length} values for {x.Length} inputs.");
        int i = 0;
        InstructionSet isa = Isa.Current;
        if (isa == InstructionSet.Avx512)
        {
            for (; i + 16 <= x.Length; i += 16) TFunction.Of(Vector512.Create(x.Slice(i, 16))).CopyTo(y.Slice(i, 16));
        }
        if (isa >= InstructionSet.Avx2)
        {
            for (; i + 8 <= x.Length; i += 8) TFunction.Of(Vector256.Create(x.Slice(i, 8))).CopyTo(y.Slice(i, 8));
        }
        if (isa >= InstructionSet.Vector128)
        {
            for (; i + 4 <= x.Length; i += 4) TFunction.Of(Vector128.Create(x.Slice(i, 4))).CopyTo(y.Slice(i, 4));
        }
        for (; i < x.Length; i++) y[i] = TFunction.Of(x[i]);
    }
}
