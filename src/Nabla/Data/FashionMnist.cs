namespace Nabla.Data;

/// <summary>A labelled image set: images [N, 1, 28, 28] scaled to [0, 1], labels [N] as class indices.</summary>
/// <param name="Images">Pixel values / 255, channels-first.</param>
/// <param name="Labels">Class index per image.</param>
public sealed record LabelledImages(Tensor Images, Tensor Labels)
{
    /// <summary>Number of images.</summary>
    public int Count => Images.Shape[0];

    /// <summary>The first <paramref name="count"/> images (a view).</summary>
    public LabelledImages Take(int count) => new(Images.Slice(0, 0, count), Labels.Slice(0, 0, count));
}

/// <summary>
/// A dataset in MNIST's layout: four IDX files (train and t10k, images and labels, gzipped or
/// not) of 28 x 28 images in 10 classes. <see cref="Load"/> reads an explicit folder when given
/// (and only that one); otherwise it looks in <c>$NABLA_DATA/NAME</c>, <c>$NABLA_DATA</c>, the
/// Debian folder (if any) and the user cache <c>~/.cache/nabla/NAME</c>. When none has it and
/// the dataset has a canonical source, <see cref="Load"/> downloads the gzipped files into the
/// cache and verifies their SHA-256 digests.
/// </summary>
/// <param name="name">Folder name, e.g. fashion-mnist.</param>
/// <param name="debianFolder">Where a Debian package installs it, if one does.</param>
/// <param name="installHint">What to tell a user who has none.</param>
/// <param name="classNames">Class names by label.</param>
/// <param name="source">Canonical address of the four .gz files, if downloads are allowed.</param>
/// <param name="digests">SHA-256 of each .gz file, by file name.</param>
/// <param name="cacheFolder">The cache folder (default ~/.cache/nabla/NAME).</param>
public sealed class MnistLayoutDataset(string name, string? debianFolder, string installHint, string[] classNames,
    Uri? source = null, IReadOnlyList<RemoteFile>? digests = null, string? cacheFolder = null)
{
    private static readonly string[] Files = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>The dataset's folder name, e.g. <c>fashion-mnist</c>.</summary>
    public string Name { get; } = name;

    /// <summary>The class names, by label.</summary>
    public IReadOnlyList<string> ClassNames { get; } = classNames;

    /// <summary>The folders searched, in order: just the explicit folder when one is given.</summary>
    public IEnumerable<string> SearchPath(string? folder = null)
    {
        if (folder is not null)
        {
            yield return folder;
            yield break;
        }
        if (Environment.GetEnvironmentVariable("NABLA_DATA") is { Length: > 0 } env)
        {
            yield return Path.Combine(env, Name);
            yield return env;
        }
        if (debianFolder is not null) yield return debianFolder;
        yield return CacheFolder;
    }

    /// <summary>Where downloads go.</summary>
    public string CacheFolder { get; } = cacheFolder ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "nabla", name);

    /// <summary>The first folder on the search path holding all four files, or null.</summary>
    public string? Find(string? folder = null) => SearchPath(folder).FirstOrDefault(d => Files.All(f => Resolve(d, f) is not null));

    private static string? Resolve(string folder, string file)
    {
        foreach (string candidate in new[] { Path.Combine(folder, file), Path.Combine(folder, file + ".gz") })
        {
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>
    /// Loads the training and test sets. When no folder on the search path has them and
    /// <paramref name="download"/> is true, fetches them from the canonical source into the cache
    /// first; otherwise throws naming every place searched and how to get the data.
    /// </summary>
    public (LabelledImages Train, LabelledImages Test) Load(string? folder = null, bool download = true)
    {
        string? found = Find(folder);
        if (found is null && folder is null && download && source is not null && digests is not null)
        {
            try
            {
                Downloader.Fetch(source, digests, CacheFolder);
                found = Find();
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                throw new FileNotFoundException($"{Name} not found in {string.Join(", ", SearchPath(folder))}, and downloading it failed: {e.Message} {installHint}", e);
            }
        }
        if (found is null) throw new FileNotFoundException($"{Name} not found. Searched: {string.Join(", ", SearchPath(folder))}. {installHint}");
        return (Read(found, 0), Read(found, 2));
    }

    private static LabelledImages Read(string folder, int first)
    {
        var (imageDims, pixels) = Idx.ReadBytes(Resolve(folder, Files[first])!);
        var (labelDims, labels) = Idx.ReadBytes(Resolve(folder, Files[first + 1])!);
        if (imageDims.Length != 3 || imageDims[1] != 28 || imageDims[2] != 28)
            throw new InvalidDataException($"{Files[first]}: expected images N x 28 x 28, got {string.Join("x", imageDims)}.");
        if (labelDims.Length != 1 || labelDims[0] != imageDims[0])
            throw new InvalidDataException($"{Files[first + 1]}: expected {imageDims[0]} labels, got {string.Join("x", labelDims)}.");
        int n = imageDims[0];
        var x = new float[pixels.Length];
        for (int i = 0; i < x.Length; i++) x[i] = pixels[i] / 255f;
        var y = new float[n];
        for (int i = 0; i < n; i++)
        {
            if (labels[i] > 9) throw new InvalidDataException($"{Files[first + 1]}: label {labels[i]} of image {i} is outside 0-9.");
            y[i] = labels[i];
        }
        return new LabelledImages(new Tensor(x, [n, 1, 28, 28]), new Tensor(y, [n]));
    }
}

/// <summary>
/// Fashion-MNIST (Zalando, MIT licence): 60 000 training and 10 000 test images of clothing in
/// 10 classes. Debian's <c>dataset-fashion-mnist</c> package installs it; see
/// <see cref="MnistLayoutDataset"/> for where it is looked for.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's dataset-fashion-mnist package puts the files.</summary>
    public const string DebianFolder = "/usr/share/datasets/fashion-mnist";

    /// <summary>The dataset and its search rules.</summary>
    public static MnistLayoutDataset Dataset { get; } = new("fashion-mnist", DebianFolder,
        "On Debian: apt-get install dataset-fashion-mnist (or bash scripts/install-data.sh); or put the four IDX files in one of those folders.",
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        new Uri("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
        [
            new("train-images-idx3-ubyte.gz", "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"),
            new("train-labels-idx1-ubyte.gz", "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"),
            new("t10k-images-idx3-ubyte.gz", "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"),
            new("t10k-labels-idx1-ubyte.gz", "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"),
        ]);

    /// <summary>The class names, by label.</summary>
    public static IReadOnlyList<string> ClassNames => Dataset.ClassNames;

    /// <summary>The folder it would be read from, or null.</summary>
    public static string? Find(string? folder = null) => Dataset.Find(folder);

    /// <summary>Loads the training and test sets (downloading them into the cache if no folder has them).</summary>
    public static (LabelledImages Train, LabelledImages Test) Load(string? folder = null) => Dataset.Load(folder);
}

/// <summary>
/// The original MNIST handwritten digits, in the same IDX layout as Fashion-MNIST. No Debian
/// package ships it: put the four files in a folder and pass it, or in <c>$NABLA_DATA/mnist</c>
/// or <c>~/.cache/nabla/mnist</c>.
/// </summary>
public static class Mnist
{
    /// <summary>The dataset and its search rules.</summary>
    public static MnistLayoutDataset Dataset { get; } = new("mnist", null,
        "No Debian package ships MNIST; download the four IDX files and put them in one of those folders.",
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);

    /// <summary>Loads the training and test sets.</summary>
    public static (LabelledImages Train, LabelledImages Test) Load(string? folder = null) => Dataset.Load(folder);
}
