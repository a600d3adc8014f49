using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// A Keras-style layer: a module that creates its weights on first call from the input's
/// shape (Keras's build), checks later inputs against it, and has a display name.
/// Subclasses implement <see cref="Build"/> (optional) and <see cref="Call(Tensor)"/>.
/// </summary>
public abstract class Layer : Module
{
    private int[]? _builtInputShape;

    /// <summary>Creates a layer with an optional display name (otherwise given by the model).</summary>
    protected Layer(string? name = null) => Name = name;

    /// <summary>Display name, e.g. <c>dense_1</c>; assigned by the model when not given.</summary>
    public string? Name { get; internal set; }

    /// <summary>True once weights exist (after the first call or <see cref="EnsureBuilt"/>).</summary>
    public bool IsBuilt => _builtInputShape is not null;

    /// <summary>The input shape the layer was built for, batch dimension excluded.</summary>
    public ReadOnlySpan<int> BuiltInputShape => _builtInputShape;

    /// <summary>The Keras-style type name shown in summaries, e.g. <c>Dense</c>.</summary>
    public virtual string TypeName => GetType().Name;

    /// <summary>A display label for messages: <c>Dense 'dense_1'</c>.</summary>
    protected string Label => Name is null ? TypeName : $"{TypeName} '{Name}'";

    /// <summary>Creates weights for inputs of <paramref name="inputShape"/> (batch dimension excluded).</summary>
    protected virtual void Build(ReadOnlySpan<int> inputShape)
    {
    }

    /// <summary>The layer's computation on a batch.</summary>
    protected abstract Tensor Call(Tensor input);

    /// <summary>
    /// The computation on a batch with a mask of its real time steps ([N, T], 1 real, 0 padded),
    /// for layers that honour masks (recurrent layers); others ignore it (the default).
    /// </summary>
    protected virtual Tensor Call(Tensor input, Tensor mask) => Call(input);

    /// <summary>
    /// The mask the next layer gets, from this layer's input and the mask it got (Keras's
    /// compute_mask). By default none: the time axis is not kept. Layers that keep it as it is
    /// (dropout, activations) pass the mask on; an Embedding with a padding id makes one.
    /// </summary>
    public virtual Tensor? ComputeMask(Tensor input, Tensor? mask) => null;

    /// <summary>
    /// Whether the layer's weights are trained. A frozen layer (false) gets no gradient and no
    /// update, and its weights count as non-trainable in summaries (transfer learning).
    /// </summary>
    public bool Trainable
    {
        get => _trainable;
        set
        {
            _trainable = value;
            foreach (var p in Parameters()) p.Trainable = value;
        }
    }

    private bool _trainable = true;

    /// <summary>
    /// The arguments that rebuild this layer (Keras's get_config), without its name and weights;
    /// read back by the factory registered in <see cref="LayerCatalog"/>. Layers defined outside
    /// Nabla override it (and register a factory) to be saved with their architecture.
    /// </summary>
    public virtual JsonObject GetConfig() => throw new NotSupportedException(
        $"{Label} cannot be saved with its architecture: {GetType().Name} does not override GetConfig (and register a factory with LayerCatalog.Register). Save the weights only (SaveWeights) instead.");

    /// <summary>Builds the layer for inputs whose shape without the batch dimension is <paramref name="inputShape"/>, if not yet built.</summary>
    public void EnsureBuilt(ReadOnlySpan<int> inputShape)
    {
        if (IsBuilt) return;
        using (IO.LoadBudget.Enter(call: false)) Build(inputShape);
        _builtInputShape = inputShape.ToArray();
        if (!_trainable) Trainable = false;
    }

    /// <summary>Builds on first call, then applies <see cref="Call(Tensor)"/>.</summary>
    public sealed override Tensor Forward(Tensor input) => Forward(input, null);

    /// <summary>
    /// Builds on first call, then applies the layer to <paramref name="input"/> with the mask of its
    /// real time steps ([N, T]; null for none), which only mask-aware layers use.
    /// </summary>
    public Tensor Forward(Tensor input, Tensor? mask)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank == 0) throw new ArgumentException($"{Label}: input must have a batch dimension, got a scalar.");
        EnsureBuilt(input.Shape[1..]);
        using var activations = IO.LoadBudget.Enter(call: true);
        if (!Autograd.AnomalyMode.IsEnabled) return mask is null ? Call(input) : Call(input, mask);
        string? outer = Autograd.AnomalyMode.CurrentLayer;
        Autograd.AnomalyMode.CurrentLayer = Label;
        try
        {
            return mask is null ? Call(input) : Call(input, mask);
        }
        finally
        {
            Autograd.AnomalyMode.CurrentLayer = outer;
        }
    }

    /// <summary>
    /// Applies the layer to a list of inputs with their masks (null entries for none): merge layers
    /// take several; every other layer exactly one. Functional models call layers through this.
    /// </summary>
    public virtual Tensor Forward(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?>? masks = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count != 1) throw new ArgumentException($"{Label} takes one input, got {inputs.Count}.");
        return Forward(inputs[0], masks is null ? null : masks[0]);
    }

    /// <summary>The mask after this layer for a list of inputs; a layer of one input defers to <see cref="ComputeMask(Tensor, Tensor?)"/>, merge layers give none.</summary>
    public virtual Tensor? ComputeMask(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(masks);
        return inputs.Count == 1 ? ComputeMask(inputs[0], masks[0]) : null;
    }

    /// <summary>
    /// Calls the layer on symbolic tensors (Keras's functional API): <c>var h = new Dense(64, "relu").Apply(input);</c>
    /// The layer is built for their shapes at once, and the result records the call, so that
    /// <c>new Model(inputs, outputs)</c> can run the graph. A layer applied twice shares its weights.
    /// </summary>
    public SymbolicTensor Apply(params SymbolicTensor[] inputs) => SymbolicTensor.Call(this, inputs);

    /// <summary>Throws unless the last dimension of <paramref name="input"/> is <paramref name="expected"/>.</summary>
    protected void CheckLastDim(Tensor input, int expected, string what = "features")
    {
        if (input.Shape[^1] != expected)
            throw new ArgumentException($"{Label} expects inputs with {expected} {what} in the last dimension, but got shape {input.ShapeString}.");
    }
}
