using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// SpecAugment's masking (Park et al., 2019; torchaudio's FrequencyMasking and TimeMasking): in
/// training, each example gets one band of up to <see cref="MaxWidth"/> rows (frequency) or columns
/// (time) of its spectrogram [N, F, T] (or [N, 1, F, T]) set to <see cref="MaskValue"/>, width
/// and place drawn uniformly; outside training the input passes unchanged.
/// </summary>
public abstract class SpectrogramMasking : Layer
{
    private readonly Generator? _generator;

    /// <summary>Creates the layer.</summary>
    protected SpectrogramMasking(int maxWidth, float maskValue, int? seed, string? name) : base(name)
    {
        if (maxWidth < 0) throw new ArgumentOutOfRangeException(nameof(maxWidth), $"{GetType().Name}: the mask width must be at least 0, not {maxWidth}.");
        (MaxWidth, MaskValue, Seed) = (maxWidth, maskValue, seed);
        if (seed is int s) _generator = new Generator((ulong)s);
    }

    /// <summary>The widest band masked.</summary>
    public int MaxWidth { get; }

    /// <summary>The value written into the band.</summary>
    public float MaskValue { get; }

    /// <summary>The seed of the layer's own generator, or null for the default one.</summary>
    public int? Seed { get; }

    /// <summary>The axis masked, counted from the end (-2 frequency, -1 time).</summary>
    protected abstract int Axis { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { [ConfigName] = MaxWidth, ["mask_value"] = MaskValue, ["seed"] = Seed };

    /// <summary>The config key of the width (torchaudio's freq_mask_param or time_mask_param).</summary>
    protected abstract string ConfigName { get; }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        if (input.Rank is not (3 or 4)) throw new ArgumentException($"{Label} expects spectrograms [N, F, T] or [N, 1, F, T], got {input.ShapeString}.");
        if (!IsTraining || MaxWidth == 0) return input;
        int n = input.Shape[0], length = input.Shape[input.Rank + Axis];
        float[] u = Distributed.BatchShard.DrawRows(_generator ?? Generator.Default, n, 2);
        int[] keepShape = [n, .. Enumerable.Range(1, input.Rank - 1).Select(d => d == input.Rank + Axis ? length : 1)];
        var keep = new float[n * length];
        for (int s = 0; s < n; s++)
        {
            int width = Math.Min(length, (int)(u[2 * s] * (MaxWidth + 1)));
            int start = (int)(u[2 * s + 1] * (length - width + 1));
            keep.AsSpan(s * length, length).Fill(1f);
            keep.AsSpan(s * length + start, width).Clear();
        }
        Tensor mask = Tensor.FromArray(keep, keepShape);
        Tensor y = Tensor.Mul(input, mask);
        return MaskValue == 0 ? y : y + (1f - mask) * MaskValue;
    }
}

/// <summary>Masks one band of frequencies per example in training (SpecAugment; torchaudio's FrequencyMasking).</summary>
public sealed class FrequencyMasking(int freqMaskParam, float maskValue = 0f, int? seed = null, string? name = null) : SpectrogramMasking(freqMaskParam, maskValue, seed, name)
{
    /// <inheritdoc/>
    protected override int Axis => -2;

    /// <inheritdoc/>
    protected override string ConfigName => "freq_mask_param";

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static FrequencyMasking FromConfig(ConfigReader c) => new(c.Int("freq_mask_param"), c.Float("mask_value", 0f), c.OptionalInt("seed"));
}

/// <summary>Masks one band of time steps per example in training (SpecAugment; torchaudio's TimeMasking).</summary>
public sealed class TimeMasking(int timeMaskParam, float maskValue = 0f, int? seed = null, string? name = null) : SpectrogramMasking(timeMaskParam, maskValue, seed, name)
{
    /// <inheritdoc/>
    protected override int Axis => -1;

    /// <inheritdoc/>
    protected override string ConfigName => "time_mask_param";

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static TimeMasking FromConfig(ConfigReader c) => new(c.Int("time_mask_param"), c.Float("mask_value", 0f), c.OptionalInt("seed"));
}
