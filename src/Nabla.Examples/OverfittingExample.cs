using Nabla.Callbacks;
using Nabla.IO;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Examples;

/// <summary>
/// Overfitting and three cures. A 2-256-256-256-1 network learns 200 points of two noisy spirals
/// (15% of the labels flipped) and is checked on 1000 fresh points from the same distribution.
/// Alone it memorises the training set: the training loss falls towards zero while the
/// validation loss climbs. Dropout (0.5 after each hidden layer), weight decay (AdamW with decay 3: decoupled, so each step shrinks the weights by lr x 3 = 0.3%) and
/// early stopping (patience 20, best weights restored) each close the gap. Reports the final
/// validation-minus-training loss gap of each and writes the validation curves to
/// nabla-overfitting.svg.
/// </summary>
public sealed class OverfittingExample : Example
{
    /// <summary>The chart written, in the current folder.</summary>
    public const string OutputFile = "nabla-overfitting.svg";

    /// <inheritdoc/>
    public override string Name => "overfitting";

    /// <inheritdoc/>
    public override string Description => "a large network overfits 200 noisy points; dropout, weight decay and early stopping close the gap";

    private static (Tensor X, Tensor Y) Noisy(int perArm, Generator g)
    {
        var (x, y) = SpiralsExample.Generate(perArm, g);
        float[] labels = y.ToArray();
        for (int i = 0; i < labels.Length; i++)
        {
            if (g.NextDouble() < 0.15) labels[i] = 1f - labels[i];
        }
        return (x, Tensor.FromArray(labels, labels.Length, 1));
    }

    private static Sequential Network(float dropout)
    {
        var model = new Sequential(new Input(2));
        for (int i = 0; i < 3; i++)
        {
            model.Add(new Dense(256, "relu", kernelInitializer: "he_uniform"));
            if (dropout > 0) model.Add(new Dropout(dropout));
        }
        model.Add(new Dense(1, "sigmoid"));
        return model;
    }

    /// <inheritdoc/>
    protected override ExampleResult Execute(ExampleOptions options, TextWriter log)
    {
        int epochs = options.Epochs ?? 300;
        var g = new Generator(options.Seed);
        var (x, y) = Noisy(100, g);
        var (vx, vy) = Noisy(500, g);
        log.WriteLine($"dataset: 200 training and 1000 validation points of two spirals, 15% of labels flipped, seed {options.Seed}");
        var runs = new (string Name, Func<Sequential> Model, Func<Optimizer> Optimizer, Callback? Callback)[]
        {
            ("none", () => Network(0f), () => new Adam(1e-3f), null),
            ("dropout", () => Network(0.5f), () => new Adam(1e-3f), null),
            ("weight_decay", () => Network(0f), () => new AdamW(1e-3f, weightDecay: 3.0f), null),
            ("early_stopping", () => Network(0f), () => new Adam(1e-3f), new EarlyStopping("val_loss", patience: 20, restoreBestWeights: true)),
        };
        var result = new ExampleResult(Name);
        var curves = new List<ChartSeries>();
        foreach (var (name, makeModel, makeOptimizer, callback) in runs)
        {
            Generator.ManualSeed(options.Seed);
            Sequential model = makeModel();
            model.Compile(new BinaryCrossEntropy(), makeOptimizer(), "accuracy");
            var history = model.Fit(x, y, epochs: epochs, batchSize: 32, validationData: (vx, vy), verbose: 0,
                callbacks: callback is null ? null : [callback]);
            // The gap of the weights the run ends with (restored best weights for early stopping).
            var train = model.Evaluate(x, y);
            var val = model.Evaluate(vx, vy);
            result.Metrics.Add($"{name}_gap", val["loss"] - train["loss"]);
            result.Metrics.Add($"{name}_val_accuracy", val["accuracy"]);
            curves.Add(new ChartSeries($"{name}: validation", history["val_loss"].Select(v => (double)v).ToList()));
            curves.Add(new ChartSeries($"{name}: training", history["loss"].Select(v => (double)v).ToList()));
            log.WriteLine($"{name,-15} epochs {history.Epochs,4}  train loss {train["loss"]:F3}  validation loss {val["loss"]:F3}  gap {val["loss"] - train["loss"]:F3}  validation accuracy {val["accuracy"]:P1}");
        }
        SvgChart.Write(OutputFile, "Overfitting: loss per epoch", "epoch", "binary cross-entropy", curves);
        log.WriteLine($"wrote {Path.GetFullPath(OutputFile)}");
        result.Metrics.Add("epochs", epochs);
        return result;
    }
}
