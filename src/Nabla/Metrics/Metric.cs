namespace Nabla.Metrics;

/// <summary>
/// A running measure of model quality over many batches: <see cref="Update"/> per batch,
/// <see cref="Result"/> at the end, <see cref="Reset"/> between epochs. Strings such as
/// "accuracy" or "mae" convert to a metric.
/// </summary>
public abstract class Metric
{
    /// <summary>The name shown in logs and history, e.g. <c>accuracy</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Adds one batch of predictions and targets.</summary>
    public abstract void Update(Tensor predictions, Tensor targets);

    /// <summary>The value over everything since the last reset.</summary>
    public abstract float Result();

    /// <summary>Forgets everything seen.</summary>
    public abstract void Reset();

    /// <summary>
    /// The running totals behind <see cref="Result"/> (counts and sums), which add up across the
    /// ranks of data-parallel training; null for a metric whose totals do not add (AUC needs every
    /// score), which then reports each rank's own value.
    /// </summary>
    public virtual double[]? GetTotals() => null;

    /// <summary>Replaces the running totals with <paramref name="totals"/> (as <see cref="GetTotals"/> gives them, e.g. summed over ranks).</summary>
    public virtual void SetTotals(ReadOnlySpan<double> totals) =>
        throw new NotSupportedException($"Metric '{Name}' has no totals that add up across ranks.");

    /// <summary>Checks that <paramref name="totals"/> has <paramref name="count"/> values.</summary>
    protected void CheckTotals(ReadOnlySpan<double> totals, int count)
    {
        if (totals.Length != count) throw new ArgumentException($"Metric '{Name}' keeps {count} totals, got {totals.Length}.", nameof(totals));
    }

    /// <summary>Looks up a metric by Keras name: accuracy (acc), binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, precision, recall, f1, auc, mae, mse, top_k_accuracy (k = 5).</summary>
    public static Metric Get(string name) => name.ToLowerInvariant() switch
    {
        "accuracy" or "acc" => new Accuracy(),
        "binary_accuracy" => new Accuracy(AccuracyKind.Binary),
        "categorical_accuracy" => new Accuracy(AccuracyKind.Categorical),
        "sparse_categorical_accuracy" => new Accuracy(AccuracyKind.SparseCategorical),
        "precision" => new Precision(),
        "recall" => new Recall(),
        "f1" or "f1_score" => new F1Score(),
        "auc" => new Auc(),
        "mae" or "mean_absolute_error" => new MeanAbsoluteErrorMetric(),
        "mse" or "mean_squared_error" => new MeanSquaredErrorMetric(),
        "top_k_accuracy" or "top_k_categorical_accuracy" or "sparse_top_k_categorical_accuracy" => new TopKAccuracy(5),
        _ => throw new ArgumentException($"Unknown metric '{name}'. Known: accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, precision, recall, f1, auc, mae, mse, top_k_accuracy.", nameof(name)),
    };

    /// <summary>Looks up a metric by name; see <see cref="Get"/>.</summary>
    public static implicit operator Metric(string name) => Get(name);

    /// <summary>Throws unless both have the same number of samples.</summary>
    protected void CheckSamples(Tensor predictions, Tensor targets)
    {
        if (predictions.Rank == 0 || targets.Rank == 0 || predictions.Shape[0] != targets.Shape[0])
            throw new ArgumentException($"{Name}: predictions {predictions.ShapeString} and targets {targets.ShapeString} must have the same number of samples.");
    }

