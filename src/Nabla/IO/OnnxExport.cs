using System.Buffers.Binary;
using System.Text;
using Nabla.Layers;

namespace Nabla.IO;

/// <summary>
/// Exports a Sequential model to ONNX (opset 17), written with a small protobuf encoder of our
/// own. Supported: Input, Dense, Activation (and the activations of Dense and Conv layers),
/// Dropout (as identity), Flatten, Reshape, Conv1D, Conv2D, MaxPooling2D, AveragePooling2D,
/// GlobalAveragePooling2D, GlobalMaxPooling2D, BatchNormalization (inference), LayerNormalization,
/// Embedding, SimpleRNN, LSTM, GRU and Bidirectional. Other layers are refused with an error naming them. The graph's input is
/// named "input" with a symbolic batch dimension, its output "output". An Embedding's padding
/// mask reaches the recurrent layer after it as in <see cref="Sequential.Forward(Tensor)"/>: a masked
/// recurrent layer is written out step by step (padded steps keep the state), since ONNX's
/// recurrent ops can only end sequences early. An <see cref="OnnxPipeline"/> puts work before and
/// after the network in the same graph (see <see cref="Save(Model, string, OnnxPipeline?)"/>).
/// </summary>
public static class OnnxExport
{
    /// <summary>The operator set the exported graph uses.</summary>
    public const int Opset = 17;

