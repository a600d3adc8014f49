using Nabla.Training;
using ScottPlot;

namespace Nabla.Cli;

/// <summary>PNG pictures of a training run, drawn with ScottPlot: the curves per epoch and a confusion matrix.</summary>
public static class Charts
{
    /// <summary>
    /// One panel per quantity (loss first, then each metric), each with its training curve and,
    /// when there is one, its validation curve, against the epoch; as PNG bytes.
    /// </summary>
    public static byte[] TrainingCurves(History history, string title, int width = 900, int panelHeight = 320)
    {
        ArgumentNullException.ThrowIfNull(history);
        string[] quantities = history.Keys.Where(k => !k.StartsWith("val_", StringComparison.Ordinal) && k != "lr").ToArray();
        if (quantities.Length == 0) throw new ArgumentException("The history has no values to draw.", nameof(history));
        var multiplot = new Multiplot();
        multiplot.AddPlots(quantities.Length);
        for (int q = 0; q < quantities.Length; q++)
        {
            Plot plot = multiplot.GetPlot(q);
            string key = quantities[q];
            AddCurve(plot, history[key], "training");
            if (history.Contains("val_" + key)) AddCurve(plot, history["val_" + key], "validation");
            plot.Title(q == 0 ? $"{title}: {key}" : key);
            plot.XLabel("epoch");
            plot.YLabel(key);
            plot.ShowLegend(Alignment.UpperRight);
        }
        using Image image = multiplot.Render(width, panelHeight * quantities.Length);
        return image.GetImageBytes(ImageFormat.Png);
    }

    private static void AddCurve(Plot plot, IReadOnlyList<float> values, string label)
    {
        double[] xs = Enumerable.Range(1, values.Count).Select(e => (double)e).ToArray();
        double[] ys = values.Select(v => float.IsFinite(v) ? v : double.NaN).ToArray();
        var line = plot.Add.Scatter(xs, ys);
        line.LegendText = label;
        line.MarkerSize = values.Count <= 30 ? 5 : 0;
    }

    /// <summary>Each trial's cross-validated score against its number, one series per rung of successive halving.</summary>
    public static byte[] TrialScores(IReadOnlyList<Nabla.Training.Trial> trials, string title, string score, int width = 900, int height = 420)
    {
        ArgumentNullException.ThrowIfNull(trials);
        var plot = new Plot();
        foreach (var rung in trials.Where(t => !t.Cut).GroupBy(t => t.Rung).OrderBy(g => g.Key))
        {
            var points = plot.Add.ScatterPoints(rung.Select(t => (double)t.Number).ToArray(), rung.Select(t => Math.Abs(t.Score)).ToArray());
            points.LegendText = $"rung {rung.Key} ({rung.First().MaxEpochs} epochs)";
        }
        plot.Title(title);
        plot.XLabel("trial");
        plot.YLabel(score);
        plot.ShowLegend(Alignment.LowerRight);
        using Image image = plot.GetImage(width, height);
        return image.GetImageBytes(ImageFormat.Png);
    }

    /// <summary>The most classes a confusion matrix picture shows: beyond about 50 the cells are unreadable and drawing takes minutes.</summary>
    public const int MaxConfusionClasses = 50;

    /// <summary>
    /// The part of a confusion matrix that a picture can show: all of it up to <paramref name="max"/>
    /// classes; otherwise the <paramref name="max"/> classes with the most rows (true class), in
    /// their original order, with words that say which are shown (empty when nothing was left out).
    /// </summary>
    public static (int[,] Counts, string[] Classes, string Caption) MostFrequentClasses(int[,] counts, IReadOnlyList<string> classes, int max)
    {
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(classes);
        int k = classes.Count;
        if (k <= max) return (counts, [.. classes], "");
        var rowTotals = new long[k];
        for (int t = 0; t < k; t++)
        {
            for (int p = 0; p < k; p++) rowTotals[t] += counts[t, p];
        }
        int[] keep = Enumerable.Range(0, k).OrderByDescending(t => rowTotals[t]).ThenBy(t => t).Take(max).Order().ToArray();
        var sub = new int[max, max];
        for (int i = 0; i < max; i++)
        {
            for (int j = 0; j < max; j++) sub[i, j] = counts[keep[i], keep[j]];
        }
        return (sub, keep.Select(t => classes[t]).ToArray(), $"the {max} classes with the most test rows of {k}");
    }

    /// <summary>
    /// The confusion matrix as PNG bytes: true class down, predicted class across, each cell shaded
    /// by its share of its true class and labelled with its count.
    /// </summary>
    public static byte[] ConfusionMatrix(int[,] counts, IReadOnlyList<string> classes, string title, int size = 640)
    {
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(classes);
        int k = classes.Count;
        if (counts.GetLength(0) != k || counts.GetLength(1) != k)
            throw new ArgumentException($"A {counts.GetLength(0)}x{counts.GetLength(1)} matrix for {k} classes.", nameof(counts));
        var plot = new Plot();
        for (int t = 0; t < k; t++)
        {
            int total = Enumerable.Range(0, k).Sum(p => counts[t, p]);
            for (int p = 0; p < k; p++)
            {
                double share = total == 0 ? 0 : counts[t, p] / (double)total;
                // Row t is drawn from the top: y runs from k-1 (first class) down to 0.
                double y = k - 1 - t;
                var cell = plot.Add.Rectangle(p - 0.5, p + 0.5, y - 0.5, y + 0.5);
                cell.FillColor = Colors.White.MixedWith(Colors.SteelBlue, share);
                cell.LineColor = Colors.LightGray;
                var text = plot.Add.Text(counts[t, p].ToString(System.Globalization.CultureInfo.InvariantCulture), p, y);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = k <= 10 ? 16 : 10;
                text.LabelFontColor = share > 0.6 ? Colors.White : Colors.Black;
            }
        }
        double[] positions = Enumerable.Range(0, k).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(positions, [.. classes]);
        plot.Axes.Left.SetTicks(positions.Reverse().ToArray(), [.. classes]);
        plot.Axes.SetLimits(-0.5, k - 0.5, -0.5, k - 0.5);
        plot.Title(title);
        plot.XLabel("predicted class");
        plot.YLabel("true class");
        return plot.GetImageBytes(size, size, ImageFormat.Png);
    }
}
