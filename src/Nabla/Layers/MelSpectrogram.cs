using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// A mel spectrogram (torchaudio's MelSpectrogram; with <see cref="Decibels"/>, followed by
/// AmplitudeToDB): the power spectrogram through <see cref="NMels"/> triangular HTK mel filters
/// between <see cref="FMin"/> and <see cref="FMax"/>. Audio [N, samples] becomes
/// [N, n_mels, 1 + samples / hop_length]; [N, 1, samples] keeps the channel axis.
/// </summary>
public sealed class MelSpectrogram : Layer
{
    private readonly Tensor _filters;

    /// <summary>Creates the layer; the hop defaults to n_fft / 2 and f_max to half the sample rate.</summary>
    public MelSpectrogram(int sampleRate = 16000, int nFft = 400, int? hopLength = null, int nMels = 128, float fMin = 0f, float? fMax = null,
        bool decibels = false, string? name = null) : base(name)
    {
        (SampleRate, NFft, HopLength, NMels, FMin, FMax, Decibels) = (sampleRate, nFft, hopLength ?? nFft / 2, nMels, fMin, fMax ?? sampleRate / 2f, decibels);
        Spectral.Check(Label, NFft, HopLength);
        if (sampleRate < 1) throw new ArgumentOutOfRangeException(nameof(sampleRate), $"{Label}: sample_rate must be positive, not {sampleRate}.");
        if (nMels < 1) throw new ArgumentOutOfRangeException(nameof(nMels), $"{Label}: n_mels must be at least 1, not {nMels}.");
        if (!(FMin >= 0 && FMin < FMax && FMax <= sampleRate / 2f)) throw new ArgumentOutOfRangeException(nameof(fMin), $"{Label}: need 0 <= f_min < f_max <= sample_rate / 2, got {FMin} and {FMax}.");
        _filters = Spectral.MelFilters(SampleRate, NFft, NMels, FMin, FMax);
        _stft = new Spectral.Plan(NFft, HopLength);
    }

    private readonly Spectral.Plan _stft;

    /// <summary>Samples per second of the audio.</summary>
    public int SampleRate { get; }

    /// <summary>The frame (and FFT) length.</summary>
    public int NFft { get; }

    /// <summary>Samples between frame centres.</summary>
    public int HopLength { get; }

    /// <summary>The number of mel bands.</summary>
    public int NMels { get; }

    /// <summary>The lowest frequency of the filters (Hz).</summary>
    public float FMin { get; }

    /// <summary>The highest frequency of the filters (Hz).</summary>
    public float FMax { get; }

    /// <summary>Whether the output is in decibels: 10 log10(max(x, 1e-10)).</summary>
    public bool Decibels { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new()
    {
        ["sample_rate"] = SampleRate,
        ["n_fft"] = NFft,
        ["hop_length"] = HopLength,
        ["n_mels"] = NMels,
        ["f_min"] = FMin,
        ["f_max"] = FMax,
        ["decibels"] = Decibels,
    };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static MelSpectrogram FromConfig(ConfigReader c) => new(c.Int("sample_rate", 16000), c.Int("n_fft", 400), c.OptionalInt("hop_length"), c.Int("n_mels", 128),
        c.Float("f_min", 0f), c.OptionalFloat("f_max"), c.Bool("decibels", false));

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        var (audio, channel) = Spectral.Flatten(input, Label, NFft);
        Tensor mel = Tensor.MatMul(_stft.Power(audio, 2f), _filters);
        return Spectral.Output(Decibels ? Spectral.Decibels(mel) : mel, channel);
    }
}