    /// <summary>Binary scores and 0/1 labels as flat arrays, from [N], [N, 1] shapes.</summary>
    protected (float[] Scores, float[] Labels) Binary(Tensor predictions, Tensor targets)
    {
        CheckSamples(predictions, targets);
        if (predictions.Size != predictions.Shape[0] || targets.Size != targets.Shape[0])
            throw new ArgumentException($"{Name} is defined here for binary outputs [N] or [N, 1]; got predictions {predictions.ShapeString} and targets {targets.ShapeString}.");
        return (predictions.ToArray(), targets.ToArray());
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {Result():G4}";
}

/// <summary>Which accuracy: chosen from the shapes when <see cref="Auto"/>.</summary>
public enum AccuracyKind
{
    /// <summary>Binary for one output, categorical when targets match predictions' shape, else sparse.</summary>
    Auto,
    /// <summary>prediction &gt; threshold equals target &gt; 0.5.</summary>
    Binary,
    /// <summary>argmax of predictions equals argmax of one-hot targets.</summary>
    Categorical,
    /// <summary>argmax of predictions equals the integer label.</summary>
    SparseCategorical,
}

/// <summary>The fraction of samples classified correctly.</summary>
public sealed class Accuracy(AccuracyKind kind = AccuracyKind.Auto, float threshold = 0.5f) : Metric
{
    private long _correct, _total;

    /// <summary>The decision threshold for binary outputs (0.5 for probabilities, 0 for logits).</summary>
    public float Threshold { get; set; } = threshold;

    /// <inheritdoc/>
    public override string Name => "accuracy";

    /// <inheritdoc/>
    public override void Update(Tensor predictions, Tensor targets)
    {
        CheckSamples(predictions, targets);
        int n = predictions.Shape[0];
        AccuracyKind k = kind;
        if (k == AccuracyKind.Auto)
        {
            k = predictions.Size == n ? AccuracyKind.Binary
                : Shapes.Equal(predictions.Shape, targets.Shape) ? AccuracyKind.Categorical
                : AccuracyKind.SparseCategorical;
        }
        float[] p, t;
        switch (k)
        {
            case AccuracyKind.Binary:
                (p, t) = Binary(predictions, targets);
                for (int i = 0; i < n; i++) _correct += (p[i] > Threshold) == (t[i] > 0.5f) ? 1 : 0;
                break;
            case AccuracyKind.Categorical:
                {
                    // Every position of [N, ..., C] counts: a sequence of T steps gives N * T answers.
                    if (!Shapes.Equal(predictions.Shape, targets.Shape))
                        throw new ArgumentException($"accuracy: one-hot targets {targets.ShapeString} must have the predictions' shape {predictions.ShapeString}.");
                    int classes = predictions.Shape[^1];
                    p = predictions.Reshape(-1, classes).ArgMax(1).ToArray();
                    t = targets.Reshape(-1, classes).ArgMax(1).ToArray();
                    for (int i = 0; i < p.Length; i++) _correct += p[i] == t[i] ? 1 : 0;
                    _total += p.Length;
                    return;
                }
            default:
                if (targets.Size != n) throw new ArgumentException($"accuracy: sparse labels must be [N] or [N, 1], got {targets.ShapeString} for predictions {predictions.ShapeString}.");
                p = predictions.Reshape(n, -1).ArgMax(1).ToArray();
                t = targets.ToArray();
                for (int i = 0; i < n; i++) _correct += p[i] == t[i] ? 1 : 0;
                break;
        }
        _total += n;
    }

    /// <inheritdoc/>
    public override float Result() => _total == 0 ? 0f : (float)((double)_correct / _total);

    /// <inheritdoc/>
    public override void Reset() => (_correct, _total) = (0, 0);

    /// <inheritdoc/>
    public override double[]? GetTotals() => [_correct, _total];

    /// <inheritdoc/>
    public override void SetTotals(ReadOnlySpan<double> totals)
    {
        CheckTotals(totals, 2);
        (_correct, _total) = ((long)totals[0], (long)totals[1]);
    }
}

/// <summary>Counts of a binary confusion matrix at a threshold; the base of precision, recall and F1.</summary>
public abstract class BinaryConfusion(float threshold) : Metric
{
    /// <summary>True positives, false positives, false negatives so far.</summary>
    protected long TruePositives, FalsePositives, FalseNegatives;

    /// <summary>The decision threshold.</summary>
    public float Threshold { get; set; } = threshold;

