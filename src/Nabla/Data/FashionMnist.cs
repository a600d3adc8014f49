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
/// Fashion-MNIST (Zalando, MIT licence): 60 000 training and 10 000 test images of 28 x 28
/// pixels in 10 classes of clothing. <see cref="Load"/> reads an explicit folder when given
/// (and only that one); otherwise it looks in the folder named by the <c>NABLA_DATA</c>
/// environment variable (or its fashion-mnist subfolder), then where Debian's
/// <c>dataset-fashion-mnist</c> package installs it, then the user cache
/// (~/.cache/nabla/fashion-mnist). A folder holds the four IDX files, gzipped or not.
/// </summary>
public static class FashionMnist
{
    /// <summary>The class names, by label.</summary>
    public static readonly string[] ClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Where Debian's dataset-fashion-mnist package puts the files.</summary>
    public const string DebianFolder = "/usr/share/datasets/fashion-mnist";

    private static readonly string[] Files = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>The folders searched, in order: just the explicit folder when one is given.</summary>
    public static IEnumerable<string> SearchPath(string? folder = null)
    {
        if (folder is not null)
        {
            yield return folder;
            yield break;
        }
        if (Environment.GetEnvironmentVariable("NABLA_DATA") is { Length: > 0 } env)
        {
            yield return Path.Combine(env, "fashion-mnist");
            yield return env;
        }
        yield return DebianFolder;
        yield return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "nabla", "fashion-mnist");
    }

    /// <summary>The first folder on the search path holding all four files, or null.</summary>
    public static string? Find(string? folder = null) => SearchPath(folder).FirstOrDefault(d => Files.All(f => Resolve(d, f) is not null));

    private static string? Resolve(string folder, string name)
    {
        foreach (string candidate in new[] { Path.Combine(folder, name), Path.Combine(folder, name + ".gz") })
        {
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Loads the training and test sets, or throws naming every place searched and how to install the data.</summary>
    public static (LabelledImages Train, LabelledImages Test) Load(string? folder = null)
    {
        string found = Find(folder) ?? throw new FileNotFoundException(
            "Fashion-MNIST not found. Searched: " + string.Join(", ", SearchPath(folder)) +
            ". On Debian: apt-get install dataset-fashion-mnist; or put the four IDX files in one of those folders.");
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
