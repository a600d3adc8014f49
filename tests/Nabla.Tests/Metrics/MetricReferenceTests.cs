using Nabla.Metrics;

namespace Nabla.Tests.Metrics;

/// <summary>
/// Metrics on fixtures where each count differs from the others (TP, FP, FN, TN all distinct), so
/// that a formula using the wrong count gives a different number; streaming over several batches;
/// every name and alias; every guard.
/// </summary>
public class MetricReferenceTests
{
    // Scores and labels with TP = 3, FP = 1, FN = 2, TN = 4 at threshold 0.5; at 0.75, TP = 2, FP = 0, FN = 3, TN = 5.
    private static readonly float[] Scores = [0.9f, 0.8f, 0.6f, 0.7f, 0.4f, 0.2f, 0.1f, 0.3f, 0.45f, 0.05f];
    private static readonly float[] Labels = [1f, 1f, 1f, 0f, 1f, 1f, 0f, 0f, 0f, 0f];

    private static void Feed(Metric m, int split = 6)
    {
        // Two batches of different sizes, [N] then [N, 1]: the counts must add up across them.
        m.Update(Tensor.FromArray(Scores[..split]), Tensor.FromArray(Labels[..split]));
        m.Update(Tensor.FromArray(Scores[split..], Scores.Length - split, 1), Tensor.FromArray(Labels[split..], Labels.Length - split, 1));
    }

    [Fact]
    public void Precision_recall_and_f1_use_the_right_counts()
    {
        var precision = new Precision();
        var recall = new Recall();
        var f1 = new F1Score();
        foreach (var m in new Metric[] { precision, recall, f1 }) Feed(m);
        Assert.Equal(3f / 4f, precision.Result(), 6);
        Assert.Equal(3f / 5f, recall.Result(), 6);
        Assert.Equal(2f * 3 / (2 * 3 + 1 + 2), f1.Result(), 6);
        var strict = new Precision(0.75f);
        var strictRecall = new Recall(0.75f);
        Feed(strict);
        Feed(strictRecall);
        Assert.Equal(1f, strict.Result(), 6);
        Assert.Equal(2f / 5f, strictRecall.Result(), 6);
        Assert.Equal(0.75f, strict.Threshold);
        foreach (var m in new Metric[] { precision, recall, f1 })
        {
            m.Reset();
            Assert.Equal(0f, m.Result());
        }
        // A score exactly at the threshold is negative, and so is a label of exactly 0.5.
        recall.Update(Tensor.FromArray([0.5f]), Tensor.FromArray([1f]));
        Assert.Equal(0f, recall.Result());
        precision.Update(Tensor.FromArray([0.9f, 0.9f]), Tensor.FromArray([0.5f, 1f]));
        Assert.Equal(0.5f, precision.Result());
        // Samples must match, and outputs must be binary.
        Assert.Contains("precision: predictions [3] and targets [2] must have the same number of samples",
            Assert.Throws<ArgumentException>(() => precision.Update(Tensor.Ones(3), Tensor.Ones(2))).Message);
        Assert.Contains("recall is defined here for binary outputs [N] or [N, 1]; got predictions [2, 2]",
            Assert.Throws<ArgumentException>(() => recall.Update(Tensor.Ones(2, 2), Tensor.Ones(2))).Message);
        Assert.Contains("targets [2, 2]", Assert.Throws<ArgumentException>(() => recall.Update(Tensor.Ones(2), Tensor.Ones(2, 2))).Message);
    }

