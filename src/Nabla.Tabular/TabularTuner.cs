using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Nabla.Callbacks;
using Nabla.Data;
using Nabla.IO;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;
using Nabla.Training;

namespace Nabla.Tabular;

/// <summary>How <see cref="TabularTuner.Tune"/> searches.</summary>
/// <param name="Budget">Wall-clock time of the search (the final refit comes after it).</param>
/// <param name="Folds">Cross-validation folds over the training rows (the test rows never guide a choice).</param>
/// <param name="Parallelism">Trials at once (default: one per core).</param>
/// <param name="DescriptionPath">Where to write the best configuration as a JSON model description (for <c>nabla train --model</c>).</param>
/// <param name="Ensemble">How many of the best configurations the final model averages (1: the best alone).</param>
public sealed record TabularTuneOptions(TimeSpan Budget, int Folds = 5, int? Parallelism = null, string? DescriptionPath = null, int Ensemble = 1);

/// <summary>What <see cref="TabularTuner.Tune"/> found: every trial, the best, and the best refitted on all training rows.</summary>
/// <param name="Trials">Every trial, in the order they finished.</param>
/// <param name="Best">The best trial (highest rung, then best cross-validated score).</param>
/// <param name="Final">The best configuration trained on all training rows, with its test figures.</param>
/// <param name="Description">The best configuration as a JSON model description (layers and training settings).</param>
/// <param name="Ensemble">With <see cref="TabularTuneOptions.Ensemble"/> above 1: the top configurations, each refitted, averaged (log-probabilities for classes, values for regression).</param>
/// <param name="EnsembleMetrics">The ensemble's test figures (test_accuracy, or test_rmse), when there is one.</param>
public sealed record TabularTuneResult(IReadOnlyList<Trial> Trials, Trial Best, TabularResult Final, JsonObject Description, Model? Ensemble = null,
    IReadOnlyDictionary<string, double>? EnsembleMetrics = null);

/// <summary>
/// <c>nabla train --tune</c>: searches a dense network's depth, width, activation, dropout,
/// learning rate, weight decay (AdamW) and batch size for a table with <see cref="Tuner"/> (random
/// sampling with successive halving, trials in parallel), each configuration scored by stratified
/// k-fold cross-validation on the training rows with early stopping on each held-out fold. The best
/// is refitted on all training rows for its mean best epoch count, tested once, and saved; while the
/// search runs, the model file holds the best configuration so far (a killed search leaves it).
/// </summary>
public static class TabularTuner
{
    /// <summary>The search space of <c>nabla train --tune</c>.</summary>
    public static SearchSpace Space() => new SearchSpace()
        .Choice("layers", 1, 2, 3)
        .Choice("units", 32, 64, 128, 256)
        .Choice("activation", "relu", "gelu", "tanh", "silu")
        .Choice("dropout", 0.0, 0.1, 0.2, 0.3, 0.5)
        .LogUniform("learning_rate", 3e-4, 3e-2)
        .LogUniform("weight_decay", 1e-6, 1e-2)
        .Choice("batch_size", 16, 32, 64, 128);

    /// <summary>The hidden layers of a configuration: Dense (and Dropout) layers as JSON model-description entries.</summary>
    public static JsonArray Layers(IReadOnlyDictionary<string, object> config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var layers = new JsonArray();
        for (int i = 0; i < (int)config["layers"]; i++)
        {
            layers.Add(new JsonObject { ["type"] = "Dense", ["units"] = (int)config["units"], ["activation"] = (string)config["activation"], ["kernel_initializer"] = "he_uniform" });
            if ((double)config["dropout"] > 0) layers.Add(new JsonObject { ["type"] = "Dropout", ["rate"] = (double)config["dropout"] });
        }
        return layers;
    }

    /// <summary>The configuration as a model description with its training settings (<c>nabla train --model</c> reads both).</summary>
    public static JsonObject Description(IReadOnlyDictionary<string, object> config, int epochs) => new()
    {
        ["layers"] = Layers(config),
        ["training"] = new JsonObject
        {
            ["optimizer"] = "adamw",
            ["learning_rate"] = Math.Round((double)config["learning_rate"], 7),
            ["weight_decay"] = Math.Round((double)config["weight_decay"], 9),
            ["batch_size"] = (int)config["batch_size"],
            ["epochs"] = epochs,
            ["validation"] = 0,
        },
    };

