using Nabla.Autograd;
using Nabla.Losses;

namespace Nabla.Tests.Losses;

public class LossTests
{
    private static readonly Tensor Pred = Tensor.FromArray([0.2f, 0.7f, 0.9f, 0.4f], 4, 1);
    private static readonly Tensor Target = Tensor.FromArray([0f, 1f, 1f, 0f], 4, 1);

    [Fact]
    public void Regression_losses_give_known_values()
    {
        // Errors 0.2, -0.3, -0.1, 0.4.
        Assert.Equal((0.04f + 0.09f + 0.01f + 0.16f) / 4, new MeanSquaredError().Compute(Pred, Target).Item(), 6);
        Assert.Equal((0.2f + 0.3f + 0.1f + 0.4f) / 4, new MeanAbsoluteError().Compute(Pred, Target).Item(), 6);
        Assert.Equal(0.3f, new MeanSquaredError(Reduction.Sum).Compute(Pred, Target).Item(), 6);
        Assert.Equal([4], new MeanSquaredError(Reduction.None).Compute(Pred, Target).Shape.ToArray());
        // Huber with delta 0.25: 0.5*0.04, 0.25*(0.3-0.125), 0.5*0.01, 0.25*(0.4-0.125).
        float huber = (0.02f + 0.25f * 0.175f + 0.005f + 0.25f * 0.275f) / 4;
        Assert.Equal(huber, new Huber(0.25f).Compute(Pred, Target).Item(), 6);
    }

    [Fact]
    public void Cross_entropies_give_known_values_from_probabilities_and_logits()
    {
        double bce = -(Math.Log(0.8) + Math.Log(0.7) + Math.Log(0.9) + Math.Log(0.6)) / 4;
        Assert.Equal(bce, new BinaryCrossEntropy().Compute(Pred, Target).Item(), 5);
        Tensor logits = (Pred / (1f - Pred)).Log();
        Assert.Equal(bce, new BinaryCrossEntropy(fromLogits: true).Compute(logits, Target).Item(), 5);
        // Extreme logits stay finite and exact.
        Tensor big = Tensor.FromArray([100f, -100f], 2, 1);
        Assert.Equal(100f, new BinaryCrossEntropy(fromLogits: true).Compute(big, Tensor.FromArray([0f, 1f], 2, 1)).Item(), 3);

        var scores = Tensor.FromArray([2f, 1f, 0.1f, 0.5f, 2.5f, 0.3f], 2, 3);
        var labels = Tensor.FromArray([0f, 2f]);
        var oneHot = Tensor.FromArray([1f, 0f, 0f, 0f, 0f, 1f], 2, 3);
        Tensor logp = scores.LogSoftmax();
        double expected = -(logp[0, 0] + logp[1, 2]) / 2.0;
        Assert.Equal(expected, new SparseCategoricalCrossEntropy(fromLogits: true).Compute(scores, labels).Item(), 5);
        Assert.Equal(expected, new CategoricalCrossEntropy(fromLogits: true).Compute(scores, oneHot).Item(), 5);
        Tensor probs = scores.Softmax();
        Assert.Equal(expected, new SparseCategoricalCrossEntropy().Compute(probs, labels.Unsqueeze(1)).Item(), 5);
        Assert.Equal(expected, new CategoricalCrossEntropy().Compute(probs, oneHot).Item(), 5);
        // KL(p || p) = 0; KL of one-hot against q is -log q of that class.
        Assert.Equal(0f, new KLDivergence().Compute(probs, probs).Item(), 5);
        Assert.Equal(expected, new KLDivergence().Compute(probs, oneHot).Item(), 4);
    }

    public static IEnumerable<object[]> GradientCases() =>
    [
        ["mse"], ["mae"], ["huber"], ["bce"], ["bce_logits"], ["cce"], ["cce_logits"], ["scce"], ["scce_logits"], ["kld"],
    ];

    [Theory]
    [MemberData(nameof(GradientCases))]
    public void Loss_gradients_match_finite_differences(string name)
    {
        var g = new Generator(11);
        Tensor Probs(int n, int c) => Tensor.RandN([n, c], g).Softmax();
        (Loss loss, Tensor pred, Tensor target) = name switch
        {
            "mse" => ((Loss)new MeanSquaredError(), Tensor.RandN([4, 3], g), Tensor.RandN([4, 3], g)),
            "mae" => (new MeanAbsoluteError(), Tensor.RandN([4, 3], g), Tensor.RandN([4, 3], g) + 5f),
            "huber" => (new Huber(0.7f), Tensor.FromArray([0.1f, -0.3f, 2f, -1.5f, 0.5f, 3f], 3, 2), Tensor.Zeros(3, 2)),
            "bce" => (new BinaryCrossEntropy(), Tensor.Uniform([5, 1], 0.1f, 0.9f, g), Tensor.FromArray([0f, 1f, 1f, 0f, 0.3f], 5, 1)),
            "bce_logits" => (new BinaryCrossEntropy(fromLogits: true), Tensor.RandN([5, 2], g) * 3f, Tensor.Rand([5, 2], g)),
            "cce" => (new CategoricalCrossEntropy(), Probs(3, 4), Probs(3, 4)),
            "cce_logits" => (new CategoricalCrossEntropy(fromLogits: true), Tensor.RandN([3, 4], g), Probs(3, 4)),
            "scce" => (new SparseCategoricalCrossEntropy(), Probs(4, 3), Tensor.FromArray([0f, 2f, 1f, 2f])),
            "scce_logits" => (new SparseCategoricalCrossEntropy(fromLogits: true), Tensor.RandN([4, 3], g), Tensor.FromArray([1f, 0f, 2f, 2f])),
            _ => (new KLDivergence(), Probs(3, 4), Probs(3, 4)),
        };
        // Loss gradients are 0.02-0.3 here: an absolute tolerance of 1e-3 (not the default 1e-2) still catches a rule that is off by a few percent.
        var result = GradCheck.Check(x => loss.Compute(x[0], target), [pred], atol: 1e-3);
        Assert.True(result.Passed, $"{name}: {result.Worst}");
    }

    [Fact]
    public void Bad_targets_are_named()
    {
        var sparse = new SparseCategoricalCrossEntropy(fromLogits: true);
        var ex = Assert.Throws<ArgumentException>(() => sparse.Compute(Tensor.Zeros(3, 4), Tensor.FromArray([0f, 4f, 1f])));
        Assert.Contains("label 4 of sample 1", ex.Message);
        Assert.Contains("[0, 4)", ex.Message);
        var ex2 = Assert.Throws<ArgumentException>(() => new MeanSquaredError().Compute(Tensor.Zeros(3, 1), Tensor.Zeros(4, 1)));
        Assert.Contains("[3, 1]", ex2.Message);
        Assert.Contains("[4, 1]", ex2.Message);
        Assert.Throws<ArgumentException>(() => new BinaryCrossEntropy().Compute(Tensor.Zeros(3, 1), Tensor.Zeros(3, 2)));
        Assert.Contains("binary_crossentropy", Assert.Throws<ArgumentException>(() => Loss.Get("bogus")).Message);
    }
}