    [Fact]
    public void Accuracy_of_each_kind_with_its_threshold()
    {
        var binary = new Accuracy();
        Feed(binary);
        Assert.Equal(7f / 10f, binary.Result(), 6);
        Assert.Equal("accuracy", binary.Name);
        // A score exactly at the threshold is negative.
        var edge = new Accuracy();
        edge.Update(Tensor.FromArray([0.5f, 0.5f]), Tensor.FromArray([1f, 0f]));
        Assert.Equal(0.5f, edge.Result(), 6);
        var logits = new Accuracy(AccuracyKind.Binary, threshold: 0f);
        logits.Update(Tensor.FromArray([-1f, 0.5f, 0f, 2f]), Tensor.FromArray([0f, 1f, 1f, 0f]));
        Assert.Equal(0.5f, logits.Result(), 6);
        // Label 0.6 counts as positive (> 0.5), 0.5 as negative.
        var soft = new Accuracy(AccuracyKind.Binary);
        soft.Update(Tensor.FromArray([0.9f, 0.9f]), Tensor.FromArray([0.6f, 0.5f]));
        Assert.Equal(0.5f, soft.Result(), 6);

        var probs = Tensor.FromArray([0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f, 0.2f, 0.3f, 0.5f, 0.4f, 0.4f, 0.2f], 4, 3);
        var categorical = new Accuracy(AccuracyKind.Categorical);
        categorical.Update(probs, Tensor.FromArray([0f, 1f, 0f, 0f, 0f, 1f, 0f, 0f, 1f, 0f, 1f, 0f], 4, 3));
        Assert.Equal(0.5f, categorical.Result(), 6);
        var sparse = new Accuracy(AccuracyKind.SparseCategorical);
        sparse.Update(probs, Tensor.FromArray([1f, 0f, 2f, 2f], 4, 1));
        Assert.Equal(0.75f, sparse.Result(), 6);
        // Auto: one output is binary, same shape is categorical, else sparse.
        var auto = new Accuracy();
        auto.Update(probs, Tensor.FromArray([1f, 0f, 2f, 2f]));
        Assert.Equal(0.75f, auto.Result(), 6);
        auto.Reset();
        auto.Update(probs, Tensor.FromArray([0f, 1f, 0f, 0f, 0f, 1f, 0f, 0f, 1f, 0f, 1f, 0f], 4, 3));
        Assert.Equal(0.5f, auto.Result(), 6);
        Assert.Equal(0f, new Accuracy().Result());
        // Sequences: every step of [N, T, C] counts.
        var steps = new Accuracy(AccuracyKind.Categorical);
        steps.Update(Tensor.FromArray([0.9f, 0.1f, 0.2f, 0.8f, 0.6f, 0.4f, 0.3f, 0.7f, 0.1f, 0.9f, 0.5f, 0.4f], 2, 3, 2),
            Tensor.FromArray([1f, 0f, 1f, 0f, 1f, 0f, 0f, 1f, 0f, 1f, 0f, 1f], 2, 3, 2));
        Assert.Equal(4f / 6f, steps.Result(), 6);
        Assert.Contains("one-hot targets [2, 2]", Assert.Throws<ArgumentException>(() => steps.Update(Tensor.Ones(2, 3), Tensor.Ones(2, 2))).Message);
        Assert.Contains("accuracy: sparse labels must be [N] or [N, 1], got [4, 2] for predictions [4, 3]", Assert.Throws<ArgumentException>(() => sparse.Update(probs, Tensor.Zeros(4, 2))).Message);
        Assert.Contains("accuracy: predictions [4, 3] and targets [3] must have the same number of samples", Assert.Throws<ArgumentException>(() => sparse.Update(probs, Tensor.Zeros(3))).Message);
        Assert.Contains("same number of samples", Assert.Throws<ArgumentException>(() => sparse.Update(probs, Tensor.Scalar(0f))).Message);
        Assert.Throws<ArgumentException>(() => sparse.Update(Tensor.Scalar(1f), Tensor.Zeros(1)));
        Assert.Throws<ArgumentException>(() => new Accuracy(AccuracyKind.Binary).Update(probs, Tensor.Zeros(4)));
    }