    /// <summary>
    /// Writes <paramref name="model"/> as an ONNX file (atomically): a Sequential model (input
    /// "input", output "output") or a functional one, whose graph inputs and outputs are named after
    /// its Input and output layers when it has several (one input and one output keep "input" and
    /// "output"). Merge layers become ONNX's Add, Sub, Mul, Mean, Max, Concat and, for Dot, MatMul
    /// or ReduceSum.
    /// </summary>
    public static void Save(Model model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model is Sequential sequential)
        {
            SaveSequential(sequential, path, null);
            return;
        }
        var graph = model.Graph ?? throw new NotSupportedException($"OnnxExport: model '{model.Name}' is a subclass of Model whose computation is code; only Sequential and functional models can be exported.");
        var g = new Graph();
        bool single = graph.Inputs.Count == 1 && graph.Outputs.Count == 1;
        var values = new string[graph.Nodes.Count];
        var masks = new string?[graph.Nodes.Count];
        for (int n = 0; n < graph.Nodes.Count; n++)
        {
            var node = graph.Nodes[n];
            if (node.Layer is Input input)
            {
                values[n] = single ? "input" : input.Name!;
                g.Input(values[n], input.SampleShape);
                continue;
            }
            int[] from = [.. node.Inputs.Select(graph.IndexOf)];
            if (node.Layer is Merge merge)
            {
                values[n] = EmitMerge(g, merge, [.. from.Select(i => values[i])]);
                continue;
            }
            if (from.Length > 1 && EmitMultiInput(g, node.Layer, [.. from.Select(i => values[i])], [.. from.Select(i => masks[i])], [.. node.Inputs.Select(i => i.Shape[0])]) is { } multi)
            {
                values[n] = multi;
                masks[n] = masks[from[0]];
                continue;
            }
            if (from.Length != 1)
                throw new NotSupportedException($"OnnxExport: {node.Layer.TypeName} '{node.Layer.Name}' is called on {from.Length} inputs, which has no ONNX export yet.");
            string? mask = masks[from[0]];
            values[n] = Emit(g, node.Layer, values[from[0]], ref mask);
            masks[n] = mask;
        }
        var outputNames = new HashSet<string>();
        foreach (var o in graph.Outputs)
        {
            string name = single ? "output" : o.Layer.Name!;
            if (!outputNames.Add(name)) name = g.Name(name);
            g.Add("Identity", [values[graph.IndexOf(o)]], [name]);
            g.Output(name, [.. o.Shape]);
        }
        Write(g, model.Name, path);
    }

    /// <summary>A merge layer over the values <paramref name="xs"/>.</summary>
    private static string EmitMerge(Graph g, Merge layer, string[] xs) => layer switch
    {
        Layers.Add => g.Op("Sum", xs),
        Subtract => g.Op("Sub", xs),
        Multiply => xs.Skip(1).Aggregate(xs[0], (a, b) => g.Op("Mul", [a, b])),
        Average => g.Op("Mean", xs),
        Maximum => g.Op("Max", xs),
        Concatenate c => g.Op("Concat", xs, ("axis", (long)c.Axis)),
        Dot d => EmitDot(g, d, xs[0], xs[1]),
        _ => throw new NotSupportedException($"OnnxExport: {layer.TypeName} '{layer.Name}' cannot be exported to ONNX yet."),
    };

    private static string EmitDot(Graph g, Dot d, string a, string b)
    {
        int rank = d.BuiltInputShape.Length + 1;
        int axis = d.Axes < 0 ? d.Axes + rank : d.Axes;
        if (d.Normalize)
        {
            a = g.Op("LpNormalization", [a], ("axis", (long)axis), ("p", 2L));
            b = g.Op("LpNormalization", [b], ("axis", (long)axis), ("p", 2L));
        }
        if (rank == 2) return g.Op("ReduceSum", [g.Op("Mul", [a, b]), g.Ints("axes", 1)], ("keepdims", 1L));
        return axis == 2
            ? g.Op("MatMul", [a, g.Op("Transpose", [b], ("perm", new long[] { 0, 2, 1 }))])
            : g.Op("MatMul", [g.Op("Transpose", [a], ("perm", new long[] { 0, 2, 1 })), b]);
    }

    /// <summary>
    /// Writes a Sequential <paramref name="model"/> as an ONNX file (atomically) with work around
    /// the network in the same graph: <paramref name="pipeline"/> declares the graph's inputs and
    /// makes the network's input from them, then makes the graph's outputs from the network's
    /// output (the tabular pipeline of <c>nabla train</c> does this, so ONNX Runtime alone
    /// reproduces <c>nabla predict</c>).
    /// </summary>
    public static void Save(Model model, string path, OnnxPipeline? pipeline)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (pipeline is null) Save(model, path);
        else SaveSequential(model as Sequential ?? throw new NotSupportedException($"OnnxExport: a pipeline goes around a Sequential model, not model '{model.Name}'."), path, pipeline);
    }

    private static void SaveSequential(Sequential model, string path, OnnxPipeline? pipeline)
    {
        if (!model.IsBuilt) throw new InvalidOperationException($"OnnxExport: model '{model.Name}' is not built; build or fit it first.");
        var g = new Graph();
        int[] inputShape = model.Layers[0].BuiltInputShape.ToArray();
        string current = pipeline is null ? "input" : pipeline.AddInputs(g, inputShape);
        string? mask = null;
        foreach (var layer in model.Layers) current = Emit(g, layer, current, ref mask);
        if (pipeline is null)
        {
            g.Add("Identity", [current], ["output"]);
            g.Input("input", inputShape);
            g.Output("output", model.OutputShape());
        }
        else pipeline.AddOutputs(g, current, model.OutputShape());
        Write(g, model.Name, path);
    }

    /// <summary>The model proto around the graph <paramref name="g"/> built, written atomically.</summary>
    private static void Write(Graph g, string name, string path)
    {
        var graph = new ProtoWriter();
        foreach (var n in g.Nodes) graph.Message(1, n);
        graph.String(2, name);
        foreach (var t in g.Initializers) graph.Message(5, t);
        foreach (var i in g.Inputs) graph.Message(11, i);
        foreach (var o in g.Outputs) graph.Message(12, o);

        var onnx = new ProtoWriter();
        onnx.Varint(1, 8); // IR version 8 (opset 17's)
        onnx.String(2, "Nabla");
        onnx.Message(7, graph);
        onnx.Message(8, OpsetImport("", Opset));
        foreach (var (domain, version) in g.Domains) onnx.Message(8, OpsetImport(domain, version));
        foreach (var (key, value) in g.Metadata)
        {
            var entry = new ProtoWriter();
            entry.String(1, key);
            entry.String(2, value);
            onnx.Message(14, entry);
        }
        AtomicFile.Write(path, s => s.Write(onnx.ToArray()));
    }

    private static ProtoWriter OpsetImport(string domain, long version)
    {
        var opset = new ProtoWriter();
        opset.String(1, domain);
        opset.Varint(2, version);
        return opset;
    }

    /// <summary>
    /// The ONNX graph being written: nodes, constants (initializers), inputs, outputs and model
    /// metadata. Names made from a hint are unique in the graph. An <see cref="OnnxPipeline"/>
    /// writes its part of the graph through this.
    /// </summary>
    public sealed class Graph
    {
        internal List<ProtoWriter> Nodes { get; } = [];
        internal List<ProtoWriter> Initializers { get; } = [];
        internal List<ProtoWriter> Inputs { get; } = [];
        internal List<ProtoWriter> Outputs { get; } = [];
        internal List<(string Domain, long Version)> Domains { get; } = [];
        internal List<(string Key, string Value)> Metadata { get; } = [];
        private int _counter;

        internal Graph()
        {
        }

        /// <summary>A new unique name from <paramref name="hint"/>.</summary>
        public string Name(string hint) => $"{hint}_{_counter++}";

        /// <summary>Declares a graph input of one sample's <paramref name="sampleShape"/> (a symbolic batch dimension first), float or, with <paramref name="text"/>, string.</summary>
        public void Input(string name, int[] sampleShape, bool text = false) => Inputs.Add(ValueInfo(name, sampleShape, text ? 8 : 1));

        /// <summary>Declares a graph output, as <see cref="Input"/>.</summary>
        public void Output(string name, int[] sampleShape, bool text = false) => Outputs.Add(ValueInfo(name, sampleShape, text ? 8 : 1));

        /// <summary>A key and value in the model's metadata.</summary>
        public void AddMetadata(string key, string value) => Metadata.Add((key, value));

        /// <summary>Imports an operator set besides the default one (e.g. <c>ai.onnx.ml</c>, 3), once.</summary>
        public void UseDomain(string domain, long version)
        {
            if (!Domains.Contains((domain, version))) Domains.Add((domain, version));
        }

        /// <summary>A node with the given output names, in the default domain or <paramref name="domain"/>.</summary>
        public void Add(string op, string[] inputs, string[] outputs, string? domain = null, params (string Name, object Value)[] attributes) =>
            Nodes.Add(Node(op, inputs, outputs, outputs[0], domain, attributes));

        /// <summary>A float constant (initializer) named from <paramref name="hint"/>.</summary>
        public string Constant(string hint, Tensor value)
        {
            string name = Name(hint);
            Initializers.Add(TensorProto(name, value));
            return name;
        }

        /// <summary>A string constant.</summary>
        public string Strings(string hint, IReadOnlyList<string> values)
        {
            string name = Name(hint);
            var t = new ProtoWriter();
            t.Varint(1, values.Count);
            t.Varint(2, 8); // STRING
            foreach (string v in values) t.String(6, v);
            t.String(8, name);
            Initializers.Add(t);
            return name;
        }

        /// <summary>A 0-d int64 constant (Gather with it drops the axis).</summary>
        public string Scalar(string hint, long value)
        {
            string name = Name(hint);
            var t = new ProtoWriter();
            t.Varint(2, 7); // INT64, no dims: a scalar
            t.String(8, name);
            var raw = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(raw, value);
            t.Bytes(9, raw);
            Initializers.Add(t);
            return name;
        }

        /// <summary>An int64 constant [values.Length].</summary>
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

        /// <summary>A node of the default domain with one output, named from the op; returns that name.</summary>
        public string Op(string op, string[] inputs, params (string Name, object Value)[] attributes)
        {
            string output = Name(op.ToLowerInvariant());
            Nodes.Add(Node(op, inputs, [output], output, attributes));
            return output;
        }
    }

    /// <summary>
    /// Appends <paramref name="layer"/> to the graph; <paramref name="mask"/> is the bool [N, T]
    /// padding mask in force (null when none), passed on or ended as Sequential.Forward does.
    /// </summary>
    private static string Emit(Graph g, Layer layer, string x, ref string? mask)
    {
        string? incoming = mask;
        mask = layer is Dropout or Activation or Input or MultiHeadAttention or TransformerEncoderLayer or PositionalEmbedding ? mask : null;
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
            case MaxPooling1D or AveragePooling1D:
                {
                    var pool = (Pooling1D)layer;
                    Padding2D both = pool.Padding.Resolve(1, pool.BuiltInputShape[1], (1, pool.PoolSize), (1, pool.Strides), 1);
                    var attrs = new List<(string, object)> { ("kernel_shape", new long[] { pool.PoolSize }), ("strides", new long[] { pool.Strides }), ("pads", new long[] { both.Left, both.Right }) };
                    if (layer is AveragePooling1D) attrs.Add(("count_include_pad", 0L));
                    return g.Op(layer is MaxPooling1D ? "MaxPool" : "AveragePool", [x], [.. attrs]);
                }
            case GlobalAveragePooling1D:
                return g.Op("Flatten", [g.Op("GlobalAveragePool", [x])], ("axis", 1L));
            case GlobalMaxPooling1D:
                return g.Op("Flatten", [g.Op("GlobalMaxPool", [x])], ("axis", 1L));
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
                        // Padding ids embed as zeros: multiply by (ids != pad), as the layer does; the
                        // same test is the mask of the recurrent layer that follows.
                        mask = g.Op("Not", [g.Op("Equal", [ids, g.Ints("pad", pad)])]);
                        string keep = g.Op("Cast", [mask], ("to", 1L));
                        y = g.Op("Mul", [y, g.Op("Unsqueeze", [keep, g.Ints("axes", -1)])]);
                    }
                    return y;
                }
            case RecurrentLayer r:
                return incoming is null ? Recurrent(g, r, x) : Unrolled(g, r, x, incoming, reverse: false);
            case Bidirectional b:
                {
                    string ahead = incoming is null ? Recurrent(g, b.Forwards, x) : Unrolled(g, b.Forwards, x, incoming, reverse: false);
                    string behind = incoming is null ? Recurrent(g, b.Backwards, x, reverse: true) : Unrolled(g, b.Backwards, x, incoming, reverse: true);
                    return g.Op("Concat", [ahead, behind], ("axis", -1L));
                }
            case PositionalEmbedding p:
                return g.Op("Add", [x, g.Constant("positions", p.Weight.Value.Slice(0, 0, p.BuiltInputShape[0]).Contiguous())]);
            case TokenAndPositionEmbedding tp:
                {
                    // The token embedding (which sets the padding mask), then the positions.
                    string y = Emit(g, tp.Token, x, ref mask);
                    return g.Op("Add", [y, g.Constant("positions", tp.Position.Weight.Value.Slice(0, 0, tp.BuiltInputShape[0]).Contiguous())]);
                }
            case MultiHeadAttention mha:
                return Attention(g, mha, x, null, incoming, mha.BuiltInputShape[0], mha.BuiltInputShape[0]);
            case TransformerEncoderLayer enc:
                {
                    int t = enc.BuiltInputShape[0];
                    string h = Residual(g, enc, enc.Norm1, x, v => Attention(g, enc.SelfAttention, v, null, incoming, t, t));
                    return Residual(g, enc, enc.Norm2, h, v => FeedForward(g, enc, v));
                }
            case IOnnxExportable custom:
                return custom.ExportOnnx(g, x);
            default:
                throw new NotSupportedException($"OnnxExport: {layer.TypeName} '{layer.Name}' cannot be exported to ONNX yet (a layer of your own can implement IOnnxExportable).");
        }
    }

    /// <summary>
    /// A layer called on several inputs, or null when it has no such export: a Transformer decoder
    /// block on [target, memory], and cross-attention on [query, value] or [query, key, value].
    /// </summary>
    /// <param name="g">The graph being written.</param>
    /// <param name="layer">The layer.</param>
    /// <param name="xs">Its inputs' values.</param>
    /// <param name="masks">Their padding masks, if any.</param>
    /// <param name="steps">Their lengths (the first axis of each sample).</param>
    private static string? EmitMultiInput(Graph g, Layer layer, string[] xs, string?[] masks, int[] steps)
    {
        switch (layer)
        {
            case TransformerDecoderLayer dec when xs.Length == 2:
                {
                    int t = steps[0], s = steps[1];
                    string h = Residual(g, dec, dec.Norm1, xs[0], v => Attention(g, dec.SelfAttention, v, null, masks[0], t, t));
                    h = Residual(g, dec, dec.Norm2, h, v => Attention(g, dec.CrossAttention, v, xs[1], masks[1], t, s));
                    return Residual(g, dec, dec.Norm3, h, v => FeedForward(g, dec, v));
                }
            case MultiHeadAttention mha when xs.Length is 2 or 3:
                if (xs.Length == 3 && xs[1] != xs[2])
                    throw new NotSupportedException($"OnnxExport: {mha.TypeName} '{mha.Name}' with a key other than its value has no ONNX export yet.");
                return Attention(g, mha, xs[0], xs[1], masks[1], steps[0], steps[1]);
            default:
                return null;
        }
    }

    /// <summary>A Transformer block's residual step: x + f(norm(x)) (norm first), else norm(x + f(x)).</summary>
    private static string Residual(Graph g, TransformerBlock block, LayerNormalization norm, string x, Func<string, string> f) =>
        block.NormFirst ? g.Op("Add", [x, f(Norm(g, norm, x))]) : Norm(g, norm, g.Op("Add", [x, f(x)]));

    private static string Norm(Graph g, LayerNormalization ln, string v) =>
        g.Op("LayerNormalization", [v, g.Constant("scale", ln.Weight!.Value), g.Constant("shift", ln.Bias!.Value)], ("axis", -1L), ("epsilon", ln.Epsilon));

    private static string Linear(Graph g, Dense d, string v) =>
        g.Op("Add", [g.Op("MatMul", [v, g.Constant("weight_t", d.Weight!.Value.T.Contiguous())]), g.Constant("bias", d.Bias!.Value)]);

    /// <summary>linear2(activation(linear1(v))).</summary>
    private static string FeedForward(Graph g, TransformerBlock block, string v) =>
        Linear(g, block.Linear2, Act(g, block, block.Activation, Linear(g, block.Linear1, v)));

    /// <summary>
    /// Attention of x [N, T, E] over itself (<paramref name="memory"/> null: one fused projection)
    /// or over memory [N, S, E] (queries from the first third of the projection, keys and values from
    /// the rest) as MatMul, Split, Reshape, Transpose and Softmax: heads, scaled scores with the causal
    /// constant (-inf above the diagonal) and the key padding mask (<paramref name="mask"/>, bool
    /// [N, S] of real steps), and the output projection.
    /// </summary>
    private static string Attention(Graph g, MultiHeadAttention mha, string x, string? memory, string? mask, int t, int s)
    {
        int e = mha.EmbedDim, h = mha.Heads, dh = e / h;
        Tensor w = mha.InProjWeight.Value, b = mha.InProjBias.Value;
        string q = g.Name("q"), k = g.Name("k"), v = g.Name("v");
        if (memory is null)
        {
            string qkv = g.Op("Add", [g.Op("MatMul", [x, g.Constant("in_proj_t", w.T.Contiguous())]), g.Constant("in_proj_bias", b)]);
            g.Add("Split", [qkv, g.Ints("split", e, e, e)], [q, k, v], null, ("axis", 2L));
        }
        else
        {
            g.Add("Add", [g.Op("MatMul", [x, g.Constant("q_proj_t", w.Slice(0, 0, e).T.Contiguous())]), g.Constant("q_proj_bias", b.Slice(0, 0, e).Contiguous())], [q]);
            string kv = g.Op("Add", [g.Op("MatMul", [memory, g.Constant("kv_proj_t", w.Slice(0, e, 3 * e).T.Contiguous())]), g.Constant("kv_proj_bias", b.Slice(0, e, 3 * e).Contiguous())]);
            g.Add("Split", [kv, g.Ints("split", e, e)], [k, v], null, ("axis", 2L));
        }
        string Heads(string m) => g.Op("Transpose", [g.Op("Reshape", [m, g.Ints("shape", 0, 0, h, dh)])], ("perm", new long[] { 0, 2, 1, 3 }));
        string scores = g.Op("Mul", [g.Op("MatMul", [Heads(q), g.Op("Transpose", [Heads(k)], ("perm", new long[] { 0, 1, 3, 2 }))]), g.Constant("scale", Tensor.Scalar(1f / MathF.Sqrt(dh)))]);
        if (mha.Causal)
        {
            var bias = Tensor.Zeros(t, s);
            for (int i = 0; i < t; i++) for (int j = i + 1; j < s; j++) bias.Storage[i * s + j] = float.NegativeInfinity;
            scores = g.Op("Add", [scores, g.Constant("causal", bias)]);
        }
        if (mask is not null)
        {
            // [N, S] -> [N, 1, 1, S]: padded keys get -inf.
            string keys = g.Op("Unsqueeze", [mask, g.Ints("axes", 1, 2)]);
            scores = g.Op("Where", [keys, scores, g.Constant("minus_inf", Tensor.Scalar(float.NegativeInfinity))]);
        }
        string heads = g.Op("MatMul", [g.Op("Softmax", [scores], ("axis", -1L)), Heads(v)]);
        string joined = g.Op("Reshape", [g.Op("Transpose", [heads], ("perm", new long[] { 0, 2, 1, 3 })), g.Ints("shape", 0, 0, e)]);
        return g.Op("Add", [g.Op("MatMul", [joined, g.Constant("out_proj_t", mha.OutProj.Weight!.Value.T.Contiguous())]), g.Constant("out_proj_bias", mha.OutProj.Bias!.Value)]);
    }

    /// <summary>
    /// SimpleRNN, LSTM and GRU as ONNX's RNN, LSTM and GRU ops (time-major, so the batch-first
    /// input and output are transposed around them). ONNX orders LSTM gates i, o, f, c and GRU
    /// gates z, r, h, so the weight rows are reordered from PyTorch's i, f, g, o and r, z, n;
    /// GRU uses linear_before_reset = 1, PyTorch's formulation.
    /// </summary>
    private static string Recurrent(Graph g, RecurrentLayer r, string x, bool reverse = false)
    {
        int h = r.Units;
        (string op, int[] order) = r switch
        {
            LSTM => ("LSTM", new[] { 0, 3, 1, 2 }),
            GRU => ("GRU", new[] { 1, 0, 2 }),
            SimpleRNN s when s.Activation.Name == "tanh" => ("RNN", new[] { 0 }),
            // Other activations have no ONNX RNN equivalent: write the steps out.
            SimpleRNN => ("", []),
            _ => throw new NotSupportedException($"OnnxExport: {r.TypeName} '{r.Name}' cannot be exported to ONNX (only SimpleRNN, LSTM and GRU)."),
        };
        if (op.Length == 0) return Unrolled(g, r, x, null, reverse);
        Tensor Reorder(Tensor t) => Tensor.Concat(order.Select(k => t.Slice(0, k * h, (k + 1) * h)).ToArray(), 0);
        string w = g.Constant("w", Reorder(r.WeightIh!.Value).Unsqueeze(0));
        string rr = g.Constant("r", Reorder(r.WeightHh!.Value).Unsqueeze(0));
        string b = g.Constant("b", Tensor.Concat([Reorder(r.BiasIh!.Value), Reorder(r.BiasHh!.Value)], 0).Unsqueeze(0));
        string timeMajor = g.Op("Transpose", [x], ("perm", new long[] { 1, 0, 2 }));
        var attributes = new List<(string, object)> { ("hidden_size", (long)h) };
        if (r is GRU) attributes.Add(("linear_before_reset", 1L));
        if (reverse) attributes.Add(("direction", "reverse"));
        string y = g.Name(op.ToLowerInvariant() + "_y"), yh = g.Name(op.ToLowerInvariant() + "_yh");
        g.Nodes.Add(Node(op, [timeMajor, w, rr, b], [y, yh], g.Name(op.ToLowerInvariant()), [.. attributes]));
        if (!r.ReturnSequences) return g.Op("Squeeze", [yh, g.Ints("axes", 0)]);
        // Y is [T, 1, N, H]: drop the direction axis, back to batch-first.
        return g.Op("Transpose", [g.Op("Squeeze", [y, g.Ints("axes", 1)])], ("perm", new long[] { 1, 0, 2 }));
    }

    /// <summary>
    /// A recurrent layer written out step by step, for what ONNX's RNN, LSTM and GRU ops cannot
    /// say: a padding mask anywhere in the sequence (a padded step keeps the state, as in Nabla and
    /// Keras) and activations other than tanh. <paramref name="reverse"/> runs from the last step to
    /// the first, as the backward half of a Bidirectional layer (outputs stay in time order).
    /// </summary>
    private static string Unrolled(Graph g, RecurrentLayer r, string x, string? mask, bool reverse)
    {
        int h = r.Units, steps = r.BuiltInputShape[0];
        // Every step's input projection at once: [N, T, G*units], input bias included.
        string projected = g.Op("Add", [g.Op("MatMul", [x, g.Constant("w_ih_t", r.WeightIh!.Value.T.Contiguous())]), g.Constant("b_ih", r.BiasIh!.Value)]);
        string weightHh = g.Constant("w_hh", r.WeightHh!.Value), biasHh = g.Constant("b_hh", r.BiasHh!.Value);
        // Zero states [N, units], with N taken from the input.
        string batch = g.Op("Slice", [g.Op("Shape", [x]), g.Ints("start", 0), g.Ints("end", 1)]);
        string zeros = g.Op("Expand", [g.Constant("zeros", Tensor.Zeros(1, h)), g.Op("Concat", [batch, g.Ints("units", h)], ("axis", 0L))]);
        string state = zeros, cell = zeros;
        string Part(string t, int k) => g.Op("Slice", [t, g.Ints("start", k * h), g.Ints("end", (k + 1) * h), g.Ints("axes", 1)]);
        var outputs = new string[steps];
        for (int s = 0; s < steps; s++)
        {
            int t = reverse ? steps - 1 - s : s;
            string input = g.Op("Gather", [projected, g.Scalar("t", t)], ("axis", 1L));
            string recurrent = g.Op("Gemm", [state, weightHh, biasHh], ("transB", 1L));
            string next, nextCell = cell;
            switch (r)
            {
                case LSTM:
                    {
                        string z = g.Op("Add", [input, recurrent]);
                        string i = g.Op("Sigmoid", [Part(z, 0)]), f = g.Op("Sigmoid", [Part(z, 1)]);
                        string c = g.Op("Tanh", [Part(z, 2)]), o = g.Op("Sigmoid", [Part(z, 3)]);
                        nextCell = g.Op("Add", [g.Op("Mul", [f, cell]), g.Op("Mul", [i, c])]);
                        next = g.Op("Mul", [o, g.Op("Tanh", [nextCell])]);
                        break;
                    }
                case GRU:
                    {
                        string reset = g.Op("Sigmoid", [g.Op("Add", [Part(input, 0), Part(recurrent, 0)])]);
                        string update = g.Op("Sigmoid", [g.Op("Add", [Part(input, 1), Part(recurrent, 1)])]);
                        string candidate = g.Op("Tanh", [g.Op("Add", [Part(input, 2), g.Op("Mul", [reset, Part(recurrent, 2)])])]);
                        // (1 - z) n + z h = n + z (h - n)
                        next = g.Op("Add", [candidate, g.Op("Mul", [update, g.Op("Sub", [state, candidate])])]);
                        break;
                    }
                case SimpleRNN rnn:
                    next = Act(g, r, rnn.Activation, g.Op("Add", [input, recurrent]));
                    break;
                default:
                    throw new NotSupportedException($"OnnxExport: {r.TypeName} '{r.Name}' cannot be exported to ONNX (only SimpleRNN, LSTM and GRU).");
            }
            if (mask is not null)
            {
                string real = g.Op("Unsqueeze", [g.Op("Gather", [mask, g.Scalar("t", t)], ("axis", 1L)), g.Ints("axes", 1)]);
                next = g.Op("Where", [real, next, state]);
                if (r is LSTM) nextCell = g.Op("Where", [real, nextCell, cell]);
            }
            state = next;
            cell = nextCell;
            outputs[t] = state;
        }
        if (!r.ReturnSequences) return state;
        return g.Op("Concat", outputs.Select(o => g.Op("Unsqueeze", [o, g.Ints("axes", 1)])).ToArray(), ("axis", 1L));
    }

    private static string AddBias(Graph g, string y, Parameter? bias) => bias is null ? y : g.Op("Add", [y, g.Constant("bias", bias.Value)]);

    private static string Act(Graph g, Layer layer, ActivationFunction f, string x) => f.Name switch
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

    private static ProtoWriter Node(string op, string[] inputs, string[] outputs, string name, params (string Name, object Value)[] attributes) =>
        Node(op, inputs, outputs, name, null, attributes);

    private static ProtoWriter Node(string op, string[] inputs, string[] outputs, string name, string? domain, params (string Name, object Value)[] attributes)
    {
        var n = new ProtoWriter();
        foreach (string i in inputs) n.String(1, i);
        foreach (string o in outputs) n.String(2, o);
        n.String(3, name);
        n.String(4, op);
        if (domain is not null) n.String(7, domain);
        foreach (var (key, value) in attributes)
        {
            var a = new ProtoWriter();
            a.String(1, key);
            switch (value)
            {
                case float f: a.Fixed32(2, f); a.Varint(20, 1); break;       // FLOAT
                case long i: a.Varint(3, i); a.Varint(20, 2); break;         // INT
                case long[] ints: foreach (long v in ints) a.Varint(8, v); a.Varint(20, 7); break; // INTS
                case string text: a.String(4, text); a.Varint(20, 3); break;                     // STRING
                case string[] texts: foreach (string v in texts) a.String(9, v); a.Varint(20, 8); break; // STRINGS
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

    private static ProtoWriter ValueInfo(string name, int[] sampleShape, int elementType = 1)
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
        tensorType.Varint(1, elementType); // 1 FLOAT, 8 STRING
        tensorType.Message(2, shape);
        var type = new ProtoWriter();
        type.Message(1, tensorType);
        var info = new ProtoWriter();
        info.String(1, name);
        info.Message(2, type);
        return info;
    }

    /// <summary>Protocol-buffer wire encoding: varints, fixed32 and length-delimited fields.</summary>
    internal sealed class ProtoWriter
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

/// <summary>
/// Work written into an exported ONNX graph around a network: the graph's inputs and what turns
/// them into the network's input, and what turns the network's output into the graph's outputs
/// (the tabular pipeline of <c>nabla train</c>: standardisation and one-hot encoding before,
/// labels and probabilities after).
/// </summary>
public abstract class OnnxPipeline
{
    /// <summary>Declares the graph's inputs and returns the name of the network's input, whose samples must have <paramref name="networkInputShape"/>.</summary>
    public abstract string AddInputs(OnnxExport.Graph graph, int[] networkInputShape);

    /// <summary>Declares the graph's outputs, made from the network's output <paramref name="networkOutput"/> (samples of <paramref name="networkOutputShape"/>).</summary>
    public abstract void AddOutputs(OnnxExport.Graph graph, string networkOutput, int[] networkOutputShape);
}

/// <summary>A layer of one input that writes itself into an exported ONNX graph (built-in layers are known to <see cref="OnnxExport"/>; a user's layer implements this).</summary>
public interface IOnnxExportable
{
    /// <summary>Adds the layer's computation on the graph value <paramref name="input"/> and returns the name of its output.</summary>
    string ExportOnnx(OnnxExport.Graph graph, string input);
}
