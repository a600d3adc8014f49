using System.Text.Json.Nodes;
using Nabla.Layers;

namespace Nabla.Onnx;

/// <summary>
/// An imported ONNX graph as one Nabla layer: its float initializers become parameters (weights in
/// the positions a layer trains: Conv, Gemm and MatMul operands, biases added to their results,
/// normalization scales and shifts, recurrent weights, embedding tables) or buffers (running
/// statistics and other constants), under the initializers' own names, so a PyTorch export keeps
/// its state-dict names (<c>conv1.weight</c>). The graph runs with Nabla's tensor ops, so the layer
/// predicts, fine-tunes (gradients reach every parameter) and saves: its config holds the graph
/// without the weight data, which the model file stores as tensors.
/// </summary>
public sealed class OnnxGraphLayer : Layer
{
    private readonly Dictionary<string, Func<Tensor>> _weights = [];
    private readonly string[] _wanted;

    /// <summary>
    /// Wraps <paramref name="graph"/>; the layer returns the value named <paramref name="output"/>:
    /// a graph output (default: the first) or any node's output, such as the features before a
    /// classifier's last layer, for a new head (transfer learning).
    /// </summary>
    public OnnxGraphLayer(OnnxGraph graph, string? output = null, string? name = null) : base(name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        Graph = graph;
        output ??= graph.Outputs[0].Name;
        if (!graph.Produces(output))
            throw new ArgumentException($"{graph.Source} has no value named '{output}'; its outputs are {string.Join(", ", graph.Outputs.Select(o => o.Name))}, and its nodes make {string.Join(", ", graph.ValueNames.Take(40))}.", nameof(output));
        _wanted = [output];
        HashSet<string> trainable = TrainedInitializers(graph);
        var containers = new Dictionary<string, WeightGroup>();
        foreach (string init in graph.FloatInitializerNames)
        {
            Tensor value = graph.FloatInitializer(init);
            bool train = trainable.Contains(init);
            if (!TryAddNested(init, value, train, containers)) AddFlat(init.Replace('.', '_'), init, value, train);
        }
    }

    /// <summary>The graph this layer runs.</summary>
    public OnnxGraph Graph { get; }

    /// <summary>The name of the graph output the layer returns.</summary>
    public string OutputName => _wanted[0];

    /// <inheritdoc/>
    public override string TypeName => "OnnxGraph";

    private bool TryAddNested(string init, Tensor value, bool train, Dictionary<string, WeightGroup> containers)
    {
        string[] parts = init.Split('.');
        if (parts.Any(p => p.Trim().Length == 0)) return false;
        try
        {
            Module owner = this;
            string prefix = "";
            for (int k = 0; k < parts.Length - 1; k++)
            {
                prefix = prefix.Length == 0 ? parts[k] : prefix + "." + parts[k];
                if (!containers.TryGetValue(prefix, out var group))
                {
                    group = new WeightGroup();
                    if (owner is WeightGroup g) g.AddChild(parts[k], group);
                    else AddModule(parts[k], group);
                    containers[prefix] = group;
                }
                owner = group;
            }
            _weights[init] = owner is WeightGroup leafOwner ? leafOwner.Add(parts[^1], value, train) : Own(parts[^1], value, train);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private void AddFlat(string member, string init, Tensor value, bool train)
    {
        string name = member;
        for (int k = 1; NamedParameters().Any(p => p.Name == name) || NamedBuffers().Any(b => b.Name == name) || NamedChildren().Any(c => c.Name == name); k++) name = $"{member}_{k}";
        _weights[init] = Own(name, value, train);
    }

    private Func<Tensor> Own(string name, Tensor value, bool train)
    {
        if (!train)
        {
            Tensor b = AddBuffer(name, value);
            return () => b;
        }
        Parameter p = AddParameter(name, value);
        return () => p.Value;
    }

    /// <summary>A module that only holds the weights under one dotted prefix.</summary>
    private sealed class WeightGroup : Module
    {
        public Func<Tensor> Add(string name, Tensor value, bool train)
        {
            if (!train)
            {
                Tensor b = AddBuffer(name, value);
                return () => b;
            }
            Parameter p = AddParameter(name, value);
            return () => p.Value;
        }

        public void AddChild(string name, WeightGroup child) => AddModule(name, child);

        public override Tensor Forward(Tensor input) => throw new NotSupportedException("A group of imported weights is not called.");
    }

    /// <summary>Float initializers in the positions a network trains (see the class summary).</summary>
    private static HashSet<string> TrainedInitializers(OnnxGraph graph)
    {
        var producedBy = new Dictionary<string, string>();
        foreach (var node in graph.Nodes)
        {
            foreach (string o in node.Outputs) producedBy[o] = node.OpType;
        }
        var trained = new HashSet<string>();
        foreach (var node in graph.Nodes)
        {
            IReadOnlyList<string> ins = node.Inputs;
            int[] slots = node.OpType switch
            {
                "Conv" or "ConvTranspose" => [1, 2],
                "Gemm" => [0, 1, 2],
                "MatMul" or "Einsum" => [0, 1],
                "BatchNormalization" or "InstanceNormalization" or "LayerNormalization" => [1, 2],
                "LSTM" or "GRU" or "RNN" => [1, 2, 3],
                "PRelu" => [1],
                "Gather" => [0],
                "Add" or "Sub" when ins.Count == 2 => [.. Enumerable.Range(0, 2).Where(k => producedBy.GetValueOrDefault(ins[1 - k]) is "MatMul" or "Gemm" or "Conv" or "Einsum")],
                _ => [],
            };
            foreach (int s in slots)
            {
                if (s < ins.Count && ins[s].Length > 0) trained.Add(ins[s]);
            }
        }
        return trained;
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input) => Forward([input]);

    /// <summary>Runs the graph on its inputs, in the order of <see cref="OnnxGraph.Inputs"/>.</summary>
    public override Tensor Forward(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?>? masks = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count != Graph.Inputs.Count)
            throw new ArgumentException($"{Label} takes {Graph.Inputs.Count} input(s) ({string.Join(", ", Graph.Inputs.Select(i => i.Name))}), got {inputs.Count}.");
        if (!IsBuilt && inputs[0].Rank > 0) EnsureBuilt(inputs[0].Shape[1..]);
        var feed = new Dictionary<string, Tensor>(inputs.Count);
        for (int k = 0; k < inputs.Count; k++) feed[Graph.Inputs[k].Name] = inputs[k];
        var weights = new Dictionary<string, Tensor>(_weights.Count);
        foreach (var (name, get) in _weights) weights[name] = get();
        var values = new Dictionary<string, OnnxValue>(feed.Count);
        foreach (var (name, t) in feed) values[name] = Graph.InputValue(name, t);
        return Graph.Run(values, weights, IsTraining, _wanted)[0].AsTensor();
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new()
    {
        ["onnx"] = Convert.ToBase64String(Graph.SerializeWithout(_weights.Keys.ToHashSet())),
        ["output"] = OutputName,
    };

    /// <summary>Rebuilds a layer from its <see cref="GetConfig"/>; the model file then loads the weights.</summary>
    public static OnnxGraphLayer FromConfig(ConfigReader c)
    {
        ArgumentNullException.ThrowIfNull(c);
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(c.String("onnx"));
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"{c.What}: 'onnx' is not base64: {e.Message}", e);
        }
        return new OnnxGraphLayer(OnnxGraph.Parse(bytes, $"{c.What}: its ONNX graph", weightsOutside: true), c.String("output", null));
    }
}
