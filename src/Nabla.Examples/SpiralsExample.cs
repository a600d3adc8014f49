using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Examples;

/// <summary>
/// Two interleaved spirals, a classic non-linear classification task: 1000 points (500 per
/// arm, 1.5 turns each, Gaussian noise 0.05 of the radius), 80% for training and 20% for test,
/// learned by a 2-64-64-1 ReLU network with Adam.
/// </summary>
public sealed class SpiralsExample : Example
{
    /// <inheritdoc/>
    public override string Name => "spirals";

    /// <inheritdoc/>
    public override string Description => "two interleaved spirals with a 2-64-64-1 ReLU network";

    /// <summary>Points [2n, 2] with labels [2n, 1], shuffled, from <paramref name="generator"/>.</summary>
    public static (Tensor X, Tensor Y) Generate(int perArm, Generator generator)
    {
        int n = 2 * perArm;
        var x = new float[n * 2];
        var y = new float[n];
        for (int i = 0; i < n; i++)
        {
            int arm = i % 2;
            double t = 0.15 + 0.85 * generator.NextDouble();
            double angle = t * 3 * Math.PI + arm * Math.PI;
            x[2 * i] = (float)(t * Math.Cos(angle) + 0.05 * generator.NextNormal());
            x[2 * i + 1] = (float)(t * Math.Sin(angle) + 0.05 * generator.NextNormal());
            y[i] = arm;
        }
        return (Tensor.FromArray(x, n, 2), Tensor.FromArray(y, n, 1));
    }

    /// <inheritdoc/>
    protected override ExampleResult Execute(ExampleOptions options, TextWriter log)
    {
        int epochs = options.Epochs ?? 200;
        var (x, y) = Generate(500, new Generator(options.Seed));
        int nTrain = 800;
        Tensor xTrain = x.Slice(0, 0, nTrain), yTrain = y.Slice(0, 0, nTrain);
        Tensor xTest = x.Slice(0, nTrain), yTest = y.Slice(0, nTrain);
        var model = new Sequential(
            new Dense(64, "relu", kernelInitializer: "he_uniform", inputFeatures: 2),
            new Dense(64, "relu", kernelInitializer: "he_uniform"),
            new Dense(1, "sigmoid"))
        { Name = "spirals" };
        model.Compile(new BinaryCrossEntropy(), new Adam(0.01f), "accuracy");
        if (options.Verbose > 0) model.Summary(log);
        log.WriteLine($"dataset: two spirals, {nTrain} training and {x.Shape[0] - nTrain} test points, seed {options.Seed}");
        var history = model.Fit(xTrain, yTrain, epochs: epochs, batchSize: 32, verbose: options.Verbose, output: log, distributed: options.Distributed);
        var test = model.Evaluate(xTest, yTest);
        var result = new ExampleResult(Name);
        result.Metrics.Add("loss", history["loss"][^1]);
        result.Metrics.Add("accuracy", history["accuracy"][^1]);
        result.Metrics.Add("test_loss", test["loss"]);
        result.Metrics.Add("test_accuracy", test["accuracy"]);
        result.Metrics.Add("epochs", epochs);
        return result;
    }
}
