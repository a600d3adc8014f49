namespace Nabla.Losses;

/// <summary>How per-sample losses are combined.</summary>
public enum Reduction
{
    /// <summary>The mean over samples (Keras's sum_over_batch_size, PyTorch's mean).</summary>
    Mean,
    /// <summary>The sum over samples.</summary>
    Sum,
    /// <summary>One loss per sample, shape [N].</summary>
    None,
}

/// <summary>
/// A loss: compares predictions [N, ...] with targets and returns a scalar (or [N] with
/// <see cref="Reduction.None"/>). Subclasses compute one value per sample; strings such as
/// "mse" or "binary_crossentropy" convert to a loss.
/// </summary>
public abstract class Loss(Reduction reduction)
{
    /// <summary>How per-sample losses are combined.</summary>
    public Reduction Reduction { get; } = reduction;

    /// <summary>The Keras name, e.g. <c>mse</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Per-sample losses, shape [N].</summary>
    protected abstract Tensor PerSample(Tensor predictions, Tensor targets);

    /// <summary>The loss of <paramref name="predictions"/> against <paramref name="targets"/>.</summary>
    public Tensor Compute(Tensor predictions, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(targets);
        if (predictions.Rank == 0 || targets.Rank == 0 || predictions.Shape[0] != targets.Shape[0])
            throw new ArgumentException($"{GetType().Name}: predictions {predictions.ShapeString} and targets {targets.ShapeString} must have the same number of samples (first dimension).");
        Tensor perSample = PerSample(predictions, targets);
        return Reduction switch
        {
            Reduction.Mean => perSample.Mean(),
            Reduction.Sum => perSample.Sum(),
            _ => perSample,
        };
    }

    /// <summary>Throws unless targets have the predictions' shape.</summary>
    protected void CheckSameShape(Tensor predictions, Tensor targets)
    {
        if (!Shapes.Equal(predictions.Shape, targets.Shape))
            throw new ArgumentException($"{GetType().Name}: predictions {predictions.ShapeString} and targets {targets.ShapeString} must have the same shape.");
    }

    /// <summary>Mean over every dimension but the first: [N, ...] to [N].</summary>
    protected static Tensor MeanPerSample(Tensor x) => x.Rank == 1 ? x : x.Mean([.. Enumerable.Range(1, x.Rank - 1)]);

    /// <summary>Sum over every dimension but the first: [N, ...] to [N].</summary>
    protected static Tensor SumPerSample(Tensor x) => x.Rank == 1 ? x : x.Sum([.. Enumerable.Range(1, x.Rank - 1)]);

    /// <summary>Looks up a loss by its Keras name, with the mean reduction.</summary>
    public static Loss Get(string name) => name.ToLowerInvariant() switch
    {
        "mse" or "mean_squared_error" => new MeanSquaredError(),
        "mae" or "mean_absolute_error" => new MeanAbsoluteError(),
        "huber" => new Huber(),
        "binary_crossentropy" or "bce" => new BinaryCrossEntropy(),
        "categorical_crossentropy" => new CategoricalCrossEntropy(),
        "sparse_categorical_crossentropy" => new SparseCategoricalCrossEntropy(),
        "kl_divergence" or "kld" => new KLDivergence(),
        _ => throw new ArgumentException($"Unknown loss '{name}'. Known: mse, mae, huber, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy, kl_divergence.", nameof(name)),
    };

