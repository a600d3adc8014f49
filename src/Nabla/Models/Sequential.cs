using System.Globalization;
using Nabla.IO;
using Nabla.Layers;

namespace Nabla;

/// <summary>
/// A stack of layers applied in order: the simplest <see cref="Model"/>, with all of its training
/// API. It is also a PyTorch-style module: parameters are named <c>0.weight</c>, <c>0.bias</c>,
/// ... as in an nn.Sequential, for custom training loops. Masks flow from layer to layer through
/// each layer's <see cref="Layer.ComputeMask(Tensor, Tensor?)"/> (an Embedding with a padding id
/// masks its padding for the recurrent layers after it).
/// </summary>
public class Sequential : Model
{
    private readonly List<Layer> _layers = [];
    private readonly Dictionary<string, int> _nameCounts = [];

    /// <summary>Creates a model from layers (more can be added with <see cref="Add"/>).</summary>
    public Sequential(params Layer[] layers) : base("sequential")
    {
        foreach (var layer in layers) Add(layer);
    }

    /// <summary>The layers, in order.</summary>
    public override IReadOnlyList<Layer> Layers => _layers;

    /// <inheritdoc/>
    public override IReadOnlyList<string> OutputNames => _layers.Count == 0 ? ["output"] : [_layers[^1].Name!];

    /// <summary>Appends a layer, naming it Keras-style (dense, dense_1, ...) unless it has a name.</summary>
    public void Add(Layer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (_layers.Contains(layer)) throw new ArgumentException($"{layer.TypeName} '{layer.Name}' is already in this model.", nameof(layer));
        if (layer is Merge) throw new ArgumentException($"{layer.TypeName} merges several inputs, which a Sequential model does not have; build a functional model (new Model(inputs, outputs)).", nameof(layer));
        if (layer.Name is null)
        {
            string baseName = FunctionalGraph.SnakeCase(layer.TypeName);
            _nameCounts.TryGetValue(baseName, out int count);
            _nameCounts[baseName] = count + 1;
            layer.Name = count == 0 ? baseName : $"{baseName}_{count}";
        }
        AddModule(_layers.Count.ToString(CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
        // Once the input size is known (Keras's Input), every layer added is built at once, so
        // Parameters() is complete when an optimizer is created from it.
        if (_layers[0].IsBuilt && !layer.IsBuilt) Build(_layers[0].BuiltInputShape.ToArray());
    }

    /// <summary>Applies the layers in order, each with the mask the layer before it computed.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (_layers.Count == 0) throw new InvalidOperationException($"Model '{Name}' has no layers.");
        Tensor x = input;
        Tensor? mask = null;
        foreach (var layer in _layers)
        {
            Tensor layerInput = x;
            x = layer.Forward(x, mask);
            mask = layer.ComputeMask(layerInput, mask);
        }
        return x;
    }

    /// <inheritdoc/>
    public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count != 1) throw new ArgumentException($"Sequential model '{Name}' takes one input, got {inputs.Count}.");
        return [Forward(inputs[0])];
    }

    /// <summary>True once every layer has its weights.</summary>
    public override bool IsBuilt
    {
        get
        {
            // Asked on every training step: a plain loop, no enumerator allocated.
            if (_layers.Count == 0) return false;
            foreach (var layer in _layers)
            {
                if (!layer.IsBuilt) return false;
            }
            return true;
        }
    }

    /// <summary>
    /// Creates every layer's weights for samples of <paramref name="inputShape"/> (batch dimension
    /// excluded) by passing one zero sample through the model, without recording or updating anything.
    /// </summary>
    public void Build(params int[] inputShape) => OutputShapes(inputShape);

    /// <inheritdoc/>
    protected override void BuildFor(IReadOnlyList<Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (_layers.Count == 0) throw new InvalidOperationException($"Model '{Name}' has no layers.");
        Build(inputs[0].Shape[1..].ToArray());
    }

    /// <summary>The shape of one sample of the model's output (batch dimension excluded); the model must be built.</summary>
    public override int[] OutputShape()
    {
        if (!IsBuilt) throw new InvalidOperationException($"OutputShape: model '{Name}' is not built yet; call Build(inputShape) first.");
        return OutputShapes(_layers[0].BuiltInputShape.ToArray())[^1];
    }

    /// <summary>The output shape of each layer for one sample of <paramref name="inputShape"/>; builds layers as needed.</summary>
    private List<int[]> OutputShapes(int[] inputShape)
    {
        if (_layers.Count == 0) throw new InvalidOperationException($"Model '{Name}' has no layers.");
        using var inference = InferenceScope();
        using var noGrad = Tensor.NoGrad();
        Tensor x;
        using (LoadBudget.Enter(call: true)) x = Tensor.Zeros([1, .. inputShape]);
        var shapes = new List<int[]>();
        foreach (var layer in _layers)
        {
            x = layer.Forward(x);
            shapes.Add(x.Shape[1..].ToArray());
        }
        return shapes;
    }

    /// <summary>
    /// Throws when x has one dimension fewer than a batch of the samples the model was built for:
    /// a single sample given without its batch dimension would otherwise be read as a batch of
    /// smaller samples.
    /// </summary>
    protected override void CheckSamples(IReadOnlyList<Tensor> inputs, string caller)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        Tensor x = inputs[0];
        ReadOnlySpan<int> sample = _layers[0].BuiltInputShape;
        if (x.Rank == sample.Length && Shapes.Equal(x.Shape, sample))
            throw new ArgumentException($"{caller}: x has shape {x.ShapeString}, which is one sample of model '{Name}' without the batch dimension; " +
                $"pass [N, {string.Join(", ", sample.ToArray())}] (for one sample, x.Reshape(1, {string.Join(", ", sample.ToArray())})).");
    }

    /// <summary>The rows of <see cref="Model.Summary"/>: each layer's name, type, output shape ("(None, 64)") and parameter count.</summary>
    public override IReadOnlyList<LayerSummary> SummaryRows()
    {
        if (_layers.Count == 0 || !_layers[0].IsBuilt)
            throw new InvalidOperationException($"Summary: model '{Name}' is not built yet; call Build(inputShape), give the first layer its input size, or call Fit or Predict first.");
        List<int[]> shapes = OutputShapes(_layers[0].BuiltInputShape.ToArray());
        return _layers.Select((l, i) => new LayerSummary(l.Name!, l.TypeName, "(None" + string.Concat(shapes[i].Select(d => ", " + d)) + ")", l.ParameterCount())).ToList();
    }

    /// <summary>Reads a Sequential model written by <see cref="Model.Save"/>: rebuilt, with its weights, compiled if it was.</summary>
    public static new Sequential Load(string path) => ModelFile.Load(path);
}
