using Nabla.Data;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Examples;

/// <summary>
/// Sentiment of short reviews (the UCI Sentiment Labelled Sentences: 3000 sentences from Amazon,
/// IMDb and Yelp, half positive), stratified 80/20 split from the seed, word tokens (lower-cased,
/// punctuation dropped), a vocabulary of every word seen in training, sequences
/// padded to 32. Two models: Embedding + bidirectional GRU (padding masked), and a
/// bag-of-embeddings baseline (Embedding, mean over positions, Dense). The reference point is a
/// bag-of-words logistic regression on a stratified split, 82.7% test accuracy.
/// </summary>
public sealed class SentimentExample : Example
{
    /// <summary>Where the dataset is looked for when no path is given (beside the project, as CI has it).</summary>
    public static readonly string[] DefaultFolders = ["../shared/datasets/sentiment-sentences", "../../shared/datasets/sentiment-sentences"];

    /// <inheritdoc/>
    public override string Name => "sentiment";

    /// <inheritdoc/>
    public override string Description => "sentiment of 3000 review sentences with a GRU and a bag-of-embeddings baseline";

    /// <summary>Reads the three files: sentences and 0/1 labels.</summary>
    public static (List<string> Texts, List<float> Labels) Load(string? folder)
    {
        string dir = folder ?? DefaultFolders.Select(Path.GetFullPath).FirstOrDefault(Directory.Exists)
            ?? throw new DirectoryNotFoundException($"sentiment-sentences not found in {string.Join(", ", DefaultFolders.Select(Path.GetFullPath))}; pass --data DIR.");
        var texts = new List<string>();
        var labels = new List<float>();
        foreach (string file in new[] { "amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt" })
        {
            string path = Path.Combine(dir, file);
            int line = 0;
            foreach (string l in File.ReadLines(path))
            {
                line++;
                if (l.Trim().Length == 0) continue;
                int tab = l.LastIndexOf('\t');
                if (tab < 0 || (l[(tab + 1)..].Trim() is not ("0" or "1")))
                    throw new InvalidDataException($"{path}: line {line}: expected 'sentence<TAB>0 or 1'.");
                texts.Add(l[..tab]);
                labels.Add(l[(tab + 1)..].Trim() == "1" ? 1f : 0f);
            }
        }
        return (texts, labels);
    }

    /// <summary>Mean over the sequence axis: [N, T, D] to [N, D].</summary>
    private sealed class MeanOverSteps() : Layer(null)
    {
        public override string TypeName => "MeanOverSteps";

        protected override Tensor Call(Tensor input) => input.Mean(1);
    }

    /// <inheritdoc/>
    protected override ExampleResult Execute(ExampleOptions options, TextWriter log)
    {
        var (texts, labels) = Load(options.DataPath);
        // Stratified split: shuffle each class from the seed and take 20% of each for test.
        var g = new Generator(options.Seed);
        var train = new List<int>();
        var test = new List<int>();
        foreach (float cls in new[] { 0f, 1f })
        {
            int[] members = Enumerable.Range(0, labels.Count).Where(i => labels[i] == cls).ToArray();
            g.Shuffle(members);
            int nTest = members.Length / 5;
            test.AddRange(members[..nTest]);
            train.AddRange(members[nTest..]);
        }
        var tokenizer = new Tokenizer();
        var tokens = texts.Select(t => (IReadOnlyList<string>)tokenizer.Tokenize(t)).ToList();
        var vocab = Vocabulary.Build(train.Select(i => tokens[i]), minFrequency: 1);
        const int length = 32;
        Tensor Ids(List<int> rows) => vocab.Encode(rows.Select(i => tokens[i]).ToList(), length);
        Tensor Y(List<int> rows) => Tensor.FromArray(rows.Select(i => labels[i]).ToArray(), rows.Count, 1);
        Tensor xTrain = Ids(train), yTrain = Y(train), xTest = Ids(test), yTest = Y(test);
        log.WriteLine($"dataset: sentiment-sentences, {train.Count} training and {test.Count} test sentences (stratified, seed {options.Seed}), vocabulary {vocab.Count}");
        int epochs = options.Epochs ?? 4;
        var result = new ExampleResult(Name);
        var models = new (string Name, Func<Sequential> Make)[]
        {
            ("gru", () => new Sequential(new Embedding(vocab.Count, 32, paddingIndex: 0, inputLength: length),
                new Bidirectional(new GRU(32)), new Dropout(0.3f), new Dense(1, "sigmoid"))),
            ("bag_of_embeddings", () => new Sequential(new Embedding(vocab.Count, 32, paddingIndex: 0, inputLength: length),
                new MeanOverSteps(), new Dense(1, "sigmoid"))),
        };
        foreach (var (name, make) in models)
        {
            Generator.ManualSeed(options.Seed);
            var model = make();
            model.Compile(new BinaryCrossEntropy(), new Adam(name == "gru" ? 3e-3f : 1e-2f), "accuracy");
            model.Fit(xTrain, yTrain, epochs: epochs, batchSize: 32, verbose: options.Verbose, output: log);
            result.Metrics.Add($"{name}_test_accuracy", model.Evaluate(xTest, yTest)["accuracy"]);
        }
        result.Metrics.Add("epochs", epochs);
        return result;
    }
}
