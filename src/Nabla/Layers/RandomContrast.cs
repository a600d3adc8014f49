using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// Scales each image's contrast by a random factor in [1 - <see cref="Factor"/>, 1 + <see cref="Factor"/>]
/// about its mean, channel by channel, in training only (Keras's RandomContrast, without clipping).
/// </summary>
public sealed class RandomContrast : RandomImageLayer
{
    /// <summary>Creates the layer.</summary>
    public RandomContrast(float factor, int? seed = null, string? name = null) : base(seed, name)
    {
        CheckFactor(factor, nameof(factor));
        Factor = factor;
    }

    /// <summary>The largest change of contrast, as a fraction.</summary>
    public float Factor { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["factor"] = Factor, ["seed"] = Seed };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static RandomContrast FromConfig(ConfigReader c) => new(c.Float("factor"), c.OptionalInt("seed"));

    /// <inheritdoc/>
    protected override Tensor Augment(Tensor images)
    {
        int n = images.Shape[0];
        float[] u = Draw(n, 1);
        var factors = new float[n];
        for (int s = 0; s < n; s++) factors[s] = 1 + Symmetric(u[s], Factor);
        Tensor mean = images.Mean([2, 3], keepDim: true);
        return Tensor.Mul(images - mean, Tensor.FromArray(factors, n, 1, 1, 1)) + mean;
    }
}
