namespace Nabla;

/// <summary>
/// A trainable tensor owned by a module (PyTorch's nn.Parameter): its value requires grad
/// while <see cref="Trainable"/> is true, and optimizers update it in place.
/// </summary>
public sealed class Parameter
{
    /// <summary>Wraps <paramref name="value"/> (a leaf) as a parameter.</summary>
    public Parameter(Tensor value, bool trainable = true)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!value.IsLeaf) throw new ArgumentException("A parameter must be a leaf tensor; call Detach() on it first.", nameof(value));
        Value = value.IsContiguous ? value : value.Clone();
        Trainable = trainable;
    }

    /// <summary>The tensor itself; updated in place, never replaced.</summary>
    public Tensor Value { get; }

    /// <summary>The gradient accumulated by the last backward passes, or null.</summary>
    public Tensor? Grad => Value.Grad;

    /// <summary>The shape of the value.</summary>
    public ReadOnlySpan<int> Shape => Value.Shape;

    /// <summary>Whether optimizers update it (and whether it requires grad).</summary>
    public bool Trainable
    {
        get => Value.RequiresGrad;
        set => Value.RequiresGrad = value;
    }

    /// <summary>The value, so a parameter can be used wherever a tensor is expected.</summary>
    public static implicit operator Tensor(Parameter p) => p.Value;

    /// <inheritdoc/>
    public override string ToString() => $"Parameter({Value.ShapeString}, trainable={Trainable})";
}
