using System.Globalization;

namespace Nabla.Cli;

/// <summary>
/// predict and evaluate for a model saved without tabular preprocessing (an imported ONNX model,
/// a model from the library): the numeric columns of the CSV are fed as they are, in file order,
/// and the raw outputs come back as columns <c>output_0</c>, <c>output_1</c>, ...
/// </summary>
internal static class RawModelCsv
{
    /// <summary>The numeric columns (every value parses as a number) except <paramref name="label"/>, as a batch shaped for the model's input.</summary>
    public static Tensor Features(Model model, Nabla.Data.CsvTable table, string? label)
    {
        if (model.InputCount != 1) throw new ArgumentException($"model '{model.Name}' takes {model.InputCount} inputs; predict --csv feeds one.");
        var columns = Enumerable.Range(0, table.Columns.Count)
            .Where(c => table.Columns[c] != label && table.Rows.All(r => c < r.Length && double.TryParse(r[c], NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            .ToList();
        int rows = table.Rows.Count;
        var data = new float[rows * columns.Count];
        for (int r = 0; r < rows; r++)
        {
            for (int k = 0; k < columns.Count; k++) data[r * columns.Count + k] = float.Parse(table.Rows[r][columns[k]], NumberStyles.Float, CultureInfo.InvariantCulture);
        }
        int[] sample = model.InputSampleShapes is { } shapes ? [.. shapes[0]] : [columns.Count];
        long need = sample.Aggregate(1L, (a, d) => a * d);
        if (need != columns.Count)
            throw new InvalidDataException($"{table.Source}: {columns.Count} numeric column(s) ({string.Join(", ", columns.Take(8).Select(c => table.Columns[c]))}{(columns.Count > 8 ? ", ..." : "")}), but model '{model.Name}' takes samples of shape [{string.Join(", ", sample)}] ({need} values).");
        return Tensor.FromArray(data, [rows, .. sample]);
    }

    /// <summary>Writes the CSV's rows with the model's outputs appended as output_0.. columns.</summary>
    public static List<string> Predict(Model model, Nabla.Data.CsvTable table, Func<string, string> quote)
    {
        Tensor outputs = model.Predict(Features(model, table, null), batchSize: 256);
        int width = outputs.Size / Math.Max(1, table.Rows.Count);
        float[] values = outputs.ToArray();
        var lines = new List<string> { string.Join(",", table.Columns.Select(quote).Concat(Enumerable.Range(0, width).Select(k => $"output_{k}"))) };
        for (int r = 0; r < table.Rows.Count; r++)
        {
            var cells = table.Rows[r].Select(quote).Concat(Enumerable.Range(0, width).Select(k => values[r * width + k].ToString("R", CultureInfo.InvariantCulture)));
            lines.Add(string.Join(",", cells));
        }
        return lines;
    }

    /// <summary>Accuracy (outputs of several columns: the largest is the class) or RMSE (one column) against <paramref name="label"/>.</summary>
    public static Dictionary<string, float> Evaluate(Model model, Nabla.Data.CsvTable table, string label)
    {
        int at = table.Columns.ToList().IndexOf(label);
        if (at < 0) throw new ArgumentException($"{table.Source} has no column '{label}'; its columns are {string.Join(", ", table.Columns)}.");
        var truth = table.Rows.Select((r, i) => double.TryParse(r[at], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
            : throw new InvalidDataException($"{table.Source} line {table.LineNumbers[i]}: label '{r[at]}' is not a number.")).ToArray();
        Tensor outputs = model.Predict(Features(model, table, label), batchSize: 256);
        int rows = truth.Length, width = outputs.Size / Math.Max(1, rows);
        float[] values = outputs.ToArray();
        if (width > 1)
        {
            int right = 0;
            for (int r = 0; r < rows; r++)
            {
                int best = 0;
                for (int k = 1; k < width; k++) if (values[r * width + k] > values[r * width + best]) best = k;
                if (best == truth[r]) right++;
            }
            return new() { ["accuracy"] = rows == 0 ? 0 : (float)right / rows };
        }
        double sum = 0;
        for (int r = 0; r < rows; r++) sum += (values[r] - truth[r]) * (values[r] - truth[r]);
        return new() { ["rmse"] = rows == 0 ? 0 : (float)Math.Sqrt(sum / rows) };
    }
}
