namespace Nabla.Onnx;

/// <summary>One op's implementation: the node, its inputs (null where an optional one is omitted) and the context.</summary>
internal delegate OnnxValue?[] OnnxOp(OnnxNode node, OnnxValue?[] inputs, OnnxContext context);

/// <summary>
/// The ONNX ops the importer implements, each in terms of Nabla's tensor ops (so each has a
/// gradient). Integer data (shapes, axes, indices) is computed statically. The list of names is
/// the set of ops the importer claims; docs/ONNX.md gives the conformance tests each passes.
/// </summary>
internal static partial class OnnxOps
{
    private static readonly Dictionary<string, OnnxOp> s_ops = [];

    static OnnxOps()
    {
        RegisterElementwise();
        RegisterShapeOps();
        RegisterNeuralOps();
        RegisterRecurrentOps();
        RegisterIndexingOps();
        RegisterResizeOps();
    }

    public static bool Supports(string opType) => s_ops.ContainsKey(opType);

    public static IEnumerable<string> Names => s_ops.Keys.Order(StringComparer.Ordinal);

    public static OnnxValue?[] Run(OnnxNode node, OnnxValue?[] inputs, OnnxContext context) => s_ops[node.OpType](node, inputs, context);

    private static void Add(string name, OnnxOp op) => s_ops.Add(name, op);

    /// <summary>An op of one output.</summary>
    private static void Add(string name, Func<OnnxNode, OnnxValue?[], OnnxContext, OnnxValue> op) => s_ops.Add(name, (n, i, c) => [op(n, i, c)]);

    // ---- input helpers ------------------------------------------------------------------------

    private static OnnxValue Required(OnnxNode node, OnnxValue?[] inputs, int i) =>
        i < inputs.Length && inputs[i] is { } v ? v : throw node.Invalid($"input {i} is required");

    private static Tensor T(OnnxNode node, OnnxValue?[] inputs, int i) => Required(node, inputs, i).AsTensor();

    private static Tensor? OptionalT(OnnxValue?[] inputs, int i) => i < inputs.Length ? inputs[i]?.AsTensor() : null;

    private static long[] Ints(OnnxNode node, OnnxValue?[] inputs, int i) => Required(node, inputs, i).AsInts();

    private static long[]? OptionalInts(OnnxValue?[] inputs, int i) => i < inputs.Length ? inputs[i]?.AsInts() : null;

    private static float Scalar(OnnxValue v) => v.Tensor is { } t ? t.ToArray()[0] : v.Ints![0];

    private static int[] ToInts(long[] values, OnnxNode node, string what)
    {
        var r = new int[values.Length];
        for (int i = 0; i < r.Length; i++)
        {
            if (values[i] < int.MinValue || values[i] > int.MaxValue) throw node.Invalid($"{what} {values[i]} is out of range");
            r[i] = (int)values[i];
        }
        return r;
    }

    private static OnnxValue F(Tensor t) => OnnxValue.Float(t);

    // ---- elementwise --------------------------------------------------------------------------

