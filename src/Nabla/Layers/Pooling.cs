using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>The shared part of the 2-D pooling layers: window, strides (default: the window) and padding.</summary>
public abstract class Pooling2D : Layer
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["pool_size"] = ConfigReader.Json(PoolSize), ["strides"] = ConfigReader.Json(Strides), ["padding"] = ConfigReader.Json(Padding) };

    /// <summary>Sets the window, strides and padding.</summary>
    protected Pooling2D(Size2 poolSize, Size2? strides, ConvPadding? padding, string? name) : base(name)
    {
        if (poolSize.H < 1 || poolSize.W < 1) throw new ArgumentOutOfRangeException(nameof(poolSize), $"Pool size {poolSize} must be at least 1x1.");
        PoolSize = poolSize;
        Strides = strides ?? poolSize;
        Padding = padding ?? "valid";
    }

    /// <summary>Window size.</summary>
    public Size2 PoolSize { get; }
    /// <summary>Step between windows.</summary>
    public Size2 Strides { get; }
    /// <summary>Padding rule.</summary>
    public ConvPadding Padding { get; }

    /// <summary>Pools one [N, C, H, W] batch.</summary>
    protected abstract Tensor Pool(Tensor input, Padding2D padding);

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        if (input.Rank != 4) throw new ArgumentException($"{Label} expects inputs [N, C, H, W], but got shape {input.ShapeString}.");
        return Pool(input, Padding.Resolve(input.Shape[2], input.Shape[3], PoolSize, Strides, 1));
    }
}

/// <summary>Max over each window of [N, C, H, W].</summary>
public sealed class MaxPooling2D(Size2? poolSize = null, Size2? strides = null, ConvPadding? padding = null, string? name = null)
    : Pooling2D(poolSize ?? 2, strides, padding, name)
{

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static MaxPooling2D FromConfig(ConfigReader c) => new(c.Size("pool_size", 2), c.Has("strides") ? c.Size("strides") : null, c.Padding("padding", "valid"));

    /// <inheritdoc/>
    protected override Tensor Pool(Tensor input, Padding2D padding) => Tensor.MaxPool2d(input, PoolSize.Tuple, Strides.Tuple, padding);
}

/// <summary>Mean over each window of [N, C, H, W] (padding not counted).</summary>
public sealed class AveragePooling2D(Size2? poolSize = null, Size2? strides = null, ConvPadding? padding = null, string? name = null)
    : Pooling2D(poolSize ?? 2, strides, padding, name)
{

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static AveragePooling2D FromConfig(ConfigReader c) => new(c.Size("pool_size", 2), c.Has("strides") ? c.Size("strides") : null, c.Padding("padding", "valid"));

    /// <inheritdoc/>
    protected override Tensor Pool(Tensor input, Padding2D padding) => Tensor.AvgPool2d(input, PoolSize.Tuple, Strides.Tuple, padding);
}

/// <summary>The shared part of the 1-D pooling layers over [N, C, L].</summary>
public abstract class Pooling1D : Layer
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["pool_size"] = PoolSize, ["strides"] = Strides, ["padding"] = ConfigReader.Json(Padding) };

    /// <summary>Sets the window, stride (default: the window) and padding.</summary>
    protected Pooling1D(int poolSize, int? strides, ConvPadding? padding, string? name) : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(poolSize, 1);
        PoolSize = poolSize;
        Strides = strides ?? poolSize;
        Padding = padding ?? "valid";
    }

    /// <summary>Window length.</summary>
    public int PoolSize { get; }
    /// <summary>Step between windows.</summary>
    public int Strides { get; }
    /// <summary>Padding rule.</summary>
    public ConvPadding Padding { get; }

    /// <summary>Pools one [N, C, 1, L] batch.</summary>
    protected abstract Tensor Pool(Tensor input, Padding2D padding);

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        if (input.Rank != 3) throw new ArgumentException($"{Label} expects inputs [N, C, L], but got shape {input.ShapeString}.");
        Padding2D both = Padding.Resolve(1, input.Shape[2], (1, PoolSize), (1, Strides), 1);
        Padding2D pad = new(0, 0, both.Left, both.Right); // an explicit size pads the length only
        return Pool(input.Unsqueeze(2), pad).Squeeze(2);
    }
}

