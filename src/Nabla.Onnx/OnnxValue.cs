namespace Nabla.Onnx;

/// <summary>
/// A value flowing along an edge of an ONNX graph: either a float tensor that takes part in
/// autograd, or integer (or boolean) data known without running the network (shapes, indices,
/// axes), which shape arithmetic (Shape, Gather, Concat, Reshape's target) computes on the spot.
/// </summary>
internal sealed class OnnxValue
{
    private OnnxValue(Tensor? tensor, long[]? ints, int[] shape, int elementType)
    {
        Tensor = tensor;
        Ints = ints;
        Shape = shape;
        ElementType = elementType;
    }

    /// <summary>The float data, when the value is a tensor.</summary>
    public Tensor? Tensor { get; }

    /// <summary>The integer data (row-major), when the value is static.</summary>
    public long[]? Ints { get; }

    /// <summary>The shape.</summary>
    public int[] Shape { get; }

    /// <summary>The ONNX element type (1 float, 7 int64, 9 bool, ...).</summary>
    public int ElementType { get; }

    /// <summary>True for integer and boolean element types.</summary>
    public bool IsInteger => ElementType != OnnxTypes.Float;

    public int Rank => Shape.Length;

    public static OnnxValue Float(Tensor t) => new(t, null, t.Shape.ToArray(), OnnxTypes.Float);

    /// <summary>A float tensor that holds integer or boolean values computed by the network (comparisons, ArgMax).</summary>
    public static OnnxValue Typed(Tensor t, int elementType) => new(t, null, t.Shape.ToArray(), elementType);

    public static OnnxValue Static(long[] data, int[] shape, int elementType = OnnxTypes.Int64)
    {
        if (OnnxShapes.Count(shape) != data.Length)
            throw new InvalidDataException($"Static value of shape [{string.Join(", ", shape)}] has {data.Length} elements.");
        return new(null, data, shape, elementType);
    }

    public static OnnxValue Scalar(long value) => new(null, [value], [], OnnxTypes.Int64);

    public static OnnxValue Vector(params long[] values) => new(null, values, [values.Length], OnnxTypes.Int64);

    /// <summary>The value as a float tensor (integers converted).</summary>
    public Tensor AsTensor()
    {
        if (Tensor is not null) return Tensor;
        var f = new float[Ints!.Length];
        for (int i = 0; i < f.Length; i++) f[i] = Ints[i];
        return Tensor.FromArray(f, Shape);
    }

    /// <summary>The value's elements as integers (floats truncated toward zero), without a gradient.</summary>
    public long[] AsInts()
    {
        if (Ints is not null) return Ints;
        float[] f = Tensor!.ToArray();
        var l = new long[f.Length];
        for (int i = 0; i < f.Length; i++) l[i] = (long)f[i];
        return l;
    }
}

/// <summary>ONNX TensorProto.DataType numbers the importer handles.</summary>
internal static class OnnxTypes
{
    public const int Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9, Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, BFloat16 = 16;

    public static bool IsIntegerLike(int t) => t is UInt8 or Int8 or UInt16 or Int16 or Int32 or Int64 or Bool or UInt32 or UInt64;

    public static bool IsFloatLike(int t) => t is Float or Double or Float16 or BFloat16;

    public static string Name(int t) => t switch
    {
        Float => "float32",
        UInt8 => "uint8",
        Int8 => "int8",
        UInt16 => "uint16",
        Int16 => "int16",
        Int32 => "int32",
        Int64 => "int64",
        String => "string",
        Bool => "bool",
        Float16 => "float16",
        Double => "float64",
        UInt32 => "uint32",
        UInt64 => "uint64",
        BFloat16 => "bfloat16",
        _ => $"type {t}",
    };
}

/// <summary>Shape arithmetic shared by the ops.</summary>
internal static class OnnxShapes
{
    /// <summary>The number of elements (saturating at long.MaxValue, so a hostile shape cannot overflow).</summary>
    public static long Count(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d != 0 && n > long.MaxValue / Math.Max(d, 1)) return long.MaxValue;
            n *= d;
        }
        return n;
    }

    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    /// <summary>Numpy-style broadcast of two shapes, or an error naming both.</summary>
    public static int[] Broadcast(int[] a, int[] b, string where)
    {
        int rank = Math.Max(a.Length, b.Length);
        var r = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            int db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new InvalidDataException($"{where}: shapes {Format(a)} and {Format(b)} do not broadcast.");
            r[i] = da == 1 ? db : da;
        }
        return r;
    }

    /// <summary>An axis in [-rank, rank) made non-negative, or an error naming it.</summary>
    public static int Axis(long axis, int rank, string where)
    {
        if (axis < -rank || axis >= Math.Max(rank, 1) && !(rank == 0 && axis == 0))
            throw new InvalidDataException($"{where}: axis {axis} is out of range for rank {rank}.");
        return (int)(axis < 0 ? axis + rank : axis);
    }
}
