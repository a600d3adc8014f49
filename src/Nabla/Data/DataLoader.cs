namespace Nabla.Data;

/// <summary>
/// One batch: the model's inputs and targets, each [batch, ...] with one batch size (several
/// for a model of several inputs or outputs; no targets for prediction). A pair of tensors
/// converts to it, and it deconstructs into one (<c>var (x, y) = batch;</c>) when it holds one of each.
/// </summary>
public sealed class DataBatch
{
    /// <summary>A batch of <paramref name="inputs"/> and <paramref name="targets"/>.</summary>
    public DataBatch(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor> targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (inputs.Count == 0) throw new ArgumentException("A batch needs at least one input tensor.", nameof(inputs));
        Inputs = inputs;
        Targets = targets;
    }

    /// <summary>The inputs, one tensor per model input.</summary>
    public IReadOnlyList<Tensor> Inputs { get; }

    /// <summary>The targets, one tensor per model output (empty when predicting).</summary>
    public IReadOnlyList<Tensor> Targets { get; }

    /// <summary>Samples in the batch.</summary>
    public int Count => Inputs[0].Rank == 0 ? 1 : Inputs[0].Shape[0];

    /// <summary>The only input (an error when there are several).</summary>
    public Tensor X => Inputs.Count == 1 ? Inputs[0] : throw new InvalidOperationException($"This batch has {Inputs.Count} inputs; use Inputs.");

    /// <summary>The only target (an error when there are none or several).</summary>
    public Tensor Y => Targets.Count == 1 ? Targets[0] : throw new InvalidOperationException($"This batch has {Targets.Count} targets; use Targets.");

    /// <summary>A batch of one input and one target.</summary>
    public static implicit operator DataBatch((Tensor X, Tensor Y) pair) => new([pair.X], [pair.Y]);

    /// <summary>The only input and the only target.</summary>
    public void Deconstruct(out Tensor x, out Tensor y)
    {
        x = X;
        y = Y;
    }
}

/// <summary>A source of samples that can hand over any set of them as one batch.</summary>
public interface IDataset
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>The samples at <paramref name="indices"/>, stacked on a new first axis: inputs and targets.</summary>
    DataBatch Batch(ReadOnlySpan<int> indices);
}

/// <summary>
/// Samples held in memory as tensors with the same first dimension (PyTorch's TensorDataset):
/// one input and one target, or several of each for a model of several inputs or outputs.
/// </summary>
public sealed class TensorDataset : IDataset
{
    private readonly Tensor[] _inputs, _targets;

    /// <summary>Wraps inputs [N, ...] and targets [N, ...].</summary>
    public TensorDataset(Tensor x, Tensor y) : this([x ?? throw new ArgumentNullException(nameof(x))], [y ?? throw new ArgumentNullException(nameof(y))])
    {
    }

    /// <summary>Wraps several inputs and targets, each [N, ...] (targets may be empty, for prediction).</summary>
    public TensorDataset(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor> targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (inputs.Count == 0) throw new ArgumentException("TensorDataset needs at least one input tensor.", nameof(inputs));
        _inputs = [.. inputs];
        _targets = [.. targets];
        foreach (var t in _inputs.Concat(_targets))
        {
            ArgumentNullException.ThrowIfNull(t, nameof(inputs));
            if (t.Rank == 0 || _inputs[0].Rank == 0 || t.Shape[0] != _inputs[0].Shape[0])
                throw new ArgumentException($"TensorDataset: inputs {string.Join(", ", _inputs.Select(x => x.ShapeString))} and targets {string.Join(", ", _targets.Select(x => x.ShapeString))} must have the same number of samples.");
        }
    }

    /// <summary>All inputs (the only input tensor).</summary>
    public Tensor X => _inputs.Length == 1 ? _inputs[0] : throw new InvalidOperationException($"This dataset has {_inputs.Length} inputs; use Inputs.");

    /// <summary>All targets (the only target tensor).</summary>
    public Tensor Y => _targets.Length == 1 ? _targets[0] : throw new InvalidOperationException($"This dataset has {_targets.Length} targets; use Targets.");

    /// <summary>Every input tensor.</summary>
    public IReadOnlyList<Tensor> Inputs => _inputs;

    /// <summary>Every target tensor.</summary>
    public IReadOnlyList<Tensor> Targets => _targets;

    /// <inheritdoc/>
    public int Count => _inputs[0].Shape[0];