    /// <summary>Looks up a loss by name; see <see cref="Get"/>.</summary>
    public static implicit operator Loss(string name) => Get(name);

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>Mean squared error: mean((pred - target)^2) per sample.</summary>
public sealed class MeanSquaredError(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override string Name => "mse";

    /// <inheritdoc/>
    protected override Tensor PerSample(Tensor predictions, Tensor targets)
    {
        CheckSameShape(predictions, targets);
        Tensor d = predictions - targets;
        return MeanPerSample(d * d);
    }
}

/// <summary>Mean absolute error: mean(|pred - target|) per sample.</summary>
public sealed class MeanAbsoluteError(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override string Name => "mae";

    /// <inheritdoc/>
    protected override Tensor PerSample(Tensor predictions, Tensor targets)
    {
        CheckSameShape(predictions, targets);
        return MeanPerSample((predictions - targets).Abs());
    }
}

/// <summary>Huber loss: 0.5 d^2 where |d| &lt;= delta, else delta (|d| - 0.5 delta); mean per sample.</summary>
public sealed class Huber(float delta = 1f, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override string Name => "huber";

    /// <summary>Where the loss turns from quadratic to linear.</summary>
    public float Delta { get; } = delta > 0 ? delta : throw new ArgumentOutOfRangeException(nameof(delta), $"Huber delta must be positive, not {delta}.");

    /// <inheritdoc/>
    protected override Tensor PerSample(Tensor predictions, Tensor targets)
    {
        CheckSameShape(predictions, targets);
        Tensor d = predictions - targets;
        Tensor a = d.Abs();
        Tensor quadratic = d * d * 0.5f;
        Tensor linear = (a - 0.5f * Delta) * Delta;
        return MeanPerSample(Tensor.Where(a.Le(Delta), quadratic, linear));
    }
}

/// <summary>
/// Binary cross-entropy for targets in [0, 1]. From probabilities (the default, after a sigmoid):
/// probabilities are clipped to [1e-7, 1 - 1e-7] as Keras does. From logits: computed as
/// y softplus(-z) + (1 - y) softplus(z), stable for any z.
/// </summary>
public sealed class BinaryCrossEntropy(bool fromLogits = false, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    private const float Epsilon = 1e-7f;

    /// <inheritdoc/>
    public override string Name => "binary_crossentropy";

    /// <summary>Whether predictions are logits rather than probabilities.</summary>
    public bool FromLogits { get; } = fromLogits;

    /// <inheritdoc/>
    protected override Tensor PerSample(Tensor predictions, Tensor targets)
    {
        CheckSameShape(predictions, targets);
        if (FromLogits) return MeanPerSample(targets * (-predictions).Softplus() + (1f - targets) * predictions.Softplus());
        Tensor p = predictions.Clamp(Epsilon, 1f - Epsilon);
        return MeanPerSample(-(targets * p.Log() + (1f - targets) * (1f - p).Log()));
    }
}

/// <summary>
/// Categorical cross-entropy for one-hot (or soft) targets [N, C]: -sum(y log p) per sample.
/// From logits through log-softmax; from probabilities, rows are renormalised and clipped to
/// [1e-7, 1 - 1e-7], as Keras does.
/// </summary>
public sealed class CategoricalCrossEntropy(bool fromLogits = false, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override string Name => "categorical_crossentropy";

    /// <summary>Whether predictions are logits rather than probabilities.</summary>
    public bool FromLogits { get; } = fromLogits;

    /// <inheritdoc/>
    protected override Tensor PerSample(Tensor predictions, Tensor targets)
    {
        CheckSameShape(predictions, targets);
        Tensor logp = FromLogits
            ? predictions.LogSoftmax(-1)
            : (predictions / predictions.Sum(-1, keepDim: true)).Clamp(1e-7f, 1f - 1e-7f).Log();
        return SumPerSample(-(targets * logp));
    }
}

/// <summary>
/// Cross-entropy for integer class labels: predictions [N, C], labels [N] (or [N, 1]) in [0, C).
/// From logits through log-softmax; from probabilities, clipped to [1e-7, 1].
/// </summary>
public sealed class SparseCategoricalCrossEntropy(bool fromLogits = false, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override string Name => "sparse_categorical_crossentropy";

    /// <summary>Whether predictions are logits rather than probabilities.</summary>
    public bool FromLogits { get; } = fromLogits;

    /// <inheritdoc/>
    protected override Tensor PerSample(Tensor predictions, Tensor targets)
    {
        if (predictions.Rank != 2)
            throw new ArgumentException($"{GetType().Name}: predictions must be [N, classes], got {predictions.ShapeString}.");
        if (!(targets.Rank == 1 || (targets.Rank == 2 && targets.Shape[1] == 1)))
            throw new ArgumentException($"{GetType().Name}: labels must be [N] or [N, 1], got {targets.ShapeString}.");
        int classes = predictions.Shape[1];
        ReadOnlySpan<float> values = targets.Data;
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (v != MathF.Floor(v) || v < 0 || v >= classes)
                throw new ArgumentException($"{GetType().Name}: label {v} of sample {i} is not a class index in [0, {classes}) for predictions of shape {predictions.ShapeString}.");
        }
        if (FromLogits) return Tensor.SoftmaxCrossEntropy(predictions, targets); // it takes [N] or [N, 1] labels as they are
        Tensor labels = targets.Rank == 2 ? targets : targets.Unsqueeze(1);
        return -predictions.Clamp(1e-7f, 1f).Log().Gather(1, labels).Squeeze(1);
    }
}

/// <summary>Kullback-Leibler divergence sum(y log(y / p)) per sample, with both clipped to [1e-7, 1] as Keras does.</summary>
public sealed class KLDivergence(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override string Name => "kl_divergence";

    /// <inheritdoc/>
    protected override Tensor PerSample(Tensor predictions, Tensor targets)
    {
        CheckSameShape(predictions, targets);
        Tensor y = targets.Clamp(1e-7f, 1f);
        Tensor p = predictions.Clamp(1e-7f, 1f);
        return SumPerSample(y * (y.Log() - p.Log()));
    }
}