    /// <inheritdoc/>
    public override void Update(Tensor predictions, Tensor targets)
    {
        var (p, t) = Binary(predictions, targets);
        for (int i = 0; i < p.Length; i++)
        {
            bool predicted = p[i] > Threshold, actual = t[i] > 0.5f;
            if (predicted && actual) TruePositives++;
            else if (predicted) FalsePositives++;
            else if (actual) FalseNegatives++;
        }
    }

    /// <inheritdoc/>
    public override void Reset() => (TruePositives, FalsePositives, FalseNegatives) = (0, 0, 0);

    /// <inheritdoc/>
    public override double[]? GetTotals() => [TruePositives, FalsePositives, FalseNegatives];

    /// <inheritdoc/>
    public override void SetTotals(ReadOnlySpan<double> totals)
    {
        CheckTotals(totals, 3);
        (TruePositives, FalsePositives, FalseNegatives) = ((long)totals[0], (long)totals[1], (long)totals[2]);
    }

    /// <summary>a / (a + b), or 0 when both are 0.</summary>
    protected static float Ratio(long a, long b) => a + b == 0 ? 0f : (float)((double)a / (a + b));
}

/// <summary>Precision of a binary classifier: TP / (TP + FP).</summary>
public sealed class Precision(float threshold = 0.5f) : BinaryConfusion(threshold)
{
    /// <inheritdoc/>
    public override string Name => "precision";
    /// <inheritdoc/>
    public override float Result() => Ratio(TruePositives, FalsePositives);
}

/// <summary>Recall of a binary classifier: TP / (TP + FN).</summary>
public sealed class Recall(float threshold = 0.5f) : BinaryConfusion(threshold)
{
    /// <inheritdoc/>
    public override string Name => "recall";
    /// <inheritdoc/>
    public override float Result() => Ratio(TruePositives, FalseNegatives);
}

/// <summary>F1 of a binary classifier: the harmonic mean of precision and recall, 2 TP / (2 TP + FP + FN).</summary>
public sealed class F1Score(float threshold = 0.5f) : BinaryConfusion(threshold)
{
    /// <inheritdoc/>
    public override string Name => "f1";
    /// <inheritdoc/>
    public override float Result() => Ratio(2 * TruePositives, FalsePositives + FalseNegatives);
}

/// <summary>
/// Area under the ROC curve of a binary classifier, exact: the probability that a random
/// positive scores above a random negative (ties count half), from all scores seen.
/// </summary>
public sealed class Auc : Metric
{
    private readonly List<float> _scores = [];
    private readonly List<float> _labels = [];

    /// <inheritdoc/>
    public override string Name => "auc";

    /// <inheritdoc/>
    public override void Update(Tensor predictions, Tensor targets)
    {
        var (p, t) = Binary(predictions, targets);
        _scores.AddRange(p);
        _labels.AddRange(t);
    }

    /// <inheritdoc/>
    public override float Result() => (float)RocAuc(_scores, _labels);

    /// <summary>ROC AUC of scores against 0/1 labels by the rank-sum statistic; NaN without both classes.</summary>
    public static double RocAuc(IReadOnlyList<float> scores, IReadOnlyList<float> labels)
    {
        int n = scores.Count;
        var order = Enumerable.Range(0, n).OrderBy(i => scores[i]).ToArray();
        var ranks = new double[n];
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) j++;
            double rank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) ranks[order[k]] = rank;
            i = j + 1;
        }
        long positives = 0;
        double rankSum = 0;
        for (int i = 0; i < n; i++)
        {
            if (labels[i] > 0.5f) { positives++; rankSum += ranks[i]; }
        }
        long negatives = n - positives;
        if (positives == 0 || negatives == 0) return double.NaN;
        return (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <inheritdoc/>
    public override void Reset()
    {
        _scores.Clear();
        _labels.Clear();
    }
}

/// <summary>The mean of a per-element error over everything seen; the base of MAE and MSE.</summary>
public abstract class MeanError : Metric
{
    private double _sum;
    private long _count;

