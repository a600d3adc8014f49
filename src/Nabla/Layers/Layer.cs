namespace Nabla.Layers;

/// <summary>
/// A Keras-style layer: a module that creates its weights on first call from the input's
/// shape (Keras's build), checks later inputs against it, and has a display name.
/// Subclasses implement <see cref="Build"/> (optional) and <see cref="Call"/>.
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

    /// <summary>Builds the layer for inputs whose shape without the batch dimension is <paramref name="inputShape"/>, if not yet built.</summary>
    public void EnsureBuilt(ReadOnlySpan<int> inputShape)
    {
        if (IsBuilt) return;
        using (IO.LoadBudget.Enter(call: false)) Build(inputShape);
        _builtInputShape = inputShape.ToArray();
    }

    /// <summary>Builds on first call, then applies <see cref="Call"/>.</summary>
    public sealed override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank == 0) throw new ArgumentException($"{Label}: input must have a batch dimension, got a scalar.");
        EnsureBuilt(input.Shape[1..]);
        using var activations = IO.LoadBudget.Enter(call: true);
        if (!Autograd.AnomalyMode.IsEnabled) return Call(input);
        string? outer = Autograd.AnomalyMode.CurrentLayer;
        Autograd.AnomalyMode.CurrentLayer = Label;
        try
        {
            return Call(input);
        }
        finally
        {
            Autograd.AnomalyMode.CurrentLayer = outer;
        }
    }

    /// <summary>Throws unless the last dimension of <paramref name="input"/> is <paramref name="expected"/>.</summary>
    protected void CheckLastDim(Tensor input, int expected, string what = "features")
    {
        if (input.Shape[^1] != expected)
            throw new ArgumentException($"{Label} expects inputs with {expected} {what} in the last dimension, but got shape {input.ShapeString}.");
    }
}
