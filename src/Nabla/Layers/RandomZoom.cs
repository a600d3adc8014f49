using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// Zooms each image about its centre by a random amount in [-<see cref="HeightFactor"/>,
/// <see cref="HeightFactor"/>] (positive zooms out, showing more; negative zooms in), in training
/// only (Keras's RandomZoom). Without a width factor the aspect ratio is kept.
/// </summary>
public sealed class RandomZoom : RandomWarpLayer
{
    /// <summary>Creates the layer; <paramref name="fillMode"/> is reflect, wrap, nearest or constant (<paramref name="fillValue"/>).</summary>
    public RandomZoom(float heightFactor, float? widthFactor = null, string fillMode = "reflect", string interpolation = "bilinear", int? seed = null, float fillValue = 0f, string? name = null)
        : base(fillMode, interpolation, seed, fillValue, name)
    {
        CheckFactor(heightFactor, nameof(heightFactor), 0.99f);
        if (widthFactor is float wf) CheckFactor(wf, nameof(widthFactor), 0.99f);
        (HeightFactor, WidthFactor) = (heightFactor, widthFactor);
    }

    /// <summary>The largest zoom of the height, as a fraction.</summary>
    public float HeightFactor { get; }

    /// <summary>The largest zoom of the width, or null to zoom both by the same amount.</summary>
    public float? WidthFactor { get; }

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
    public static RandomZoom FromConfig(ConfigReader c) => new(c.Float("height_factor"), c.OptionalFloat("width_factor"), c.String("fill_mode", "reflect")!,
        c.String("interpolation", "bilinear")!, c.OptionalInt("seed"), c.Float("fill_value", 0f));

    /// <inheritdoc/>
    protected override Tensor Augment(Tensor images)
    {
        int n = images.Shape[0];
        float[] u = Draw(n, 2);
        var maps = new float[6 * n];
        for (int s = 0; s < n; s++)
        {
            float zy = 1 + Symmetric(u[2 * s], HeightFactor);
            float zx = WidthFactor is float wf ? 1 + Symmetric(u[2 * s + 1], wf) : zy;
            maps[6 * s] = zy;
            maps[6 * s + 3] = zx;
        }
        return Warp(images, maps);
    }
}