    /// <summary>The training options a description's settings give, on top of <paramref name="o"/>.</summary>
    public static TabularOptions Apply(TabularOptions o, IReadOnlyDictionary<string, object> config, int epochs) => o with
    {
        Hidden = null,
        Optimizer = "adamw",
        LearningRate = (float)Math.Round((double)config["learning_rate"], 7),
        BatchSize = (int)config["batch_size"],
        Epochs = epochs,
        Validation = 0,
        EarlyStopping = false,
        WeightDecay = (float)Math.Round((double)config["weight_decay"], 9),
    };

    /// <summary>Searches, refits the best on all training rows and tests it; <paramref name="onTrial"/> sees every trial and the best so far.</summary>
    public static TabularTuneResult Tune(CsvTable table, TabularOptions o, TabularTuneOptions t, TextWriter log, Action<Trial, Trial?>? onTrial = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(t);
        if (t.Folds < 2) throw new ArgumentException($"--folds must be at least 2, not {t.Folds}.");
        var (train, _, test, note) = TabularTrainer.Split(table, o with { Validation = 0 }, log);
        var probe = TabularPreprocessor.Fit(table, train, o.Label, o.Task);
        bool classify = probe.Task == TabularTask.Classification;
        log.WriteLine($"{table.Source}: {table.Rows.Count} rows; {train.Length} training rows searched by {t.Folds}-fold cross-validation, {test.Length} test rows kept out; {note}");

        // Folds: a seeded shuffle of the training rows, stratified by class for classification.
        int labelIndex = table.ColumnIndex(o.Label);
        var generator = new Generator(o.Seed);
        int[] order = [.. train];
        generator.Shuffle(order);
        // Stable sort by class keeps the shuffled order within each class; dealing round-robin then stratifies.
        if (classify) order = [.. order.OrderBy(r => table.Rows[r][labelIndex].Trim(), StringComparer.Ordinal)];
        var fold = new Dictionary<int, int>();
        for (int i = 0; i < order.Length; i++) fold[order[i]] = i % t.Folds;
        var folds = Enumerable.Range(0, t.Folds).Select(k =>
        {
            int[] fit = [.. train.Where(r => fold[r] != k)], held = [.. train.Where(r => fold[r] == k)];
            var prep = TabularPreprocessor.Fit(table, fit, o.Label, probe.Task);
            return (Prep: prep, X: prep.Features(table, fit), Y: prep.Targets(table, fit), XV: prep.Features(table, held), YV: prep.Targets(table, held));
        }).ToArray();

        var models = new ConcurrentDictionary<(int, int), (Sequential Model, TabularPreprocessor Prep)>();
        TrialOutcome Objective(IReadOnlyDictionary<string, object> config, int epochs, ulong seed, CancellationToken token)
        {
            // Folds train in parallel too, so the last rungs of a bracket (few configurations) still use every core;
            // each fold seeds its own thread's generator, and the sums run in fold order.
            var scores = new double[folds.Length];
            var best = new int[folds.Length];
            Parallel.For(0, folds.Length, new ParallelOptions { MaxDegreeOfParallelism = t.Parallelism ?? Environment.ProcessorCount, CancellationToken = token }, k =>
            {
                // Folds side by side each keep to their own thread (no contention for the worker pool).
                using var alone = Kernels.Threading.CallingThreadOnly((t.Parallelism ?? Environment.ProcessorCount) > 1);
                var f = folds[k];
                Generator.ManualSeed(seed);
                Sequential model = Build(f.Prep, config);
                var stop = new EarlyStopping("val_loss", patience: Math.Max(5, epochs / 5), restoreBestWeights: true);
                var history = model.Fit(f.X, f.Y, epochs: epochs, batchSize: (int)config["batch_size"], validationData: (f.XV, f.YV), callbacks: [stop, new Cancel(token)], verbose: 0);
                IReadOnlyList<float> losses = history["val_loss"];
                best[k] = 1 + Enumerable.Range(0, losses.Count).MinBy(i => losses[i]);
                scores[k] = Score(model, f.XV, f.YV, f.Prep);
                if (k == 0) models[((int)(seed - o.Seed), epochs)] = (model, f.Prep);
            });
            token.ThrowIfCancellationRequested();
            return new TrialOutcome(scores.Sum() / folds.Length, (int)Math.Round(best.Average()));
        }

        var tuner = new Tuner(Space(), Objective, new TunerOptions(t.Budget, Parallelism: t.Parallelism, Seed: o.Seed));
        Trial? saved = null;
        // The budget covers the final refit too: the search ends early enough for the best trial's
        // configuration to be trained once more on all training rows (a fold's time, plus a margin).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        double members = Math.Max(1, t.Ensemble);
        tuner.TrialFinished += (trial, best) =>
        {
            onTrial?.Invoke(trial, best);
            if (best is not null && clock.Elapsed.TotalSeconds + best.Seconds / t.Folds * 1.5 * members >= t.Budget.TotalSeconds) stop.Cancel();
            // The file always holds the best so far (its first fold's model), so a killed search leaves it.
            if (best is not null && !ReferenceEquals(best, saved) && models.TryGetValue((best.Number, best.MaxEpochs), out var m))
            {
                saved = best;
                if (o.SavePath is not null) ModelFile.Save(m.Model, o.SavePath, extra: new Dictionary<string, string> { ["preprocessing"] = m.Prep.ToJson().ToJsonString() });
                if (t.DescriptionPath is not null) AtomicFile.WriteText(t.DescriptionPath, Description(best.Config, Math.Max(1, best.Epochs)).ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            }
            foreach (var key in models.Keys.Where(k => best is null || k != (best.Number, best.MaxEpochs)).ToList()) models.TryRemove(key, out _);
        };
        Trial best = tuner.Run(stop.Token) ?? throw new InvalidOperationException($"The search found no configuration within {t.Budget.TotalSeconds:0.#} s; give it a larger --budget.");
        log.WriteLine($"best of {tuner.Trials.Count} trials: {Format(best.Config)}, cross-validated {(classify ? "accuracy" : "RMSE")} {Math.Abs(best.Score).ToString("0.####", CultureInfo.InvariantCulture)} at {best.Epochs} epochs");

        // The best configuration on all training rows, exactly as `nabla train --model DESCRIPTION` trains it.
        JsonObject description = Description(best.Config, Math.Max(1, best.Epochs));
        var final = Refit(table, o, best, log);
        if (t.DescriptionPath is not null) AtomicFile.WriteText(t.DescriptionPath, description.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        if (t.Ensemble <= 1) return new TabularTuneResult(tuner.Trials, best, final, description);
        var (ensemble, metrics) = Ensemble(table, o, tuner.Trials, t.Ensemble, final, test, log);
        return new TabularTuneResult(tuner.Trials, best, final, description, ensemble, metrics);
    }

    /// <summary>
    /// A trial's configuration trained on all training rows for its epochs, exactly as
    /// <c>nabla train --model DESCRIPTION</c> trains it: its description is written to a temporary
    /// file and read back through <see cref="TabularOptions.ModelPath"/>.
    /// </summary>
    private static TabularResult Refit(CsvTable table, TabularOptions o, Trial trial, TextWriter log)
    {
        int epochs = Math.Max(1, trial.Epochs);
        string file = Path.Combine(Path.GetTempPath(), $"nabla-tuned-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(file, Description(trial.Config, epochs).ToJsonString());
            return TabularTrainer.Train(table, Apply(o, trial.Config, epochs) with { ModelPath = file }, log);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// The top <paramref name="count"/> configurations (each at its highest rung), refitted on the
    /// training rows and averaged in one functional model (classification: the mean of their
    /// log-probabilities, a geometric-mean ensemble whose softmax gives the pooled probabilities),
    /// tested once and saved in place of the single best.
    /// </summary>
    private static (Model Model, IReadOnlyDictionary<string, double> Metrics) Ensemble(CsvTable table, TabularOptions o, IReadOnlyList<Trial> trials, int count, TabularResult best, int[] test, TextWriter log)
    {
        var top = trials.Where(tr => !tr.Cut).GroupBy(tr => tr.Number).Select(g => g.OrderByDescending(tr => tr.Rung).First())
            .OrderByDescending(tr => tr.Rung).ThenByDescending(tr => tr.Score).Take(count).ToList();
        TabularPreprocessor prep = best.Preprocessing;
        bool classify = prep.Task == TabularTask.Classification;
        var input = new Input(prep.FeatureCount);
        var outputs = new List<SymbolicTensor>();
        foreach (var trial in top)
        {
            var member = Refit(table, o with { SavePath = null }, trial, TextWriter.Null);
            SymbolicTensor h = input.Output;
            foreach (Layer layer in member.Model.Layers.Where(l => l is not Input))
            {
                // A copy under a name of its own (every member names its layers dense, dense_1, ...), holding the member's weights.
                Layer copy = LayerCatalog.Create(LayerCatalog.TypeNameOf(layer)!, $"member{outputs.Count + 1}_{layer.Name}", layer.GetConfig(), "ensemble member");
                h = copy.Apply(h);
                copy.LoadStateDict(layer.StateDict());
            }
            outputs.Add(classify ? new Activation(Activations.LogSoftmax).Apply(h) : h);
        }
        var model = new Model(input, new Average().Apply([.. outputs]), "tuned_ensemble");
        if (classify) model.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), new AdamW(), "accuracy");
        else model.Compile(new MeanSquaredError(), new AdamW());
        Tensor x = prep.Features(table, test), y = prep.Targets(table, test);
        var metrics = new Dictionary<string, double>();
        if (classify) metrics["test_accuracy"] = model.Evaluate(x, y, batchSize: 512)["accuracy"];
        else
        {
            float[] p = model.Predict(x, batchSize: 512).ToArray(), truth = y.ToArray();
            metrics["test_rmse"] = Math.Sqrt(p.Select((v, i) => Math.Pow((v - truth[i]) * prep.TargetStd, 2)).Average());
        }
        metrics["test_loss"] = model.Evaluate(x, y, batchSize: 512)["loss"];
        if (o.SavePath is not null)
        {
            ModelFile.Save(model, o.SavePath, extra: new Dictionary<string, string> { ["preprocessing"] = prep.ToJson().ToJsonString() });
            log.WriteLine($"saved the ensemble of the {top.Count} best configurations, with its preprocessing, to {o.SavePath}");
        }
        return (model, metrics);
    }

    /// <summary>A configuration on one line.</summary>
    public static string Format(IReadOnlyDictionary<string, object> config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var inv = CultureInfo.InvariantCulture;
        return $"{config["layers"]}x{config["units"]} {config["activation"]}, dropout {((double)config["dropout"]).ToString("0.##", inv)}, lr {((double)config["learning_rate"]).ToString("0.#####", inv)}, " +
            $"weight decay {((double)config["weight_decay"]).ToString("0.#######", inv)}, batch {config["batch_size"]}";
    }

    private static Sequential Build(TabularPreprocessor prep, IReadOnlyDictionary<string, object> config)
    {
        var model = new Sequential(new Input(prep.FeatureCount)) { Name = "tabular" };
        foreach (Layer layer in ModelDescription.ParseLayers(new JsonObject { ["layers"] = Layers(config) }.ToJsonString(), "tuned configuration")) model.Add(layer);
        bool classify = prep.Task == TabularTask.Classification;
        model.Add(new Dense(classify ? prep.Classes.Count : 1));
        var optimizer = new AdamW((float)(double)config["learning_rate"], weightDecay: (float)(double)config["weight_decay"]);
        if (classify) model.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), optimizer, "accuracy");
        else model.Compile(new MeanSquaredError(), optimizer);
        return model;
    }

    /// <summary>
    /// Accuracy, less a hundredth of the cross-entropy (below one example's worth of accuracy: on
    /// small tables many configurations are right on every held-out row, and the better calibrated
    /// one should win the tie); or minus the RMSE in the label's own units.
    /// </summary>
    private static double Score(Sequential model, Tensor x, Tensor y, TabularPreprocessor prep)
    {
        float[] p = model.Predict(x, batchSize: 512).ToArray(), truth = y.ToArray();
        if (prep.Task == TabularTask.Classification)
        {
            int classes = prep.Classes.Count, right = 0;
            double loss = 0;
            for (int i = 0; i < truth.Length; i++)
            {
                int best = 0;
                double max = p[i * classes];
                for (int c = 1; c < classes; c++)
                {
                    if (p[i * classes + c] > p[i * classes + best]) best = c;
                    max = Math.Max(max, p[i * classes + c]);
                }
                double sum = 0;
                for (int c = 0; c < classes; c++) sum += Math.Exp(p[i * classes + c] - max);
                loss += Math.Log(sum) + max - p[i * classes + (int)truth[i]];
                if (best == (int)truth[i]) right++;
            }
            return (double)right / truth.Length - 0.01 * Math.Min(3, loss / truth.Length);
        }
        double se = 0;
        for (int i = 0; i < truth.Length; i++) se += Math.Pow((p[i] - truth[i]) * prep.TargetStd, 2);
        return -Math.Sqrt(se / truth.Length);
    }

    /// <summary>Stops training at the end of an epoch once the search's budget is spent.</summary>
    private sealed class Cancel(CancellationToken token) : Callback
    {
        public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, float> logs)
        {
            if (token.IsCancellationRequested && Model is not null) Model.StopTraining = true;
        }
    }
}
