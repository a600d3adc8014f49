using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Examples;

/// <summary>
/// Regression of a noisy sine: y = sin(x) + N(0, 0.1^2) for x uniform in [-pi, pi]; 1000
/// training and 2000 test points. A 1-64-64-1 tanh network with Adam (cosine-decayed learning rate) should bring the test
/// MSE down to the noise variance, the error no model can remove.
/// </summary>
public sealed class SineExample : Example
{
    /// <summary>Standard deviation of the noise added to the targets.</summary>
    public const float NoiseStd = 0.1f;

    /// <inheritdoc/>
    public override string Name => "sine";

    /// <inheritdoc/>
    public override string Description => "regression of sin(x) + noise with a 1-64-64-1 tanh network";

    /// <summary>Inputs [n, 1], noisy targets [n, 1] and the noise-free values [n, 1].</summary>
    public static (Tensor X, Tensor Y, Tensor Clean) Generate(int n, Generator generator)
    {
        var x = new float[n];
        var y = new float[n];
        var clean = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (float)((generator.NextDouble() * 2 - 1) * Math.PI);
            clean[i] = MathF.Sin(x[i]);
            y[i] = clean[i] + (float)(NoiseStd * generator.NextNormal());
        }
        return (Tensor.FromArray(x, n, 1), Tensor.FromArray(y, n, 1), Tensor.FromArray(clean, n, 1));
    }

    /// <inheritdoc/>
    protected override ExampleResult Execute(ExampleOptions options, TextWriter log)
    {
        int epochs = options.Epochs ?? 300;
        var g = new Generator(options.Seed);
        var (xTrain, yTrain, _) = Generate(1000, g);
        var (xTest, yTest, cleanTest) = Generate(2000, g);
        var model = new Sequential(
            new Dense(64, "tanh", inputFeatures: 1),
            new Dense(64, "tanh"),
            new Dense(1))
        { Name = "sine" };
        // Cosine decay lets the fit settle into the noise floor instead of jittering around it.
        int steps = epochs * ((1000 + 31) / 32);
        model.Compile(new MeanSquaredError(), new Adam(0.01f) { Schedule = new CosineDecay(0.01f, steps, alpha: 0.01f) }, "mae");
        if (options.Verbose > 0) model.Summary(log);
        log.WriteLine($"dataset: sin(x) + N(0, {NoiseStd}^2), 1000 training and 2000 test points, seed {options.Seed}");
        var history = model.Fit(xTrain, yTrain, epochs: epochs, batchSize: 32, verbose: options.Verbose, output: log, distributed: options.Distributed);
        var test = model.Evaluate(xTest, yTest);
        // The irreducible error on this test set: the MSE of the true function itself.
        float noiseVariance = new MeanSquaredError().Compute(cleanTest, yTest).Item();
        var result = new ExampleResult(Name);
        result.Metrics.Add("loss", history["loss"][^1]);
        result.Metrics.Add("test_mse", test["loss"]);
        result.Metrics.Add("noise_variance", noiseVariance);
        result.Metrics.Add("test_mse_over_noise", test["loss"] / noiseVariance);
        result.Metrics.Add("epochs", epochs);
        return result;
    }
}
