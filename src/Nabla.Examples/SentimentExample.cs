using Nabla.Data;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Examples;

/// <summary>
/// Sentiment of short reviews (the UCI Sentiment Labelled Sentences: 3000 sentences from Amazon,
/// IMDb and Yelp, half positive, pooled in that order), split as scikit-learn's stratified
/// <c>train_test_split(test_size=0.2, random_state=0)</c> splits them (<see cref="TrainTestSplit"/>
/// reproduces it row for row), so the figures stand beside the datasets README's bag-of-words
/// logistic regression on the same 600 test sentences (82.7%). Word tokens (lower-cased,
/// punctuation dropped), a vocabulary of every training word, sequences padded or cut to 32.
/// Models: an average of <see cref="Members"/> Embedding + bidirectional GRU networks (padding
/// masked, max over steps), a bag-of-embeddings baseline (Embedding, mean over positions,
/// Dense), and the majority class.
/// </summary>
public sealed class SentimentExample : Example
{
    /// <summary>The three files of the dataset, in the order they are pooled.</summary>
    public static readonly string[] Files = ["amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"];

    /// <inheritdoc/>
    public override string Name => "sentiment";

    /// <inheritdoc/>
    public override string Description => "sentiment of 3000 review sentences with GRUs and a bag-of-embeddings baseline";

    /// <summary>Passes over the training sentences for the Transformer (it starts with no notion of word order to lean on).</summary>
    internal static int TransformerEpochs { get; set; } = 10;

    /// <summary>How many GRU networks (seeds seed, seed+1, ...) are averaged; 1 for a single model.</summary>
    public int Members { get; init; } = 3;

    /// <summary>
    /// The corpus: the dataset's folder (its three files pooled) or one file of
    /// <c>sentence&lt;TAB&gt;label</c> lines with two distinct labels.
    /// </summary>
    public static LabelledText Load(string? path)
    {
        string dir = path ?? FindShared("sentiment-sentences");
        var corpus = File.Exists(dir) ? LabelledText.Read(dir) : LabelledText.ReadAll(Files.Select(f => Path.Combine(dir, f)).ToArray());
        if (corpus.Classes.Count != 2)
            throw new InvalidDataException($"{corpus.Source}: sentiment needs two labels, found {corpus.Classes.Count} ({string.Join(", ", corpus.Classes.Take(5))}).");
        return corpus;
    }

    /// <inheritdoc/>
    protected override ExampleResult Execute(ExampleOptions options, TextWriter log)
    {
        var corpus = Load(options.DataPath);
        float[] labels = corpus.ClassIndices();
        const uint splitSeed = 0;
        var (train, test) = TrainTestSplit.Stratified(labels, 0.2, splitSeed);
        if (options.Limit is int limit) train = train[..Math.Min(limit, train.Length)];
        var tokenizer = new Tokenizer();
        var tokens = corpus.Texts.Select(t => (IReadOnlyList<string>)tokenizer.Tokenize(t)).ToList();
        var vocab = Vocabulary.Build(train.Select(i => tokens[i]), minFrequency: 1);
        const int length = 32;
        Tensor Ids(int[] rows) => vocab.Encode(rows.Select(i => tokens[i]).ToList(), length);
        Tensor Y(int[] rows) => Tensor.FromArray(rows.Select(i => labels[i]).ToArray(), rows.Length, 1);
        Tensor xTrain = Ids(train), yTrain = Y(train), xTest = Ids(test), yTest = Y(test);
        log.WriteLine($"dataset: {corpus.Source}: {corpus.Count} sentences ({corpus.BlankLines} blank lines skipped), labels {string.Join("/", corpus.Classes)}");
        log.WriteLine($"split: stratified 80/20 as scikit-learn's train_test_split(random_state={splitSeed}): {train.Length} training, {test.Length} test; weights seed {options.Seed}; vocabulary {vocab.Count}");
        int epochs = options.Epochs ?? 4;
        var result = new ExampleResult(Name);

        float[] truth = yTest.ToArray();
        double Accuracy(float[] p) => Enumerable.Range(0, p.Length).Count(i => (p[i] > 0.5f) == (truth[i] > 0.5f)) / (double)p.Length;
        float[] Train(Func<Sequential> make, float lr, ulong seed, int? passes = null)
        {
            Generator.ManualSeed(seed);
            var model = make();
            model.Compile(new BinaryCrossEntropy(), new Adam(lr), "accuracy");
            model.Fit(xTrain, yTrain, epochs: passes ?? epochs, batchSize: 32, verbose: options.Verbose, output: log, distributed: options.Distributed);
            return model.Predict(xTest).ToArray();
        }

        var sum = new float[test.Length];
        double first = 0;
        for (int m = 0; m < Members; m++)
        {
            float[] p = Train(() => new Sequential(new Embedding(vocab.Count, 64, paddingIndex: 0, inputLength: length), new Dropout(0.5f),
                new Bidirectional(new GRU(64, returnSequences: true)), new MaxOverSteps(), new Dropout(0.5f), new Dense(1, "sigmoid")), 3e-3f, options.Seed + (ulong)m);
            if (m == 0) first = Accuracy(p);
            for (int i = 0; i < p.Length; i++) sum[i] += p[i] / Members;
            log.WriteLine($"GRU network {m + 1} of {Members}: test accuracy {Accuracy(p):P2}; average of {m + 1}: {Accuracy(sum.Select(v => v * Members / (m + 1)).ToArray()):P2}");
        }
        double boe = Accuracy(Train(() => new Sequential(new Embedding(vocab.Count, 32, paddingIndex: 0, inputLength: length),
            new MeanOverSteps(), new Dense(1, "sigmoid")), 1e-2f, options.Seed));
        // Transformer encoders: token and position embeddings, one pre-norm block (padding masked),
        // the mean over the real words.
        // Averaged over Members seeds, as the GRU networks are.
        var transformerSum = new float[test.Length];
        for (int m = 0; m < Members; m++)
        {
            float[] p = Train(() => new Sequential(new TokenAndPositionEmbedding(vocab.Count, length, 32, paddingIndex: 0),
                new Dropout(0.5f), new TransformerEncoderLayer(32, 2, feedForward: 64, dropout: 0.1f, normFirst: true), new MaskedMeanOverSteps(),
                new Dropout(0.5f), new Dense(1, "sigmoid")), 3e-3f, options.Seed + (ulong)m, TransformerEpochs);
            for (int i = 0; i < p.Length; i++) transformerSum[i] += p[i] / Members;
        }
        double transformer = Accuracy(transformerSum);
        log.WriteLine($"Transformer encoders (one pre-norm block of 2 heads, mean over the real words), average of {Members}: test accuracy {transformer:P2}");
        float majority = train.Count(i => labels[i] == 1) * 2 >= train.Length ? 1f : 0f;
        result.Metrics.Add("test_accuracy", Accuracy(sum));
        result.Metrics.Add("single_gru_accuracy", first);
        result.Metrics.Add("bag_of_embeddings_accuracy", boe);
        result.Metrics.Add("transformer_accuracy", transformer);
        result.Metrics.Add("majority_accuracy", truth.Count(t => t == majority) / (double)truth.Length);
        result.Metrics.Add("gru_networks", Members);
        result.Metrics.Add("epochs", epochs);
        log.WriteLine("reference: a bag-of-words logistic regression (scikit-learn) reaches 82.7% on these test sentences (shared/datasets/README.md).");
        return result;
    }
}
