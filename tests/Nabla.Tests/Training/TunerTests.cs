using System.Diagnostics;
using Nabla.Training;

namespace Nabla.Tests.Training;

/// <summary>The search: it finds the optimum of a known function, keeps to its budget, repeats from its seed, and halves.</summary>
public class TunerTests
{
    private static readonly SearchSpace Space = new SearchSpace().Uniform("x", -1, 1).LogUniform("lr", 1e-4, 1).Choice("kind", "a", "b");

    /// <summary>Best at x = 0.3, lr = 0.01, kind b; more epochs help a little (so rungs matter).</summary>
    private static TrialOutcome Objective(IReadOnlyDictionary<string, object> c, int epochs, ulong seed, CancellationToken token)
    {
        double x = (double)c["x"], lr = Math.Log10((double)c["lr"]) + 2;
        return new TrialOutcome(-(x - 0.3) * (x - 0.3) - lr * lr / 4 - ((string)c["kind"] == "a" ? 0.5 : 0) - 1.0 / epochs, epochs);
    }

    [Fact]
    public void It_finds_the_optimum_of_a_known_function()
    {
        var tuner = new Tuner(Space, Objective, new TunerOptions(TimeSpan.FromSeconds(1), Configurations: 27, MinEpochs: 1, MaxEpochs: 27, Parallelism: 2, Seed: 3));
        Trial best = tuner.Run()!;
        Assert.Equal("b", best.Config["kind"]);
        Assert.InRange((double)best.Config["x"], 0.1, 0.5);
        Assert.InRange((double)best.Config["lr"], 1e-3, 1e-1);
        Assert.Equal(3, best.Rung);
        Assert.Contains(tuner.Trials, t => t.Rung == 0);
        // Successive halving: each rung of a bracket holds a third of the one before.
        var firstBracket = tuner.Trials.Where(t => t.Number <= 27).GroupBy(t => t.Rung).OrderBy(g => g.Key).Select(g => g.Count()).ToList();
        Assert.Equal([27, 9, 3, 1], firstBracket);
    }

    [Fact]
    public void It_stops_on_time_and_cuts_what_is_running()
    {
        TrialOutcome Slow(IReadOnlyDictionary<string, object> c, int epochs, ulong seed, CancellationToken token)
        {
            for (int i = 0; i < epochs * 10; i++)
            {
                if (token.IsCancellationRequested) break;
                Thread.Sleep(5);
            }
            return Objective(c, epochs, seed, token);
        }
        var tuner = new Tuner(Space, Slow, new TunerOptions(TimeSpan.FromMilliseconds(800), MinEpochs: 2, MaxEpochs: 54, Parallelism: 2));
        var clock = Stopwatch.StartNew();
        tuner.Run();
        Assert.InRange(clock.Elapsed.TotalMilliseconds, 790, 800 * 1.05 + 30);
        Assert.Contains(tuner.Trials, t => t.Cut);
        Assert.NotNull(tuner.Best);
        Assert.False(tuner.Best!.Cut);
    }

    [Fact]
    public void The_same_seed_draws_the_same_trials()
    {
        List<string> Draw()
        {
            using var stop = new CancellationTokenSource();
            var tuner = new Tuner(Space, Objective, new TunerOptions(TimeSpan.FromMinutes(1), Parallelism: 1, Seed: 9));
            tuner.TrialFinished += (_, _) =>
            {
                if (tuner.Trials.Count >= 40) stop.Cancel();
            };
            tuner.Run(stop.Token);
            return [.. tuner.Trials.Take(40).Select(t => $"{t.Number} {t.Rung} {t.Config["x"]} {t.Config["lr"]} {t.Config["kind"]} {t.Score}")];
        }
        Assert.Equal(Draw(), Draw());
    }
}
