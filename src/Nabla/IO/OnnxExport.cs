using System.Buffers.Binary;
using System.Text;
using Nabla.Layers;

namespace Nabla.IO;

/// <summary>
/// Exports a Sequential model to ONNX (opset 17), written with a small protobuf encoder of our
/// own. Supported: Input, Dense, Activation (and the activations of Dense and Conv layers),
/// Dropout (as identity), Flatten, Reshape, Conv1D, Conv2D, MaxPooling2D, AveragePooling2D,
/// GlobalAveragePooling2D, GlobalMaxPooling2D, BatchNormalization (inference), LayerNormalization,
/// Embedding, SimpleRNN (tanh), LSTM and GRU (without masks). Other layers are refused with an error naming them. The graph's input is
/// named "input" with a symbolic batch dimension, its output "output".
/// </summary>
public static class OnnxExport
{
    /// <summary>The operator set the exported graph uses.</summary>
    public const int Opset = 17;

    /// <summary>Writes <paramref name="model"/> as an ONNX file (atomically).</summary>
    public static void Save(Sequential model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.IsBuilt) throw new InvalidOperationException($"OnnxExport: model '{model.Name}' is not built; build or fit it first.");
        var g = new GraphBuilder();
        int[] inputShape = model.Layers[0].BuiltInputShape.ToArray();
        string current = "input";
        foreach (var layer in model.Layers) current = Emit(g, layer, current);
        g.Nodes.Add(Node("Identity", [current], ["output"], "output"));
        int[] outputShape = OutputShape(model, inputShape);

        var graph = new ProtoWriter();
        foreach (var n in g.Nodes) graph.Message(1, n);
        graph.String(2, model.Name);
        foreach (var t in g.Initializers) graph.Message(5, t);
        graph.Message(11, ValueInfo("input", inputShape));
        graph.Message(12, ValueInfo("output", outputShape));

