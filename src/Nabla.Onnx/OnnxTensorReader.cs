using System.Buffers.Binary;
using Nabla.Onnx.Proto;

namespace Nabla.Onnx;

/// <summary>Turns ONNX TensorProto messages into values, checking every size before it allocates.</summary>
internal static class OnnxTensorReader
{
    /// <summary>The most elements one tensor may declare (1 G floats = 4 GB); the file must hold them, so its size bounds them too.</summary>
    public const long MaxElements = 1L << 30;

    /// <summary>The most elements an op may make from a shape it computes (ConstantOfShape, Expand, Tile, Pad, Range): 256 Mi.</summary>
    public const long MaxComputedElements = 1L << 28;

    public static int[] Dims(TensorProto t, string what)
    {
        var dims = new int[t.Dims.Count];
        long count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            long d = t.Dims[i];
            if (d < 0 || d > MaxElements) throw new InvalidDataException($"{what}: dimension {i} is {d}.");
            dims[i] = (int)d;
            count *= d;
            if (count > MaxElements) throw new InvalidDataException($"{what}: its dimensions [{string.Join(", ", t.Dims)}] declare more than {MaxElements} elements.");
        }
        return dims;
    }

    /// <summary>The tensor as a value: floating types become float tensors, integers and booleans static data.</summary>
    public static OnnxValue Read(TensorProto t, string what)
    {
        int[] dims = Dims(t, what);
        int count = (int)OnnxShapes.Count(dims);
        int type = t.DataType;
        if (t.DataLocation == 1 || t.ExternalData.Count > 0)
            throw new NotSupportedException($"{what}: its data is stored in an external file, which the importer does not read; save the model with its weights inside (onnx.save_model(..., save_as_external_data=False)).");
        if (OnnxTypes.IsFloatLike(type)) return OnnxValue.Float(Tensor.FromArray(ReadFloats(t, type, count, what), dims));
        if (OnnxTypes.IsIntegerLike(type)) return OnnxValue.Static(ReadInts(t, type, count, what), dims, type);
        throw new NotSupportedException($"{what}: element type {OnnxTypes.Name(type)} is not supported.");
    }

    private static int ElementBytes(int type) => type switch
    {
        OnnxTypes.Float or OnnxTypes.Int32 or OnnxTypes.UInt32 => 4,
        OnnxTypes.Double or OnnxTypes.Int64 or OnnxTypes.UInt64 => 8,
        OnnxTypes.Float16 or OnnxTypes.BFloat16 or OnnxTypes.Int16 or OnnxTypes.UInt16 => 2,
        _ => 1,
    };

    private static ReadOnlySpan<byte> Raw(TensorProto t, int type, int count, string what)
    {
        ReadOnlySpan<byte> raw = t.RawData.Span;
        long need = (long)count * ElementBytes(type);
        if (raw.Length != need)
            throw new InvalidDataException($"{what}: raw data has {raw.Length} bytes, but {count} {OnnxTypes.Name(type)} elements need {need}.");
        return raw;
    }

    private static void CheckCount(int have, int count, string what)
    {
        if (have != count) throw new InvalidDataException($"{what}: it holds {have} values, but its dimensions declare {count}.");
    }

    private static float[] ReadFloats(TensorProto t, int type, int count, string what)
    {
        if (t.HasRawData)
        {
            // The length is checked before anything is allocated: a tensor's size is bounded by the file's.
            ReadOnlySpan<byte> raw = Raw(t, type, count, what);
            var f = new float[count];
            for (int i = 0; i < count; i++)
            {
                f[i] = type switch
                {
                    OnnxTypes.Float => BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]),
                    OnnxTypes.Double => (float)BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]),
                    OnnxTypes.Float16 => (float)BinaryPrimitives.ReadHalfLittleEndian(raw[(2 * i)..]),
                    _ => BFloat16ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..])),
                };
            }
            return f;
        }
        var values = new float[count];
        switch (type)
        {
            case OnnxTypes.Float:
                CheckCount(t.FloatData.Count, count, what);
                t.FloatData.CopyTo(values, 0);
                break;
            case OnnxTypes.Double:
                CheckCount(t.DoubleData.Count, count, what);
                for (int i = 0; i < count; i++) values[i] = (float)t.DoubleData[i];
                break;
            default:
                // float16 and bfloat16 are stored as their 16 bits in int32_data.
                CheckCount(t.Int32Data.Count, count, what);
                for (int i = 0; i < count; i++)
                {
                    ushort bits = (ushort)t.Int32Data[i];
                    values[i] = type == OnnxTypes.Float16 ? (float)BitConverter.UInt16BitsToHalf(bits) : BFloat16ToFloat(bits);
                }
                break;
        }
        return values;
    }

    /// <summary>bfloat16 is the upper half of a float32.</summary>
    public static float BFloat16ToFloat(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    private static long[] ReadInts(TensorProto t, int type, int count, string what)
    {
        if (t.HasRawData)
        {
            ReadOnlySpan<byte> raw = Raw(t, type, count, what);
            var l = new long[count];
            for (int i = 0; i < count; i++)
            {
                l[i] = type switch
                {
                    OnnxTypes.Int64 => BinaryPrimitives.ReadInt64LittleEndian(raw[(8 * i)..]),
                    OnnxTypes.UInt64 => (long)BinaryPrimitives.ReadUInt64LittleEndian(raw[(8 * i)..]),
                    OnnxTypes.Int32 => BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * i)..]),
                    OnnxTypes.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(raw[(4 * i)..]),
                    OnnxTypes.Int16 => BinaryPrimitives.ReadInt16LittleEndian(raw[(2 * i)..]),
                    OnnxTypes.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]),
                    OnnxTypes.Int8 => (sbyte)raw[i],
                    _ => raw[i],
                };
            }
            return l;
        }
        int have = type switch
        {
            OnnxTypes.Int64 => t.Int64Data.Count,
            OnnxTypes.UInt64 or OnnxTypes.UInt32 => t.Uint64Data.Count,
            _ => t.Int32Data.Count,
        };
        CheckCount(have, count, what);
        var ints = new long[count];
        for (int i = 0; i < count; i++)
            ints[i] = type switch { OnnxTypes.Int64 => t.Int64Data[i], OnnxTypes.UInt64 or OnnxTypes.UInt32 => (long)t.Uint64Data[i], _ => t.Int32Data[i] };
        return ints;
    }
}