    [Fact]
    public void Top_k_accuracy_looks_at_each_samples_own_row()
    {
        // Row 0: label 2 is the 3rd highest; row 1: label 0 is the highest; row 2: label 1 is the 2nd.
        var scores = Tensor.FromArray([0.5f, 0.3f, 0.2f, 0.1f, 0.9f, 0.05f, 0.03f, 0.02f, 0.2f, 0.5f, 0.1f, 0.6f], 3, 4);
        var labels = Tensor.FromArray([2f, 0f, 1f]);
        var top1 = new TopKAccuracy(1);
        var top2 = new TopKAccuracy(2);
        var top3 = new TopKAccuracy(3);
        foreach (var m in new[] { top1, top2, top3 }) m.Update(scores, labels);
        Assert.Equal(1f / 3f, top1.Result(), 6);
        Assert.Equal(2f / 3f, top2.Result(), 6);
        Assert.Equal(1f, top3.Result(), 6);
        // One-hot targets give the same.
        var oneHot = new TopKAccuracy(2);
        oneHot.Update(scores, Tensor.FromArray([0f, 0f, 1f, 0f, 1f, 0f, 0f, 0f, 0f, 1f, 0f, 0f], 3, 4));
        Assert.Equal(2f / 3f, oneHot.Result(), 6);
        Assert.Equal("top_3_accuracy", top3.Name);
        top2.Reset();
        Assert.Equal(0f, top2.Result());
        Assert.Contains("TopKAccuracy k must be at least 1, not 0", Assert.Throws<ArgumentOutOfRangeException>(() => new TopKAccuracy(0)).Message);
        Assert.Contains("top_1_accuracy: label 4 of sample 1 is outside [0, 4)", Assert.Throws<ArgumentException>(() => top1.Update(scores, Tensor.FromArray([0f, 4f, 1f]))).Message);
        Assert.Contains("label -1 of sample 1 is outside [0, 4)", Assert.Throws<ArgumentException>(() => top1.Update(scores, Tensor.FromArray([0f, -1f, 1f]))).Message);
        Assert.Contains("top_1_accuracy: predictions must be [N, classes], got [3, 4, 1]", Assert.Throws<ArgumentException>(() => top1.Update(Tensor.Ones(3, 4, 1), labels)).Message);
        Assert.Contains("top_1_accuracy: labels [3, 2] do not match predictions [3, 4]", Assert.Throws<ArgumentException>(() => top1.Update(scores, Tensor.Zeros(3, 2))).Message);
        Assert.Contains("must have the same number of samples", Assert.Throws<ArgumentException>(() => top1.Update(scores, Tensor.Zeros(2))).Message);
    }

    [Fact]
    public void Auc_is_the_rank_statistic_with_ties_counting_half()
    {
        var auc = new Auc();
        Feed(auc);
        // Count positive/negative pairs by hand: P(score_pos > score_neg) + 0.5 P(tie).
        double pairs = 0, wins = 0;
        for (int i = 0; i < Scores.Length; i++)
        {
            for (int j = 0; j < Scores.Length; j++)
            {
                if (Labels[i] != 1f || Labels[j] != 0f) continue;
                pairs++;
                wins += Scores[i] > Scores[j] ? 1 : Scores[i] == Scores[j] ? 0.5 : 0;
            }
        }
        Assert.Equal(wins / pairs, auc.Result(), 5);
        Assert.Equal(0.25, Auc.RocAuc([0.2f, 0.2f, 0.2f, 0.9f], [1f, 0f, 1f, 0f]), 6);
        Assert.Equal(0.75, Auc.RocAuc([0.3f, 0.1f, 0.3f, 0.3f], [1f, 0f, 0f, 1f]), 6);
        Assert.True(double.IsNaN(Auc.RocAuc([0.1f, 0.2f], [1f, 1f])));
        Assert.True(double.IsNaN(Auc.RocAuc([0.1f, 0.2f], [0f, 0f])));
        // A label of exactly 0.5 is a negative.
        Assert.Equal(1.0, Auc.RocAuc([0.9f, 0.1f], [1f, 0.5f]), 6);
        Assert.Equal("auc", auc.Name);
        auc.Reset();
        auc.Update(Tensor.FromArray([0.1f, 0.9f]), Tensor.FromArray([0f, 1f]));
        Assert.Equal(1f, auc.Result());
    }

