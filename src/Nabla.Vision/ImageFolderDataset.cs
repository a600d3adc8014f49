using Nabla.Data;

namespace Nabla.Vision;

/// <summary>
/// Images in one sub-folder per class (Keras's image_dataset_from_directory, torchvision's
/// ImageFolder): classes are the sub-folders in ordinal order, labels their indices. Each batch
/// is decoded from its files when the DataLoader asks for it (in parallel), so a folder of any
/// size streams through Fit in the memory of a few batches.
/// </summary>
public sealed class ImageFolderDataset : IDataset
{
    /// <summary>The file name extensions read.</summary>
    public static readonly IReadOnlyList<string> Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    private readonly (string Path, int Label)[] _files;

    /// <summary>
    /// Lists the images under <paramref name="root"/>; every image is decoded to
    /// [<paramref name="channels"/>, height, width] (resized when its size differs). Without a size,
    /// the first image's is used.
    /// </summary>
    public ImageFolderDataset(string root, int channels = 3, int? height = null, int? width = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"Image folder '{root}' does not exist.");
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), $"channels must be 1 (grey) or 3 (RGB), not {channels}.");
        string[] classes = [.. Directory.EnumerateDirectories(root).Select(Path.GetFileName).OfType<string>().Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal)];
        if (classes.Length == 0) throw new InvalidDataException($"Image folder '{root}' has no class sub-folders (one folder of images per class is expected).");
        var files = new List<(string, int)>();
        for (int c = 0; c < classes.Length; c++)
        {
            foreach (string f in Directory.EnumerateFiles(Path.Combine(root, classes[c])).Order(StringComparer.Ordinal))
            {
                string name = Path.GetFileName(f);
                if (!name.StartsWith('.') && Extensions.Contains(Path.GetExtension(f).ToLowerInvariant())) files.Add((f, c));
            }
        }
        if (files.Count == 0) throw new InvalidDataException($"Image folder '{root}' has class folders ({string.Join(", ", classes.Take(5))}) but no images ({string.Join(", ", Extensions)}).");
        _files = [.. files];
        ClassNames = classes;
        Root = root;
        Channels = channels;
        if (height is null || width is null)
        {
            var (w, h) = ImageDecoder.Size(_files[0].Path);
            height ??= h;
            width ??= w;
        }
        Height = height.Value;
        Width = width.Value;
    }

    private ImageFolderDataset(ImageFolderDataset parent, (string, int)[] files)
    {
        _files = files;
        ClassNames = parent.ClassNames;
        Root = parent.Root;
        Channels = parent.Channels;
        Height = parent.Height;
        Width = parent.Width;
    }

    /// <summary>The folder read.</summary>
    public string Root { get; }

    /// <summary>Class names (the sub-folders), in label order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Channels of every decoded image (1 grey, 3 RGB).</summary>
    public int Channels { get; }

    /// <summary>Height of every decoded image.</summary>
    public int Height { get; }

    /// <summary>Width of every decoded image.</summary>
    public int Width { get; }

    /// <summary>One sample's shape: [C, H, W].</summary>
    public int[] SampleShape => [Channels, Height, Width];

    /// <summary>The image files and their labels, in dataset order.</summary>
    public IReadOnlyList<(string Path, int Label)> Files => _files;

    /// <inheritdoc/>
    public int Count => _files.Length;

    /// <summary>
    /// Splits off a seeded, stratified fraction of each class (validation or test images): the rest,
    /// then the fraction. The same seed gives the same split.
    /// </summary>
    public (ImageFolderDataset Remaining, ImageFolderDataset Held) Split(double fraction, ulong seed = 42)
    {
        var (rest, held) = FolderSplit.Stratified([.. _files.Select(f => f.Label)], fraction, seed);
        return (new ImageFolderDataset(this, [.. rest.Select(i => _files[i])]), new ImageFolderDataset(this, [.. held.Select(i => _files[i])]));
    }

    /// <inheritdoc/>
    public DataBatch Batch(ReadOnlySpan<int> indices)
    {
        int n = indices.Length, size = Channels * Height * Width;
        var x = new float[n * size];
        var y = new float[n];
        int[] picked = indices.ToArray();
        foreach (int i in picked)
        {
            if ((uint)i >= (uint)_files.Length) throw new ArgumentOutOfRangeException(nameof(indices), $"index {i} is outside the {_files.Length} images.");
        }
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Math.Min(n, Environment.ProcessorCount)) }, k =>
        {
            var (path, label) = _files[picked[k]];
            ImageDecoder.Decode(path, Channels, Height, Width).CopyTo(x, k * size);
            y[k] = label;
        });
        return new DataBatch([Tensor.FromArray(x, [n, Channels, Height, Width])], [Tensor.FromArray(y, n)]);
    }
}
