using System.Text.Json.Nodes;
using Nabla.Initializers;

namespace Nabla.Layers;

/// <summary>
/// A fully connected layer: <c>y = activation(x W^T + b)</c> over the last dimension of x.
/// The weight has PyTorch's Linear layout [units, inputFeatures] and name <c>weight</c>; the
/// bias is <c>bias</c>. Input [..., in] gives output [..., units].
/// </summary>
public sealed class Dense : Layer
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["units"] = Units, ["activation"] = ConfigReader.Json(this, Activation), ["use_bias"] = UseBias };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Dense FromConfig(ConfigReader c) => new(c.Int("units"), c.Activation("activation"), c.Bool("use_bias", true), kernelInitializer: c.Initializer("kernel_initializer"));

    private readonly Initializer _kernelInitializer;
    private readonly Initializer _biasInitializer;

    /// <summary>Creates a Dense layer with <paramref name="units"/> outputs.</summary>
    /// <param name="units">Number of outputs (neurons).</param>
    /// <param name="activation">Applied to the output; null or "linear" for none.</param>
    /// <param name="useBias">Whether to add a bias.</param>
    /// <param name="kernelInitializer">Weight initializer; Keras's default glorot_uniform.</param>
    /// <param name="biasInitializer">Bias initializer; zeros by default.</param>
    /// <param name="inputFeatures">Input size, to build the weights at once instead of on first call.</param>
    /// <param name="name">Display name.</param>
    public Dense(int units, ActivationFunction? activation = null, bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? biasInitializer = null, int? inputFeatures = null, string? name = null)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(units, 1);
        Units = units;
        Activation = activation ?? Activations.Linear;
        UseBias = useBias;
        _kernelInitializer = kernelInitializer ?? new GlorotUniform();
        _biasInitializer = biasInitializer ?? new Zeros();
        if (inputFeatures is int f) EnsureBuilt([f]);
    }

    /// <summary>Number of outputs.</summary>
    public int Units { get; }

    /// <summary>The activation applied to the output.</summary>
    public ActivationFunction Activation { get; }

    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }

    /// <summary>The weight [units, inputFeatures] (null until built).</summary>
    public Parameter? Weight { get; private set; }

    /// <summary>The bias [units] (null until built or without bias).</summary>
    public Parameter? Bias { get; private set; }

    /// <inheritdoc/>
    protected override void Build(ReadOnlySpan<int> inputShape)
    {
        if (inputShape.Length == 0) throw new ArgumentException($"{Label} needs inputs with a feature dimension, got shape [batch].");
        int features = inputShape[^1];
        Weight = AddParameter("weight", _kernelInitializer.Create([Units, features], Generator.Default));
        if (UseBias) Bias = AddParameter("bias", _biasInitializer.Create([Units], Generator.Default));
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        CheckLastDim(input, Weight!.Shape[1]);
        if (input.Rank == 2)
        {
            // One op: the bias as the product's start, a ReLU on the output while it is in cache.
            bool relu = Activation.Name == "relu";
            Tensor fused = Tensor.Linear(input, Weight.Value, Bias?.Value, relu);
            return relu ? fused : Activation.Apply(fused);
        }
        // [..., in] as [rows, in]: one product over all the rows (a sequence's steps alike), not one per leading index.
        int[] outShape = [.. input.Shape[..^1], Units];
        Tensor flat = Tensor.Linear(input.Reshape(-1, input.Shape[^1]), Weight.Value, Bias?.Value, Activation.Name == "relu");
        Tensor y = flat.Reshape(outShape);
        return Activation.Name == "relu" ? y : Activation.Apply(y);
    }
}
