using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Examples;

/// <summary>
/// A task that needs memory: each sequence has 20 steps of two features; at step 0 the first
/// feature carries a signal (+1 or -1), and every later step is noise of the same scale in both
/// features. The label is the sign of that first signal, so a model must carry it across 19
/// distracting steps. An LSTM and a GRU (16 units) are trained on 4000 sequences and tested on
/// 1000; a model without memory cannot beat 50%.
/// </summary>
public sealed class SequenceExample : Example
{
    /// <summary>Steps per sequence.</summary>
    public const int Steps = 20;

    /// <inheritdoc/>
    public override string Name => "sequence";

    /// <inheritdoc/>
    public override string Description => "remembering a signal across 20 noisy steps, with an LSTM and a GRU";

    /// <summary>Sequences [n, Steps, 2] and labels [n, 1].</summary>
    public static (Tensor X, Tensor Y) Generate(int n, Generator g)
    {
        var x = new float[n * Steps * 2];
        var y = new float[n];
        for (int i = 0; i < n; i++)
        {
            int label = g.NextInt(2);
            y[i] = label;
            for (int t = 0; t < Steps; t++)
            {
                x[(i * Steps + t) * 2] = t == 0 ? (label == 1 ? 1f : -1f) : (float)g.NextNormal();
                x[(i * Steps + t) * 2 + 1] = t == 0 ? 1f : (float)g.NextNormal();
            }
        }
        return (Tensor.FromArray(x, n, Steps, 2), Tensor.FromArray(y, n, 1));
    }

    /// <inheritdoc/>
    protected override ExampleResult Execute(ExampleOptions options, TextWriter log)
    {
        int epochs = options.Epochs ?? 15;
        var g = new Generator(options.Seed);
        var (xTrain, yTrain) = Generate(options.Limit ?? 4000, g);
        var (xTest, yTest) = Generate(1000, g);
        log.WriteLine($"dataset: signal at step 0 of {Steps}, {xTrain.Shape[0]} training and 1000 test sequences, seed {options.Seed}");
        var result = new ExampleResult(Name);
        foreach (var (label, layer) in new (string, Layer)[] { ("lstm", new LSTM(16, inputShape: [Steps, 2])), ("gru", new GRU(16, inputShape: [Steps, 2])) })
        {
            var model = new Sequential(layer, new Dense(1, "sigmoid")) { Name = label };
            model.Compile(new BinaryCrossEntropy(), new Adam(0.01f), "accuracy");
            if (options.Verbose > 0) model.Summary(log);
            model.Fit(xTrain, yTrain, epochs: epochs, batchSize: 32, verbose: options.Verbose, output: log);
            var test = model.Evaluate(xTest, yTest);
            result.Metrics.Add($"{label}_test_loss", test["loss"]);
            result.Metrics.Add($"{label}_test_accuracy", test["accuracy"]);
        }
        result.Metrics.Add("epochs", epochs);
        return result;
    }
}
