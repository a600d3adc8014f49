using Nabla.Layers;

namespace Nabla.Tests.Layers;

/// <summary>
/// Batch normalization against its definition computed here: batch statistics over every axis
/// but the channel one, a non-trivial scale and shift, epsilon and momentum away from their
/// defaults, the unbiased running variance, evaluation with the running statistics, and the guards.
/// </summary>
public class BatchNormalizationReferenceTests
{
    private static (float[] Mean, float[] Var) Statistics(float[] x, int n, int c, int spatial)
    {
        var mean = new float[c];
        var variance = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            double s = 0, s2 = 0;
            for (int i = 0; i < n; i++) for (int k = 0; k < spatial; k++) s += x[(i * c + ch) * spatial + k];
            double m = s / (n * spatial);
            for (int i = 0; i < n; i++) for (int k = 0; k < spatial; k++) s2 += Math.Pow(x[(i * c + ch) * spatial + k] - m, 2);
            mean[ch] = (float)m;
            variance[ch] = (float)(s2 / (n * spatial));
        }
        return (mean, variance);
    }

    private static void Close(float[] expected, float[] actual, string what, float tolerance = 2e-5f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])), $"{what} element {i}: reference {expected[i]}, Nabla {actual[i]}");
    }

    [Theory]
    [InlineData(new[] { 3, 2, 2, 3 })]
    [InlineData(new[] { 5, 4 })]
    [InlineData(new[] { 2, 3, 4 })]
    public void Training_and_evaluation_follow_the_definition(int[] shape)
    {
        const float momentum = 0.8f, epsilon = 0.1f;
        int n = shape[0], c = shape[1], spatial = shape[2..].Aggregate(1, (a, b) => a * b);
        var bn = new BatchNormalization(momentum, epsilon);
        bn.EnsureBuilt(shape[1..]);
        float[] gamma = Enumerable.Range(0, c).Select(i => 0.5f + i).ToArray(), beta = Enumerable.Range(0, c).Select(i => i - 1f).ToArray();
        using (Tensor.NoGrad())
        {
            bn.Weight!.Value.CopyFrom(Tensor.FromArray(gamma));
            bn.Bias!.Value.CopyFrom(Tensor.FromArray(beta));
            bn.RunningMean!.CopyFrom(Tensor.FromArray(Enumerable.Range(0, c).Select(i => 0.25f * i).ToArray()));
            bn.RunningVar!.CopyFrom(Tensor.FromArray(Enumerable.Range(0, c).Select(i => 1.5f + i).ToArray()));
        }
        float[] runningMean = bn.RunningMean!.ToArray(), runningVar = bn.RunningVar!.ToArray();
        var g = new Generator(3);
        for (int step = 1; step <= 2; step++)
        {
            Tensor x = Tensor.RandN(shape, g) * 2f + 1f;
            float[] xv = x.ToArray();
            var (mean, variance) = Statistics(xv, n, c, spatial);
            var expected = new float[xv.Length];
            for (int i = 0; i < n; i++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    for (int k = 0; k < spatial; k++)
                    {
                        int at = (i * c + ch) * spatial + k;
                        expected[at] = (xv[at] - mean[ch]) / MathF.Sqrt(variance[ch] + epsilon) * gamma[ch] + beta[ch];
                    }
                }
            }
            Close(expected, bn.Forward(x).ToArray(), $"training step {step}");
            int count = n * spatial;
            for (int ch = 0; ch < c; ch++)
            {
                runningMean[ch] = momentum * runningMean[ch] + (1 - momentum) * mean[ch];
                runningVar[ch] = momentum * runningVar[ch] + (1 - momentum) * variance[ch] * count / (count - 1);
            }
            Close(runningMean, bn.RunningMean!.ToArray(), $"running mean after step {step}");
            Close(runningVar, bn.RunningVar!.ToArray(), $"running variance after step {step}");
            Assert.Equal(step, bn.StateDict()["num_batches_tracked"].Item());
        }
        bn.Eval();
        Tensor test = Tensor.RandN(shape, g);
        float[] tv = test.ToArray();
        var inference = new float[tv.Length];
        for (int i = 0; i < tv.Length; i++)
        {
            int ch = i / spatial % c;
            inference[i] = (tv[i] - runningMean[ch]) / MathF.Sqrt(runningVar[ch] + epsilon) * gamma[ch] + beta[ch];
        }
        Close(inference, bn.Forward(test).ToArray(), "evaluation");
        Assert.Equal(2f, bn.StateDict()["num_batches_tracked"].Item());
    }

    [Fact]
    public void Momentum_one_keeps_the_running_statistics_and_zero_replaces_them()
    {
        var keep = new BatchNormalization(momentum: 1f);
        var replace = new BatchNormalization(momentum: 0f);
        Tensor x = Tensor.FromArray([1f, 10f, 3f, 20f, 5f, 60f], 3, 2);
        keep.Forward(x);
        replace.Forward(x);
        Assert.Equal([0f, 0f], keep.RunningMean!.ToArray());
        Assert.Equal([1f, 1f], keep.RunningVar!.ToArray());
        Assert.Equal([3f, 30f], replace.RunningMean!.ToArray());
        Assert.Equal([4f, 700f], replace.RunningVar!.ToArray());
    }

    [Fact]
    public void Guards_name_the_layer_and_the_value()
    {
        Assert.Contains("momentum must be in [0, 1], not 1.5", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNormalization(1.5f)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNormalization(-0.1f));
        Assert.Contains("epsilon must be positive, not 0", Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNormalization(epsilon: 0f)).Message);
        var bn = new BatchNormalization(name: "bn");
        Assert.Contains("BatchNormalization 'bn' needs inputs [N, C]", Assert.Throws<ArgumentException>(() => bn.EnsureBuilt([])).Message);
        bn.EnsureBuilt([3, 4]);
        Assert.Contains("BatchNormalization 'bn' was built for 3 channels on axis 1, but got input of shape [2, 4, 4]",
            Assert.Throws<ArgumentException>(() => bn.Forward(Tensor.Ones(2, 4, 4))).Message);
        Assert.Contains("was built for 3 channels", Assert.Throws<ArgumentException>(() => bn.Forward(Tensor.Ones(2))).Message);
        Assert.Contains("needs more than one value per channel in training, got input of shape [1, 3, 1]",
            Assert.Throws<ArgumentException>(() => bn.Forward(Tensor.Ones(1, 3, 1))).Message);
        // Two values per channel are enough.
        Assert.Equal([2, 3, 1], bn.Forward(Tensor.RandN([2, 3, 1], new Generator(1))).Shape.ToArray());
    }
}
