using Nabla.Layers;

namespace Nabla;

/// <summary>
/// A placeholder for the tensors that will flow through a functional model (Keras's
/// KerasTensor): the shape of one sample, and the layer call that produces it. Start from an
/// <see cref="Input"/> and call layers on it with <see cref="Layer.Apply"/>:
/// <code>
/// var input = new Input(784);
/// var hidden = new Dense(64, "relu").Apply(input);
/// var model = new Model(input, new Dense(10).Apply(hidden));
/// </code>
/// </summary>
public sealed class SymbolicTensor
{
    private readonly int[] _shape;

    private SymbolicTensor(Layer layer, IReadOnlyList<SymbolicTensor> inputs, Tensor example, bool hasMask)
    {
        Layer = layer;
        Inputs = inputs;
        Example = example;
        _shape = example.Shape[1..].ToArray();
        HasMask = hasMask;
    }

    /// <summary>One sample's shape (the batch dimension excluded).</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>One sample's shape as a span, for checks in the training step.</summary>
    internal ReadOnlySpan<int> SampleShape => _shape;

    /// <summary>The layer whose call produces this tensor (an <see cref="Layers.Input"/> for a model input).</summary>
    public Layer Layer { get; }

    /// <summary>The tensors the layer was called on (none for an input).</summary>
    public IReadOnlyList<SymbolicTensor> Inputs { get; }

    /// <summary>Whether a mask of real time steps travels with this tensor (after an Embedding with a padding id).</summary>
    public bool HasMask { get; }

    /// <summary>A batch of one sample computed through the graph: how shapes and masks are found without tracing.</summary>
    internal Tensor Example { get; }

    private Tensor? ExampleMask { get; init; }

    /// <summary>The symbolic tensor of an input layer.</summary>
    internal static SymbolicTensor ForInput(Input input)
    {
        // One sample's pass while a model file is read: bounded as every activation is (LoadBudget).
        using (IO.LoadBudget.Enter(call: true)) return new(input, [], Tensor.Zeros([1, .. input.SampleShape]), false);
    }

    /// <summary>Records a call of <paramref name="layer"/> on <paramref name="inputs"/>, building the layer and finding the output's shape.</summary>
    internal static SymbolicTensor Call(Layer layer, SymbolicTensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length == 0) throw new ArgumentException($"{layer.TypeName} '{layer.Name}': Apply needs at least one input.", nameof(inputs));
        foreach (var i in inputs) ArgumentNullException.ThrowIfNull(i, nameof(inputs));
        if (layer is Input) throw new ArgumentException("An Input layer starts a graph; it cannot be applied to other tensors.", nameof(layer));
        var examples = inputs.Select(i => i.Example).ToArray();
        var masks = inputs.Select(i => i.ExampleMask).ToArray();
        Tensor output;
        Tensor? mask;
        using (Module.InferenceScope())
        using (Tensor.NoGrad())
        {
            output = layer.Forward(examples, masks);
            mask = layer.ComputeMask(examples, masks);
        }
        return new SymbolicTensor(layer, inputs, output, mask is not null) { ExampleMask = mask };
    }

    /// <summary>The shape written as Keras does, batch first: <c>(None, 28, 28)</c>.</summary>
    public override string ToString() => "(None" + string.Concat(_shape.Select(d => ", " + d)) + ")";
}