    /// <summary>The error of one element.</summary>
    protected abstract double Error(float prediction, float target);

    /// <inheritdoc/>
    public override void Update(Tensor predictions, Tensor targets)
    {
        if (!Shapes.Equal(predictions.Shape, targets.Shape))
            throw new ArgumentException($"{Name}: predictions {predictions.ShapeString} and targets {targets.ShapeString} must have the same shape.");
        ReadOnlySpan<float> p = predictions.Data, t = targets.Data;
        for (int i = 0; i < p.Length; i++) _sum += Error(p[i], t[i]);
        _count += p.Length;
    }

    /// <inheritdoc/>
    public override float Result() => _count == 0 ? 0f : (float)(_sum / _count);

    /// <inheritdoc/>
    public override void Reset() => (_sum, _count) = (0, 0);

    /// <inheritdoc/>
    public override double[]? GetTotals() => [_sum, _count];

    /// <inheritdoc/>
    public override void SetTotals(ReadOnlySpan<double> totals)
    {
        CheckTotals(totals, 2);
        (_sum, _count) = (totals[0], (long)totals[1]);
    }
}

/// <summary>Mean absolute error.</summary>
public sealed class MeanAbsoluteErrorMetric : MeanError
{
    /// <inheritdoc/>
    public override string Name => "mae";
    /// <inheritdoc/>
    protected override double Error(float prediction, float target) => Math.Abs((double)prediction - target);
}

/// <summary>Mean squared error.</summary>
public sealed class MeanSquaredErrorMetric : MeanError
{
    /// <inheritdoc/>
    public override string Name => "mse";
    /// <inheritdoc/>
    protected override double Error(float prediction, float target)
    {
        double d = (double)prediction - target;
        return d * d;
    }
}

/// <summary>The fraction of samples whose true class is among the k highest scores (sparse or one-hot targets).</summary>
public sealed class TopKAccuracy(int k = 5) : Metric
{
    private long _hits, _total;

    /// <summary>How many top classes count.</summary>
    public int K { get; } = k >= 1 ? k : throw new ArgumentOutOfRangeException(nameof(k), $"TopKAccuracy k must be at least 1, not {k}.");

    /// <inheritdoc/>
    public override string Name => $"top_{K}_accuracy";

    /// <inheritdoc/>
    public override void Update(Tensor predictions, Tensor targets)
    {
        CheckSamples(predictions, targets);
        if (predictions.Rank != 2) throw new ArgumentException($"{Name}: predictions must be [N, classes], got {predictions.ShapeString}.");
        int n = predictions.Shape[0], c = predictions.Shape[1];
        float[] labels = Shapes.Equal(predictions.Shape, targets.Shape) ? targets.ArgMax(1).ToArray() : targets.ToArray();
        if (labels.Length != n) throw new ArgumentException($"{Name}: labels {targets.ShapeString} do not match predictions {predictions.ShapeString}.");
        float[] p = predictions.ToArray();
        for (int i = 0; i < n; i++)
        {
            int label = (int)labels[i];
            if (label < 0 || label >= c) throw new ArgumentException($"{Name}: label {labels[i]} of sample {i} is outside [0, {c}).");
            float score = p[i * c + label];
            int higher = 0;
            for (int j = 0; j < c; j++) higher += p[i * c + j] > score ? 1 : 0;
            _hits += higher < K ? 1 : 0;
        }
        _total += n;
    }

    /// <inheritdoc/>
    public override float Result() => _total == 0 ? 0f : (float)((double)_hits / _total);

    /// <inheritdoc/>
    public override void Reset() => (_hits, _total) = (0, 0);

    /// <inheritdoc/>
    public override double[]? GetTotals() => [_hits, _total];

    /// <inheritdoc/>
    public override void SetTotals(ReadOnlySpan<double> totals)
    {
        CheckTotals(totals, 2);
        (_hits, _total) = ((long)totals[0], (long)totals[1]);
    }
}
