using Google.Protobuf;
using Nabla.Onnx.Proto;

namespace Nabla.Onnx;

/// <summary>The name, element type and shape of a graph input or output; a symbolic dimension is -1.</summary>
/// <param name="Name">The value's name in the graph.</param>
/// <param name="ElementType">The ONNX element type name, e.g. <c>float32</c> or <c>int64</c>.</param>
/// <param name="Shape">The dimensions; -1 where the file names a symbol (such as the batch size) or gives none.</param>
public sealed record OnnxValueInfo(string Name, string ElementType, IReadOnlyList<int> Shape);

/// <summary>
/// A parsed ONNX model: its nodes in order, its initializers and its inputs and outputs, run by
/// interpreting each node with Nabla's tensor ops, so gradients flow through the whole graph.
/// Every op is checked when the file is read: the error names each node whose op the importer
/// does not implement.
/// </summary>
public sealed class OnnxGraph
{
    /// <summary>The largest ONNX file read (2 GB: protobuf's own limit for one message).</summary>
    public const long MaxFileBytes = int.MaxValue;

    private readonly Dictionary<string, OnnxValue> _initializers = [];
    private readonly Dictionary<string, int> _elementTypes = [];

    private OnnxGraph(ModelProto model, string source, bool weightsOutside)
    {
        Model = model;
        Source = source;
        GraphProto graph = model.Graph ?? throw new InvalidDataException($"{source}: the model has no graph.");
        Opset = 1;
        foreach (var o in model.OpsetImport)
        {
            if (o.Domain is "" or "ai.onnx") Opset = (int)o.Version;
        }
        if (model.OpsetImport.Count == 0) Opset = 1;
        foreach (var t in graph.Initializer)
        {
            string what = $"{source}: initializer '{t.Name}'";
            OnnxValue value = weightsOutside && t.DocString == StrippedMarker
                ? OnnxValue.Float(Tensor.Zeros(OnnxTensorReader.Dims(t, what)))
                : OnnxTensorReader.Read(t, what);
            if (!_initializers.TryAdd(t.Name, value)) throw new InvalidDataException($"{what} is given twice.");
        }
        Nodes = [.. graph.Node.Select((n, i) => new OnnxNode(n, i))];
        var unsupported = new List<string>();
        foreach (var node in Nodes)
        {
            if (node.Proto.Domain is not ("" or "ai.onnx") || !OnnxOps.Supports(node.OpType))
                unsupported.Add(node.Proto.Domain is "" or "ai.onnx" ? node.Label : $"{node.Label} (domain '{node.Proto.Domain}')");
        }
        if (unsupported.Count > 0)
            throw new NotSupportedException($"{source}: Nabla's ONNX importer does not implement the op of {string.Join(", ", unsupported)}. Supported ops: {string.Join(", ", OnnxOps.Names)}.");
        Inputs = [.. graph.Input.Where(i => !_initializers.ContainsKey(i.Name)).Select(i => Info(i, source))];
        Outputs = [.. graph.Output.Select(i => Info(i, source))];
        foreach (var i in graph.Input) _elementTypes[i.Name] = i.Type?.TensorType?.ElemType ?? OnnxTypes.Float;
        if (Outputs.Count == 0) throw new InvalidDataException($"{source}: the graph has no outputs.");
        CheckWiring(graph, source);
    }

    internal ModelProto Model { get; }

    internal IReadOnlyList<OnnxNode> Nodes { get; }

    /// <summary>Where the graph came from, for messages.</summary>
    public string Source { get; }

    /// <summary>The version of the default (ai.onnx) operator set the model was exported for.</summary>
    public int Opset { get; }

    /// <summary>The inputs a caller feeds (initializers listed as inputs by older exporters excluded).</summary>
    public IReadOnlyList<OnnxValueInfo> Inputs { get; }

    /// <summary>The graph's outputs.</summary>
    public IReadOnlyList<OnnxValueInfo> Outputs { get; }

    /// <summary>The names of the initializers that hold float data (the model's weights and constants), in file order.</summary>
    public IEnumerable<string> FloatInitializerNames => Model.Graph.Initializer.Where(t => OnnxTypes.IsFloatLike(t.DataType)).Select(t => t.Name);

    internal Tensor FloatInitializer(string name) => _initializers[name].Tensor!;