    /// <summary>
    /// The samples at <paramref name="indices"/>: views of the tensors when the indices are
    /// consecutive and ascending (evaluation, prediction), gathered copies otherwise.
    /// </summary>
    public DataBatch Batch(ReadOnlySpan<int> indices)
    {
        bool run = indices.Length > 0;
        for (int i = 1; i < indices.Length && run; i++) run = indices[i] == indices[0] + i;
        Tensor? ids = null;
        if (!run)
        {
            var values = new float[indices.Length];
            for (int i = 0; i < values.Length; i++) values[i] = indices[i];
            ids = Tensor.FromArray(values);
        }
        int start = indices.Length > 0 ? indices[0] : 0, end = start + indices.Length;
        Tensor Take(Tensor t) => ids is null ? t.Slice(0, start, end) : t.IndexSelect(0, ids);
        var inputs = new Tensor[_inputs.Length];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = Take(_inputs[i]);
        var targets = new Tensor[_targets.Length];
        for (int i = 0; i < targets.Length; i++) targets[i] = Take(_targets[i]);
        return new DataBatch(inputs, targets);
    }

    /// <summary>The samples from <paramref name="start"/> to <paramref name="end"/> (exclusive), as views.</summary>
    public TensorDataset Range(int start, int end) =>
        new(_inputs.Select(t => t.Slice(0, start, end)).ToArray(), _targets.Select(t => t.Slice(0, start, end)).ToArray());

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
            var batch = Batch(order.AsSpan(start, end - start));
            parts[p] = new TensorDataset(batch.Inputs, batch.Targets);
            start = end;
        }
        return parts;
    }
}

/// <summary>
/// Mini-batches from a dataset: shuffled each epoch from a seed (so runs repeat), optionally
/// dropping a short last batch, and prepared one batch ahead on a background task so the next
/// batch is ready when a training step ends. Enumerate it once per epoch. It is the one place
/// where batches are made: <c>Model.Fit</c>, <c>Evaluate</c> and <c>Predict</c> go through it.
/// </summary>
public sealed class DataLoader : IEnumerable<DataBatch>
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
        : this(dataset, batchSize, shuffle, new Generator(seed), dropLast, prefetch)
    {
    }

    /// <summary>Creates a loader that shuffles with <paramref name="generator"/> (Fit passes the thread's <see cref="Generator.Default"/>).</summary>
    public DataLoader(IDataset dataset, int batchSize, bool shuffle, Generator generator, bool dropLast = false, bool prefetch = true)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        Prefetch = prefetch;
        _generator = generator;
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
    public IEnumerator<DataBatch> GetEnumerator()
    {
        foreach (var shard in Shards(0, 1)) yield return shard.Batch!;
    }

    /// <summary>
    /// One epoch of batches as rank <paramref name="rank"/> of <paramref name="ranks"/> sees them in
    /// data-parallel training: the same shuffled global batches on every rank (the order comes from
    /// the same generator state), of which this rank takes rows [Offset, Offset + its count), the
    /// ranks' parts differing by at most one row. A part may be empty (null) when a short last batch
    /// has fewer rows than there are ranks.
    /// </summary>
    public IEnumerable<(DataBatch? Batch, int Offset, int GlobalCount)> Shards(int rank, int ranks)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, ranks);
        var order = Enumerable.Range(0, Dataset.Count).ToArray();
        if (Shuffle) _generator.Shuffle(order);
        return Epoch(order, rank, ranks);
    }

    private IEnumerable<(DataBatch? Batch, int Offset, int GlobalCount)> Epoch(int[] order, int rank, int ranks)
    {
        int batches = Count;
        (DataBatch? Batch, int Offset, int GlobalCount) Make(int b)
        {
            int start = b * BatchSize, global = Math.Min(BatchSize, order.Length - start);
            int lo = (int)((long)global * rank / ranks), hi = (int)((long)global * (rank + 1) / ranks);
            return (hi > lo ? Dataset.Batch(order.AsSpan(start + lo, hi - lo)) : null, lo, global);
        }
        if (!Prefetch)
        {
            for (int b = 0; b < batches; b++) yield return Make(b);
            yield break;
        }
        // The next batch is made beside the training step, on the prefetching thread alone: were
        // its copies to take the worker pool, the step's own kernels would find it busy.
        (DataBatch?, int, int) MakeBeside(int b)
        {
            using var alone = Kernels.Threading.CallingThreadOnly();
            return Make(b);
        }
        Task<(DataBatch?, int, int)>? next = batches > 0 ? Task.Run(() => MakeBeside(0)) : null;
        for (int b = 0; b < batches; b++)
        {
            var current = next!.GetAwaiter().GetResult();
            int following = b + 1;
            next = following < batches ? Task.Run(() => MakeBeside(following)) : null;
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
        int[] idx = labels.ToIndices(classes, new Tensor.IndexUse($"OneHot with {classes} classes"));
        var data = new float[idx.Length * classes];
        for (int i = 0; i < idx.Length; i++) data[i * classes + idx[i]] = 1f;
        return Tensor.FromArray(data, idx.Length, classes);
    }
}
