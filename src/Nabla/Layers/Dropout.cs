using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// In training, zeroes each element with probability <see cref="Rate"/> and scales the rest by
/// 1 / (1 - rate) (inverted dropout); in evaluation, the identity. Masks come from
/// <see cref="Generator.Default"/>, so one seed makes training repeatable.
/// </summary>
public sealed class Dropout : Layer
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["rate"] = Rate };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Dropout FromConfig(ConfigReader c) => new(c.Float("rate"));

    /// <summary>Creates a dropout layer dropping a fraction <paramref name="rate"/> in [0, 1).</summary>
    public Dropout(float rate, string? name = null) : base(name)
    {
        if (!(rate >= 0f && rate < 1f)) throw new ArgumentOutOfRangeException(nameof(rate), $"Dropout rate must be in [0, 1), not {rate}.");
        Rate = rate;
    }

    /// <summary>The fraction of elements dropped in training.</summary>
    public float Rate { get; }

    /// <inheritdoc/>
    public override Tensor? ComputeMask(Tensor input, Tensor? mask) => mask;

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        if (!IsTraining || Rate == 0f) return input;
        var mask = Tensor.Zeros(input.Shape.ToArray());
        float keep = 1f - Rate, scale = 1f / keep;
        var g = Generator.Default;
        // In data-parallel training each rank draws the whole global batch's mask and keeps its rows.
        var (before, after) = Distributed.BatchShard.Skips(input.Rank == 0 ? 1 : input.Shape[0], input.Rank == 0 ? 1 : mask.Size / Math.Max(1, input.Shape[0]));
        g.Skip(before);
        for (int i = 0; i < mask.Size; i++) mask.Storage[i] = g.NextFloat() < keep ? scale : 0f;
        g.Skip(after);
        return input * mask;
    }
}
