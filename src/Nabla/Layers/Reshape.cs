using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>Reshapes each sample to <see cref="TargetShape"/> (batch dimension kept; one entry may be -1).</summary>
public sealed class Reshape(int[] targetShape, string? name = null) : Layer(name)
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["target_shape"] = ConfigReader.Json(TargetShape) };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Reshape FromConfig(ConfigReader c) => new(c.Ints("target_shape"));

    /// <summary>The shape of one sample after the layer.</summary>
    public int[] TargetShape { get; } = targetShape ?? throw new ArgumentNullException(nameof(targetShape));

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        try
        {
            return input.Reshape([input.Shape[0], .. TargetShape]);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{Label}: cannot reshape input {input.ShapeString} to [batch, {string.Join(", ", TargetShape)}].", e);
        }
    }
}