    private static void RegisterElementwise()
    {
        Unary("Relu", x => x.Relu());
        Unary("Sigmoid", x => x.Sigmoid());
        Unary("Tanh", x => x.Tanh());
        Unary("Exp", x => x.Exp());
        Unary("Log", x => x.Log());
        Unary("Sqrt", x => x.Sqrt());
        Unary("Neg", x => x.Neg());
        Unary("Abs", x => x.Abs());
        Unary("Erf", x => x.Erf());
        Unary("Sin", x => x.Sin());
        Unary("Cos", x => x.Cos());
        Unary("Tan", x => Tensor.Div(x.Sin(), x.Cos()));
        Add("Shrink", (n, i, c) =>
        {
            Tensor x = T(n, i, 0);
            float lambd = n.Float("lambd", 0.5f), bias = n.Float("bias", 0f);
            Tensor zero = Tensor.ZerosLike(x);
            return F(Tensor.Where(x.Lt(-lambd), x + bias, Tensor.Where(x.Gt(lambd), x - bias, zero)));
        });
        Unary("Reciprocal", x => Tensor.Div(Tensor.Scalar(1f), x));
        Unary("Softsign", x => Tensor.Div(x, x.Abs() + 1f));
        Unary("Mish", x => Tensor.Mul(x, x.Softplus().Tanh()));
        Unary("Floor", x => Detached(x, MathF.Floor));
        Unary("Ceil", x => Detached(x, MathF.Ceiling));
        Unary("Round", x => Detached(x, v => MathF.Round(v, MidpointRounding.ToEven)));
        Unary("Sign", x => Detached(x, v => float.IsNaN(v) ? v : MathF.Sign(v)));
        Add("Softplus", (n, i, c) => F(T(n, i, 0).Softplus(1f, float.PositiveInfinity)));
        Add("Elu", (n, i, c) => F(T(n, i, 0).Elu(n.Float("alpha", 1f))));
        Add("LeakyRelu", (n, i, c) => F(T(n, i, 0).LeakyRelu(n.Float("alpha", 0.01f))));
        Add("Selu", (n, i, c) => F(T(n, i, 0).Elu(n.Float("alpha", 1.67326319217681884765625f)) * n.Float("gamma", 1.05070102214813232421875f)));
        Add("Celu", (n, i, c) =>
        {
            Tensor x = T(n, i, 0);
            float alpha = n.Float("alpha", 1f);
            return F((x * (1f / alpha)).Elu(1f) * alpha);
        });
        Add("HardSigmoid", (n, i, c) => F((T(n, i, 0) * n.Float("alpha", 0.2f) + n.Float("beta", 0.5f)).Clamp(0f, 1f)));
        Unary("HardSwish", x => Tensor.Mul(x, (x * (1f / 6f) + 0.5f).Clamp(0f, 1f)));
        Add("ThresholdedRelu", (n, i, c) =>
        {
            Tensor x = T(n, i, 0);
            return F(Tensor.Mul(x, x.Gt(n.Float("alpha", 1f))));
        });
        Add("PRelu", (n, i, c) =>
        {
            Tensor x = T(n, i, 0), slope = T(n, i, 1);
            Tensor positive = x.Relu();
            return F(positive + Tensor.Mul(slope, x - positive));
        });
        Add("Gelu", (n, i, c) => F(T(n, i, 0).Gelu(n.String("approximate", "none") == "tanh")));
        Add("Identity", (n, i, c) => Required(n, i, 0));
        Add("Clip", Clip);

        Binary("Add", Tensor.Add, (a, b) => a + b);
        Binary("Sub", Tensor.Sub, (a, b) => a - b);
        Binary("Mul", Tensor.Mul, (a, b) => a * b);
        Binary("Div", Tensor.Div, (a, b) => b == 0 ? 0 : a / b);
        Add("Pow", (n, i, c) =>
        {
            OnnxValue b = Required(n, i, 1);
            Tensor a = T(n, i, 0);
            // A constant exponent takes the one-tensor rule (defined at a = 0 for exponents >= 1).
            return F(b.Tensor is null && b.Ints!.Length == 1 || b.Tensor is { Size: 1, RequiresGrad: false } ? a.Pow(Scalar(b)) : Tensor.Pow(a, b.AsTensor()));
        });
        Variadic("Sum", Tensor.Add, null);
        Variadic("Max", Maximum, null);
        Variadic("Min", Minimum, null);
        Variadic("Mean", Tensor.Add, count => 1f / count);

        Compare("Equal", (a, b) => a.Eq(b), (a, b) => a == b);
        Compare("Less", (a, b) => a.Lt(b), (a, b) => a < b);
        Compare("LessOrEqual", (a, b) => a.Le(b), (a, b) => a <= b);
        Compare("Greater", (a, b) => a.Gt(b), (a, b) => a > b);
        Compare("GreaterOrEqual", (a, b) => a.Ge(b), (a, b) => a >= b);
        Logical("And", (a, b) => a != 0 && b != 0);
        Logical("Or", (a, b) => a != 0 || b != 0);
        Logical("Xor", (a, b) => a != 0 ^ b != 0);
        Add("Not", (n, i, c) =>
        {
            OnnxValue x = Required(n, i, 0);
            return OnnxValue.Static([.. x.AsInts().Select(v => v == 0 ? 1L : 0L)], x.Shape, OnnxTypes.Bool);
        });
        Add("Where", (n, i, c) =>
        {
            OnnxValue cond = Required(n, i, 0), a = Required(n, i, 1), b = Required(n, i, 2);
            if (a.IsInteger && b.IsInteger && a.Ints is not null && b.Ints is not null && cond.Ints is not null)
            {
                int[] shape = OnnxShapes.Broadcast(OnnxShapes.Broadcast(cond.Shape, a.Shape, n.Label), b.Shape, n.Label);
                long[] cc = Expand(cond, shape), aa = Expand(a, shape), bb = Expand(b, shape);
                return OnnxValue.Static([.. cc.Select((v, k) => v != 0 ? aa[k] : bb[k])], shape, a.ElementType);
            }
            return F(Tensor.Where(cond.AsTensor(), a.AsTensor(), b.AsTensor()));
        });
        Add("Cast", (n, i, c) =>
        {
            OnnxValue x = Required(n, i, 0);
            int to = (int)n.Int("to", OnnxTypes.Float);
            if (OnnxTypes.IsFloatLike(to)) return x.Tensor is not null ? x.ElementType == OnnxTypes.Float ? x : F(x.Tensor) : F(x.AsTensor());
            if (!OnnxTypes.IsIntegerLike(to)) throw n.Unsupported($"casting to {OnnxTypes.Name(to)}");
            if (x.Ints is null && x.Tensor is { } t && x.ElementType == OnnxTypes.Float)
                return OnnxValue.Static([.. t.ToArray().Select(v => to == OnnxTypes.Bool ? v != 0 ? 1L : 0L : (long)v)], x.Shape, to);
            return x.Ints is not null ? OnnxValue.Static([.. x.Ints.Select(v => to == OnnxTypes.Bool ? v != 0 ? 1L : 0L : v)], x.Shape, to) : OnnxValue.Typed(x.Tensor!, to);
        });
    }

