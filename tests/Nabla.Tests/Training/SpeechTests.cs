using System.Diagnostics;
using Nabla.Data;
using Nabla.Examples;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Tests.Training;

/// <summary>
/// scripts/make-speech.sh on a reduced set (three words, ten voice variants: seconds) and the
/// speech example's CNN learning it: the split keeps test voices out of training, and the network
/// recognises the words spoken by the two variants it never heard. Needs espeak-ng and sox
/// (scripts/install-data.sh installs them); skipped without.
/// </summary>
public sealed class SpeechTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nabla-speech-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Script => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "scripts", "make-speech.sh"));

    private static bool Installed(string tool) => Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(d => File.Exists(Path.Combine(d, tool)));

    [SkippableFact]
    public void A_reduced_dataset_splits_by_voice_and_the_cnn_recognises_unheard_voices()
    {
        Skip.IfNot(Installed("espeak-ng") && Installed("sox"), "espeak-ng and sox are not installed (scripts/install-data.sh installs them).");
        var run = Process.Start(new ProcessStartInfo("bash", [Script, _dir, "--variants", "10", "--words", "yes no stop"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string output = run.StandardOutput.ReadToEnd(), errors = run.StandardError.ReadToEnd();
        Assert.True(run.WaitForExit(120_000), "make-speech.sh took more than two minutes");
        Assert.True(run.ExitCode == 0, errors);
        Assert.Contains("192 training and 48 test clips of 3 words", output);

        string[] words = ["yes", "no", "stop"];
        var train = new AudioFolderDataset(Path.Combine(_dir, "train"), labels: words);
        var test = new AudioFolderDataset(Path.Combine(_dir, "test"), labels: words);
        static string Variant(string path) => Path.GetFileNameWithoutExtension(path).Split('_', 2)[1];
        var heard = train.Files.Select(f => Variant(f.Path)).ToHashSet();
        Assert.All(test.Files, f => Assert.DoesNotContain(Variant(f.Path), heard));
        Assert.Equal(16000, Wav.Read(test.Files[0].Path).Samples.Length);

        Generator.ManualSeed(5);
        Sequential model = SpeechExample.Cnn(words.Length);
        model.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), new Adam(2e-3f), "accuracy");
        model.Fit(new DataLoader(train, 32, shuffle: true, 5), epochs: 10, verbose: 0);
        double accuracy = model.Evaluate(test, batchSize: 64)["accuracy"];
        Assert.True(accuracy >= 0.85, $"test accuracy on unheard voices {accuracy:P1}");
    }
}
