using Nabla.Data;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Examples;

/// <summary>
/// Spoken words recognised from voices never heard in training: the dataset of
/// scripts/make-speech.sh (espeak-ng's English voices with voice variants, split by variant),
/// one second of 16 kHz audio per clip. A small CNN over 40 log-mel bands (computed by the model's
/// first layer, with SpecAugment masking in training) learns the ten digits and, separately, all
/// twenty words; a GRU over the same features is the baseline, beside always guessing the
/// commonest word.
/// </summary>
public sealed class SpeechExample : Example
{
    /// <summary>The digits, in label order.</summary>
    public static readonly string[] Digits = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

    /// <summary>The ten command words after the digits.</summary>
    public static readonly string[] Commands = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"];

    /// <inheritdoc/>
    public override string Name => "speech";

    /// <inheritdoc/>
    public override string Description => "spoken digits and command words from unheard voices: a CNN over log-mel spectrograms, and a GRU";

    /// <summary>Where the dataset is looked for without --data: the folder scripts/make-speech.sh writes by default.</summary>
    public static string DefaultFolder => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "nabla", "speech");

    /// <summary>The log-mel front end every model here starts with (16 kHz, 32 ms frames every 10 ms, 40 bands from 20 Hz to 7.6 kHz).</summary>
    public static Layer[] Features(bool augment) => augment
        ? [new MelSpectrogram(16000, nFft: 512, hopLength: 160, nMels: 40, fMin: 20, fMax: 7600, decibels: true), new BatchNormalization(), new FrequencyMasking(6), new TimeMasking(12)]
        : [new MelSpectrogram(16000, nFft: 512, hopLength: 160, nMels: 40, fMin: 20, fMax: 7600, decibels: true), new BatchNormalization()];

    /// <summary>The CNN for one-second clips [1, 16000] in <paramref name="classes"/> classes (logits out).</summary>
    public static Sequential Cnn(int classes, int samples = 16000)
    {
        var model = new Sequential(new Input(1, samples)) { Name = "speech_cnn" };
        foreach (var layer in Features(augment: true)) model.Add(layer);
        foreach (int filters in new[] { 16, 32, 64 })
        {
            model.Add(new Conv2D(filters, 3, padding: "same", activation: "relu", kernelInitializer: "he_uniform"));
            model.Add(new MaxPooling2D(2));
        }
        model.Add(new Flatten());
        model.Add(new Dropout(0.3f));
        model.Add(new Dense(64, "relu", kernelInitializer: "he_uniform"));
        model.Add(new Dense(classes));
        return model;
    }

    /// <summary>The GRU baseline: the log-mel frames as a sequence, one GRU, its last state classified.</summary>
    public static Sequential Gru(int classes, int samples = 16000)
    {
        var model = new Sequential(new Input(1, samples)) { Name = "speech_gru" };
        model.Add(new MelSpectrogram(16000, nFft: 512, hopLength: 160, nMels: 40, fMin: 20, fMax: 7600, decibels: true));
        model.Add(new BatchNormalization());
        model.Add(new Reshape([40, 1 + samples / 160]));
        model.Add(new Permute([2, 1]));
        model.Add(new GRU(64));
        model.Add(new Dense(classes));
        return model;
    }

    /// <inheritdoc/>
    protected override ExampleResult Execute(ExampleOptions options, TextWriter log)
    {
        string root = options.DataPath ?? DefaultFolder;
        if (!Directory.Exists(Path.Combine(root, "train")) || !Directory.Exists(Path.Combine(root, "test")))
            throw new DirectoryNotFoundException($"The speech dataset is not in '{root}': make it with `bash scripts/make-speech.sh {root}` (needs espeak-ng and sox; two minutes), or pass --data DIR.");
        int epochs = options.Epochs ?? 6;
        var result = new ExampleResult(Name);
        log.WriteLine($"dataset: {root} (train and test voices are different espeak-ng variants), seed {options.Seed}");

        double Run(string name, string[] labels, Func<int, Sequential> build, float lr)
        {
            var train = new AudioFolderDataset(Path.Combine(root, "train"), labels: labels);
            var test = new AudioFolderDataset(Path.Combine(root, "test"), labels: labels);
            Generator.ManualSeed(options.Seed);
            Sequential model = build(labels.Length);
            model.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), new Adam(lr), "accuracy");
            var loader = new DataLoader(train, 64, shuffle: true, options.Seed);
            var history = model.Fit(loader, epochs, verbose: options.Verbose, output: log, distributed: options.Distributed);
            double accuracy = model.Evaluate(test, batchSize: 128)["accuracy"];
            log.WriteLine($"{name}: {train.Count} training clips, {test.Count} test clips of {labels.Length} words: test accuracy {accuracy:P2} (training {history["accuracy"][^1]:P2})");
            return accuracy;
        }

        string[] words = [.. Digits, .. Commands];
        result.Metrics.Add("test_accuracy", Run("digits_cnn", Digits, c => Cnn(c), 2e-3f));
        result.Metrics.Add("words_test_accuracy", Run("words_cnn", words, c => Cnn(c), 2e-3f));
        result.Metrics.Add("gru_test_accuracy", Run("digits_gru", Digits, c => Gru(c), 3e-3f));
        var digitsTest = new AudioFolderDataset(Path.Combine(root, "test"), labels: Digits);
        result.Metrics.Add("majority_accuracy", digitsTest.Files.GroupBy(f => f.Label).Max(g => g.Count()) / (double)digitsTest.Count);
        result.Metrics.Add("epochs", epochs);
        return result;
    }
}