    private static Tensor Maximum(Tensor a, Tensor b) => Tensor.Where(a.Ge(b), a, b);

    private static Tensor Minimum(Tensor a, Tensor b) => Tensor.Where(a.Le(b), a, b);

    private static Tensor Detached(Tensor x, Func<float, float> f)
    {
        float[] d = x.ToArray();
        for (int k = 0; k < d.Length; k++) d[k] = f(d[k]);
        return Tensor.FromArray(d, x.Shape.ToArray());
    }

    private static void Unary(string name, Func<Tensor, Tensor> f) => Add(name, (n, i, c) => F(f(T(n, i, 0))));

    private static OnnxValue Clip(OnnxNode n, OnnxValue?[] i, OnnxContext c)
    {
        Tensor x = T(n, i, 0);
        float? min, max;
        if (c.Opset < 11)
        {
            min = n.Has("min") ? n.Float("min", 0) : null;
            max = n.Has("max") ? n.Float("max", 0) : null;
        }
        else
        {
            min = i.Length > 1 && i[1] is { } lo ? Scalar(lo) : null;
            max = i.Length > 2 && i[2] is { } hi ? Scalar(hi) : null;
        }
        if (min is { } a && max is { } b && a > b) return F(Tensor.Full(x.Shape.ToArray(), b) + x.Detach() * 0f);
        return F(x.Clamp(min, max));
    }

    /// <summary>A static value's data broadcast to <paramref name="shape"/>.</summary>
    private static long[] Expand(OnnxValue v, int[] shape)
    {
        long[] src = v.AsInts();
        int rank = shape.Length;
        var result = new long[OnnxShapes.Count(shape)];
        var srcShape = new int[rank];
        for (int d = 0; d < rank; d++) srcShape[d] = d - (rank - v.Rank) >= 0 ? v.Shape[d - (rank - v.Rank)] : 1;
        var idx = new int[rank];
        for (int k = 0; k < result.Length; k++)
        {
            long s = 0;
            for (int d = 0; d < rank; d++) s = s * srcShape[d] + (srcShape[d] == 1 ? 0 : idx[d]);
            result[k] = src[s];
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        return result;
    }

    private static OnnxValue StaticBinary(OnnxNode n, OnnxValue a, OnnxValue b, Func<long, long, long> f, int type)
    {
        int[] shape = OnnxShapes.Broadcast(a.Shape, b.Shape, n.Label);
        long[] aa = Expand(a, shape), bb = Expand(b, shape);
        var r = new long[aa.Length];
        for (int k = 0; k < r.Length; k++) r[k] = f(aa[k], bb[k]);
        return OnnxValue.Static(r, shape, type);
    }

    private static void Binary(string name, Func<Tensor, Tensor, Tensor> f, Func<long, long, long> ints) => Add(name, (n, i, c) =>
    {
        OnnxValue a = Required(n, i, 0), b = Required(n, i, 1);
        if (a.Ints is not null && b.Ints is not null && a.IsInteger && b.IsInteger) return StaticBinary(n, a, b, ints, a.ElementType);
        Tensor r = f(a.AsTensor(), b.AsTensor());
        if (a.IsInteger && b.IsInteger) r = Detached(r, MathF.Truncate);
        return a.IsInteger && b.IsInteger ? OnnxValue.Typed(r, a.ElementType) : F(r);
    });

    private static void Variadic(string name, Func<Tensor, Tensor, Tensor> f, Func<int, float>? scale) => Add(name, (n, i, c) =>
    {
        if (i.Length == 0) throw n.Invalid("it needs at least one input");
        Tensor acc = T(n, i, 0);
        for (int k = 1; k < i.Length; k++) acc = f(acc, T(n, i, k));
        if (i.Length == 1) acc = acc * 1f;
        return F(scale is null ? acc : acc * scale(i.Length));
    });

    private static void Compare(string name, Func<Tensor, Tensor, Tensor> f, Func<long, long, bool> ints) => Add(name, (n, i, c) =>
    {
        OnnxValue a = Required(n, i, 0), b = Required(n, i, 1);
        if (a.Ints is not null && b.Ints is not null) return StaticBinary(n, a, b, (x, y) => ints(x, y) ? 1 : 0, OnnxTypes.Bool);
        return OnnxValue.Typed(f(a.AsTensor().Detach(), b.AsTensor().Detach()), OnnxTypes.Bool);
    });

    private static void Logical(string name, Func<long, long, bool> f) => Add(name, (n, i, c) =>
        StaticBinary(n, Required(n, i, 0), Required(n, i, 1), (x, y) => f(x, y) ? 1 : 0, OnnxTypes.Bool));
}
