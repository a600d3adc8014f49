using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// Shifts each image by up to <see cref="HeightFactor"/> of its height and <see cref="WidthFactor"/>
/// of its width (uniform in both directions), in training only (Keras's RandomTranslation).
/// </summary>
public sealed class RandomTranslation : RandomWarpLayer
{
    /// <summary>Creates the layer; <paramref name="fillMode"/> is reflect, wrap, nearest or constant (<paramref name="fillValue"/>).</summary>
    public RandomTranslation(float heightFactor, float widthFactor, string fillMode = "reflect", string interpolation = "bilinear", int? seed = null, float fillValue = 0f, string? name = null)
        : base(fillMode, interpolation, seed, fillValue, name)
    {
        CheckFactor(heightFactor, nameof(heightFactor));
        CheckFactor(widthFactor, nameof(widthFactor));
        (HeightFactor, WidthFactor) = (heightFactor, widthFactor);
    }

    /// <summary>The largest shift, as a fraction of the height.</summary>
    public float HeightFactor { get; }

    /// <summary>The largest shift, as a fraction of the width.</summary>
    public float WidthFactor { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new()
    {
        ["height_factor"] = HeightFactor,
        ["width_factor"] = WidthFactor,
        ["fill_mode"] = FillMode,
        ["interpolation"] = Interpolation,
        ["seed"] = Seed,
        ["fill_value"] = FillValue,
    };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static RandomTranslation FromConfig(ConfigReader c) => new(c.Float("height_factor"), c.Float("width_factor"), c.String("fill_mode", "reflect")!,
        c.String("interpolation", "bilinear")!, c.OptionalInt("seed"), c.Float("fill_value", 0f));

    /// <inheritdoc/>
    protected override Tensor Augment(Tensor images)
    {
        int n = images.Shape[0], h = images.Shape[2], w = images.Shape[3];
        float[] u = Draw(n, 2);
        var maps = new float[6 * n];
        for (int s = 0; s < n; s++)
        {
            maps[6 * s] = maps[6 * s + 3] = 1;
            maps[6 * s + 4] = -Symmetric(u[2 * s], HeightFactor) * h;
            maps[6 * s + 5] = -Symmetric(u[2 * s + 1], WidthFactor) * w;
        }
        return Warp(images, maps);
    }
}
