namespace Nabla.Training;

/// <summary>What <c>Fit</c> returns: each logged value (loss, metrics, val_ variants, lr) per epoch, as Keras's History.</summary>
public sealed class History
{
    private readonly OrderedDictionary<string, List<float>> _values = [];

    /// <summary>Number of epochs recorded.</summary>
    public int Epochs { get; private set; }

    /// <summary>The names logged, e.g. loss, accuracy, val_loss, val_accuracy.</summary>
    public IEnumerable<string> Keys => _values.Keys;

    /// <summary>The per-epoch values of <paramref name="key"/>.</summary>
    public IReadOnlyList<float> this[string key] => _values.TryGetValue(key, out var v) ? v
        : throw new KeyNotFoundException($"History has no '{key}'; it has {string.Join(", ", _values.Keys)}.");

    /// <summary>True when <paramref name="key"/> was logged.</summary>
    public bool Contains(string key) => _values.ContainsKey(key);

    /// <summary>Appends one epoch's logs.</summary>
    internal void Append(IReadOnlyDictionary<string, float> logs)
    {
        foreach (var (k, v) in logs)
        {
            if (!_values.TryGetValue(k, out var list)) _values.Add(k, list = []);
            list.Add(v);
        }
        Epochs++;
    }
}

/// <summary>Thrown when the loss becomes NaN or infinite during training; names where it happened.</summary>
public sealed class TrainingDivergedException(int epoch, int batch, float loss)
    : InvalidOperationException($"Training diverged: the loss became {loss} at epoch {epoch}, batch {batch}. Lower the learning rate, clip gradients, or check the inputs for NaN; pass terminateOnNaN: false to keep going.")
{
    /// <summary>The 1-based epoch.</summary>
    public int Epoch { get; } = epoch;

    /// <summary>The 1-based batch within the epoch.</summary>
    public int Batch { get; } = batch;

    /// <summary>The offending loss value.</summary>
    public float Loss { get; } = loss;
}
