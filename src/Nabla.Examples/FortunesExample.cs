using System.Text;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Examples;

/// <summary>
/// A character-level Transformer language model on the fortunes of Debian's <c>fortunes</c> package
/// (BSD licence; /usr/share/games/fortunes, or --data DIR): the fortunes shuffled with a fixed seed,
/// 5% held out; trained on random 64-character windows of the rest, then the validation text's bits
/// per character beside a unigram model's and a small LSTM's trained the same number of steps, and a
/// few fortunes sampled from it. <c>--limit N</c> sets the training steps (default 2 400).
/// </summary>
public sealed class FortunesExample : Example
{
    private const int Context = 64, Batch = 32;

    /// <inheritdoc/>
    public override string Name => "fortunes";

    /// <inheritdoc/>
    public override string Description => "a character-level Transformer language model on Debian's fortunes, against unigram and LSTM baselines";

    /// <summary>The folder of fortune files, or an error saying how to get them.</summary>
    private static string Folder(string? given)
    {
        string folder = given ?? "/usr/share/games/fortunes";
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder} not found: install Debian's fortunes package (scripts/install-data.sh does) or pass --data DIR.");
        return folder;
    }

    /// <summary>Every fortune of the plain-text files in <paramref name="folder"/> (fortunes end at a line holding only %).</summary>
    public static List<string> ReadFortunes(string folder)
    {
        var fortunes = new List<string>();
        foreach (string file in Directory.GetFiles(folder).Where(f => Path.GetExtension(f) == "").Order(StringComparer.Ordinal))
        {
            var current = new StringBuilder();
            foreach (string line in File.ReadLines(file, Encoding.UTF8))
            {
                if (line.TrimEnd() == "%")
                {
                    if (current.Length > 0) fortunes.Add(current.ToString().TrimEnd());
                    current.Clear();
                }
                else current.Append(line).Append('\n');
            }
            if (current.Length > 0) fortunes.Add(current.ToString().TrimEnd());
        }
        return fortunes;
    }

    /// <inheritdoc/>
    protected override ExampleResult Execute(ExampleOptions options, TextWriter log)
    {
        string folder = Folder(options.DataPath);
        var fortunes = ReadFortunes(folder);
        if (fortunes.Count < 20) throw new InvalidDataException($"{folder}: only {fortunes.Count} fortunes found.");
        var order = Enumerable.Range(0, fortunes.Count).ToArray();
        new Generator(0).Shuffle(order); // the split is fixed, whatever --seed says
        int nVal = fortunes.Count / 20;
        string Join(IEnumerable<int> ids) => string.Concat(ids.Select(i => fortunes[i] + "\n\n"));
        string train = Join(order[nVal..]), validation = Join(order[..nVal]);
        // Characters of the training text, by frequency; id 0 stands for any other.
        var counts = train.GroupBy(c => c).ToDictionary(g => g.Key, g => g.Count());
        string alphabet = "\0" + new string([.. counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Select(kv => kv.Key)]);
        var index = alphabet.Select((c, i) => (c, i)).Skip(1).ToDictionary(p => p.c, p => p.i);
        int[] Encode(string s) => [.. s.Select(c => index.GetValueOrDefault(c))];
        int[] trainIds = Encode(train), valIds = Encode(validation);
        int vocabulary = alphabet.Length;
        log.WriteLine($"dataset: {folder}: {fortunes.Count} fortunes, {train.Length:N0} training and {validation.Length:N0} validation characters (5% of the fortunes, fixed split), {vocabulary} symbols");

        // The unigram baseline: each character by its training frequency (add-one smoothed).
        double total = trainIds.Length + vocabulary;
        var freq = new double[vocabulary];
        foreach (int id in trainIds) freq[id]++;
        double unigramBits = valIds.Average(id => -Math.Log2((freq[id] + 1) / total));

        int steps = options.Limit ?? 2400;
        var g = new Generator(options.Seed);
        var x = new float[steps * Batch * Context];
        var y = new float[steps * Batch * Context];
        for (int w = 0; w < steps * Batch; w++)
        {
            int start = g.NextInt(trainIds.Length - Context - 1);
            for (int t = 0; t < Context; t++)
            {
                x[w * Context + t] = trainIds[start + t];
                y[w * Context + t] = trainIds[start + t + 1];
            }
        }
        Tensor xs = Tensor.FromArray(x, steps * Batch, Context), ys = Tensor.FromArray(y, steps * Batch, Context);
        // Validation: the held-out text in consecutive windows.
        int windows = (valIds.Length - 1) / Context;
        var vx = new float[windows * Context];
        var vy = new float[windows * Context];
        for (int i = 0; i < windows * Context; i++)
        {
            vx[i] = valIds[i];
            vy[i] = valIds[i + 1];
        }
        Tensor vxs = Tensor.FromArray(vx, windows, Context), vys = Tensor.FromArray(vy, windows, Context);

        Generator.ManualSeed(options.Seed);
        var lm = new CausalLanguageModel(vocabulary, Context, dim: 128, heads: 4, layers: 2, feedForward: 512, dropout: 0.1f);
        lm.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), new AdamW(2e-3f, weightDecay: 0.01f) { Schedule = new CosineDecay(2e-3f, steps, warmupSteps: Math.Min(100, steps / 10)) });
        lm.Fit(xs, ys, epochs: 1, batchSize: Batch, shuffle: false, verbose: options.Verbose, output: log, distributed: options.Distributed);
        double valBits = lm.Evaluate(vxs, vys, batchSize: 64)["loss"] / Math.Log(2);

        // A small LSTM language model, the same steps on the same windows.
        Generator.ManualSeed(options.Seed);
        var lstm = new Sequential(new Embedding(vocabulary, 64, inputLength: Context), new LSTM(256, returnSequences: true), new Dense(vocabulary)) { Name = "lstm_lm" };
        lstm.Compile(new SequenceCrossEntropy(), new Adam(3e-3f));
        lstm.Fit(xs, ys, epochs: 1, batchSize: Batch, shuffle: false, verbose: options.Verbose, output: log, distributed: options.Distributed);
        double lstmBits = lstm.Evaluate(vxs, vys, batchSize: 64)["loss"] / Math.Log(2);

        log.WriteLine($"validation bits per character: Transformer {valBits:F3}, LSTM {lstmBits:F3}, unigram {unigramBits:F3} ({steps} steps of {Batch} x {Context} characters)");
        var sampler = new Generator(options.Seed + 1);
        for (int s = 0; s < 3; s++)
        {
            int[] written = lm.Generate(Encode("\n\n"), Context - 2, temperature: 0.8f, topK: 20, generator: sampler);
            log.WriteLine($"sampled: {new string([.. written.Select(i => alphabet[i])]).Trim()}");
        }
        var result = new ExampleResult(Name);
        result.Metrics.Add("val_bits_per_char", valBits);
        result.Metrics.Add("lstm_bits_per_char", lstmBits);
        result.Metrics.Add("unigram_bits_per_char", unigramBits);
        result.Metrics.Add("steps", steps);
        return result;
    }

    /// <summary>Cross-entropy of logits [N, T, V] against next ids [N, T]: per sequence the mean over its positions (for the LSTM baseline).</summary>
    private sealed class SequenceCrossEntropy() : Loss(Reduction.Mean)
    {
        public override string Name => "sequence_crossentropy";

        protected override Tensor PerSample(Tensor predictions, Tensor targets) =>
            -predictions.LogSoftmax(-1).Gather(2, targets.Unsqueeze(2)).Squeeze(2).Mean(1);
    }
}
