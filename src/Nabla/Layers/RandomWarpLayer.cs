using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// The base of the augmentation layers that resample each image through an affine map
/// (RandomTranslation, RandomRotation, RandomZoom): how positions outside the image are filled and
/// how pixels are interpolated, with Keras's names and defaults.
/// </summary>
public abstract class RandomWarpLayer : RandomImageLayer
{
    /// <summary>Creates the layer; <paramref name="fillMode"/> is reflect, wrap, nearest or constant (<paramref name="fillValue"/>).</summary>
    protected RandomWarpLayer(string fillMode, string interpolation, int? seed, float fillValue, string? name) : base(seed, name)
    {
        ImageWarp.Check(fillMode, interpolation, Label);
        (FillMode, Interpolation, FillValue) = (fillMode, interpolation, fillValue);
    }

    /// <summary>How positions outside the image are filled: reflect, wrap, nearest or constant.</summary>
    public string FillMode { get; }

    /// <summary>bilinear or nearest.</summary>
    public string Interpolation { get; }

    /// <summary>The value of the constant fill.</summary>
    public float FillValue { get; }

    /// <summary>The warp settings and seed added to a layer's own arguments.</summary>
    protected JsonObject WithWarpConfig(JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config["fill_mode"] = FillMode;
        config["interpolation"] = Interpolation;
        config["seed"] = Seed;
        config["fill_value"] = FillValue;
        return config;
    }

    /// <summary>The warp settings and seed read back from a config: (fill mode, interpolation, seed, fill value).</summary>
    protected static (string FillMode, string Interpolation, int? Seed, float FillValue) ReadWarpConfig(ConfigReader c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return (c.String("fill_mode", "reflect")!, c.String("interpolation", "bilinear")!, c.OptionalInt("seed"), c.Float("fill_value", 0f));
    }

    /// <summary>Resamples <paramref name="images"/> through six numbers per image (see <see cref="ImageWarp"/>).</summary>
    protected Tensor Warp(Tensor images, float[] maps) => ImageWarp.Affine(images, maps, FillMode, FillValue, Interpolation);
}
