using Nabla.Data;
using Nabla.IO;
using Nabla.Layers;

namespace Nabla.Tests.Layers;

/// <summary>Audio features against a NumPy/SciPy reference (scripts/make-audio-fixture.py) and known values.</summary>
public class AudioFeatureTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "audio");

    [Theory]
    [InlineData("chirp")]
    [InlineData("vowel")]
    public void Log_mel_features_match_the_reference(string clip)
    {
        var reference = SafeTensors.Load(Path.Combine(Folder, "logmel_reference.safetensors"))[clip];
        AudioClip audio = Wav.Read(Path.Combine(Folder, clip + ".wav"));
        Assert.Equal(16000, audio.SampleRate);
        var layer = new MelSpectrogram(sampleRate: 16000, nFft: 512, hopLength: 160, nMels: 40, fMin: 20, fMax: 7600, decibels: true);
        Tensor y = layer.Forward(Tensor.FromArray(audio.Samples, 1, audio.Samples.Length));
        Assert.Equal([1, .. reference.Shape.ToArray()], y.Shape.ToArray());
        float[] expected = reference.ToArray(), actual = y.ToArray();
        double worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]) / Math.Max(1.0, Math.Abs(expected[i])));
        Assert.True(worst <= 1e-4, $"largest relative difference {worst:G3}");
    }

    [Fact]
    public void A_pure_tone_peaks_in_its_frequency_bin()
    {
        // 1 kHz at 8 kHz with n_fft 64: bin 1000 / (8000 / 64) = 8.
        var tone = new float[800];
        for (int i = 0; i < tone.Length; i++) tone[i] = MathF.Sin(2 * MathF.PI * 1000 * i / 8000f);
        Tensor power = new Spectrogram(nFft: 64, hopLength: 32).Forward(Tensor.FromArray(tone, 1, tone.Length));
        float[] column = power.Select(0, 0).Select(1, 10).ToArray();
        Assert.Equal(8, Array.IndexOf(column, column.Max()));
        // Parseval, roughly: a unit sine under a Hann window of 64 puts (64 * 0.5 / 2)^2 = 256 in its bin.
        Assert.InRange(column[8], 240f, 272f);
    }

    [Fact]
    public void Mfcc_is_the_orthonormal_dct_of_the_decibel_mel_spectrogram()
    {
        var audio = Tensor.RandN([2, 400], new Generator(3));
        var mel = new MelSpectrogram(sampleRate: 8000, nFft: 64, hopLength: 32, nMels: 10, decibels: true).Forward(audio);
        var mfcc = new MFCC(sampleRate: 8000, nMfcc: 10, nFft: 64, hopLength: 32, nMels: 10).Forward(audio);
        // An orthonormal transform keeps each frame's energy.
        float[] m = mel.ToArray(), c = mfcc.ToArray();
        int frames = mel.Shape[2];
        for (int f = 0; f < frames; f++)
        {
            double a = 0, b = 0;
            for (int k = 0; k < 10; k++)
            {
                a += m[k * frames + f] * m[k * frames + f];
                b += c[k * frames + f] * c[k * frames + f];
            }
            Assert.Equal(a, b, a * 1e-4);
        }
    }

    [Fact]
    public void Masking_acts_only_in_training_and_masks_one_band()
    {
        Tensor x = Tensor.Ones(4, 6, 10);
        var time = new TimeMasking(4, seed: 1);
        float[] y = time.Forward(x).ToArray();
        for (int s = 0; s < 4; s++)
        {
            var masked = Enumerable.Range(0, 10).Where(t => y[s * 60 + t] == 0).ToList();
            Assert.True(masked.Count <= 4);
            if (masked.Count > 0) Assert.Equal(masked.Count - 1, masked[^1] - masked[0]);
            Assert.All(Enumerable.Range(0, 6), f => Assert.Equal(masked, Enumerable.Range(0, 10).Where(t => y[s * 60 + f * 10 + t] == 0).ToList()));
        }
        time.Eval();
        Assert.Equal(x.ToArray(), time.Forward(x).ToArray());
    }
}
