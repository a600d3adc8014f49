using System.Text.Json.Nodes;
using Nabla.Initializers;

namespace Nabla.Layers;

/// <summary>
/// Transposed 2-D convolution, for decoders that grow images: input [N, C, H, W], output
/// [N, filters, OH, OW]. With "valid" padding OH = (H - 1) stride + KH; with "same" OH = H * stride.
/// Weight [C, filters, KH, KW] named <c>weight</c> and bias [filters], as PyTorch's ConvTranspose2d.
/// </summary>
public sealed class Conv2DTranspose : ConvolutionBase
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new()
    {
        ["filters"] = Filters,
        ["kernel_size"] = ConfigReader.Json(KernelSize),
        ["strides"] = ConfigReader.Json(Strides),
        ["padding"] = Padding,
        ["activation"] = ConfigReader.Json(this, Activation),
        ["use_bias"] = UseBias,
    };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Conv2DTranspose FromConfig(ConfigReader c) => new(c.Int("filters"), c.Size("kernel_size"), c.Size("strides", 1), c.String("padding", "valid")!, c.Activation("activation"), c.Bool("use_bias", true));

    private readonly bool _same;

    /// <summary>Creates a Conv2DTranspose layer.</summary>
    /// <param name="filters">Output channels.</param>
    /// <param name="kernelSize">Window size.</param>
    /// <param name="strides">Upsampling step (1).</param>
    /// <param name="padding">"valid" (default) or "same".</param>
    /// <param name="activation">Applied to the output.</param>
    /// <param name="useBias">Whether to add a bias per filter.</param>
    /// <param name="kernelInitializer">Weight initializer (glorot_uniform).</param>
    /// <param name="biasInitializer">Bias initializer (zeros).</param>
    /// <param name="inputShape">One sample's shape [C, H, W], to build at once.</param>
    /// <param name="name">Display name.</param>
    public Conv2DTranspose(int filters, Size2 kernelSize, Size2? strides = null, string padding = "valid", ActivationFunction? activation = null,
        bool useBias = true, Initializer? kernelInitializer = null, Initializer? biasInitializer = null, int[]? inputShape = null, string? name = null)
        : base(filters, activation, useBias, kernelInitializer, biasInitializer, name)
    {
        if (kernelSize.H < 1 || kernelSize.W < 1) throw new ArgumentOutOfRangeException(nameof(kernelSize), $"Conv2DTranspose kernel size {kernelSize} must be at least 1x1.");
        _same = padding.ToLowerInvariant() switch
        {
            "same" => true,
            "valid" => false,
            _ => throw new ArgumentException($"Conv2DTranspose padding must be \"valid\" or \"same\", not \"{padding}\".", nameof(padding)),
        };
        KernelSize = kernelSize;
        Strides = strides ?? 1;
        if (inputShape is not null) EnsureBuilt(inputShape);
    }

    /// <summary>"valid" or "same".</summary>
    public string Padding => _same ? "same" : "valid";
    /// <summary>Window size.</summary>
    public Size2 KernelSize { get; }
    /// <summary>Upsampling step.</summary>
    public Size2 Strides { get; }

    /// <inheritdoc/>
    protected override void Build(ReadOnlySpan<int> inputShape)
    {
        if (inputShape.Length != 3) throw new ArgumentException($"{Label} needs inputs [N, C, H, W], got [batch, {string.Join(", ", inputShape.ToArray())}].");
        // Fans as for the convolution this is the adjoint of: [filters, C, KH, KW].
        int c = inputShape[0];
        AddWeights([Filters, c, KernelSize.H, KernelSize.W], w => w.Reshape(c, Filters, KernelSize.H, KernelSize.W).Contiguous()); // weight [C, filters, KH, KW]
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        int c = Weight!.Shape[0];
        if (input.Rank != 4 || input.Shape[1] != c)
            throw new ArgumentException($"{Label} expects inputs [N, {c}, H, W], but got shape {input.ShapeString}.");
        (int ph, int oph) = Same(KernelSize.H, Strides.H);
        (int pw, int opw) = Same(KernelSize.W, Strides.W);
        return Activation.Apply(Tensor.ConvTranspose2d(input, Weight, Bias?.Value, Strides.Tuple, (ph, pw), (oph, opw)));
    }

    /// <summary>Padding and output padding: none for "valid"; for "same", those that make the output exactly stride times the input.</summary>
    private (int Padding, int OutputPadding) Same(int k, int s)
    {
        if (!_same) return (0, 0);
        int p = Math.Max((k - s + 1) / 2, 0), op = 2 * p - (k - s);
        if (op < 0 || op >= s)
            throw new ArgumentException($"{Label}: \"same\" padding for kernel {k} with stride {s} would need uneven padding; use an odd kernel, a stride of 2 or more, or \"valid\".");
        return (p, op);
    }
}
