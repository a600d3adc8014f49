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
/// Debian folder (if any) and the user cache <c>~/.cache/nabla/NAME</c>.
/// </summary>
public sealed class MnistLayoutDataset(string name, string? debianFolder, string installHint, string[] classNames)
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
        yield return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "nabla", Name);
    }

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

    /// <summary>Loads the training and test sets, or throws naming every place searched and how to get the data.</summary>
    public (LabelledImages Train, LabelledImages Test) Load(string? folder = null)
    {
        string found = Find(folder) ?? throw new FileNotFoundException(
            $"{Name} not found. Searched: {string.Join(", ", SearchPath(folder))}. {installHint}");
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
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]);

    /// <summary>The class names, by label.</summary>
    public static IReadOnlyList<string> ClassNames => Dataset.ClassNames;

    /// <summary>The folder it would be read from, or null.</summary>
    public static string? Find(string? folder = null) => Dataset.Find(folder);

    /// <summary>Loads the training and test sets.</summary>
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
