using Nabla.Metrics;

namespace Nabla.Tests.Metrics;

public class MetricTests
{
    [Fact]
    public void Accuracy_picks_binary_categorical_or_sparse_from_shapes()
    {
        var acc = new Accuracy();
        acc.Update(Tensor.FromArray([0.9f, 0.2f, 0.6f, 0.4f], 4, 1), Tensor.FromArray([1f, 0f, 0f, 0f], 4, 1));
        Assert.Equal(0.75f, acc.Result());
        acc.Reset();
        var probs = Tensor.FromArray([0.1f, 0.8f, 0.1f, 0.6f, 0.3f, 0.1f, 0.2f, 0.2f, 0.6f], 3, 3);
        acc.Update(probs, Tensor.FromArray([0f, 1f, 0f, 0f, 1f, 0f, 0f, 0f, 1f], 3, 3));
        Assert.Equal(2f / 3f, acc.Result(), 6);
        acc.Reset();
        acc.Update(probs, Tensor.FromArray([1f, 0f, 2f]));
        Assert.Equal(1f, acc.Result());
        acc.Update(probs, Tensor.FromArray([0f, 0f, 0f]));
        Assert.Equal(4f / 6f, acc.Result(), 6);
    }

    [Fact]
    public void Precision_recall_f1_from_a_confusion_matrix()
    {
        // TP = 2 (0.9, 0.8), FP = 1 (0.7), FN = 1 (0.3), TN = 1 (0.1).
        var p = Tensor.FromArray([0.9f, 0.8f, 0.7f, 0.3f, 0.1f]);
        var t = Tensor.FromArray([1f, 1f, 0f, 1f, 0f]);
        Metric[] metrics = [new Precision(), new Recall(), new F1Score()];
        foreach (var m in metrics) m.Update(p, t);
        Assert.Equal(2f / 3f, metrics[0].Result(), 6);
        Assert.Equal(2f / 3f, metrics[1].Result(), 6);
        Assert.Equal(2f / 3f, metrics[2].Result(), 6);
    }

    [Fact]
    public void Auc_counts_correctly_ordered_pairs()
    {
        var auc = new Auc();
        // Positives 0.9, 0.4; negatives 0.5, 0.1: pairs (0.9>0.5, 0.9>0.1, 0.4<0.5, 0.4>0.1) = 3/4.
        auc.Update(Tensor.FromArray([0.9f, 0.5f, 0.4f, 0.1f]), Tensor.FromArray([1f, 0f, 1f, 0f]));
        Assert.Equal(0.75f, auc.Result(), 6);
        // A tie between a positive and a negative counts half.
        Assert.Equal(0.5, Auc.RocAuc([0.3f, 0.3f], [1f, 0f]), 6);
    }

    [Fact]
    public void Regression_and_top_k_metrics()
    {
        var mae = new MeanAbsoluteErrorMetric();
        var mse = new MeanSquaredErrorMetric();
        var pred = Tensor.FromArray([1f, 2f, 3f], 3, 1);
        var target = Tensor.FromArray([2f, 2f, 1f], 3, 1);
        mae.Update(pred, target);
        mse.Update(pred, target);
        Assert.Equal(1f, mae.Result(), 6);
        Assert.Equal(5f / 3f, mse.Result(), 6);
        var top2 = new TopKAccuracy(2);
        var scores = Tensor.FromArray([0.5f, 0.3f, 0.2f, 0.1f, 0.2f, 0.7f], 2, 3);
        top2.Update(scores, Tensor.FromArray([1f, 0f]));
        Assert.Equal(0.5f, top2.Result());
        Assert.Equal("top_2_accuracy", top2.Name);
        foreach (string name in new[] { "accuracy", "precision", "recall", "f1", "auc", "mae", "mse", "top_k_accuracy" }) Assert.NotNull(Metric.Get(name));
    }
}
