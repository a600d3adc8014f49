namespace Nabla.Layers;

/// <summary>Applies an activation function as a layer of its own.</summary>
public sealed class Activation(ActivationFunction function, string? name = null) : Layer(name)
{
    /// <summary>The function applied.</summary>
    public ActivationFunction Function { get; } = function ?? throw new ArgumentNullException(nameof(function));

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input) => Function.Apply(input);
}