    [Fact]
    public void Mean_errors_stream_over_batches_of_any_shape()
    {
        var mae = new MeanAbsoluteErrorMetric();
        var mse = new MeanSquaredErrorMetric();
        foreach (var m in new Metric[] { mae, mse })
        {
            m.Update(Tensor.FromArray([1f, -2f, 3f, 0.5f], 2, 2), Tensor.FromArray([0f, 1f, 3f, -0.5f], 2, 2));
            m.Update(Tensor.FromArray([4f], 1, 1), Tensor.FromArray([2f], 1, 1));
        }
        Assert.Equal((1 + 3 + 0 + 1 + 2) / 5f, mae.Result(), 6);
        Assert.Equal((1 + 9 + 0 + 1 + 4) / 5f, mse.Result(), 6);
        Assert.Contains("mae: predictions [2, 1] and targets [2] must have the same shape", Assert.Throws<ArgumentException>(() => mae.Update(Tensor.Ones(2, 1), Tensor.Ones(2))).Message);
        Assert.Contains("mse: predictions", Assert.Throws<ArgumentException>(() => mse.Update(Tensor.Ones(2, 1), Tensor.Ones(2))).Message);
        mae.Reset();
        Assert.Equal(0f, mae.Result());
        Assert.Equal("mae: 0", mae.ToString());
    }

    [Theory]
    [InlineData("accuracy", typeof(Accuracy), "accuracy")]
    [InlineData("acc", typeof(Accuracy), "accuracy")]
    [InlineData("precision", typeof(Precision), "precision")]
    [InlineData("recall", typeof(Recall), "recall")]
    [InlineData("f1", typeof(F1Score), "f1")]
    [InlineData("f1_score", typeof(F1Score), "f1")]
    [InlineData("AUC", typeof(Auc), "auc")]
    [InlineData("mae", typeof(MeanAbsoluteErrorMetric), "mae")]
    [InlineData("mean_absolute_error", typeof(MeanAbsoluteErrorMetric), "mae")]
    [InlineData("mse", typeof(MeanSquaredErrorMetric), "mse")]
    [InlineData("mean_squared_error", typeof(MeanSquaredErrorMetric), "mse")]
    [InlineData("top_k_accuracy", typeof(TopKAccuracy), "top_5_accuracy")]
    [InlineData("top_k_categorical_accuracy", typeof(TopKAccuracy), "top_5_accuracy")]
    [InlineData("sparse_top_k_categorical_accuracy", typeof(TopKAccuracy), "top_5_accuracy")]
    public void Keras_names_and_aliases_give_the_metric(string name, Type type, string shownAs)
    {
        Metric m = name;
        Assert.IsType(type, m);
        Assert.Equal(shownAs, m.Name);
    }

    [Theory]
    [InlineData("binary_accuracy")]
    [InlineData("categorical_accuracy")]
    [InlineData("sparse_categorical_accuracy")]
    public void Named_accuracies_fix_their_kind(string name)
    {
        Metric m = name;
        var probs = Tensor.FromArray([0.2f, 0.8f, 0.6f, 0.4f], 2, 2);
        // The same predictions read three ways give three different answers.
        switch (name)
        {
            case "binary_accuracy":
                m.Update(Tensor.FromArray([0.7f, 0.2f]), Tensor.FromArray([1f, 1f]));
                Assert.Equal(0.5f, m.Result(), 6);
                break;
            case "categorical_accuracy":
                m.Update(probs, Tensor.FromArray([0f, 1f, 0f, 1f], 2, 2));
                Assert.Equal(0.5f, m.Result(), 6);
                break;
            default:
                m.Update(probs, Tensor.FromArray([1f, 0f]));
                Assert.Equal(1f, m.Result(), 6);
                Assert.Throws<ArgumentException>(() => m.Update(probs, Tensor.FromArray([0f, 1f, 0f, 1f], 2, 2)));
                break;
        }
        Assert.Contains("Unknown metric 'hamming'. Known: accuracy, binary_accuracy", Assert.Throws<ArgumentException>(() => Metric.Get("hamming")).Message);
    }
}
