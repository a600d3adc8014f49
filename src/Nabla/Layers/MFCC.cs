using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// Mel-frequency cepstral coefficients (torchaudio's MFCC without its 80 dB floor): the orthonormal
/// DCT-II of the decibel mel spectrogram, keeping the first <see cref="NMfcc"/> coefficients. Audio
/// [N, samples] becomes [N, n_mfcc, 1 + samples / hop_length].
/// </summary>
public sealed class MFCC : Layer
{
    private readonly MelSpectrogram _mel;
    private readonly Tensor _dct;

    /// <summary>Creates the layer; the mel arguments are <see cref="MelSpectrogram"/>'s.</summary>
    public MFCC(int sampleRate = 16000, int nMfcc = 40, int nFft = 400, int? hopLength = null, int nMels = 128, float fMin = 0f, float? fMax = null, string? name = null) : base(name)
    {
        if (nMfcc < 1 || nMfcc > nMels) throw new ArgumentOutOfRangeException(nameof(nMfcc), $"MFCC: n_mfcc {nMfcc} must be in [1, n_mels = {nMels}].");
        NMfcc = nMfcc;
        _mel = new MelSpectrogram(sampleRate, nFft, hopLength, nMels, fMin, fMax, decibels: true);
        _dct = Spectral.Dct(nMels, nMfcc);
    }

    /// <summary>The number of coefficients kept.</summary>
    public int NMfcc { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        JsonObject config = _mel.GetConfig();
        config.Remove("decibels");
        config["n_mfcc"] = NMfcc;
        return config;
    }

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static MFCC FromConfig(ConfigReader c) => new(c.Int("sample_rate", 16000), c.Int("n_mfcc", 40), c.Int("n_fft", 400), c.OptionalInt("hop_length"),
        c.Int("n_mels", 128), c.Float("f_min", 0f), c.OptionalFloat("f_max"));

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        Tensor mel = _mel.Forward(input);
        bool channel = mel.Rank == 4;
        Tensor rows = (channel ? mel.Squeeze(1) : mel).Transpose(1, 2);
        Tensor y = Tensor.MatMul(rows, _dct).Transpose(1, 2).Contiguous();
        return channel ? y.Unsqueeze(1) : y;
    }
}
