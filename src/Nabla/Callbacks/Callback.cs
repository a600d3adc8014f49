namespace Nabla.Callbacks;

/// <summary>
/// Hooks into <c>Model.Fit</c>, as Keras's callbacks. Epochs are 1-based. Logs hold the
/// epoch's loss and metrics (and val_ variants when there is validation data).
/// </summary>
public abstract class Callback
{
    /// <summary>The model being trained; set by Fit before <see cref="OnTrainBegin"/>.</summary>
    public Model? Model { get; internal set; }

    /// <summary>
    /// In data-parallel training, whether this callback runs on every rank (the default: callbacks
    /// that decide, such as EarlyStopping, see the same reduced logs everywhere) or on rank 0 only
    /// (false for callbacks that write files or print: checkpoints, logs, plots).
    /// </summary>
    public virtual bool RunsOnEveryRank => true;

    /// <summary>Called once before the first epoch.</summary>
    public virtual void OnTrainBegin() { }

    /// <summary>Called once after the last epoch (also when stopped early).</summary>
    public virtual void OnTrainEnd() { }

    /// <summary>Called at the start of each epoch.</summary>
    public virtual void OnEpochBegin(int epoch) { }

    /// <summary>Called at the end of each epoch with its logs.</summary>
    public virtual void OnEpochEnd(int epoch, IReadOnlyDictionary<string, float> logs) { }

    /// <summary>Called before each training batch (1-based within the epoch).</summary>
    public virtual void OnBatchBegin(int batch) { }

    /// <summary>Called after each training batch with the running loss and metrics.</summary>
    public virtual void OnBatchEnd(int batch, IReadOnlyDictionary<string, float> logs) { }

    /// <summary>"min" or "max" for a monitored quantity: max for accuracy-like names, min otherwise.</summary>
    protected static bool ResolveMaximize(string mode, string monitor) => mode switch
    {
        "min" => false,
        "max" => true,
        "auto" => monitor.Contains("acc") || monitor.Contains("auc") || monitor.Contains("precision") || monitor.Contains("recall") || monitor.Contains("f1"),
        _ => throw new ArgumentException($"Unknown mode '{mode}'; use auto, min or max.", nameof(mode)),
    };

    /// <summary>The monitored value from the logs, or an error listing what is there.</summary>
    protected static float Monitored(IReadOnlyDictionary<string, float> logs, string monitor, string who) =>
        logs.TryGetValue(monitor, out float v) ? v
        : throw new InvalidOperationException($"{who} monitors '{monitor}', but the logs only have {string.Join(", ", logs.Keys)}. Pass validation data for val_ quantities.");
}

/// <summary>Stops training when a monitored quantity stops improving; optionally restores the best weights.</summary>
public sealed class EarlyStopping(string monitor = "val_loss", float minDelta = 0f, int patience = 0, string mode = "auto",
    bool restoreBestWeights = false, float? baseline = null) : Callback
{
    private readonly bool _maximize = ResolveMaximize(mode, monitor);
    private float _best;
    private int _wait;
    private Dictionary<string, Tensor>? _bestWeights;

    /// <summary>The epoch at which training was stopped (0 if it was not).</summary>
    public int StoppedEpoch { get; private set; }

    /// <summary>The epoch with the best monitored value.</summary>
    public int BestEpoch { get; private set; }

    /// <inheritdoc/>
    public override void OnTrainBegin()
    {
        _best = baseline ?? (_maximize ? float.NegativeInfinity : float.PositiveInfinity);
        _wait = 0;
        StoppedEpoch = 0;
        BestEpoch = 0;
        _bestWeights = null;
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, float> logs)
    {
        float current = Monitored(logs, monitor, "EarlyStopping");
        bool improved = _maximize ? current - Math.Abs(minDelta) > _best : current + Math.Abs(minDelta) < _best;
        if (improved)
        {
            _best = current;
            BestEpoch = epoch;
            _wait = 0;
            if (restoreBestWeights) _bestWeights = Model!.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
            return;
        }
        _wait++;
        if (_wait > patience)
        {
            StoppedEpoch = epoch;
            Model!.StopTraining = true;
        }
    }

    /// <inheritdoc/>
    public override void OnTrainEnd()
    {
        if (restoreBestWeights && _bestWeights is not null) Model!.LoadStateDict(_bestWeights);
    }
}

/// <summary>
/// Saves the model after each epoch, or only when the monitored quantity improves. "{epoch}" in
/// the path is replaced by the epoch number. Writes are atomic, so a crash never leaves a
/// half-written file in place of a good one. By default it saves the weights (safetensors);
/// with <paramref name="saveTrainingState"/> it saves a full model file with the optimizer's
/// state, the epoch and the generator's state, from which
/// <see cref="Nabla.IO.ModelFile.LoadCheckpoint"/> resumes training exactly.
/// </summary>
public sealed class ModelCheckpoint(string path, string monitor = "val_loss", bool saveBestOnly = false, string mode = "auto", bool saveTrainingState = false) : Callback
{
    /// <inheritdoc/>
    public override bool RunsOnEveryRank => false;

    private readonly bool _maximize = ResolveMaximize(mode, monitor);
    private float _best;

    /// <summary>The files written, in order.</summary>
    public List<string> Saved { get; } = [];

