using System.Globalization;
using Nabla.Callbacks;
using Spectre.Console;

namespace Nabla.Cli;

/// <summary>
/// Drives a Spectre.Console progress bar from Fit: one tick per epoch (so the ETA column counts
/// epochs), and a description with the running loss and metrics of the current batch, then the
/// epoch's training and validation figures.
/// </summary>
internal sealed class SpectreProgress(ProgressTask task, int epochs) : Callback
{
    /// <inheritdoc/>
    public override bool RunsOnEveryRank => false;

    private int _epoch;

    public override void OnEpochBegin(int epoch) => _epoch = epoch;

    public override void OnBatchEnd(int batch, IReadOnlyDictionary<string, float> logs)
    {
        if (batch % 4 == 0) task.Description = $"epoch {_epoch}/{epochs} batch {batch} {Figures(logs)}";
    }

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, float> logs)
    {
        task.Description = $"epoch {epoch}/{epochs} {Figures(logs)}";
        task.Value = epoch;
    }

    public override void OnTrainEnd()
    {
        // Early stopping ends before the last epoch: close the bar where training ended.
        task.MaxValue = Math.Max(1, task.Value);
        task.StopTask();
    }

    private static string Figures(IReadOnlyDictionary<string, float> logs) =>
        Markup.Escape(string.Join("  ", logs.Select(kv => $"{kv.Key} {kv.Value.ToString("G4", CultureInfo.InvariantCulture)}")));

    /// <summary>Runs <paramref name="train"/> under a progress display with description, bar, percentage, elapsed and remaining time.</summary>
    public static T Run<T>(string title, int epochs, Func<SpectreProgress, T> train)
    {
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: epochs);
                result = train(new SpectreProgress(task, epochs));
            });
        return result;
    }
}
