using System.Globalization;
using Nabla.Tabular;
using Nabla.Training;
using Spectre.Console;

namespace Nabla.Cli;

/// <summary><c>nabla train --csv FILE --label COLUMN --tune [--budget 60s] [--folds 5] [--best best.json]</c>.</summary>
internal static class TabularTuning
{
    /// <summary>
    /// The models the saved result averages unless --ensemble says otherwise: on scikit-learn's small
    /// tables the average of the five best configurations beat the single best (docs/TUNING.md).
    /// </summary>
    public const int DefaultEnsemble = 5;

    /// <summary>Parses 90, 90s, 10m or 1h as a duration.</summary>
    public static TimeSpan Budget(string? text)
    {
        if (text is null) return TimeSpan.FromSeconds(60);
        string t = text.Trim().ToLowerInvariant();
        double factor = t.EndsWith('h') ? 3600 : t.EndsWith('m') ? 60 : 1;
        string number = t.TrimEnd('s', 'm', 'h');
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value > 0) || value * factor > 7 * 24 * 3600)
            throw new ArgumentException($"--budget should be a time like 60s, 10m or 1h, not '{text}'.");
        return TimeSpan.FromSeconds(value * factor);
    }

    public static int Run(Options o, TabularOptions options, string csv)
    {
        var budget = Budget(o.Values.GetValueOrDefault("--budget"));
        int folds = o.Int("--folds", min: 2) ?? 5;
        string? best = o.Values.GetValueOrDefault("--best") ?? (options.SavePath is null ? null : Path.ChangeExtension(options.SavePath, ".json"));
        if (best is not null) Nabla.IO.AtomicFile.CheckWritable(best, "--best");
        if (options.SavePath is not null) Nabla.IO.AtomicFile.CheckWritable(options.SavePath, "--save");
        if (o.Values.GetValueOrDefault("--report") is string reportPath) Nabla.IO.AtomicFile.CheckWritable(reportPath, "--report");
        bool json = o.Flags.Contains("--json");
        TextWriter log = json ? Console.Error : Console.Out;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var table = Nabla.Data.CsvTable.Read(csv);
        var tune = new TabularTuneOptions(budget, folds, DescriptionPath: best, Ensemble: o.Int("--ensemble", min: 1) ?? DefaultEnsemble);
        var inv = CultureInfo.InvariantCulture;
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // Ctrl+C ends the search early; the best so far is refitted and saved as usual.
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        TabularTuneResult result;
        try
        {
            if (json || Console.IsOutputRedirected)
            {
                result = TabularTuner.Tune(table, options, tune, log, (trial, leader) => log.WriteLine(Line(trial, leader)), stop.Token);
            }
            else
            {
                var grid = new Table().AddColumns("trial", "rung", "epochs", "configuration", "cv score", "s").Expand();
                TabularTuneResult? done = null;
                AnsiConsole.Live(grid).Start(ctx =>
                {
                    done = TabularTuner.Tune(table, options, tune, TextWriter.Null, (trial, leader) =>
                    {
                        grid.AddRow(trial.Number.ToString(inv), trial.Rung.ToString(inv), $"{trial.Epochs}/{trial.MaxEpochs}", Markup.Escape(TabularTuner.Format(trial.Config)),
                            trial.Cut ? "cut" : (ReferenceEquals(trial, leader) ? "[green]" : "[default]") + Math.Abs(trial.Score).ToString("0.####", inv) + "[/]", trial.Seconds.ToString("0.0", inv));
                        while (grid.Rows.Count > 20) grid.Rows.RemoveAt(0);
                        ctx.Refresh();
                    }, stop.Token);
                });
                result = done!;
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        bool classify = result.Final.Preprocessing.Task == TabularTask.Classification;
        var metrics = new Dictionary<string, double>(result.Final.Metrics.Where(kv => kv.Key.StartsWith("test_", StringComparison.Ordinal)).Select(kv => KeyValuePair.Create(kv.Key, kv.Value)))
        {
            ["cv_score"] = Math.Abs(result.Best.Score),
            ["best_test_" + (classify ? "accuracy" : "rmse")] = result.Final.Metrics[classify ? "test_accuracy" : "test_rmse"],
            ["trials"] = result.Trials.Count,
            ["search_seconds"] = result.Trials.Count == 0 ? 0 : budget.TotalSeconds,
        };
        if (result.EnsembleMetrics is { } ensemble)
        {
            // The saved (and reported) model is the ensemble; best_test_* is the single best configuration's.
            foreach (var (k, v) in ensemble) metrics[k] = v;
            metrics["ensemble"] = tune.Ensemble;
        }
        log.WriteLine($"best: {TabularTuner.Format(result.Best.Config)}, {result.Best.Epochs} epochs; cross-validated {(classify ? "accuracy" : "RMSE")} {Math.Abs(result.Best.Score).ToString("0.####", inv)}");
        if (o.Values.GetValueOrDefault("--report") is string report)
        {
            string score = classify ? "cross-validated accuracy" : "cross-validated RMSE";
            var ranked = result.Trials.Where(t => !t.Cut).OrderByDescending(t => t.Rung).ThenByDescending(t => t.Score).Take(15);
            var page = new Report
            {
                Title = $"nabla train --tune: {Path.GetFileName(csv)}, label '{options.Label}'",
                Notes = [$"{result.Trials.Count} trials in {budget.TotalSeconds:0.#} s, {folds}-fold cross-validation on the training rows; the test rows were used once, by the final model."],
                Metrics = metrics,
                Layers = result.Final.Model.SummaryRows(),
                Leaderboard = [["trial", "rung", "epochs", "configuration", score], .. ranked.Select(t => new[] { t.Number.ToString(inv), t.Rung.ToString(inv), $"{t.Epochs}/{t.MaxEpochs}", TabularTuner.Format(t.Config), Math.Abs(t.Score).ToString("0.####", inv) })],
                Pictures = [($"{score} of every trial (higher rungs trained longer)", Charts.TrialScores(result.Trials, Path.GetFileName(csv), score))],
            };
            Nabla.IO.AtomicFile.WriteText(report, page.ToHtml());
            log.WriteLine($"wrote {report}");
        }
        if (best is not null) log.WriteLine($"wrote {best} (nabla train --csv {Path.GetFileName(csv)} --label {options.Label} --model {best} reproduces the final model)");
        Program.PrintMetrics(metrics, json, clock.Elapsed);
        return 0;
    }

    private static string Line(Trial trial, Trial? leader)
    {
        var inv = CultureInfo.InvariantCulture;
        string score = trial.Cut ? "cut by the budget" : $"cv {Math.Abs(trial.Score).ToString("0.####", inv)}{(ReferenceEquals(trial, leader) ? " (best)" : "")}";
        return $"trial {trial.Number} rung {trial.Rung} ({trial.Epochs}/{trial.MaxEpochs} epochs, {trial.Seconds.ToString("0.0", inv)} s): {TabularTuner.Format(trial.Config)}: {score}";
    }
}
