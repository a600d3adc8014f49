using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// The short-time Fourier transform's power (torchaudio's Spectrogram): audio [N, samples] becomes
/// [N, n_fft / 2 + 1, 1 + samples / hop_length] ([N, 1, ...] keeps a channel axis for Conv2D).
/// Frames are centred (the signal reflected at its ends) and Hann-windowed; the DFT is one matrix
/// product, so the layer has a gradient. <see cref="Power"/> 1 gives the magnitude.
/// </summary>
public sealed class Spectrogram : Layer
{
    /// <summary>Creates the layer; the hop defaults to n_fft / 2.</summary>
    public Spectrogram(int nFft = 400, int? hopLength = null, float power = 2f, string? name = null) : base(name)
    {
        (NFft, HopLength, Power) = (nFft, hopLength ?? nFft / 2, power);
        Spectral.Check(Label, NFft, HopLength);
        if (!(power > 0)) throw new ArgumentOutOfRangeException(nameof(power), $"{Label}: power must be positive, not {power}.");
        _stft = new Spectral.Plan(NFft, HopLength);
    }

    private readonly Spectral.Plan _stft;

    /// <summary>The frame (and FFT) length.</summary>
    public int NFft { get; }

    /// <summary>Samples between frame centres.</summary>
    public int HopLength { get; }

    /// <summary>2 for power, 1 for magnitude.</summary>
    public float Power { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["n_fft"] = NFft, ["hop_length"] = HopLength, ["power"] = Power };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Spectrogram FromConfig(ConfigReader c) => new(c.Int("n_fft", 400), c.OptionalInt("hop_length"), c.Float("power", 2f));

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        var (audio, channel) = Spectral.Flatten(input, Label, NFft);
        return Spectral.Output(_stft.Power(audio, Power), channel);
    }
}
