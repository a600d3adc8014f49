using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Nabla.Training;

/// <summary>
/// Keras-style training output. verbose 1: a bar per epoch, redrawn in place with the running
/// loss and metrics and an ETA (only the final state when output is redirected); verbose 2: one
/// line per epoch; verbose 0: nothing.
/// </summary>
internal sealed class ProgressBar(TextWriter output, int verbose, int epochs, int steps)
{
    private const int Width = 30;
    private readonly Stopwatch _clock = new();
    private readonly bool _interactive = output == Console.Out && !Console.IsOutputRedirected;
    private long _lastDraw;

    public void BeginEpoch(int epoch)
    {
        _clock.Restart();
        _lastDraw = 0;
        if (verbose == 1) output.WriteLine($"Epoch {epoch}/{epochs}");
    }

    public void Batch(int step, IReadOnlyDictionary<string, float> logs)
    {
        if (verbose != 1 || !_interactive) return;
        long now = _clock.ElapsedMilliseconds;
        if (step < steps && now - _lastDraw < 100) return;
        _lastDraw = now;
        output.Write("\r" + Line(step, logs, final: false));
    }

    public void EndEpoch(int epoch, IReadOnlyDictionary<string, float> logs)
    {
        if (verbose == 1)
        {
            string line = Line(steps, logs, final: true);
            output.WriteLine(_interactive ? "\r" + line : line);
        }
        else if (verbose == 2)
        {
            output.WriteLine($"Epoch {epoch}/{epochs} - {Seconds()} - {Metrics(logs)}");
        }
    }

    private string Line(int step, IReadOnlyDictionary<string, float> logs, bool final)
    {
        int filled = steps == 0 ? Width : (int)((long)Width * step / steps);
        var sb = new StringBuilder();
        sb.Append(step.ToString(CultureInfo.InvariantCulture).PadLeft(steps.ToString(CultureInfo.InvariantCulture).Length)).Append('/').Append(steps).Append(' ');
        sb.Append('[').Append('=', Math.Max(filled - 1, 0)).Append(filled > 0 ? (final || filled == Width ? "=" : ">") : "").Append('.', Width - filled).Append("] ");
        if (final)
        {
            sb.Append(Seconds());
        }
        else
        {
            double perStep = _clock.Elapsed.TotalSeconds / Math.Max(step, 1);
            sb.Append("ETA ").Append(((steps - step) * perStep).ToString("0s", CultureInfo.InvariantCulture));
        }
        string metrics = Metrics(logs);
        if (metrics.Length > 0) sb.Append(" - ").Append(metrics);
        return sb.ToString();
    }

    private string Seconds()
    {
        double s = _clock.Elapsed.TotalSeconds;
        double perStepMs = s * 1000 / Math.Max(steps, 1);
        return $"{s.ToString("0.0", CultureInfo.InvariantCulture)}s {perStepMs.ToString("0.0", CultureInfo.InvariantCulture)}ms/step";
    }

    private static string Metrics(IReadOnlyDictionary<string, float> logs) =>
        string.Join(" - ", logs.Select(kv => $"{kv.Key}: {kv.Value.ToString("0.0000", CultureInfo.InvariantCulture)}"));
}
