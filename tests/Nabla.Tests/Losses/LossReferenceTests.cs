using Nabla.Losses;

namespace Nabla.Tests.Losses;

/// <summary>
/// Every loss against a scalar reference written here in double precision, on inputs where a
/// wrong formula gives a different number: rank-3 predictions, soft targets that are not one-hot
/// and do not sum to 1, values on both sides of every clip and threshold, and each reduction.
/// </summary>
public class LossReferenceTests
{
    private static float[] Values(int n, int seed, double low, double high)
    {
        var g = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(low + (high - low) * g.NextDouble())).ToArray();
    }

    /// <summary>Per-sample losses from a per-row function over [N, rest] rows.</summary>
    private static double[] PerRow(float[] p, float[] t, int n, Func<float[], float[], double> row)
    {
        int width = p.Length / n;
        return Enumerable.Range(0, n).Select(i => row(p[(i * width)..((i + 1) * width)], t[(i * width)..((i + 1) * width)])).ToArray();
    }

    private static void Check(Loss loss, Tensor predictions, Tensor targets, double[] perSample, double tolerance = 1e-5)
    {
        string name = $"{loss.Name} ({loss.Reduction})";
        Tensor value = loss.Compute(predictions, targets);
        switch (loss.Reduction)
        {
            case Reduction.Mean:
                Assert.Equal(0, value.Rank);
                Assert.True(Math.Abs(value.Item() - perSample.Average()) <= tolerance * (1 + Math.Abs(perSample.Average())), $"{name}: {value.Item()} vs {perSample.Average()}");
                break;
            case Reduction.Sum:
                Assert.Equal(0, value.Rank);
                Assert.True(Math.Abs(value.Item() - perSample.Sum()) <= tolerance * (1 + Math.Abs(perSample.Sum())), $"{name}: {value.Item()} vs {perSample.Sum()}");
                break;
            default:
                Assert.Equal([perSample.Length], value.Shape.ToArray());
                float[] v = value.ToArray();
                for (int i = 0; i < v.Length; i++) Assert.True(Math.Abs(v[i] - perSample[i]) <= tolerance * (1 + Math.Abs(perSample[i])), $"{name} sample {i}: {v[i]} vs {perSample[i]}");
                break;
        }
    }

    public static IEnumerable<object[]> Reductions() => [[Reduction.Mean], [Reduction.Sum], [Reduction.None]];

    [Theory]
    [MemberData(nameof(Reductions))]
    public void Regression_losses_on_rank_three_inputs(Reduction reduction)
    {
        int[] shape = [3, 2, 4];
        float[] p = Values(24, 1, -3, 3), t = Values(24, 2, -3, 3);
        Tensor pt = Tensor.FromArray(p, shape), tt = Tensor.FromArray(t, shape);
        Check(new MeanSquaredError(reduction), pt, tt, PerRow(p, t, 3, (a, b) => a.Zip(b, (x, y) => (double)(x - y) * (x - y)).Average()));
        Check(new MeanAbsoluteError(reduction), pt, tt, PerRow(p, t, 3, (a, b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Average()));
        const double delta = 1.5;
        Check(new Huber(1.5f, reduction), pt, tt, PerRow(p, t, 3, (a, b) => a.Zip(b, (x, y) =>
        {
            double d = Math.Abs((double)x - y);
            return d <= delta ? 0.5 * d * d : delta * (d - 0.5 * delta);
        }).Average()));
        // Some differences on each side of delta, so both branches count.
        Assert.Contains(p.Zip(t), z => Math.Abs(z.First - z.Second) > delta);
        Assert.Contains(p.Zip(t), z => Math.Abs(z.First - z.Second) < delta);
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void Binary_cross_entropy_from_probabilities_clips_and_from_logits_is_exact(Reduction reduction)
    {
        // Probabilities include exact 0 and 1 (clipped to 1e-7 and 1 - 1e-7); targets are soft.
        float[] p = [0f, 1f, 0.3f, 0.8f, 0.5f, 1e-9f, 0.999f, 0.2f];
        float[] t = [0.2f, 0.9f, 1f, 0f, 0.5f, 0.7f, 0.1f, 0.6f];
        // The clip bounds as float32 holds them (1 - 1e-7 rounds to 1 - 1.19e-7).
        const double low = 1e-7f, high = 1f - 1e-7f;
        Check(new BinaryCrossEntropy(false, reduction), Tensor.FromArray(p, 4, 2), Tensor.FromArray(t, 4, 2), PerRow(p, t, 4, (a, b) => a.Zip(b, (x, y) =>
        {
            double q = Math.Clamp(x, low, high);
            return -(y * Math.Log(q) + (1 - y) * Math.Log(1 - q));
        }).Average()), tolerance: 1e-4);
        float[] z = [-30f, 12f, 0.3f, -0.8f, 0f, 4f, -2f, 25f];
        Check(new BinaryCrossEntropy(true, reduction), Tensor.FromArray(z, 4, 2), Tensor.FromArray(t, 4, 2), PerRow(z, t, 4, (a, b) => a.Zip(b, (x, y) =>
        {
            double softplus(double v) => Math.Max(v, 0) + Math.Log(1 + Math.Exp(-Math.Abs(v)));
            return y * softplus(-x) + (1 - y) * softplus(x);
        }).Average()));
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void Categorical_cross_entropy_renormalises_probabilities_and_takes_soft_targets(Reduction reduction)
    {
        // Rows that do not sum to 1 (renormalised first) and soft targets that do not sum to 1 either.
        float[] p = [0.2f, 0.6f, 0.4f, 0.05f, 0.05f, 0.9f, 1f, 2f, 1f];
        float[] t = [0.1f, 0.7f, 0.3f, 0f, 0.5f, 0.5f, 0.2f, 0.2f, 0.2f];
        Check(new CategoricalCrossEntropy(false, reduction), Tensor.FromArray(p, 3, 3), Tensor.FromArray(t, 3, 3), PerRow(p, t, 3, (a, b) =>
        {
            double sum = a.Sum(x => (double)x);
            return -a.Zip(b, (x, y) => y * Math.Log(Math.Clamp(x / sum, 1e-7, 1 - 1e-7))).Sum();
        }));
        float[] z = [2f, -1f, 0.5f, 10f, 9f, -3f, 0f, 0f, 0f];
        Check(new CategoricalCrossEntropy(true, reduction), Tensor.FromArray(z, 3, 3), Tensor.FromArray(t, 3, 3), PerRow(z, t, 3, (a, b) =>
        {
            double max = a.Max(), lse = max + Math.Log(a.Sum(x => Math.Exp(x - max)));
            return -a.Zip(b, (x, y) => y * (x - lse)).Sum();
        }));
    }

    [Fact]
    public void Categorical_cross_entropy_runs_over_the_last_axis_of_sequences()
    {
        // [N = 2, T = 2, C = 3]: the class axis is the last, not axis 1; the per-sample loss sums over steps.
        float[] p = [0.2f, 0.5f, 0.3f, 0.6f, 0.3f, 0.1f, 0.1f, 0.1f, 0.8f, 0.3f, 0.3f, 0.4f];
        float[] t = [0f, 1f, 0f, 1f, 0f, 0f, 0f, 0f, 1f, 0.5f, 0f, 0.5f];
        double Row(float[] a, float[] b, bool logits)
        {
            double total = 0;
            for (int step = 0; step < 2; step++)
            {
                double[] x = [a[step * 3], a[step * 3 + 1], a[step * 3 + 2]];
                double sum = x.Sum(), max = x.Max(), lse = max + Math.Log(x.Sum(v => Math.Exp(v - max)));
                for (int k = 0; k < 3; k++) total -= b[step * 3 + k] * (logits ? x[k] - lse : Math.Log(Math.Clamp(x[k] / sum, 1e-7, 1 - 1e-7)));
            }
            return total;
        }
        Check(new CategoricalCrossEntropy(false, Reduction.None), Tensor.FromArray(p, 2, 2, 3), Tensor.FromArray(t, 2, 2, 3), PerRow(p, t, 2, (a, b) => Row(a, b, false)));
        Check(new CategoricalCrossEntropy(true, Reduction.None), Tensor.FromArray(p, 2, 2, 3), Tensor.FromArray(t, 2, 2, 3), PerRow(p, t, 2, (a, b) => Row(a, b, true)));
    }

    [Fact]
    public void Probabilities_of_exactly_one_are_clipped_below_one()
    {
        // log(1 - 1e-7 as float32) = -1.19e-7: a certain, correct prediction still costs that much, as in Keras.
        float expected = -MathF.Log(1f - 1e-7f);
        Assert.Equal(expected, new CategoricalCrossEntropy().Compute(Tensor.FromArray([1f, 0f, 0f], 1, 3), Tensor.FromArray([1f, 0f, 0f], 1, 3)).Item(), 9);
        Assert.Equal(expected, new BinaryCrossEntropy().Compute(Tensor.FromArray([1f], 1, 1), Tensor.FromArray([1f], 1, 1)).Item(), 9);
        Assert.Equal(0f, new SparseCategoricalCrossEntropy().Compute(Tensor.FromArray([1f, 0f], 1, 2), Tensor.FromArray([0f])).Item(), 9);
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void Sparse_categorical_cross_entropy_for_labels_of_shape_n_and_n_by_1(Reduction reduction)
    {
        float[] p = [0.2f, 0.5f, 0.3f, 0f, 0.1f, 0.9f, 0.6f, 0.3f, 0.1f, 0.25f, 0.25f, 0.5f];
        float[] labels = [1f, 0f, 2f, 1f];
        double[] fromProbabilities = labels.Select((l, i) => -Math.Log(Math.Clamp(p[i * 3 + (int)l], 1e-7, 1))).ToArray();
        Check(new SparseCategoricalCrossEntropy(false, reduction), Tensor.FromArray(p, 4, 3), Tensor.FromArray(labels), fromProbabilities);
        Check(new SparseCategoricalCrossEntropy(false, reduction), Tensor.FromArray(p, 4, 3), Tensor.FromArray(labels, 4, 1), fromProbabilities);
        float[] z = [1f, -2f, 0.5f, 7f, 0f, -1f, 3f, 3f, 3f, -4f, 2f, 0f];
        double[] fromLogits = labels.Select((l, i) =>
        {
            double[] row = [z[i * 3], z[i * 3 + 1], z[i * 3 + 2]];
            double max = row.Max();
            return max + Math.Log(row.Sum(x => Math.Exp(x - max))) - row[(int)l];
        }).ToArray();
        Check(new SparseCategoricalCrossEntropy(true, reduction), Tensor.FromArray(z, 4, 3), Tensor.FromArray(labels), fromLogits);
        Check(new SparseCategoricalCrossEntropy(true, reduction), Tensor.FromArray(z, 4, 3), Tensor.FromArray(labels, 4, 1), fromLogits);
    }

    [Theory]
    [MemberData(nameof(Reductions))]
    public void Kl_divergence_of_soft_distributions_sums_over_every_class(Reduction reduction)
    {
        // Neither side one-hot, zeros clipped to 1e-7, rank 3 so the sum runs over two axes.
        float[] y = [0.1f, 0.2f, 0.3f, 0.4f, 0f, 0.5f, 0.25f, 0.25f, 0.6f, 0.1f, 0.1f, 0.2f];
        float[] p = [0.25f, 0.25f, 0.25f, 0.25f, 0.4f, 0.1f, 0.3f, 0.2f, 0f, 0.5f, 0.3f, 0.2f];
        Check(new KLDivergence(reduction), Tensor.FromArray(p, 3, 2, 2), Tensor.FromArray(y, 3, 2, 2), PerRow(p, y, 3, (a, b) => a.Zip(b, (q, t) =>
        {
            double tc = Math.Clamp(t, 1e-7, 1), qc = Math.Clamp(q, 1e-7, 1);
            return tc * Math.Log(tc / qc);
        }).Sum()), tolerance: 1e-4);
        // Of a distribution with itself: zero.
        Assert.Equal(0f, new KLDivergence().Compute(Tensor.FromArray(y, 3, 4), Tensor.FromArray(y, 3, 4)).Item(), 6);
    }

    [Theory]
    [InlineData("mse", typeof(MeanSquaredError))]
    [InlineData("MEAN_SQUARED_ERROR", typeof(MeanSquaredError))]
    [InlineData("mae", typeof(MeanAbsoluteError))]
    [InlineData("mean_absolute_error", typeof(MeanAbsoluteError))]
    [InlineData("huber", typeof(Huber))]
    [InlineData("binary_crossentropy", typeof(BinaryCrossEntropy))]
    [InlineData("bce", typeof(BinaryCrossEntropy))]
    [InlineData("categorical_crossentropy", typeof(CategoricalCrossEntropy))]
    [InlineData("sparse_categorical_crossentropy", typeof(SparseCategoricalCrossEntropy))]
    [InlineData("kl_divergence", typeof(KLDivergence))]
    [InlineData("kld", typeof(KLDivergence))]
    public void Keras_names_and_aliases_give_the_loss_with_the_mean_reduction(string name, Type type)
    {
        Loss loss = name;
        Assert.IsType(type, loss);
        Assert.Equal(Reduction.Mean, loss.Reduction);
        Assert.Equal(loss.Name, loss.ToString());
        Assert.False(loss is BinaryCrossEntropy { FromLogits: true } or CategoricalCrossEntropy { FromLogits: true } or SparseCategoricalCrossEntropy { FromLogits: true });
    }

    [Fact]
    public void Names_are_keras_names_and_unknown_ones_are_listed()
    {
        Assert.Equal(["mse", "mae", "huber", "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence"],
            new Loss[] { new MeanSquaredError(), new MeanAbsoluteError(), new Huber(), new BinaryCrossEntropy(), new CategoricalCrossEntropy(), new SparseCategoricalCrossEntropy(), new KLDivergence() }.Select(l => l.Name));
        var error = Assert.Throws<ArgumentException>(() => Loss.Get("hinge"));
        Assert.Contains("'hinge'", error.Message);
        Assert.Contains("kl_divergence", error.Message);
        Assert.Equal(1f, new Huber().Delta);
        Assert.Contains("Huber delta must be positive, not 0", Assert.Throws<ArgumentOutOfRangeException>(() => new Huber(0f)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Huber(-1f));
    }

    [Fact]
    public void Shape_guards_refuse_what_would_broadcast_silently()
    {
        // [N, 1] against [N] would broadcast to [N, N].
        Loss[] sameShape = [new MeanSquaredError(), new MeanAbsoluteError(), new Huber(), new BinaryCrossEntropy(), new CategoricalCrossEntropy(), new KLDivergence()];
        foreach (var loss in sameShape)
        {
            var error = Assert.Throws<ArgumentException>(() => loss.Compute(Tensor.Ones(4, 1), Tensor.Ones(4)));
            Assert.Contains("[4, 1]", error.Message);
            Assert.Contains("[4]", error.Message);
            Assert.Contains("same shape", error.Message);
        }
        foreach (var loss in sameShape.Append(new SparseCategoricalCrossEntropy()))
        {
            Assert.Contains("same number of samples", Assert.Throws<ArgumentException>(() => loss.Compute(Tensor.Ones(4, 2), Tensor.Ones(3, 2))).Message);
            Assert.Throws<ArgumentException>(() => loss.Compute(Tensor.Scalar(1f), Tensor.Ones(1)));
            Assert.Throws<ArgumentException>(() => loss.Compute(Tensor.Ones(1), Tensor.Scalar(1f)));
        }
        Assert.Throws<ArgumentNullException>(() => new MeanSquaredError().Compute(null!, Tensor.Ones(1)));
        Assert.Throws<ArgumentNullException>(() => new MeanSquaredError().Compute(Tensor.Ones(1), null!));
    }

    [Theory]
    [InlineData(-1f)]
    [InlineData(0.5f)]
    [InlineData(3f)]
    [InlineData(2.0001f)]
    public void Sparse_labels_must_be_class_indices(float label)
    {
        foreach (bool logits in new[] { false, true })
        {
            var error = Assert.Throws<ArgumentException>(() => new SparseCategoricalCrossEntropy(logits).Compute(Tensor.Ones(2, 3), Tensor.FromArray([0f, label])));
            Assert.Contains($"label {label} of sample 1", error.Message);
        }
        // Shapes: predictions must be [N, C]; labels [N] or [N, 1].
        foreach (bool logits in new[] { false, true })
        {
            var loss = new SparseCategoricalCrossEntropy(logits);
            Assert.Contains("predictions must be [N, classes], got [2, 3, 1]", Assert.Throws<ArgumentException>(() => loss.Compute(Tensor.Ones(2, 3, 1), Tensor.Zeros(2))).Message);
            Assert.Contains("labels must be [N] or [N, 1], got [2, 2]", Assert.Throws<ArgumentException>(() => loss.Compute(Tensor.Ones(2, 3), Tensor.Zeros(2, 2))).Message);
            Assert.Contains("labels must be [N] or [N, 1], got [2, 1, 1]", Assert.Throws<ArgumentException>(() => loss.Compute(Tensor.Ones(2, 3), Tensor.Zeros(2, 1, 1))).Message);
        }
        Assert.Equal(0f, new SparseCategoricalCrossEntropy().Compute(Tensor.FromArray([0f, 1f, 0f, 0f, 0f, 1f], 2, 3), Tensor.FromArray([1f, 2f])).Item(), 6);
    }
}
