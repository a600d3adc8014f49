namespace Nabla.Data;

/// <summary>
/// Sound clips in one sub-folder per label (Keras's audio_dataset_from_directory): WAV files read
/// when a batch needs them, as mono at <see cref="SampleRate"/>, cut or padded with silence (at
/// the end) to <see cref="Length"/> samples; inputs [N, 1, Length], labels their folder's index.
/// Labels are the sub-folders in ordinal order, or the given <c>labels</c> (a subset, in that order).
/// </summary>
public sealed class AudioFolderDataset : IDataset
{
    private readonly (string Path, int Label)[] _files;

    /// <summary>Lists the clips under <paramref name="root"/>: <paramref name="seconds"/> of audio at <paramref name="sampleRate"/> each.</summary>
    public AudioFolderDataset(string root, int sampleRate = 16000, double seconds = 1.0, IReadOnlyList<string>? labels = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"Audio folder '{root}' does not exist.");
        if (sampleRate < 1 || sampleRate > 1_000_000) throw new ArgumentOutOfRangeException(nameof(sampleRate), $"sample rate {sampleRate} is not allowed.");
        if (!(seconds > 0 && seconds * sampleRate <= int.MaxValue / 8)) throw new ArgumentOutOfRangeException(nameof(seconds), $"clip length {seconds} s is not allowed.");
        string[] found = [.. Directory.EnumerateDirectories(root).Select(Path.GetFileName).OfType<string>().Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal)];
        string[] classes = labels is null ? found : [.. labels];
        foreach (string label in classes)
        {
            if (!found.Contains(label)) throw new DirectoryNotFoundException($"Audio folder '{root}' has no folder '{label}' (it has {string.Join(", ", found.Take(30))}).");
        }
        if (classes.Length == 0) throw new InvalidDataException($"Audio folder '{root}' has no label sub-folders (one folder of WAV files per label is expected).");
        var files = new List<(string, int)>();
        for (int c = 0; c < classes.Length; c++)
        {
            foreach (string f in Directory.EnumerateFiles(Path.Combine(root, classes[c]), "*.*").Order(StringComparer.Ordinal))
            {
                if (!Path.GetFileName(f).StartsWith('.') && Path.GetExtension(f).Equals(".wav", StringComparison.OrdinalIgnoreCase)) files.Add((f, c));
            }
        }
        if (files.Count == 0) throw new InvalidDataException($"Audio folder '{root}' has no .wav files in {string.Join(", ", classes.Take(5))}.");
        (_files, Labels, SampleRate, Length) = ([.. files], classes, sampleRate, (int)Math.Round(seconds * sampleRate));
    }

    private AudioFolderDataset(AudioFolderDataset parent, (string, int)[] files) =>
        (_files, Labels, SampleRate, Length) = (files, parent.Labels, parent.SampleRate, parent.Length);

    /// <summary>Splits off a seeded, stratified fraction of each label: the rest, then the fraction.</summary>
    public (AudioFolderDataset Remaining, AudioFolderDataset Held) Split(double fraction, ulong seed = 42)
    {
        var (rest, held) = FolderSplit.Stratified([.. _files.Select(f => f.Label)], fraction, seed);
        return (new AudioFolderDataset(this, [.. rest.Select(i => _files[i])]), new AudioFolderDataset(this, [.. held.Select(i => _files[i])]));
    }

    /// <summary>The labels (folder names), in label order.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Samples per second of every clip.</summary>
    public int SampleRate { get; }

    /// <summary>Samples in every clip.</summary>
    public int Length { get; }

    /// <summary>The files and their labels, in dataset order.</summary>
    public IReadOnlyList<(string Path, int Label)> Files => _files;

    /// <inheritdoc/>
    public int Count => _files.Length;

    /// <summary>One clip as the dataset feeds it: mono, resampled, cut or padded to <see cref="Length"/>.</summary>
    public float[] Load(string path)
    {
        AudioClip clip = Wav.Read(path, SampleRate);
        var samples = new float[Length];
        clip.Samples.AsSpan(0, Math.Min(Length, clip.Samples.Length)).CopyTo(samples);
        return samples;
    }

    /// <inheritdoc/>
    public DataBatch Batch(ReadOnlySpan<int> indices)
    {
        int n = indices.Length;
        int[] picked = indices.ToArray();
        foreach (int i in picked)
        {
            if ((uint)i >= (uint)_files.Length) throw new ArgumentOutOfRangeException(nameof(indices), $"index {i} is outside the {_files.Length} clips.");
        }
        var x = new float[n * Length];
        var y = new float[n];
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Math.Min(n, Environment.ProcessorCount)) }, k =>
        {
            Load(_files[picked[k]].Path).CopyTo(x, k * Length);
            y[k] = _files[picked[k]].Label;
        });
        return new DataBatch([Tensor.FromArray(x, n, 1, Length)], [Tensor.FromArray(y, n)]);
    }
}