    /// <summary>Reads an ONNX model file; errors name the file and what is wrong with it.</summary>
    public static OnnxGraph Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"ONNX model '{path}' does not exist.", path);
        if (info.Length > MaxFileBytes) throw new InvalidDataException($"ONNX model '{path}' is {info.Length} bytes; the importer reads files up to {MaxFileBytes} bytes.");
        return Parse(File.ReadAllBytes(path), $"ONNX model '{path}'");
    }

    /// <summary>Parses an ONNX model held in memory; <paramref name="source"/> names it in errors.</summary>
    public static OnnxGraph Parse(ReadOnlySpan<byte> bytes, string source = "ONNX model") => Parse(bytes, source, weightsOutside: false);

    /// <summary>
    /// Parses a graph; with <paramref name="weightsOutside"/> (a layer's saved config, whose model
    /// file holds the weights), initializers marked as stripped are read as zeros of their shape.
    /// </summary>
    internal static OnnxGraph Parse(ReadOnlySpan<byte> bytes, string source, bool weightsOutside)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{source} is not a valid ONNX file: {e.Message}", e);
        }
        return new OnnxGraph(model, source, weightsOutside);
    }

    private static OnnxValueInfo Info(ValueInfoProto v, string source)
    {
        var tt = v.Type?.TensorType;
        if (v.Type is not null && v.Type.ValueCase != TypeProto.ValueOneofCase.TensorType && v.Type.ValueCase != TypeProto.ValueOneofCase.None)
            throw new NotSupportedException($"{source}: graph value '{v.Name}' is not a tensor ({v.Type.ValueCase}); only tensors are supported.");
        int[] dims = tt?.Shape is null ? [] : [.. tt.Shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue >= 0 && d.DimValue <= int.MaxValue ? (int)d.DimValue : -1)];
        return new OnnxValueInfo(v.Name, OnnxTypes.Name(tt?.ElemType ?? OnnxTypes.Float), dims);
    }

    private void CheckWiring(GraphProto graph, string source)
    {
        var known = new HashSet<string>(_initializers.Keys) { "" };
        foreach (var i in graph.Input) known.Add(i.Name);
        foreach (var node in Nodes)
        {
            foreach (string input in node.Inputs)
            {
                if (!known.Contains(input)) throw new InvalidDataException($"{source}: {node.Label} reads '{input}', which no earlier node, input or initializer produces (nodes must be in topological order).");
            }
            foreach (string output in node.Outputs) known.Add(output);
        }
        foreach (var o in Outputs)
        {
            if (!known.Contains(o.Name)) throw new InvalidDataException($"{source}: graph output '{o.Name}' is produced by no node.");
        }
    }

    /// <summary>
    /// Runs the graph on <paramref name="inputs"/> (float tensors by input name; integer inputs hold
    /// whole numbers) and returns every output. <paramref name="weights"/> replaces float
    /// initializers by name (a layer's parameters); <paramref name="training"/> turns Dropout on.
    /// </summary>
    public IReadOnlyList<Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyDictionary<string, Tensor>? weights = null, bool training = false)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var values = new Dictionary<string, OnnxValue>(inputs.Count);
        foreach (var (name, t) in inputs) values[name] = InputValue(name, t);
        return [.. Run(values, weights, training).Select(v => v.AsTensor())];
    }

    /// <summary>A tensor fed to input <paramref name="name"/> as the graph declares it: float, or integers (token ids, indices).</summary>
    internal OnnxValue InputValue(string name, Tensor t)
    {
        int type = _elementTypes.GetValueOrDefault(name, OnnxTypes.Float);
        return type == OnnxTypes.Float ? OnnxValue.Float(t) : OnnxValue.Static([.. t.ToArray().Select(f => (long)f)], t.Shape.ToArray(), type);
    }

    /// <summary>True when <paramref name="name"/> is a graph output or the output of a node (a layer may return any of them).</summary>
    public bool Produces(string name) => Outputs.Any(o => o.Name == name) || Nodes.Any(n => n.Outputs.Contains(name));

    /// <summary>The names of every node's outputs, in order (the features a frozen base can hand to a new head).</summary>
    public IEnumerable<string> ValueNames => Nodes.SelectMany(n => n.Outputs).Where(o => o.Length > 0);

    internal IReadOnlyList<OnnxValue> Run(Dictionary<string, OnnxValue> values, IReadOnlyDictionary<string, Tensor>? weights, bool training, IReadOnlyList<string>? wanted = null)
    {
        foreach (var input in Inputs)
        {
            if (!values.ContainsKey(input.Name)) throw new ArgumentException($"{Source}: input '{input.Name}' was not given.");
        }
        var context = new OnnxContext(Opset, training);
        foreach (var node in Nodes)
        {
            var args = new OnnxValue?[node.Inputs.Count];
            for (int i = 0; i < args.Length; i++)
            {
                string name = node.Inputs[i];
                if (name.Length == 0) continue;
                if (values.TryGetValue(name, out var v)) args[i] = v;
                else if (weights is not null && weights.TryGetValue(name, out var w)) args[i] = OnnxValue.Float(w);
                else args[i] = _initializers[name];
            }
            OnnxValue?[] results;
            try
            {
                results = OnnxOps.Run(node, args, context);
            }
            catch (Exception e) when (e is ArgumentException && e is not ArgumentNullException || e is IndexOutOfRangeException)
            {
                throw new InvalidDataException($"{node.Label}: {e.Message}", e);
            }
            for (int o = 0; o < node.Outputs.Count; o++)
            {
                if (node.Outputs[o].Length == 0) continue;
                if (o >= results.Length || results[o] is null) throw node.Unsupported($"output {o} ('{node.Outputs[o]}')");
                values[node.Outputs[o]] = results[o]!;
            }
        }
        wanted ??= [.. Outputs.Select(o => o.Name)];
        return [.. wanted.Select(name => values.TryGetValue(name, out var v) ? v : weights?.TryGetValue(name, out var w) == true ? OnnxValue.Float(w) : _initializers[name])];
    }

    /// <summary>Marks an initializer whose data a layer keeps as a weight: it is read as zeros of its shape.</summary>
    internal const string StrippedMarker = "nabla:data-in-layer-weights";

    /// <summary>The model with the data of the named float initializers removed (kept by a layer as its weights instead).</summary>
    internal byte[] SerializeWithout(IReadOnlySet<string> stripped)
    {
        var copy = Model.Clone();
        foreach (var t in copy.Graph.Initializer)
        {
            if (!stripped.Contains(t.Name)) continue;
            t.ClearRawData();
            t.FloatData.Clear();
            t.DoubleData.Clear();
            t.Int32Data.Clear();
            t.DataType = OnnxTypes.Float;
            t.DocString = StrippedMarker;
        }
        return copy.ToByteArray();
    }
}

/// <summary>What every op may read besides its node and inputs.</summary>
internal sealed record OnnxContext(int Opset, bool Training);
