using System.Globalization;
using System.Text.Json.Nodes;
using Nabla.Data;
using Nabla.Examples;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Cli;

/// <summary>
/// <c>nabla train --audio DIR</c>: the speech example's CNN for a folder of the user's clips (one
/// sub-folder per label, or DIR/train and DIR/test so), and <c>nabla predict --wav</c> with the result.
/// </summary>
internal static class AudioTraining
{
    private const int SampleRate = 16000;

    public static int Train(string[] args)
    {
        var o = Options.Parse(args, ["--audio", "--labels", "--seconds", "--epochs", "--batch-size", "--lr", "--test", "--seed", "--save"], ["--json"]);
        string root = o.Values["--audio"];
        string? testRoot = null;
        if (Directory.Exists(Path.Combine(root, "train")) && Directory.Exists(Path.Combine(root, "test")))
        {
            testRoot = Path.Combine(root, "test");
            root = Path.Combine(root, "train");
        }
        string[]? labels = o.Values.GetValueOrDefault("--labels")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        double seconds = o.Float("--seconds", 1f, 0f, 60f);
        int epochs = o.Int("--epochs", min: 1) ?? 8;
        int batchSize = o.Int("--batch-size", min: 1) ?? 64;
        float lr = o.Float("--lr", 2e-3f, 0f, float.PositiveInfinity);
        float testFraction = o.Float("--test", 0.2f, 0f, 1f);
        ulong seed = (ulong)(o.Int("--seed") ?? 42);
        string? save = o.Values.GetValueOrDefault("--save");
        if (save is not null) Nabla.IO.AtomicFile.CheckWritable(save, "--save");
        bool json = o.Flags.Contains("--json");
        TextWriter log = json ? Console.Error : Console.Out;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var all = new AudioFolderDataset(root, SampleRate, seconds, labels);
        var (train, test) = testRoot is null ? all.Split(testFraction, seed) : (all, new AudioFolderDataset(testRoot, SampleRate, seconds, all.Labels));
        log.WriteLine($"audio: {root}, {all.Labels.Count} labels ({string.Join(", ", all.Labels.Take(10))}{(all.Labels.Count > 10 ? ", ..." : "")}), {train.Count} training and {test.Count} test clips of {seconds:0.###} s at {SampleRate} Hz");
        Generator.ManualSeed(seed);
        Sequential model = SpeechExample.Cnn(all.Labels.Count, all.Length);
        model.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), new Adam(lr), "accuracy");
        var loader = new DataLoader(train, batchSize, shuffle: true, seed);
        var history = json
            ? model.Fit(loader, epochs, verbose: 0)
            : SpectreProgress.Run($"training on {Path.GetFileName(Path.TrimEndingDirectorySeparator(root))}", epochs, progress => model.Fit(loader, epochs, callbacks: [progress], verbose: 0));
        var evaluation = model.Evaluate(test, batchSize: 128);
        if (save is not null)
        {
            var audio = new JsonObject { ["labels"] = new JsonArray([.. all.Labels.Select(l => (JsonNode?)l)]), ["sample_rate"] = SampleRate, ["seconds"] = seconds };
            Nabla.IO.ModelFile.Save(model, save, extra: new Dictionary<string, string> { ["audio"] = audio.ToJsonString() });
            log.WriteLine($"wrote {save}");
        }
        var inv = CultureInfo.InvariantCulture;
        var metrics = new Dictionary<string, double> { ["accuracy"] = history["accuracy"][^1], ["test_loss"] = evaluation["loss"], ["test_accuracy"] = evaluation["accuracy"], ["epochs"] = epochs, ["train_clips"] = train.Count };
        Program.PrintMetrics(metrics, json, clock.Elapsed);
        return 0;
    }

    /// <summary><c>nabla predict --model FILE --wav FILE_OR_DIR</c>: the label and its probability for each clip.</summary>
    public static int Predict(string[] args)
    {
        var o = Options.Parse(args, ["--model", "--wav"], []);
        string path = o.Values.GetValueOrDefault("--model") ?? throw new ArgumentException("predict needs --model FILE.");
        string wav = o.Values["--wav"];
        var (model, metadata) = Nabla.IO.ModelFile.LoadWithMetadata(path);
        if (!metadata.TryGetValue("audio", out string? text))
            throw new InvalidDataException($"{path} was not trained on audio (by nabla train --audio): it has no labels or sample rate for WAV files.");
        JsonNode audio = JsonNode.Parse(text) ?? throw new InvalidDataException($"{path}: its audio settings are empty.");
        string[] labels = audio["labels"]?.AsArray().Select(l => l?.GetValue<string>() ?? "").ToArray() ?? throw new InvalidDataException($"{path}: its audio settings have no labels.");
        int rate = audio["sample_rate"]?.GetValue<int>() ?? SampleRate;
        double seconds = audio["seconds"]?.GetValue<double>() ?? 1.0;
        int length = (int)Math.Round(rate * seconds);
        string[] files = Directory.Exists(wav) ? [.. Directory.EnumerateFiles(wav, "*.wav", SearchOption.AllDirectories).Order(StringComparer.Ordinal)] : [wav];
        Console.Out.WriteLine("file,label,probability");
        var inv = CultureInfo.InvariantCulture;
        foreach (string file in files)
        {
            float[] samples = Wav.Read(file, rate).Samples;
            var clip = new float[length];
            samples.AsSpan(0, Math.Min(length, samples.Length)).CopyTo(clip);
            float[] p = model.Predict(Tensor.FromArray(clip, 1, 1, length)).Softmax().ToArray();
            int best = Array.IndexOf(p, p.Max());
            Console.Out.WriteLine($"{file},{(best < labels.Length ? labels[best] : best.ToString(inv))},{p[best].ToString("0.####", inv)}");
        }
        return 0;
    }
}