        var opset = new ProtoWriter();
        opset.String(1, "");
        opset.Varint(2, Opset);
        var onnx = new ProtoWriter();
        onnx.Varint(1, 8); // IR version 8 (opset 17's)
        onnx.String(2, "Nabla");
        onnx.Message(7, graph);
        onnx.Message(8, opset);
        AtomicFile.Write(path, s => s.Write(onnx.ToArray()));
    }

    private static int[] OutputShape(Sequential model, int[] inputShape)
    {
        using var inference = Module.InferenceScope();
        using var noGrad = Tensor.NoGrad();
        return model.Forward(Tensor.Zeros([1, .. inputShape])).Shape[1..].ToArray();
    }

    private sealed class GraphBuilder
    {
        public List<ProtoWriter> Nodes { get; } = [];
        public List<ProtoWriter> Initializers { get; } = [];
        private int _counter;

        public string Name(string hint) => $"{hint}_{_counter++}";

        public string Constant(string hint, Tensor value)
        {
            string name = Name(hint);
            Initializers.Add(TensorProto(name, value));
            return name;
        }

        public string Ints(string hint, params long[] values)
        {
            string name = Name(hint);
            var t = new ProtoWriter();
            t.Varint(1, values.Length);
            t.Varint(2, 7); // INT64
            t.String(8, name);
            var raw = new byte[values.Length * 8];
            for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(i * 8), values[i]);
            t.Bytes(9, raw);
            Initializers.Add(t);
            return name;
        }

        public string Op(string op, string[] inputs, params (string Name, object Value)[] attributes)
        {
            string output = Name(op.ToLowerInvariant());
            Nodes.Add(Node(op, inputs, [output], output, attributes));
            return output;
        }
    }

    private static string Emit(GraphBuilder g, Layer layer, string x)
    {
        switch (layer)
        {
            case Input or Dropout:
                return x;
            case Dense d:
                {
                    string w = g.Constant("weight", d.Weight!.Value);
                    string y = d.BuiltInputShape.Length == 1
                        ? g.Op("Gemm", d.Bias is null ? [x, w] : [x, w, g.Constant("bias", d.Bias.Value)], ("transB", 1L))
                        : AddBias(g, g.Op("MatMul", [x, g.Constant("weight_t", d.Weight.Value.T.Contiguous())]), d.Bias);
                    return Act(g, layer, d.Activation, y);
                }
            case Activation a:
                return Act(g, layer, a.Function, x);
            case Flatten:
                return g.Op("Flatten", [x], ("axis", 1L));
            case Reshape r:
                return g.Op("Reshape", [x, g.Ints("shape", [0, .. r.TargetShape.Select(v => (long)v)])]);
            case Conv2D c:
                {
                    var shape = c.BuiltInputShape;
                    Padding2D p = c.Padding.Resolve(shape[1], shape[2], c.KernelSize, c.Strides, c.Dilation);
                    string[] inputs = c.Bias is null ? [x, g.Constant("weight", c.Weight!.Value)] : [x, g.Constant("weight", c.Weight!.Value), g.Constant("bias", c.Bias.Value)];
                    string y = g.Op("Conv", inputs, ("kernel_shape", new long[] { c.KernelSize.H, c.KernelSize.W }), ("strides", new long[] { c.Strides.H, c.Strides.W }),
                        ("dilations", new long[] { c.Dilation.H, c.Dilation.W }), ("pads", new long[] { p.Top, p.Left, p.Bottom, p.Right }));
                    return Act(g, layer, c.Activation, y);
                }
            case Conv1D c:
                {
                    Padding2D p = c.ResolvePadding(c.BuiltInputShape[1]);
                    string[] inputs = c.Bias is null ? [x, g.Constant("weight", c.Weight!.Value)] : [x, g.Constant("weight", c.Weight!.Value), g.Constant("bias", c.Bias.Value)];
                    string y = g.Op("Conv", inputs, ("kernel_shape", new long[] { c.KernelSize }), ("strides", new long[] { c.Strides }),
                        ("dilations", new long[] { c.Dilation }), ("pads", new long[] { p.Left, p.Right }));
                    return Act(g, layer, c.Activation, y);
                }
            case MaxPooling2D or AveragePooling2D:
                {
                    var pool = (Pooling2D)layer;
                    var shape = pool.BuiltInputShape;
                    Padding2D p = pool.Padding.Resolve(shape[1], shape[2], pool.PoolSize, pool.Strides, 1);
                    var attrs = new List<(string, object)>
                {
                    ("kernel_shape", new long[] { pool.PoolSize.H, pool.PoolSize.W }), ("strides", new long[] { pool.Strides.H, pool.Strides.W }),
                    ("pads", new long[] { p.Top, p.Left, p.Bottom, p.Right }),
                };
                    if (layer is AveragePooling2D) attrs.Add(("count_include_pad", 0L));
                    return g.Op(layer is MaxPooling2D ? "MaxPool" : "AveragePool", [x], [.. attrs]);
                }
            case GlobalAveragePooling2D:
                return g.Op("Flatten", [g.Op("GlobalAveragePool", [x])], ("axis", 1L));
            case GlobalMaxPooling2D:
                return g.Op("Flatten", [g.Op("GlobalMaxPool", [x])], ("axis", 1L));
            case BatchNormalization bn:
                return g.Op("BatchNormalization", [x, g.Constant("scale", bn.Weight!.Value), g.Constant("shift", bn.Bias!.Value),
                    g.Constant("mean", bn.RunningMean!), g.Constant("var", bn.RunningVar!)], ("epsilon", bn.Epsilon));
            case LayerNormalization ln:
                return g.Op("LayerNormalization", [x, g.Constant("scale", ln.Weight!.Value), g.Constant("shift", ln.Bias!.Value)], ("axis", -1L), ("epsilon", ln.Epsilon));
            case Embedding e:
                {
                    string ids = g.Op("Cast", [x], ("to", 7L));
                    string y = g.Op("Gather", [g.Constant("table", e.Weight.Value), ids], ("axis", 0L));
                    if (e.PaddingIndex is int pad)
                    {
                        // Padding ids embed as zeros: multiply by (ids != pad), as the layer does.
                        string keep = g.Op("Cast", [g.Op("Not", [g.Op("Equal", [ids, g.Ints("pad", pad)])])], ("to", 1L));
                        y = g.Op("Mul", [y, g.Op("Unsqueeze", [keep, g.Ints("axes", -1)])]);
                    }
                    return y;
                }
            case RecurrentLayer r:
                return Recurrent(g, r, x);
            default:
                throw new NotSupportedException($"OnnxExport: {layer.TypeName} '{layer.Name}' cannot be exported to ONNX yet.");
        }
    }

    /// <summary>
    /// SimpleRNN, LSTM and GRU as ONNX's RNN, LSTM and GRU ops (time-major, so the batch-first
    /// input and output are transposed around them). ONNX orders LSTM gates i, o, f, c and GRU
    /// gates z, r, h, so the weight rows are reordered from PyTorch's i, f, g, o and r, z, n;
    /// GRU uses linear_before_reset = 1, PyTorch's formulation.
    /// </summary>
    private static string Recurrent(GraphBuilder g, RecurrentLayer r, string x)
    {
        int h = r.Units;
        (string op, int[] order) = r switch
        {
            LSTM => ("LSTM", new[] { 0, 3, 1, 2 }),
            GRU => ("GRU", new[] { 1, 0, 2 }),
            SimpleRNN s when s.Activation.Name == "tanh" => ("RNN", new[] { 0 }),
            _ => throw new NotSupportedException($"OnnxExport: {r.TypeName} '{r.Name}' cannot be exported to ONNX (only tanh SimpleRNN, LSTM and GRU)."),
        };
        Tensor Reorder(Tensor t) => Tensor.Concat(order.Select(k => t.Slice(0, k * h, (k + 1) * h)).ToArray(), 0);
        string w = g.Constant("w", Reorder(r.WeightIh!.Value).Unsqueeze(0));
        string rr = g.Constant("r", Reorder(r.WeightHh!.Value).Unsqueeze(0));
        string b = g.Constant("b", Tensor.Concat([Reorder(r.BiasIh!.Value), Reorder(r.BiasHh!.Value)], 0).Unsqueeze(0));
        string timeMajor = g.Op("Transpose", [x], ("perm", new long[] { 1, 0, 2 }));
        var attributes = new List<(string, object)> { ("hidden_size", (long)h) };
        if (r is GRU) attributes.Add(("linear_before_reset", 1L));
        string y = g.Name(op.ToLowerInvariant() + "_y"), yh = g.Name(op.ToLowerInvariant() + "_yh");
        g.Nodes.Add(Node(op, [timeMajor, w, rr, b], [y, yh], g.Name(op.ToLowerInvariant()), [.. attributes]));
        if (!r.ReturnSequences) return g.Op("Squeeze", [yh, g.Ints("axes", 0)]);
        // Y is [T, 1, N, H]: drop the direction axis, back to batch-first.
        return g.Op("Transpose", [g.Op("Squeeze", [y, g.Ints("axes", 1)])], ("perm", new long[] { 1, 0, 2 }));
    }

    private static string AddBias(GraphBuilder g, string y, Parameter? bias) => bias is null ? y : g.Op("Add", [y, g.Constant("bias", bias.Value)]);

    private static string Act(GraphBuilder g, Layer layer, ActivationFunction f, string x) => f.Name switch
    {
        "linear" => x,
        "relu" => g.Op("Relu", [x]),
        "sigmoid" => g.Op("Sigmoid", [x]),
        "tanh" => g.Op("Tanh", [x]),
        "softmax" => g.Op("Softmax", [x], ("axis", -1L)),
        "log_softmax" => g.Op("LogSoftmax", [x], ("axis", -1L)),
        "leaky_relu" => g.Op("LeakyRelu", [x], ("alpha", 0.01f)),
        "elu" => g.Op("Elu", [x], ("alpha", 1f)),
        "softplus" => g.Op("Softplus", [x]),
        "silu" or "swish" => g.Op("Mul", [x, g.Op("Sigmoid", [x])]),
        // Exact GELU through erf: 0.5 x (1 + erf(x / sqrt 2)).
        "gelu" => g.Op("Mul", [g.Op("Mul", [x, g.Constant("half", Tensor.Scalar(0.5f))]),
            g.Op("Add", [g.Op("Erf", [g.Op("Div", [x, g.Constant("sqrt2", Tensor.Scalar(MathF.Sqrt(2f)))])]), g.Constant("one", Tensor.Scalar(1f))])]),
        _ => throw new NotSupportedException($"OnnxExport: {layer.TypeName} '{layer.Name}' uses activation '{f.Name}', which has no ONNX export."),
    };

    private static ProtoWriter Node(string op, string[] inputs, string[] outputs, string name, params (string Name, object Value)[] attributes)
    {
        var n = new ProtoWriter();
        foreach (string i in inputs) n.String(1, i);
        foreach (string o in outputs) n.String(2, o);
        n.String(3, name);
        n.String(4, op);
        foreach (var (key, value) in attributes)
        {
            var a = new ProtoWriter();
            a.String(1, key);
            switch (value)
            {
                case float f: a.Fixed32(2, f); a.Varint(20, 1); break;       // FLOAT
                case long i: a.Varint(3, i); a.Varint(20, 2); break;         // INT
                case long[] ints: foreach (long v in ints) a.Varint(8, v); a.Varint(20, 7); break; // INTS
                default: throw new ArgumentException($"Unsupported attribute type for {key}.");
            }
            n.Message(5, a);
        }
        return n;
    }

    private static ProtoWriter TensorProto(string name, Tensor value)
    {
        var t = new ProtoWriter();
        foreach (int d in value.Shape) t.Varint(1, d);
        t.Varint(2, 1); // FLOAT
        t.String(8, name);
        float[] data = value.ToArray();
        var raw = new byte[data.Length * 4];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), data[i]);
        t.Bytes(9, raw);
        return t;
    }

    private static ProtoWriter ValueInfo(string name, int[] sampleShape)
    {
        var shape = new ProtoWriter();
        var batch = new ProtoWriter();
        batch.String(2, "batch");
        shape.Message(1, batch);
        foreach (int d in sampleShape)
        {
            var dim = new ProtoWriter();
            dim.Varint(1, d);
            shape.Message(1, dim);
        }
        var tensorType = new ProtoWriter();
        tensorType.Varint(1, 1); // FLOAT
        tensorType.Message(2, shape);
        var type = new ProtoWriter();
        type.Message(1, tensorType);
        var info = new ProtoWriter();
        info.String(1, name);
        info.Message(2, type);
        return info;
    }

    /// <summary>Protocol-buffer wire encoding: varints, fixed32 and length-delimited fields.</summary>
    private sealed class ProtoWriter
    {
        private readonly MemoryStream _buffer = new();

        public byte[] ToArray() => _buffer.ToArray();

        private void Raw(ulong v)
        {
            while (v >= 0x80)
            {
                _buffer.WriteByte((byte)(v | 0x80));
                v >>= 7;
            }
            _buffer.WriteByte((byte)v);
        }

        public void Varint(int field, long value)
        {
            Raw((ulong)field << 3);
            Raw((ulong)value);
        }

        public void Fixed32(int field, float value)
        {
            Raw(((ulong)field << 3) | 5);
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(b, value);
            _buffer.Write(b);
        }

        public void Bytes(int field, byte[] value)
        {
            Raw(((ulong)field << 3) | 2);
            Raw((ulong)value.Length);
            _buffer.Write(value);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());
    }
}
