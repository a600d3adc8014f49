using System.Globalization;
using Nabla.Examples;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;
using Nabla.Vision;

namespace Nabla.Cli;

/// <summary>
/// <c>nabla train --images DIR</c>: a convolutional network for a folder of images in one sub-folder
/// per class (or DIR/train and DIR/test, each so), streamed from disk; and <c>nabla datasets export</c>,
/// which writes Fashion-MNIST as such a folder of PNG files.
/// </summary>
internal static class ImageTraining
{
    public static int Train(string[] args)
    {
        var o = Options.Parse(args, ["--images", "--test-images", "--image-size", "--channels", "--epochs", "--batch-size", "--lr", "--validation", "--test", "--seed", "--save"], ["--augment", "--json"]);
        string root = o.Values["--images"];
        string? testRoot = o.Values.GetValueOrDefault("--test-images");
        if (testRoot is null && Directory.Exists(Path.Combine(root, "train")) && Directory.Exists(Path.Combine(root, "test")))
        {
            testRoot = Path.Combine(root, "test");
            root = Path.Combine(root, "train");
        }
        int? channels = o.Int("--channels");
        if (channels is not (null or 1 or 3)) throw new ArgumentException($"--channels must be 1 (grey) or 3 (RGB), not {channels}.");
        int? height = null, width = null;
        if (o.Values.GetValueOrDefault("--image-size") is string size)
        {
            string[] parts = size.Split('x');
            if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int h) || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int w) || h < 1 || w < 1)
                throw new ArgumentException($"--image-size should be HEIGHTxWIDTH, like 64x64, not '{size}'.");
            (height, width) = (h, w);
        }
        int epochs = o.Int("--epochs", min: 1) ?? 10;
        int batchSize = o.Int("--batch-size", min: 1) ?? 64;
        float lr = o.Float("--lr", 1e-3f, 0f, float.PositiveInfinity);
        float validation = o.Float("--validation", 0.1f, 0f, 1f, includeAbove: true);
        float testFraction = o.Float("--test", 0.2f, 0f, 1f);
        ulong seed = (ulong)(o.Int("--seed") ?? 42);
        string? save = o.Values.GetValueOrDefault("--save");
        if (save is not null) Nabla.IO.AtomicFile.CheckWritable(save, "--save");
        bool json = o.Flags.Contains("--json");
        TextWriter log = json ? Console.Error : Console.Out;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var all = new ImageFolderDataset(root, channels ?? 3, height, width);
        if (channels is null && IsGrey(all)) all = new ImageFolderDataset(root, 1, all.Height, all.Width);
        ImageFolderDataset train, test;
        if (testRoot is not null)
        {
            train = all;
            test = new ImageFolderDataset(testRoot, all.Channels, all.Height, all.Width);
            if (!test.ClassNames.SequenceEqual(train.ClassNames))
                throw new InvalidDataException($"'{testRoot}' has classes [{string.Join(", ", test.ClassNames)}], but '{root}' has [{string.Join(", ", train.ClassNames)}].");
        }
        else (train, test) = all.Split(testFraction, seed);
        ImageFolderDataset? held = null;
        if (validation > 0) (train, held) = train.Split(validation, seed + 1);
        log.WriteLine($"images: {root}, {all.ClassNames.Count} classes, {train.Count} training, {held?.Count ?? 0} validation, {test.Count} test images of {all.Channels}x{all.Height}x{all.Width}{(o.Flags.Contains("--augment") ? ", augmented" : "")}");

        Generator.ManualSeed(seed);
        IEnumerable<Layer>? augmentation = o.Flags.Contains("--augment") ? Augmentation() : null;
        Sequential model = FashionCnnExample.Build(all.Channels, all.Height, all.Width, all.ClassNames.Count, augmentation);
        model.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), new Adam(lr), "accuracy");
        var loader = new Nabla.Data.DataLoader(train, batchSize, shuffle: true, seed);
        var history = json
            ? model.Fit(loader, epochs, held, verbose: 0)
            : SpectreProgress.Run($"training on {Path.GetFileName(Path.TrimEndingDirectorySeparator(root))}", epochs, progress => model.Fit(loader, epochs, held, callbacks: [progress], verbose: 0));
        var evaluation = model.Evaluate(test, batchSize: 256);
        if (save is not null)
        {
            model.Save(save);
            log.WriteLine($"wrote {save}");
        }
        var metrics = new Dictionary<string, double>
        {
            ["loss"] = history["loss"][^1],
            ["accuracy"] = history["accuracy"][^1],
            ["test_loss"] = evaluation["loss"],
            ["test_accuracy"] = evaluation["accuracy"],
            ["epochs"] = history.Epochs,
            ["train_images"] = train.Count,
        };
        if (held is not null) metrics["val_accuracy"] = history["val_accuracy"][^1];
        var inv = CultureInfo.InvariantCulture;
        Program.PrintMetrics(metrics, json, clock.Elapsed);
        return 0;
    }

    /// <summary>The augmentation of <c>--augment</c>: small shifts and zooms, and contrast (no flips: they change some classes' meaning).</summary>
    private static IEnumerable<Layer> Augmentation() => [new RandomTranslation(0.1f, 0.1f), new RandomZoom(0.1f), new RandomContrast(0.2f)];

    /// <summary>True when the first images decode with equal red, green and blue.</summary>
    private static bool IsGrey(ImageFolderDataset images)
    {
        int plane = images.Height * images.Width;
        foreach (var (path, _) in images.Files.Take(8))
        {
            float[] rgb = ImageDecoder.Decode(path, 3, images.Height, images.Width);
            for (int p = 0; p < plane; p++)
            {
                if (rgb[p] != rgb[plane + p] || rgb[p] != rgb[2 * plane + p]) return false;
            }
        }
        return true;
    }

    /// <summary><c>nabla datasets export fashion-mnist --out DIR [--limit N]</c>: PNG files in DIR/train and DIR/test, one folder per class.</summary>
    public static int Export(string[] args)
    {
        var o = Options.Parse(args, ["--out", "--limit", "--data"], []);
        if (o.Positional.Count != 1 || o.Positional[0] != "fashion-mnist") throw new ArgumentException("datasets export takes one dataset name: fashion-mnist.");
        string output = o.Values.GetValueOrDefault("--out") ?? throw new ArgumentException("datasets export needs --out DIR.");
        int limit = o.Int("--limit", min: 1) ?? int.MaxValue;
        var (train, test) = Nabla.Data.FashionMnist.Load(o.Values.GetValueOrDefault("--data"));
        var classes = Nabla.Data.FashionMnist.ClassNames;
        foreach (var (split, set) in new[] { ("train", train), ("test", test) })
        {
            int count = Math.Min(limit, set.Count);
            // The label leads each folder's name, so the ordinal order of the folders is the label order.
            string[] folders = [.. classes.Select((c, i) => Path.Combine(output, split, $"{i}-{string.Concat(c.Select(ch => char.IsLetterOrDigit(ch) ? ch : '-'))}"))];
            foreach (string f in folders) Directory.CreateDirectory(f);
            float[] labels = set.Labels.ToArray();
            for (int i = 0; i < count; i++)
                Nabla.IO.Png.WriteGrey(Path.Combine(folders[(int)labels[i]], $"{i:D5}.png"), set.Images.Select(0, i).Select(0, 0).Contiguous());
            Console.Out.WriteLine($"wrote {count} {split} images to {Path.Combine(output, split)}");
        }
        return 0;
    }
}
