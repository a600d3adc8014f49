using System.Text.Json.Nodes;
using Nabla.Initializers;

namespace Nabla.Layers;

/// <summary>
/// 2-D convolution over channels-first images: input [N, C, H, W], output [N, filters, OH, OW].
/// Weight [filters, C, KH, KW] named <c>weight</c> and bias [filters] named <c>bias</c>, as
/// PyTorch's Conv2d; Keras's defaults (glorot_uniform, zeros, "valid").
/// </summary>
public sealed class Conv2D : ConvolutionBase
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new()
    {
        ["filters"] = Filters,
        ["kernel_size"] = ConfigReader.Json(KernelSize),
        ["strides"] = ConfigReader.Json(Strides),
        ["padding"] = ConfigReader.Json(Padding),
        ["dilation"] = ConfigReader.Json(Dilation),
        ["activation"] = ConfigReader.Json(this, Activation),
        ["use_bias"] = UseBias,
    };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Conv2D FromConfig(ConfigReader c) => new(c.Int("filters"), c.Size("kernel_size"), c.Size("strides", 1), c.Padding("padding", "valid"), c.Size("dilation", 1), c.Activation("activation"), c.Bool("use_bias", true));

    /// <summary>Creates a Conv2D layer.</summary>
    /// <param name="filters">Output channels.</param>
    /// <param name="kernelSize">Window size.</param>
    /// <param name="strides">Step between windows (1).</param>
    /// <param name="padding">"valid" (default), "same" or explicit sizes.</param>
    /// <param name="dilation">Spacing of the window's taps (1).</param>
    /// <param name="activation">Applied to the output.</param>
    /// <param name="useBias">Whether to add a bias per filter.</param>
    /// <param name="kernelInitializer">Weight initializer (glorot_uniform).</param>
    /// <param name="biasInitializer">Bias initializer (zeros).</param>
    /// <param name="inputShape">One sample's shape [C, H, W], to build the weights at once (Keras's input_shape).</param>
    /// <param name="name">Display name.</param>
    public Conv2D(int filters, Size2 kernelSize, Size2? strides = null, ConvPadding? padding = null, Size2? dilation = null,
        ActivationFunction? activation = null, bool useBias = true, Initializer? kernelInitializer = null, Initializer? biasInitializer = null,
        int[]? inputShape = null, string? name = null) : base(filters, activation, useBias, kernelInitializer, biasInitializer, name)
    {
        if (kernelSize.H < 1 || kernelSize.W < 1) throw new ArgumentOutOfRangeException(nameof(kernelSize), $"Conv2D kernel size {kernelSize} must be at least 1x1.");
        KernelSize = kernelSize;
        Strides = strides ?? 1;
        Padding = padding ?? "valid";
        Dilation = dilation ?? 1;
        if (inputShape is not null) EnsureBuilt(inputShape);
    }

    /// <summary>Window size.</summary>
    public Size2 KernelSize { get; }
    /// <summary>Step between windows.</summary>
    public Size2 Strides { get; }
    /// <summary>Padding rule.</summary>
    public ConvPadding Padding { get; }
    /// <summary>Spacing of the window's taps.</summary>
    public Size2 Dilation { get; }

    /// <inheritdoc/>
    protected override void Build(ReadOnlySpan<int> inputShape)
    {
        if (inputShape.Length != 3) throw new ArgumentException($"{Label} needs inputs [N, C, H, W], got [batch, {string.Join(", ", inputShape.ToArray())}].");
        AddWeights([Filters, inputShape[0], KernelSize.H, KernelSize.W]); // weight [filters, C, KH, KW]
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        int c = Weight!.Shape[1];
        if (input.Rank != 4 || input.Shape[1] != c)
            throw new ArgumentException($"{Label} expects inputs [N, {c}, H, W], but got shape {input.ShapeString}.");
        Padding2D pad = Padding.Resolve(input.Shape[2], input.Shape[3], KernelSize, Strides, Dilation);
        // A ReLU is fused into the convolution (applied while each image's output is in cache).
        if (Activation.Name == "relu") return Tensor.Conv2dRelu(input, Weight, Bias?.Value, Strides.Tuple, pad, Dilation.Tuple);
        return Activation.Apply(Tensor.Conv2d(input, Weight, Bias?.Value, Strides.Tuple, pad, Dilation.Tuple));
    }
}

/// <summary>
/// 1-D convolution over channels-first sequences: input [N, C, L], output [N, filters, OL].
/// Weight [filters, C, K] and bias [filters], as PyTorch's Conv1d.
/// </summary>
public sealed class Conv1D : ConvolutionBase
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new()
    {
        ["filters"] = Filters,
        ["kernel_size"] = KernelSize,
        ["strides"] = Strides,
        ["padding"] = ConfigReader.Json(Padding),
        ["dilation"] = Dilation,
        ["activation"] = ConfigReader.Json(this, Activation),
        ["use_bias"] = UseBias,
    };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Conv1D FromConfig(ConfigReader c) => new(c.Int("filters"), c.Int("kernel_size"), c.Int("strides", 1), c.Padding("padding", "valid"), c.Int("dilation", 1), c.Activation("activation"), c.Bool("use_bias", true));

    /// <summary>Creates a Conv1D layer; arguments as <see cref="Conv2D"/> along one dimension (inputShape is [C, L]).</summary>
    public Conv1D(int filters, int kernelSize, int strides = 1, ConvPadding? padding = null, int dilation = 1,
        ActivationFunction? activation = null, bool useBias = true, Initializer? kernelInitializer = null, Initializer? biasInitializer = null,
        int[]? inputShape = null, string? name = null) : base(filters, activation, useBias, kernelInitializer, biasInitializer, name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelSize, 1);
        KernelSize = kernelSize;
        Strides = strides;
        Padding = padding ?? "valid";
        Dilation = dilation;
        if (inputShape is not null) EnsureBuilt(inputShape);
    }

    /// <summary>Window length.</summary>
    public int KernelSize { get; }
    /// <summary>Step between windows.</summary>
    public int Strides { get; }
    /// <summary>Padding rule.</summary>
    public ConvPadding Padding { get; }

    /// <summary>The padding of a sequence of <paramref name="length"/> steps: before and after along the length only (an explicit size pads no height).</summary>
    public Padding2D ResolvePadding(int length)
    {
        Padding2D p = Padding.Resolve(1, length, (1, KernelSize), (1, Strides), (1, Dilation));
        return new Padding2D(0, 0, p.Left, p.Right);
    }
    /// <summary>Spacing of the window's taps.</summary>
    public int Dilation { get; }

    /// <inheritdoc/>
    protected override void Build(ReadOnlySpan<int> inputShape)
    {
        if (inputShape.Length != 2) throw new ArgumentException($"{Label} needs inputs [N, C, L], got [batch, {string.Join(", ", inputShape.ToArray())}].");
        AddWeights([Filters, inputShape[0], KernelSize]); // weight [filters, C, K]
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        int c = Weight!.Shape[1];
        if (input.Rank != 3 || input.Shape[1] != c)
            throw new ArgumentException($"{Label} expects inputs [N, {c}, L], but got shape {input.ShapeString}.");
        Padding2D pad = ResolvePadding(input.Shape[2]);
        Tensor y = Tensor.Conv2d(input.Unsqueeze(2), Weight.Value.Unsqueeze(2), Bias?.Value, (1, Strides), pad, (1, Dilation));
        return Activation.Apply(y.Squeeze(2));
    }
}
