using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>Flips each image left-right and/or top-bottom with probability 1/2, in training only (Keras's RandomFlip).</summary>
public sealed class RandomFlip : RandomImageLayer
{
    /// <summary>Creates the layer: <paramref name="mode"/> is horizontal, vertical or horizontal_and_vertical.</summary>
    public RandomFlip(string mode = "horizontal_and_vertical", int? seed = null, string? name = null) : base(seed, name)
    {
        if (mode is not ("horizontal" or "vertical" or "horizontal_and_vertical"))
            throw new ArgumentException($"RandomFlip: mode '{mode}' is not horizontal, vertical or horizontal_and_vertical.", nameof(mode));
        Mode = mode;
    }

    /// <summary>Which flips are drawn.</summary>
    public string Mode { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["mode"] = Mode, ["seed"] = Seed };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static RandomFlip FromConfig(ConfigReader c) => new(c.String("mode", "horizontal_and_vertical")!, c.OptionalInt("seed"));

    /// <inheritdoc/>
    protected override Tensor Augment(Tensor images)
    {
        int n = images.Shape[0];
        float[] u = Draw(n, 2);
        var maps = new float[6 * n];
        for (int s = 0; s < n; s++)
        {
            bool flipH = Mode != "vertical" && u[2 * s] < 0.5f, flipV = Mode != "horizontal" && u[2 * s + 1] < 0.5f;
            // A flip is the map -1 about the centre, exact at every pixel.
            maps[6 * s] = flipV ? -1 : 1;
            maps[6 * s + 3] = flipH ? -1 : 1;
        }
        return ImageWarp.Affine(images, maps, "nearest", 0f, "nearest");
    }
}
