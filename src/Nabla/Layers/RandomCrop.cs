using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// Crops each image to <see cref="Height"/> x <see cref="Width"/> at a random place in training,
/// and at the centre otherwise (Keras's RandomCrop), so the output has one size in both modes.
/// </summary>
public sealed class RandomCrop : RandomImageLayer
{
    /// <summary>Creates the layer for crops of <paramref name="height"/> x <paramref name="width"/>.</summary>
    public RandomCrop(int height, int width, int? seed = null, string? name = null) : base(seed, name)
    {
        if (height < 1 || width < 1) throw new ArgumentOutOfRangeException(nameof(height), $"RandomCrop: the crop {height} x {width} must be at least 1 x 1.");
        (Height, Width) = (height, width);
    }

    /// <summary>The crop's height.</summary>
    public int Height { get; }

    /// <summary>The crop's width.</summary>
    public int Width { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["height"] = Height, ["width"] = Width, ["seed"] = Seed };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static RandomCrop FromConfig(ConfigReader c) => new(c.Int("height"), c.Int("width"), c.OptionalInt("seed"));

    private void CheckSize(Tensor images)
    {
        if (images.Shape[2] < Height || images.Shape[3] < Width)
            throw new ArgumentException($"{Label}: images {images.ShapeString} are smaller than the crop {Height} x {Width}.");
    }

    /// <inheritdoc/>
    protected override Tensor Augment(Tensor images)
    {
        CheckSize(images);
        int n = images.Shape[0], h = images.Shape[2], w = images.Shape[3];
        float[] u = Draw(n, 2);
        var crops = new Tensor[n];
        for (int s = 0; s < n; s++)
        {
            int top = Math.Min(h - Height, (int)(u[2 * s] * (h - Height + 1)));
            int left = Math.Min(w - Width, (int)(u[2 * s + 1] * (w - Width + 1)));
            crops[s] = images.Slice(0, s, s + 1).Slice(2, top, top + Height).Slice(3, left, left + Width);
        }
        return n == 1 ? crops[0] : Tensor.Concat(crops, 0);
    }

    /// <inheritdoc/>
    protected override Tensor Infer(Tensor images)
    {
        CheckSize(images);
        int top = (images.Shape[2] - Height) / 2, left = (images.Shape[3] - Width) / 2;
        return images.Slice(2, top, top + Height).Slice(3, left, left + Width);
    }
}
