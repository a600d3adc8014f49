namespace Nabla.Data;

/// <summary>A source of samples that can hand over any set of them as one batch.</summary>
public interface IDataset
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>The samples at <paramref name="indices"/>, stacked on a new first axis: inputs and targets.</summary>
    (Tensor X, Tensor Y) Batch(ReadOnlySpan<int> indices);
}

/// <summary>Samples held in memory as two tensors with the same first dimension (PyTorch's TensorDataset).</summary>
public sealed class TensorDataset : IDataset
{
    /// <summary>Wraps inputs [N, ...] and targets [N, ...].</summary>
    public TensorDataset(Tensor x, Tensor y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Rank == 0 || y.Rank == 0 || x.Shape[0] != y.Shape[0])
            throw new ArgumentException($"TensorDataset: inputs {x.ShapeString} and targets {y.ShapeString} must have the same number of samples.");
        X = x;
        Y = y;
    }

    /// <summary>All inputs.</summary>
    public Tensor X { get; }

    /// <summary>All targets.</summary>
    public Tensor Y { get; }

    /// <inheritdoc/>
    public int Count => X.Shape[0];

    /// <inheritdoc/>
    public (Tensor X, Tensor Y) Batch(ReadOnlySpan<int> indices)
    {
        var ids = new float[indices.Length];
        for (int i = 0; i < ids.Length; i++) ids[i] = indices[i];
        Tensor t = Tensor.FromArray(ids);
        return (X.IndexSelect(0, t), Y.IndexSelect(0, t));
    }

    /// <summary>
    /// Splits into consecutive parts by <paramref name="fractions"/> (which must sum to at most 1;
    /// the last part takes the rest), after shuffling from <paramref name="seed"/>.
    /// </summary>
    public TensorDataset[] Split(ulong seed, params float[] fractions)
    {
        if (fractions.Length == 0 || fractions.Any(f => !(f > 0)) || fractions.Sum() > 1.0001f)
            throw new ArgumentException($"Split: fractions [{string.Join(", ", fractions)}] must be positive and sum to at most 1.");
        var order = Enumerable.Range(0, Count).ToArray();
        new Generator(seed).Shuffle(order);
        var parts = new TensorDataset[fractions.Length + 1];
        int start = 0;
        for (int p = 0; p <= fractions.Length; p++)
        {
            int end = p == fractions.Length ? Count : Math.Min(Count, start + (int)Math.Round(Count * fractions[p]));
            var (x, y) = Batch(order.AsSpan(start, end - start));
            parts[p] = new TensorDataset(x, y);
            start = end;
        }
        return parts;
    }
}

/// <summary>
/// Mini-batches from a dataset: shuffled each epoch from a seed (so runs repeat), optionally
/// dropping a short last batch, and prepared one batch ahead on a background task so the next
/// batch is ready when a training step ends. Enumerate it once per epoch.
/// </summary>
public sealed class DataLoader : IEnumerable<(Tensor X, Tensor Y)>
{
    private readonly Generator _generator;

    /// <summary>Creates a loader.</summary>
    /// <param name="dataset">The samples.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="shuffle">Shuffle the order every epoch.</param>
    /// <param name="seed">Seed of the shuffling.</param>
    /// <param name="dropLast">Skip a last batch smaller than <paramref name="batchSize"/>.</param>
    /// <param name="prefetch">Prepare the next batch in the background while the current one is used.</param>
    public DataLoader(IDataset dataset, int batchSize, bool shuffle = true, ulong seed = 0, bool dropLast = false, bool prefetch = true)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        Prefetch = prefetch;
        _generator = new Generator(seed);
    }

    /// <summary>The samples.</summary>
    public IDataset Dataset { get; }
    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }
    /// <summary>Whether each epoch is shuffled.</summary>
    public bool Shuffle { get; }
    /// <summary>Whether a short last batch is skipped.</summary>
    public bool DropLast { get; }
    /// <summary>Whether the next batch is prepared in the background.</summary>
    public bool Prefetch { get; }

    /// <summary>Batches per epoch.</summary>
    public int Count => DropLast ? Dataset.Count / BatchSize : (Dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>One epoch of batches.</summary>
    public IEnumerator<(Tensor X, Tensor Y)> GetEnumerator()
    {
        var order = Enumerable.Range(0, Dataset.Count).ToArray();
        if (Shuffle) _generator.Shuffle(order);
        int batches = Count;
        (Tensor, Tensor) Make(int b) => Dataset.Batch(order.AsSpan(b * BatchSize, Math.Min(BatchSize, order.Length - b * BatchSize)));
        if (!Prefetch)
        {
            for (int b = 0; b < batches; b++) yield return Make(b);
            yield break;
        }
        Task<(Tensor, Tensor)>? next = batches > 0 ? Task.Run(() => Make(0)) : null;
        for (int b = 0; b < batches; b++)
        {
            var current = next!.GetAwaiter().GetResult();
            int following = b + 1;
            next = following < batches ? Task.Run(() => Make(following)) : null;
            yield return current;
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>Standardisation fitted on training data only: (x - mean) / std per feature (last axis).</summary>
public sealed class StandardScaler
{
    private StandardScaler(Tensor mean, Tensor std)
    {
        Mean = mean;
        Std = std;
    }

    /// <summary>Per-feature mean of the training data.</summary>
    public Tensor Mean { get; }

    /// <summary>Per-feature (population) standard deviation of the training data; 1 where it is 0.</summary>
    public Tensor Std { get; }

    /// <summary>Fits on training data [N, features].</summary>
    public static StandardScaler Fit(Tensor train)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Rank != 2 || train.Shape[0] == 0) throw new ArgumentException($"StandardScaler.Fit needs [N, features] with N > 0, got {train.ShapeString}.");
        using var noGrad = Tensor.NoGrad();
        Tensor mean = train.Mean(0);
        Tensor std = train.Var(0, correction: 0).Sqrt();
        std = Tensor.Where(std.Gt(1e-12f), std, Tensor.Scalar(1f));
        return new StandardScaler(mean, std);
    }

    /// <summary>Applies the fitted transform to data [M, features].</summary>
    public Tensor Transform(Tensor x)
    {
        if (x.Rank != 2 || x.Shape[1] != Mean.Shape[0]) throw new ArgumentException($"StandardScaler was fitted on {Mean.Shape[0]} features, got {x.ShapeString}.");
        return (x - Mean) / Std;
    }

    /// <summary>Maps standardised values back.</summary>
    public Tensor InverseTransform(Tensor x) => x * Std + Mean;
}

/// <summary>One-hot encoding of integer class labels.</summary>
public static class OneHot
{
    /// <summary>Labels [N] (integers in [0, classes)) to [N, classes] of zeros and ones.</summary>
    public static Tensor Encode(Tensor labels, int classes)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        int[] idx = labels.ToIndices(classes, $"OneHot with {classes} classes");
        var data = new float[idx.Length * classes];
        for (int i = 0; i < idx.Length; i++) data[i * classes + idx[i]] = 1f;
        return Tensor.FromArray(data, idx.Length, classes);
    }
}
