using System.Globalization;
using Nabla.Data;
using Nabla.IO;
using Nabla.Tabular;

namespace Nabla.Tests.Training;

/// <summary><c>nabla train --tune</c>'s search on a small table: accuracy, budget, the best-so-far file, and a description that reproduces the final model.</summary>
/// <remarks>Run apart from the assembly's other tests: the budget is wall-clock time, and on two cores the others would take most of it.</remarks>
[Collection("Serial")]
public sealed class TabularTunerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nabla-tune-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Three classes of noisy points on a ring (not linearly separable), plus a noise column.</summary>
    private CsvTable Rings()
    {
        var g = new Random(2);
        var lines = new List<string> { "x,y,noise,label" };
        for (int i = 0; i < 300; i++)
        {
            int c = i % 3;
            double angle = g.NextDouble() * 2 * Math.PI, radius = 1 + c + 0.25 * (g.NextDouble() - 0.5);
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{radius * Math.Cos(angle):F4},{radius * Math.Sin(angle):F4},{g.NextDouble():F3},ring{c}"));
        }
        string path = Path.Combine(_dir, "rings.csv");
        File.WriteAllLines(path, lines);
        return CsvTable.Read(path);
    }

    [Fact]
    public void A_short_search_finds_a_good_network_keeps_its_budget_and_writes_a_reproducible_description()
    {
        CsvTable table = Rings();
        string saved = Path.Combine(_dir, "best.nabla"), description = Path.Combine(_dir, "best.json");
        var options = new TabularOptions("label", Seed: 7, SavePath: saved);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = TabularTuner.Tune(table, options, new TabularTuneOptions(TimeSpan.FromSeconds(6), Folds: 3, Parallelism: 2, DescriptionPath: description), TextWriter.Null);
        double searchAndRefit = clock.Elapsed.TotalSeconds;
        Assert.True(searchAndRefit < 6 * 1.05 + 2, $"the search and refit took {searchAndRefit:F1} s for a 6 s budget");
        Assert.True(result.Trials.Count >= 10, $"only {result.Trials.Count} trials");
        Assert.True(result.Final["test_accuracy"] >= 0.9, $"test accuracy {result.Final["test_accuracy"]}");
        Assert.True(result.Best.Score >= 0.85, $"cross-validated accuracy {result.Best.Score}");

        // The description, trained as `nabla train --model` trains it, gives the final model again.
        var settings = ModelDescription.ReadTraining(description)!;
        Assert.Equal("adamw", settings.Optimizer);
        var again = TabularTrainer.Train(table, new TabularOptions("label", Epochs: settings.Epochs!.Value, BatchSize: settings.BatchSize!.Value, LearningRate: settings.LearningRate!.Value,
            Optimizer: settings.Optimizer!, Validation: settings.Validation!.Value, Seed: 7, ModelPath: description)
        { WeightDecay = settings.WeightDecay }, TextWriter.Null);
        Assert.Equal(result.Final["test_accuracy"], again["test_accuracy"]);
        Assert.Equal(result.Final["test_loss"], again["test_loss"]);
        Assert.True(File.Exists(saved));
    }

    [Fact]
    public void A_search_stopped_early_leaves_the_best_model_so_far()
    {
        CsvTable table = Rings();
        string saved = Path.Combine(_dir, "partial.nabla");
        using var stop = new CancellationTokenSource();
        int seen = 0;
        var result = TabularTuner.Tune(table, new TabularOptions("label", Seed: 3, SavePath: Path.Combine(_dir, "final.nabla")) with { SavePath = saved },
            new TabularTuneOptions(TimeSpan.FromMinutes(5), Folds: 3, Parallelism: 1), TextWriter.Null, (_, best) =>
            {
                if (best is not null && ++seen == 5)
                {
                    // The file already holds the best so far when the search is stopped.
                    var early = TabularTrainer.Load(saved);
                    Assert.Equal(3, early.Preprocessing.Classes.Count);
                    stop.Cancel();
                }
            }, stop.Token);
        Assert.True(seen >= 5);
        Assert.True(result.Trials.Count < 40, "the search went on after it was stopped");
        var metrics = TabularTrainer.Evaluate(TabularTrainer.Load(saved), table);
        Assert.InRange(metrics["accuracy"], 0f, 1f);
    }

    [Fact]
    public void An_ensemble_of_the_best_configurations_is_saved_and_predicts()
    {
        CsvTable table = Rings();
        string saved = Path.Combine(_dir, "ensemble.nabla");
        var result = TabularTuner.Tune(table, new TabularOptions("label", Seed: 5, SavePath: saved), new TabularTuneOptions(TimeSpan.FromSeconds(5), Folds: 3, Parallelism: 2, Ensemble: 3), TextWriter.Null);
        Assert.NotNull(result.Ensemble);
        Assert.Equal(3, result.Ensemble!.Layers.Count(l => l is Nabla.Layers.Activation));
        Assert.True(result.EnsembleMetrics!["test_accuracy"] >= 0.85, $"ensemble test accuracy {result.EnsembleMetrics["test_accuracy"]}");
        var loaded = TabularTrainer.Load(saved);
        var (predictions, confidence) = TabularTrainer.Predict(loaded, table);
        Assert.Equal(table.Rows.Count, predictions.Length);
        Assert.All(confidence, c => Assert.InRange(c, 1f / 3 - 1e-4f, 1f));
    }
}
