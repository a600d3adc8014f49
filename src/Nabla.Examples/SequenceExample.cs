using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Examples;

/// <summary>
/// A task that needs memory: each sequence has 20 steps of three features: a random value in
/// [-1, 1], and two marker flags. Exactly two steps, at random positions, are marked (the first
/// with flag 1, the second with flag 2); the label is 1 when the values at the two marked steps
/// have the same sign. A recurrent network remembers the first sign until the second marker; a
/// Dense network on the same 60 numbers must find a product of two values at any of 190
/// position pairs, and on 4000 training sequences it cannot. An LSTM, a GRU (32 units each)
/// and a Dense 60-64-64-1 network are trained on the same data and tested on 1000 sequences.
/// </summary>
public sealed class SequenceExample : Example
{
    /// <summary>Steps per sequence.</summary>
    public const int Steps = 20;

    /// <inheritdoc/>
    public override string Name => "sequence";

    /// <inheritdoc/>
    public override string Description => "comparing the signs of two marked steps among 20, with an LSTM, a GRU and a Dense baseline";

    /// <summary>Sequences [n, Steps, 3] and labels [n, 1].</summary>
    public static (Tensor X, Tensor Y) Generate(int n, Generator g)
    {
        var x = new float[n * Steps * 3];
        var y = new float[n];
        for (int i = 0; i < n; i++)
        {
            int first = g.NextInt(Steps - 1);
            int second = first + 1 + g.NextInt(Steps - 1 - first);
            for (int t = 0; t < Steps; t++)
            {
                int o = (i * Steps + t) * 3;
                x[o] = (float)(g.NextDouble() * 2 - 1);
                x[o + 1] = t == first ? 1f : 0f;
                x[o + 2] = t == second ? 1f : 0f;
            }
            y[i] = x[(i * Steps + first) * 3] * x[(i * Steps + second) * 3] > 0 ? 1f : 0f;
        }
        return (Tensor.FromArray(x, n, Steps, 3), Tensor.FromArray(y, n, 1));
    }

    /// <inheritdoc/>
    protected override ExampleResult Execute(ExampleOptions options, TextWriter log)
    {
        int epochs = options.Epochs ?? 20;
        var g = new Generator(options.Seed);
        var (xTrain, yTrain) = Generate(options.Limit ?? 4000, g);
        var (xTest, yTest) = Generate(1000, g);
        log.WriteLine($"dataset: signs at two marked steps of {Steps}, {xTrain.Shape[0]} training and 1000 test sequences, seed {options.Seed}");
        var result = new ExampleResult(Name);
        var models = new (string Name, Sequential Model)[]
        {
            ("lstm", new Sequential(new LSTM(32, inputShape: [Steps, 3]), new Dense(1, "sigmoid")) { Name = "lstm" }),
            ("gru", new Sequential(new GRU(32, inputShape: [Steps, 3]), new Dense(1, "sigmoid")) { Name = "gru" }),
            ("dense", new Sequential(new Input(Steps, 3), new Flatten(), new Dense(64, "relu"), new Dense(64, "relu"), new Dense(1, "sigmoid")) { Name = "dense" }),
        };
        foreach (var (label, model) in models)
        {
            model.Compile(new BinaryCrossEntropy(), new Adam(0.005f), "accuracy");
            if (options.Verbose > 0) model.Summary(log);
            model.Fit(xTrain, yTrain, epochs: epochs, batchSize: 32, verbose: options.Verbose, output: log, distributed: options.Distributed);
            var test = model.Evaluate(xTest, yTest);
            result.Metrics.Add($"{label}_accuracy", test["accuracy"]);
            result.Metrics.Add($"{label}_loss", test["loss"]);
        }
        result.Metrics.Add("epochs", epochs);
        return result;
    }
}
