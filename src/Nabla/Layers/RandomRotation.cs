using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// Rotates each image about its centre by up to <see cref="Factor"/> of a full turn either way
/// (0.1: up to 36 degrees), in training only (Keras's RandomRotation).
/// </summary>
public sealed class RandomRotation : RandomImageLayer
{
    /// <summary>Creates the layer; <paramref name="fillMode"/> is reflect, wrap, nearest or constant (<paramref name="fillValue"/>).</summary>
    public RandomRotation(float factor, string fillMode = "reflect", string interpolation = "bilinear", int? seed = null, float fillValue = 0f, string? name = null)
        : base(seed, name)
    {
        CheckFactor(factor, nameof(factor));
        ImageWarp.Check(fillMode, interpolation, Label);
        (Factor, FillMode, Interpolation, FillValue) = (factor, fillMode, interpolation, fillValue);
    }

    /// <summary>The largest rotation, as a fraction of 2 pi.</summary>
    public float Factor { get; }

    /// <summary>How positions outside the image are filled.</summary>
    public string FillMode { get; }

    /// <summary>bilinear or nearest.</summary>
    public string Interpolation { get; }

    /// <summary>The value of the constant fill.</summary>
    public float FillValue { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["factor"] = Factor, ["fill_mode"] = FillMode, ["interpolation"] = Interpolation, ["seed"] = Seed, ["fill_value"] = FillValue };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static RandomRotation FromConfig(ConfigReader c) => new(c.Float("factor"), c.String("fill_mode", "reflect")!, c.String("interpolation", "bilinear")!,
        c.OptionalInt("seed"), c.Float("fill_value", 0f));

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
        return ImageWarp.Affine(images, maps, FillMode, FillValue, Interpolation);
    }
}
