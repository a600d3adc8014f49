using System.Text;
using Nabla.Layers;

namespace Nabla;

/// <summary>
/// The layer calls of a functional model in an order where each runs after its inputs
/// (Keras's functional.py): run by visiting them in turn, each with the tensors and masks of
/// the calls it takes from.
/// </summary>
internal sealed class FunctionalGraph
{
    private readonly Dictionary<SymbolicTensor, int> _index = [];
    private readonly int[][] _sources;
    private readonly int[] _outputIndex;

    public FunctionalGraph(IReadOnlyList<SymbolicTensor> inputs, IReadOnlyList<SymbolicTensor> outputs, string modelName)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        if (inputs.Count == 0 || outputs.Count == 0) throw new ArgumentException($"Model '{modelName}' needs at least one input and one output.");
        foreach (var i in inputs)
        {
            ArgumentNullException.ThrowIfNull(i, nameof(inputs));
            if (i.Layer is not Input) throw new ArgumentException($"Model '{modelName}': its inputs must be the tensors of Input layers, but one comes from {i.Layer.TypeName} '{i.Layer.Name}'.", nameof(inputs));
        }
        if (inputs.Distinct().Count() != inputs.Count) throw new ArgumentException($"Model '{modelName}': an input is listed twice.", nameof(inputs));
        foreach (var o in outputs) ArgumentNullException.ThrowIfNull(o, nameof(outputs));

        var order = new List<SymbolicTensor>(inputs);
        foreach (var i in inputs) _index[i] = _index.Count;
        var visiting = new HashSet<SymbolicTensor>();
        void Visit(SymbolicTensor t)
        {
            if (_index.ContainsKey(t)) return;
            if (t.Layer is Input)
                throw new ArgumentException($"Model '{modelName}': an output depends on input '{t.Layer.Name ?? "(unnamed)"}' of shape {t}, which is not among the model's inputs.", nameof(inputs));
            if (!visiting.Add(t)) throw new ArgumentException($"Model '{modelName}': the graph has a cycle through {t.Layer.TypeName} '{t.Layer.Name}'.");
            foreach (var s in t.Inputs) Visit(s);
            _index[t] = order.Count;
            order.Add(t);
        }
        foreach (var o in outputs) Visit(o);
        Nodes = order;
        Inputs = [.. inputs];
        Outputs = [.. outputs];
        _sources = [.. order.Select(t => t.Inputs.Select(s => _index[s]).ToArray())];
        _outputIndex = [.. outputs.Select(o => _index[o])];
        Layers = [.. order.Select(t => t.Layer).Distinct()];
        NameLayers(modelName);
        InputNames = [.. Inputs.Select(i => i.Layer.Name!)];
        OutputNames = [.. Outputs.Select(o => o.Layer.Name!)];
    }

    /// <summary>The names of the inputs' layers, in the model's order.</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>The names of the outputs' layers, in the model's order.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>Every layer call, inputs first, each after the calls it takes from.</summary>
    public IReadOnlyList<SymbolicTensor> Nodes { get; }

    /// <summary>The model's inputs.</summary>
    public IReadOnlyList<SymbolicTensor> Inputs { get; }

    /// <summary>The model's outputs.</summary>
    public IReadOnlyList<SymbolicTensor> Outputs { get; }

    /// <summary>The distinct layers, in the order of their first call.</summary>
    public IReadOnlyList<Layer> Layers { get; }

    /// <summary>The position of <paramref name="node"/> in <see cref="Nodes"/>.</summary>
    public int IndexOf(SymbolicTensor node) => _index[node];

    /// <summary>Gives unnamed layers Keras-style names (input_layer, dense, dense_1, ...) and checks that names are unique.</summary>
    private void NameLayers(string modelName)
    {
        var taken = new HashSet<string>(Layers.Where(l => l.Name is not null).Select(l => l.Name!));
        var counts = new Dictionary<string, int>();
        var names = new HashSet<string>();
        foreach (var layer in Layers)
        {
            if (layer.Name is null)
            {
                string baseName = SnakeCase(layer.TypeName);
                string name;
                do
                {
                    counts.TryGetValue(baseName, out int count);
                    counts[baseName] = count + 1;
                    name = count == 0 ? baseName : $"{baseName}_{count}";
                }
                while (taken.Contains(name));
                layer.Name = name;
                taken.Add(name);
            }
            if (!names.Add(layer.Name))
                throw new ArgumentException($"Model '{modelName}': two different layers are named '{layer.Name}'; layer names in a model must be unique.");
        }
    }

    /// <summary>Keras's naming: <c>GlobalAveragePooling2D</c> becomes <c>global_average_pooling2d</c>, <c>InputLayer</c> <c>input_layer</c>.</summary>
    public static string SnakeCase(string name)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && char.IsLower(name[i - 1])) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }

    /// <summary>Runs every call in order on real tensors: one per input, in the model's order; returns one per output.</summary>
    public IReadOnlyList<Tensor> Run(IReadOnlyList<Tensor> inputs)
    {
        if (inputs.Count != Inputs.Count)
            throw new ArgumentException($"This model takes {Inputs.Count} input(s) ({string.Join(", ", Inputs.Select(i => i.Layer.Name))}), got {inputs.Count}.");
        var values = new Tensor[Nodes.Count];
        var masks = new Tensor?[Nodes.Count];
        for (int i = 0; i < Inputs.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(inputs[i], nameof(inputs));
            values[i] = Inputs[i].Layer.Forward(inputs[i]);
        }
        for (int n = Inputs.Count; n < Nodes.Count; n++)
        {
            int[] from = _sources[n];
            var node = Nodes[n];
            if (from.Length == 1)
            {
                values[n] = node.Layer.Forward(values[from[0]], masks[from[0]]);
                if (node.HasMask) masks[n] = node.Layer.ComputeMask(values[from[0]], masks[from[0]]);
                continue;
            }
            var args = new Tensor[from.Length];
            var argMasks = new Tensor?[from.Length];
            for (int k = 0; k < from.Length; k++)
            {
                args[k] = values[from[k]];
                argMasks[k] = masks[from[k]];
            }
            values[n] = node.Layer.Forward(args, argMasks);
            if (node.HasMask) masks[n] = node.Layer.ComputeMask(args, argMasks);
        }
        var outputs = new Tensor[_outputIndex.Length];
        for (int o = 0; o < outputs.Length; o++) outputs[o] = values[_outputIndex[o]];
        return outputs;
    }

    /// <summary>A summary row per call, with Keras's "Connected to" (<c>dense[0][0]</c>: the layer, which of its calls, output 0).</summary>
    public IReadOnlyList<LayerSummary> SummaryRows()
    {
        var calls = new Dictionary<Layer, int>();
        var callOf = new int[Nodes.Count];
        var rows = new List<LayerSummary>();
        for (int n = 0; n < Nodes.Count; n++)
        {
            var node = Nodes[n];
            calls.TryGetValue(node.Layer, out int call);
            calls[node.Layer] = call + 1;
            callOf[n] = call;
            string? connected = node.Inputs.Count == 0 ? "-" : string.Join(", ", _sources[n].Select(s => $"{Nodes[s].Layer.Name}[{callOf[s]}][0]"));
            rows.Add(new LayerSummary(node.Layer.Name!, node.Layer.TypeName, node.ToString(), call == 0 ? node.Layer.ParameterCount() : 0, connected));
        }
        return rows;
    }
}
