using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// Rotates each image about its centre by up to <see cref="Factor"/> of a full turn either way
/// (0.1: up to 36 degrees), in training only (Keras's RandomRotation).
/// </summary>
public sealed class RandomRotation : RandomWarpLayer
{
    /// <summary>Creates the layer; <paramref name="fillMode"/> is reflect, wrap, nearest or constant (<paramref name="fillValue"/>).</summary>
    public RandomRotation(float factor, string fillMode = "reflect", string interpolation = "bilinear", int? seed = null, float fillValue = 0f, string? name = null)
        : base(fillMode, interpolation, seed, fillValue, name)
    {
        CheckFactor(factor, nameof(factor));
        Factor = factor;
    }

    /// <summary>The largest rotation, as a fraction of 2 pi.</summary>
    public float Factor { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => WithWarpConfig(new() { ["factor"] = Factor });

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static RandomRotation FromConfig(ConfigReader c)
    {
        ArgumentNullException.ThrowIfNull(c);
        float factor = c.Float("factor");
        var w = ReadWarpConfig(c);
        return new(factor, w.FillMode, w.Interpolation, w.Seed, w.FillValue);
    }

    /// <inheritdoc/>
    protected override Tensor Augment(Tensor images)
    {
        int n = images.Shape[0];
        float[] u = Draw(n, 1);
        var maps = new float[6 * n];
        for (int s = 0; s < n; s++)
        {
            float angle = Symmetric(u[s], Factor) * 2 * MathF.PI;
            float cos = MathF.Cos(angle), sin = MathF.Sin(angle);
            // The inverse rotation: each output pixel reads where it came from.
            (maps[6 * s], maps[6 * s + 1], maps[6 * s + 2], maps[6 * s + 3]) = (cos, sin, -sin, cos);
        }
        return Warp(images, maps);
    }
}