/// <summary>Max over each window of [N, C, L].</summary>
public sealed class MaxPooling1D(int poolSize = 2, int? strides = null, ConvPadding? padding = null, string? name = null)
    : Pooling1D(poolSize, strides, padding, name)
{

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static MaxPooling1D FromConfig(ConfigReader c) => new(c.Int("pool_size", 2), c.OptionalInt("strides"), c.Padding("padding", "valid"));

    /// <inheritdoc/>
    protected override Tensor Pool(Tensor input, Padding2D padding) => Tensor.MaxPool2d(input, (1, PoolSize), (1, Strides), padding);
}

/// <summary>Mean over each window of [N, C, L] (padding not counted).</summary>
public sealed class AveragePooling1D(int poolSize = 2, int? strides = null, ConvPadding? padding = null, string? name = null)
    : Pooling1D(poolSize, strides, padding, name)
{

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static AveragePooling1D FromConfig(ConfigReader c) => new(c.Int("pool_size", 2), c.OptionalInt("strides"), c.Padding("padding", "valid"));

    /// <inheritdoc/>
    protected override Tensor Pool(Tensor input, Padding2D padding) => Tensor.AvgPool2d(input, (1, PoolSize), (1, Strides), padding);
}

/// <summary>Mean over all positions: [N, C, H, W] to [N, C].</summary>
public sealed class GlobalAveragePooling2D(string? name = null) : Layer(name)
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new();

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static GlobalAveragePooling2D FromConfig(ConfigReader c) => new();

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input) => input.Rank == 4 ? input.Mean([2, 3])
        : throw new ArgumentException($"{Label} expects inputs [N, C, H, W], but got shape {input.ShapeString}.");
}

/// <summary>Max over all positions: [N, C, H, W] to [N, C].</summary>
public sealed class GlobalMaxPooling2D(string? name = null) : Layer(name)
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new();

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static GlobalMaxPooling2D FromConfig(ConfigReader c) => new();

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input) => input.Rank == 4 ? input.Max([2, 3])
        : throw new ArgumentException($"{Label} expects inputs [N, C, H, W], but got shape {input.ShapeString}.");
}

/// <summary>Mean over the sequence: [N, C, L] to [N, C].</summary>
public sealed class GlobalAveragePooling1D(string? name = null) : Layer(name)
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new();

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static GlobalAveragePooling1D FromConfig(ConfigReader c) => new();

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input) => input.Rank == 3 ? input.Mean(2)
        : throw new ArgumentException($"{Label} expects inputs [N, C, L], but got shape {input.ShapeString}.");
}

/// <summary>Max over the sequence: [N, C, L] to [N, C].</summary>
public sealed class GlobalMaxPooling1D(string? name = null) : Layer(name)
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new();

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static GlobalMaxPooling1D FromConfig(ConfigReader c) => new();

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input) => input.Rank == 3 ? input.Max(2)
        : throw new ArgumentException($"{Label} expects inputs [N, C, L], but got shape {input.ShapeString}.");
}

/// <summary>Repeats each pixel <see cref="Size"/> times in height and width (nearest neighbour): [N, C, H, W] to [N, C, H*sh, W*sw].</summary>
public sealed class UpSampling2D(Size2? size = null, string? name = null) : Layer(name)
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["size"] = ConfigReader.Json(Size) };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static UpSampling2D FromConfig(ConfigReader c) => new(c.Size("size", 2));

    /// <summary>The repetition factors.</summary>
    public Size2 Size { get; } = size ?? 2;

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        if (input.Rank != 4) throw new ArgumentException($"{Label} expects inputs [N, C, H, W], but got shape {input.ShapeString}.");
        int n = input.Shape[0], c = input.Shape[1], h = input.Shape[2], w = input.Shape[3];
        return input.Reshape(n, c, h, 1, w, 1).Expand(n, c, h, Size.H, w, Size.W).Reshape(n, c, h * Size.H, w * Size.W);
    }
}
