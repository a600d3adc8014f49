using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Nabla.Examples;

/// <summary>Settings shared by every example.</summary>
/// <param name="Epochs">Epochs to train; null for the example's default.</param>
/// <param name="Seed">Seed of every random choice (weights, data, shuffling).</param>
/// <param name="Verbose">0 silent, 1 progress bars, 2 one line per epoch.</param>
/// <param name="DataPath">Where the example's dataset is, when not in its usual places.</param>
/// <param name="Limit">Use at most this many training samples (for quick runs and tests).</param>
/// <param name="Distributed">The ranks to train on data-parallel (<c>nabla example NAME --distributed</c> under mpirun); null for this process alone.</param>
public sealed record ExampleOptions(int? Epochs = null, ulong Seed = 42, int Verbose = 2, string? DataPath = null, int? Limit = null,
    Nabla.Distributed.ICommunicator? Distributed = null);

/// <summary>What an example measured: named values in order, plus how long it took.</summary>
public sealed class ExampleResult(string example)
{
    /// <summary>The example's name.</summary>
    public string Example { get; } = example;

    /// <summary>The figures, in the order they were added (loss, accuracy, ...).</summary>
    public OrderedDictionary<string, double> Metrics { get; } = [];

    /// <summary>Wall-clock seconds.</summary>
    public double Seconds { get; set; }

    /// <summary>A figure by name.</summary>
    public double this[string key] => Metrics[key];

    /// <summary>One JSON object: <c>{"example":"xor","loss":0.0012,...,"seconds":0.4}</c>.</summary>
    public string ToJson()
    {
        var sb = new StringBuilder("{\"example\":\"").Append(Example).Append('"');
        foreach (var (k, v) in Metrics)
            sb.Append(",\"").Append(k).Append("\":").Append(double.IsFinite(v) ? v.ToString("G6", CultureInfo.InvariantCulture) : "null");
        sb.Append(",\"seconds\":").Append(Seconds.ToString("0.###", CultureInfo.InvariantCulture)).Append('}');
        return sb.ToString();
    }
}

/// <summary>A built-in example: trains a model on built-in or generated data and reports figures.</summary>
public abstract class Example
{
    /// <summary>The name used on the command line.</summary>
    public abstract string Name { get; }

    /// <summary>One line saying what it shows.</summary>
    public abstract string Description { get; }

    /// <summary>Runs the example, writing progress to <paramref name="log"/>.</summary>
    public ExampleResult Run(ExampleOptions options, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        Generator.ManualSeed(options.Seed);
        ExampleResult result = Execute(options, log);
        result.Seconds = clock.Elapsed.TotalSeconds;
        return result;
    }

    /// <summary>The example's work.</summary>
    protected abstract ExampleResult Execute(ExampleOptions options, TextWriter log);

    /// <summary>Where the shared datasets are looked for: beside the project, as CI has them.</summary>
    public static readonly string[] SharedDatasetFolders = ["../shared/datasets", "../../shared/datasets"];

    /// <summary>
    /// The full path of <paramref name="relative"/> (a file or a folder) under the first shared
    /// datasets folder that has it, or an error naming every place searched and the option to use.
    /// </summary>
    public static string FindShared(string relative)
    {
        string[] candidates = SharedDatasetFolders.Select(d => Path.GetFullPath(Path.Combine(d, relative))).ToArray();
        return candidates.FirstOrDefault(p => File.Exists(p) || Directory.Exists(p))
            ?? throw new FileNotFoundException($"{relative} not found in {string.Join(", ", candidates)}; pass its path with --data.");
    }

    /// <summary>Every built-in example.</summary>
    public static IReadOnlyList<Example> All { get; } = [new XorExample(), new SpiralsExample(), new SineExample(), new FashionMlpExample(), new FashionCnnExample(), new FashionResNetExample(), new AutoencoderExample(), new SequenceExample(), new SaliencyExample(), new OverfittingExample(), new SentimentExample(), new SpamExample(), new ForecastExample(), new RecommenderExample(), new FortunesExample(), new SpeechExample()];

    /// <summary>The example called <paramref name="name"/>, or an error listing the known ones.</summary>
    public static Example Get(string name) =>
        All.FirstOrDefault(e => e.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown example '{name}'. Known: {string.Join(", ", All.Select(e => e.Name))}.");
}