    /// <inheritdoc/>
    public override void OnTrainBegin() => _best = _maximize ? float.NegativeInfinity : float.PositiveInfinity;

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, float> logs)
    {
        if (saveBestOnly)
        {
            float current = Monitored(logs, monitor, "ModelCheckpoint");
            if (!(_maximize ? current > _best : current < _best)) return;
            _best = current;
        }
        string file = path.Replace("{epoch}", epoch.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (saveTrainingState) Nabla.IO.ModelFile.Save(Model!, file, includeOptimizer: true, new Nabla.IO.ModelFile.TrainingState(epoch, Generator.Default.GetState()));
        else Model!.SaveWeights(file);
        Saved.Add(file);
    }
}

/// <summary>Multiplies the learning rate by <paramref name="factor"/> when the monitored quantity stops improving for <paramref name="patience"/> epochs.</summary>
public sealed class ReduceLROnPlateau(string monitor = "val_loss", float factor = 0.1f, int patience = 10, string mode = "auto",
    float minDelta = 1e-4f, int cooldown = 0, float minLearningRate = 0f) : Callback
{
    private readonly bool _maximize = ResolveMaximize(mode, monitor);
    private float _best;
    private int _wait, _cooldown;

    /// <inheritdoc/>
    public override void OnTrainBegin()
    {
        if (Model?.Optimizer?.Schedule is { } schedule)
            throw new InvalidOperationException($"ReduceLROnPlateau cannot lower the learning rate of an optimizer whose learning rate comes from a schedule ({schedule.GetType().Name}); use one or the other.");
        if (!(factor > 0f && factor < 1f)) throw new ArgumentOutOfRangeException(nameof(factor), $"ReduceLROnPlateau factor must be in (0, 1), not {factor}.");
        _best = _maximize ? float.NegativeInfinity : float.PositiveInfinity;
        _wait = 0;
        _cooldown = 0;
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, float> logs)
    {
        float current = Monitored(logs, monitor, "ReduceLROnPlateau");
        if (_cooldown > 0) _cooldown--;
        if (_maximize ? current > _best + minDelta : current < _best - minDelta)
        {
            _best = current;
            _wait = 0;
            return;
        }
        if (_cooldown > 0) return;
        if (++_wait >= patience)
        {
            var optimizer = Model!.Optimizer!;
            optimizer.LearningRate = Math.Max(optimizer.LearningRate * factor, minLearningRate);
            _cooldown = cooldown;
            _wait = 0;
        }
    }
}

/// <summary>Appends each epoch's logs as a CSV row (header first), flushed every epoch so a crash keeps what was written.</summary>
public sealed class CsvLogger(string path, bool append = false) : Callback
{
    /// <inheritdoc/>
    public override bool RunsOnEveryRank => false;

    private StreamWriter? _writer;
    private string[]? _columns;

    /// <inheritdoc/>
    public override void OnTrainBegin()
    {
        bool exists = append && File.Exists(path) && new FileInfo(path).Length > 0;
        _columns = exists ? File.ReadLines(path).First().Split(',').Skip(1).ToArray() : null;
        _writer = new StreamWriter(path, append);
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, float> logs)
    {
        if (_columns is null)
        {
            _columns = [.. logs.Keys];
            _writer!.WriteLine("epoch," + string.Join(",", _columns));
        }
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        _writer!.WriteLine(epoch.ToString(inv) + "," + string.Join(",", _columns.Select(c => logs.TryGetValue(c, out float v) ? v.ToString("R", inv) : "")));
        _writer.Flush();
    }

    /// <inheritdoc/>
    public override void OnTrainEnd()
    {
        _writer?.Dispose();
        _writer = null;
    }
}

/// <summary>
/// Stops training at the end of the first batch whose loss is NaN or infinite (Keras's
/// TerminateOnNaN), for use with <c>Fit(..., terminateOnNaN: false)</c> when you want the
/// history so far instead of an exception.
/// </summary>
public sealed class TerminateOnNaN : Callback
{
    /// <summary>The epoch and batch at which a non-finite loss was seen, if one was.</summary>
    public (int Epoch, int Batch)? StoppedAt { get; private set; }

    private int _epoch;

    /// <inheritdoc/>
    public override void OnTrainBegin() => StoppedAt = null;

    /// <inheritdoc/>
    public override void OnEpochBegin(int epoch) => _epoch = epoch;

    /// <inheritdoc/>
    public override void OnBatchEnd(int batch, IReadOnlyDictionary<string, float> logs)
    {
        if (StoppedAt is null && logs.TryGetValue("loss", out float loss) && !float.IsFinite(loss))
        {
            StoppedAt = (_epoch, batch);
            Model!.StopTraining = true;
        }
    }
}

/// <summary>A callback made of delegates, for one-off hooks.</summary>
public sealed class LambdaCallback(
    Action<int, IReadOnlyDictionary<string, float>>? onEpochEnd = null,
    Action<int>? onEpochBegin = null,
    Action<int, IReadOnlyDictionary<string, float>>? onBatchEnd = null,
    Action? onTrainBegin = null,
    Action? onTrainEnd = null) : Callback
{
    /// <inheritdoc/>
    public override void OnTrainBegin() => onTrainBegin?.Invoke();
    /// <inheritdoc/>
    public override void OnTrainEnd() => onTrainEnd?.Invoke();
    /// <inheritdoc/>
    public override void OnEpochBegin(int epoch) => onEpochBegin?.Invoke(epoch);
    /// <inheritdoc/>
    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, float> logs) => onEpochEnd?.Invoke(epoch, logs);
    /// <inheritdoc/>
    public override void OnBatchEnd(int batch, IReadOnlyDictionary<string, float> logs) => onBatchEnd?.Invoke(batch, logs);
}
