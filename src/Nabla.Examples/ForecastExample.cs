using System.Globalization;
using Nabla.Data;
using Nabla.IO;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Examples;

/// <summary>
/// Forecasting the monthly Mauna Loa CO2 series (NOAA, March 1958 - November 2023). The last 60
/// months are held out. An LSTM (32 units) reads the last 24 month-to-month changes and predicts
/// the next change; the forecast is last month's value plus that change. Reports the
/// one-step-ahead test MAE beside the naive (previous month) and seasonal-naive (same month a
/// year before) forecasts on the same months, and the MAE of a 60-month recursive forecast, and
/// draws actual, one-step and recursive forecasts to nabla-forecast.svg.
/// </summary>
public sealed class ForecastExample : Example
{
    /// <summary>The chart written, in the current folder.</summary>
    public const string OutputFile = "nabla-forecast.svg";

    private const int Window = 24, Horizon = 60;

    /// <inheritdoc/>
    public override string Name => "forecast";

    /// <inheritdoc/>
    public override string Description => "one-step and multi-step forecasts of the Mauna Loa CO2 series with an LSTM";

    /// <summary>The monthly averages, in order.</summary>
    public static float[] Load(string? path)
    {
        string file = path ?? FindShared("co2-mauna-loa/co2_mm_mlo.csv");
        if (Directory.Exists(file)) file = Path.Combine(file, "co2_mm_mlo.csv");
        var table = CsvTable.Read(file);
        int c = table.ColumnIndex("average");
        return table.Rows.Select(r => float.Parse(r[c], CultureInfo.InvariantCulture)).ToArray();
    }

    /// <inheritdoc/>
    protected override ExampleResult Execute(ExampleOptions options, TextWriter log)
    {
        float[] y = Load(options.DataPath);
        int n = y.Length, testStart = n - Horizon;
        float[] d = new float[n];
        for (int t = 1; t < n; t++) d[t] = y[t] - y[t - 1];
        // Standardise the changes with the training months only.
        var trainChanges = d[1..testStart];
        float mean = trainChanges.Average(), std = MathF.Sqrt(trainChanges.Select(v => (v - mean) * (v - mean)).Average());
        float Z(float v) => (v - mean) / std;

        // Training windows: changes t-Window..t-1 predict the change at t, for every t before the test months.
        var targets = Enumerable.Range(Window + 1, testStart - Window - 1).ToArray();
        var x = new float[targets.Length * Window];
        var yt = new float[targets.Length];
        for (int i = 0; i < targets.Length; i++)
        {
            int t = targets[i];
            for (int k = 0; k < Window; k++) x[i * Window + k] = Z(d[t - Window + k]);
            yt[i] = Z(d[t]);
        }
        Generator.ManualSeed(options.Seed);
        var model = new Sequential(new LSTM(32, inputShape: [Window, 1]), new Dense(1)) { Name = "forecast" };
        model.Compile(new MeanSquaredError(), new Adam(5e-3f));
        log.WriteLine($"dataset: Mauna Loa CO2, {n} months; the last {Horizon} held out; windows of {Window} monthly changes; seed {options.Seed}");
        model.Fit(Tensor.FromArray(x, targets.Length, Window, 1), Tensor.FromArray(yt, targets.Length, 1), epochs: options.Epochs ?? 40, batchSize: 32, verbose: options.Verbose, output: log, distributed: options.Distributed);

        float PredictChange(IReadOnlyList<float> history, int t)
        {
            var w = new float[Window];
            for (int k = 0; k < Window; k++) w[k] = Z(history[t - Window + k]);
            return model.Predict(Tensor.FromArray(w, 1, Window, 1)).Item() * std + mean;
        }

        // One step ahead: true history up to the month before.
        var oneStep = new float[Horizon];
        for (int h = 0; h < Horizon; h++) oneStep[h] = y[testStart + h - 1] + PredictChange(d, testStart + h);
        // Recursive: from the last training month on, feeding predictions back.
        var changes = d.ToArray();
        var recursive = new float[Horizon];
        float level = y[testStart - 1];
        for (int h = 0; h < Horizon; h++)
        {
            float change = PredictChange(changes, testStart + h);
            changes[testStart + h] = change;
            level += change;
            recursive[h] = level;
        }
        double Mae(Func<int, double> forecast) => Enumerable.Range(0, Horizon).Average(h => Math.Abs(forecast(h) - y[testStart + h]));
        var result = new ExampleResult(Name);
        result.Metrics.Add("test_mae", Mae(h => oneStep[h]));
        result.Metrics.Add("naive_mae", Mae(h => y[testStart + h - 1]));
        result.Metrics.Add("seasonal_naive_mae", Mae(h => y[testStart + h - 12]));
        result.Metrics.Add("multi_step_mae", Mae(h => recursive[h]));
        SvgChart.Write(OutputFile, "Mauna Loa CO2, last 60 months", "month", "ppm",
        [
            new ChartSeries("actual", y[testStart..].Select(v => (double)v).ToList()),
            new ChartSeries("one step ahead", oneStep.Select(v => (double)v).ToList()),
            new ChartSeries("recursive, 60 months", recursive.Select(v => (double)v).ToList()),
        ]);
        log.WriteLine($"wrote {Path.GetFullPath(OutputFile)}");
        return result;
    }
}
