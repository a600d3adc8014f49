using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>Applies an activation function as a layer of its own.</summary>
public sealed class Activation(ActivationFunction function, string? name = null) : Layer(name)
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["activation"] = ConfigReader.Json(this, Function) };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Activation FromConfig(ConfigReader c) => new(Activations.Get(c.String("activation")));

    /// <summary>The function applied.</summary>
    public ActivationFunction Function { get; } = function ?? throw new ArgumentNullException(nameof(function));

    /// <inheritdoc/>
    public override Tensor? ComputeMask(Tensor input, Tensor? mask) => mask;

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input) => Function.Apply(input);
}
