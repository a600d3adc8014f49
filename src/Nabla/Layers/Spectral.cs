namespace Nabla.Layers;

/// <summary>
/// The spectral arithmetic shared by <see cref="Spectrogram"/>, <see cref="MelSpectrogram"/> and
/// <see cref="MFCC"/>, with torchaudio's conventions: frames centred on multiples of the hop (the
/// signal reflected at both ends), a periodic Hann window of n_fft, the one-sided DFT as one matrix
/// product on the GEMM kernels (so it has a gradient), HTK mel filters without normalisation,
/// decibels as 10 log10(max(x, 1e-10)), and the orthonormal DCT-II.
/// </summary>
internal static class Spectral
{
    /// <summary>Checks [N, L] or [N, 1, L] audio and returns it as [N, L] with whether a channel axis was there.</summary>
    public static (Tensor Audio, bool Channel) Flatten(Tensor input, string label, int nFft)
    {
        bool channel = input.Rank == 3 && input.Shape[1] == 1;
        if (input.Rank != 2 && !channel) throw new ArgumentException($"{label} expects audio [N, samples] or [N, 1, samples], got {input.ShapeString}.");
        Tensor audio = channel ? input.Reshape(input.Shape[0], input.Shape[2]) : input;
        if (audio.Shape[1] <= nFft / 2) throw new ArgumentException($"{label}: {audio.Shape[1]} samples are too few for n_fft {nFft} (more than {nFft / 2} are needed).");
        return (audio, channel);
    }

    /// <summary>
    /// What an STFT of one n_fft and hop reuses from call to call: the windowed DFT basis (made once)
    /// and the frame indices of the last signal length (made again only when the length changes),
    /// so a training step costs the gather and the matrix product, not the trigonometry.
    /// </summary>
    public sealed class Plan(int nFft, int hop)
    {
        private readonly Tensor _basis = Basis(nFft);
        // One reference, replaced whole: threads predicting at once read a consistent pair.
        private FrameIndex? _frames;

        private sealed record FrameIndex(int Length, Tensor Index);

        /// <summary>The power (or magnitude, <paramref name="power"/> 1) spectrogram of audio [N, L]: [N, frames, n_fft / 2 + 1].</summary>
        public Tensor Power(Tensor audio, float power)
        {
            int n = audio.Shape[0], length = audio.Shape[1], frames = 1 + length / hop, bins = nFft / 2 + 1;
            FrameIndex? cached = Volatile.Read(ref _frames);
            if (cached is null || cached.Length != length)
            {
                cached = new FrameIndex(length, Frames(length, frames));
                Volatile.Write(ref _frames, cached);
            }
            Tensor framed = audio.IndexSelect(1, cached.Index).Reshape(n, frames, nFft);
            Tensor both = Tensor.MatMul(framed, _basis);
            Tensor re = both.Slice(2, 0, bins), im = both.Slice(2, bins, 2 * bins);
            Tensor squared = Tensor.Mul(re, re) + Tensor.Mul(im, im);
            return power == 2f ? squared : power == 1f ? (squared + 1e-20f).Sqrt() : (squared + 1e-20f).Pow(power / 2);
        }

        /// <summary>For each frame, the samples it reads: centred on multiples of the hop, reflected at the ends.</summary>
        private Tensor Frames(int length, int frames)
        {
            var index = new float[frames * nFft];
            for (int f = 0; f < frames; f++)
            {
                for (int k = 0; k < nFft; k++)
                {
                    int t = f * hop + k - nFft / 2;
                    // Reflection without repeating the edge sample (numpy's and torch's "reflect").
                    while (t < 0 || t >= length) t = t < 0 ? -t : 2 * (length - 1) - t;
                    index[f * nFft + k] = t;
                }
            }
            return Tensor.FromArray(index, index.Length);
        }
    }

    /// <summary>The windowed one-sided DFT basis [n_fft, 2 (n_fft / 2 + 1)]: cosines, then minus sines.</summary>
    private static Tensor Basis(int nFft)
    {
        int bins = nFft / 2 + 1;
        var basis = new float[nFft * 2 * bins];
        for (int k = 0; k < nFft; k++)
        {
            double window = 0.5 - 0.5 * Math.Cos(2 * Math.PI * k / nFft);
            for (int j = 0; j < bins; j++)
            {
                double angle = 2 * Math.PI * ((long)k * j % nFft) / nFft;
                basis[k * 2 * bins + j] = (float)(window * Math.Cos(angle));
                basis[k * 2 * bins + bins + j] = (float)(-window * Math.Sin(angle));
            }
        }
        return Tensor.FromArray(basis, nFft, 2 * bins);
    }

    private static double HzToMel(double hz) => 2595.0 * Math.Log10(1.0 + hz / 700.0);

    private static double MelToHz(double mel) => 700.0 * (Math.Pow(10.0, mel / 2595.0) - 1.0);

    /// <summary>Triangular HTK mel filters [n_fft / 2 + 1, n_mels] between <paramref name="fMin"/> and <paramref name="fMax"/> Hz.</summary>
    public static Tensor MelFilters(int sampleRate, int nFft, int nMels, double fMin, double fMax)
    {
        int bins = nFft / 2 + 1;
        double melMin = HzToMel(fMin), melMax = HzToMel(fMax);
        var points = new double[nMels + 2];
        for (int m = 0; m < points.Length; m++) points[m] = MelToHz(melMin + (melMax - melMin) * m / (nMels + 1));
        var filters = new float[bins * nMels];
        for (int b = 0; b < bins; b++)
        {
            double freq = (double)(sampleRate / 2) * b / (bins - 1);
            for (int m = 0; m < nMels; m++)
            {
                double down = (freq - points[m]) / (points[m + 1] - points[m]);
                double up = (points[m + 2] - freq) / (points[m + 2] - points[m + 1]);
                filters[b * nMels + m] = (float)Math.Max(0, Math.Min(down, up));
            }
        }
        return Tensor.FromArray(filters, bins, nMels);
    }

    /// <summary>10 log10(max(x, 1e-10)).</summary>
    public static Tensor Decibels(Tensor x) => x.Clamp(1e-10f).Log() * (float)(10 / Math.Log(10));

    /// <summary>The orthonormal DCT-II matrix [n_mels, n_mfcc]: coefficient k of a row of n_mels values.</summary>
    public static Tensor Dct(int nMels, int nMfcc)
    {
        var dct = new float[nMels * nMfcc];
        for (int n = 0; n < nMels; n++)
        {
            for (int k = 0; k < nMfcc; k++)
            {
                double scale = k == 0 ? Math.Sqrt(1.0 / nMels) : Math.Sqrt(2.0 / nMels);
                dct[n * nMfcc + k] = (float)(scale * Math.Cos(Math.PI / nMels * (n + 0.5) * k));
            }
        }
        return Tensor.FromArray(dct, nMels, nMfcc);
    }

    /// <summary>Features [N, frames, F] as [N, F, frames], with the channel axis back when the input had one.</summary>
    public static Tensor Output(Tensor features, bool channel)
    {
        Tensor y = features.Transpose(1, 2).Contiguous();
        return channel ? y.Unsqueeze(1) : y;
    }

    public static void Check(string label, int nFft, int hop)
    {
        if (nFft < 2 || nFft > 1 << 16) throw new ArgumentOutOfRangeException(nameof(nFft), $"{label}: n_fft {nFft} must be in [2, 65536].");
        if (hop < 1) throw new ArgumentOutOfRangeException(nameof(hop), $"{label}: hop_length {hop} must be at least 1.");
    }
}
