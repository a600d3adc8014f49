namespace Nabla.Training;

/// <summary>
/// The hyperparameters a <see cref="Tuner"/> searches: each a list of choices, or a range sampled
/// uniformly or on a log scale. <c>new SearchSpace().Choice("units", 32, 64, 128).LogUniform("lr", 1e-4, 1e-2)</c>.
/// </summary>
public sealed class SearchSpace
{
    private readonly List<(string Name, Func<Generator, object> Sample)> _parameters = [];

    /// <summary>The names, in the order they were added.</summary>
    public IEnumerable<string> Names => _parameters.Select(p => p.Name);

    /// <summary>One of <paramref name="values"/>, each equally likely.</summary>
    public SearchSpace Choice(string name, params object[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length == 0) throw new ArgumentException($"SearchSpace: '{name}' needs at least one choice.", nameof(values));
        return Add(name, g => values[g.NextInt(values.Length)]);
    }

    /// <summary>A number between <paramref name="low"/> and <paramref name="high"/>, uniform.</summary>
    public SearchSpace Uniform(string name, double low, double high)
    {
        if (!(low <= high)) throw new ArgumentException($"SearchSpace: '{name}' needs low <= high, got {low} and {high}.");
        return Add(name, g => low + (high - low) * g.NextDouble());
    }

    /// <summary>A positive number between <paramref name="low"/> and <paramref name="high"/>, uniform in its logarithm (learning rates, weight decay).</summary>
    public SearchSpace LogUniform(string name, double low, double high)
    {
        if (!(low > 0 && low <= high)) throw new ArgumentException($"SearchSpace: '{name}' needs 0 < low <= high, got {low} and {high}.");
        return Add(name, g => Math.Exp(Math.Log(low) + (Math.Log(high) - Math.Log(low)) * g.NextDouble()));
    }

    private SearchSpace Add(string name, Func<Generator, object> sample)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (_parameters.Any(p => p.Name == name)) throw new ArgumentException($"SearchSpace: '{name}' is given twice.", nameof(name));
        _parameters.Add((name, sample));
        return this;
    }

    /// <summary>One configuration drawn from <paramref name="generator"/>.</summary>
    public IReadOnlyDictionary<string, object> Sample(Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        return _parameters.ToDictionary(p => p.Name, p => p.Sample(generator));
    }
}

/// <summary>What a trial's objective measured: its score (higher is better) and the epochs it trained.</summary>
/// <param name="Score">Higher is better (negate a loss or an error).</param>
/// <param name="Epochs">The epochs that gave the score (the best epoch under early stopping).</param>
public sealed record TrialOutcome(double Score, int Epochs);

/// <summary>One evaluation of one configuration, at one rung of successive halving.</summary>
/// <param name="Number">The configuration's number (1, 2, ...), the same at every rung.</param>
/// <param name="Config">The hyperparameters.</param>
/// <param name="Rung">The rung: 0 trains with the fewest epochs, each next one <see cref="TunerOptions.Eta"/> times more.</param>
/// <param name="MaxEpochs">The epochs it was allowed.</param>
/// <param name="Score">What the objective returned (NaN if it was cut by the budget).</param>
/// <param name="Epochs">The epochs that gave the score.</param>
/// <param name="Seconds">Wall-clock time of the trial.</param>
public sealed record Trial(int Number, IReadOnlyDictionary<string, object> Config, int Rung, int MaxEpochs, double Score, int Epochs, double Seconds)
{
    /// <summary>True when the budget ran out before the trial finished.</summary>
    public bool Cut => double.IsNaN(Score);
}

/// <summary>How a <see cref="Tuner"/> searches.</summary>
/// <param name="Budget">Wall-clock time for the whole search; trials running when it ends are stopped.</param>
/// <param name="Configurations">Configurations drawn per bracket of successive halving.</param>
/// <param name="MinEpochs">Epochs at the first rung.</param>
/// <param name="MaxEpochs">Epochs at the last rung.</param>
/// <param name="Eta">Each rung keeps the best 1/Eta of the configurations and gives them Eta times the epochs.</param>
/// <param name="Parallelism">Trials run at once (default: one per core).</param>
/// <param name="Seed">Draws the configurations and seeds each trial; the same seed gives the same trials.</param>
public sealed record TunerOptions(TimeSpan Budget, int Configurations = 27, int MinEpochs = 10, int MaxEpochs = 270, int Eta = 3, int? Parallelism = null, ulong Seed = 42);

