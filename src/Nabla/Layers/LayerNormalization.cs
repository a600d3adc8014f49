using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// Normalises each sample over its last dimension: <c>y = (x - mean) / sqrt(var + epsilon) * weight + bias</c>,
/// the same in training and evaluation. Parameters weight and bias over the last dimension, as PyTorch's LayerNorm.
/// </summary>
public sealed class LayerNormalization : Layer
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["epsilon"] = Epsilon };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static LayerNormalization FromConfig(ConfigReader c) => new(c.Float("epsilon", 1e-3f));

    /// <summary>Creates a layer-normalization layer (epsilon: Keras's default 1e-3; PyTorch's is 1e-5).</summary>
    public LayerNormalization(float epsilon = 1e-3f, string? name = null) : base(name)
    {
        if (!(epsilon > 0f)) throw new ArgumentOutOfRangeException(nameof(epsilon), $"LayerNormalization epsilon must be positive, not {epsilon}.");
        Epsilon = epsilon;
    }

    /// <summary>Added to the variance before the square root.</summary>
    public float Epsilon { get; }

    /// <summary>Scale over the last dimension.</summary>
    public Parameter? Weight { get; private set; }

    /// <summary>Shift over the last dimension.</summary>
    public Parameter? Bias { get; private set; }

    /// <inheritdoc/>
    protected override void Build(ReadOnlySpan<int> inputShape)
    {
        if (inputShape.Length == 0) throw new ArgumentException($"{Label} needs inputs with a feature dimension, got shape [batch].");
        Weight = AddParameter("weight", Tensor.Ones(inputShape[^1]));
        Bias = AddParameter("bias", Tensor.Zeros(inputShape[^1]));
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        CheckLastDim(input, Weight!.Shape[0]);
        return Tensor.LayerNorm(input, Weight.Value, Bias!.Value, Epsilon);
    }
}
