using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>Flattens every dimension but the batch: [N, d1, d2, ...] to [N, d1 * d2 * ...].</summary>
public sealed class Flatten(string? name = null) : Layer(name)
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new();

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Flatten FromConfig(ConfigReader c) => new();

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input) => input.Rank == 1 ? input.Reshape(input.Shape[0], 1) : input.Flatten(1);
}