/// <summary>
/// Searches hyperparameters by random sampling with successive halving (Hyperband's inner loop,
/// Li et al. 2018): a bracket draws configurations, trains each for few epochs, keeps the best
/// third for three times the epochs, and so on; brackets repeat until the wall-clock budget is
/// spent. Trials run in parallel, each deterministic from its configuration and seed; a trial
/// still running when the budget ends is cut, so the search stops on time.
/// </summary>
public sealed class Tuner(SearchSpace space, Func<IReadOnlyDictionary<string, object>, int, ulong, CancellationToken, TrialOutcome> objective, TunerOptions options)
{
    private readonly Lock _lock = new();

    /// <summary>Called (on a worker thread, one call at a time) after every trial.</summary>
    public event Action<Trial, Trial?>? TrialFinished;

    /// <summary>Every trial so far, in the order they finished.</summary>
    public List<Trial> Trials { get; } = [];

    /// <summary>The best finished trial at the highest rung reached so far, or null.</summary>
    public Trial? Best { get; private set; }

    /// <summary>Runs the search until the budget is spent or <paramref name="cancel"/> fires; returns the best trial.</summary>
    public Trial? Run(CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(objective);
        if (options.Eta < 2 || options.MinEpochs < 1 || options.MaxEpochs < options.MinEpochs || options.Configurations < 1)
            throw new ArgumentException($"Tuner: needs Eta >= 2, 1 <= MinEpochs <= MaxEpochs and at least one configuration, got {options}.");
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        // A thread of its own ends the budget: a timer would wait for a pool thread, and a busy
        // pool (trials, kernels, other work) can hold it back for many seconds.
        var deadline = DateTime.UtcNow + options.Budget;
        var watchdog = new Thread(() =>
        {
            while (!budget.IsCancellationRequested)
            {
                TimeSpan left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    budget.Cancel();
                    break;
                }
                budget.Token.WaitHandle.WaitOne(left < TimeSpan.FromMilliseconds(50) ? left : TimeSpan.FromMilliseconds(50));
            }
        })
        { IsBackground = true, Name = "tuner budget" };
        watchdog.Start();
        var generator = new Generator(options.Seed);
        int parallelism = options.Parallelism ?? Environment.ProcessorCount;
        int number = 0;
        while (!budget.IsCancellationRequested)
        {
            // One bracket: rung r trains min(MinEpochs Eta^r, MaxEpochs) epochs.
            var alive = Enumerable.Range(0, options.Configurations).Select(_ => (Number: ++number, Config: space.Sample(generator))).ToList();
            for (int rung = 0, epochs = options.MinEpochs; alive.Count > 0 && !budget.IsCancellationRequested; rung++, epochs = (int)Math.Min((long)epochs * options.Eta, options.MaxEpochs))
            {
                var results = new Trial?[alive.Count];
                int r = rung, e = epochs;
                Parallel.For(0, alive.Count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, i =>
                {
                    if (budget.IsCancellationRequested) return;
                    // Trials side by side each keep to their own thread (no contention for the worker pool).
                    using var alone = Kernels.Threading.CallingThreadOnly(parallelism > 1);
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    var (n, config) = alive[i];
                    TrialOutcome outcome;
                    try
                    {
                        outcome = objective(config, e, options.Seed + (ulong)n, budget.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        outcome = new TrialOutcome(double.NaN, 0);
                    }
                    if (budget.IsCancellationRequested) outcome = new TrialOutcome(double.NaN, outcome.Epochs);
                    var trial = new Trial(n, config, r, e, outcome.Score, outcome.Epochs, clock.Elapsed.TotalSeconds);
                    results[i] = trial;
                    lock (_lock)
                    {
                        Trials.Add(trial);
                        if (!trial.Cut && (Best is null || trial.Rung > Best.Rung || trial.Rung == Best.Rung && trial.Score > Best.Score)) Best = trial;
                        TrialFinished?.Invoke(trial, Best);
                    }
                });
                if (epochs >= options.MaxEpochs) break;
                int keep = Math.Max(1, alive.Count / options.Eta);
                if (alive.Count == 1) break;
                alive = [.. alive.Select((a, i) => (a, Score: results[i]?.Score ?? double.NaN)).Where(x => !double.IsNaN(x.Score))
                    .OrderByDescending(x => x.Score).ThenBy(x => x.a.Number).Take(keep).Select(x => x.a)];
            }
        }
        budget.Cancel();
        watchdog.Join();
        return Best;
    }
}
