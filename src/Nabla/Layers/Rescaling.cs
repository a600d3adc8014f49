using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>Multiplies inputs by <see cref="Scale"/> and adds <see cref="Offset"/> (Keras's Rescaling: 1/255 maps bytes to [0, 1]).</summary>
public sealed class Rescaling(float scale, float offset = 0f, string? name = null) : Layer(name)
{
    /// <summary>The factor.</summary>
    public float Scale { get; } = scale;

    /// <summary>The value added after scaling.</summary>
    public float Offset { get; } = offset;

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["scale"] = Scale, ["offset"] = Offset };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Rescaling FromConfig(ConfigReader c) => new(c.Float("scale"), c.Float("offset", 0f));

    /// <inheritdoc/>
    public override Tensor? ComputeMask(Tensor input, Tensor? mask) => mask;

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input) => Offset == 0f ? input * Scale : input * Scale + Offset;
}
