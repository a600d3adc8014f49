using Nabla.Autograd;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;
using Nabla.Training;

namespace Nabla.Tests.Autograd;

/// <summary>A step scope recycles a training step's activations without changing what training computes.</summary>
public class StepScopeTests
{
    // Built lazily inside the first step: parameters and Adam's state are made in a scope. The
    // sizes (a batch of 61, layers of 251 and 127, 7 filters over 11 x 11 images) are this test's
    // alone: the storage pool is shared by the tests running beside it, which could otherwise take
    // or hand over arrays of these lengths and move the allocation figures (a flaky failure).
    private const int Batch = 61;

    private static Sequential Model(bool convolutional) => convolutional
        ? new Sequential(new Conv2D(7, 3, padding: 1, activation: "relu"), new MaxPooling2D(2), new Flatten(), new Dense(10))
        : new Sequential(new Dense(251, "relu"), new Dense(127, "tanh"), new Dense(10));

    private static float[] TrainSteps(bool convolutional, bool scoped, int steps, out long bytesPerStep)
    {
        Generator.ManualSeed(11);
        var model = Model(convolutional);
        var adam = new Adam(1e-2f);
        var g = new Generator(12);
        Tensor x = convolutional ? Tensor.RandN([Batch, 1, 11, 11], g) : Tensor.RandN([Batch, 97], g);
        var labels = new float[Batch];
        for (int i = 0; i < labels.Length; i++) labels[i] = g.NextInt(10);
        Tensor y = Tensor.FromArray(labels);
        var loss = new SparseCategoricalCrossEntropy(fromLogits: true);
        long before = 0;
        for (int s = 0; s < steps; s++)
        {
            if (s == 3) before = GC.GetAllocatedBytesForCurrentThread();
            StepScope scope = scoped ? Tensor.StepScope() : default;
            try
            {
                Tensor l = loss.Compute(model.Forward(x), y);
                if (s == 0) adam.Bind(model.Parameters());
                adam.ZeroGrad(setToNone: false);
                l.Backward();
                adam.Step();
            }
            finally
            {
                scope.Dispose();
            }
        }
        bytesPerStep = (GC.GetAllocatedBytesForCurrentThread() - before) / (steps - 3);
        return model.Parameters().SelectMany(p => p.Value.ToArray()).ToArray();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Scoped_steps_train_exactly_as_unscoped_ones_and_allocate_far_less(bool convolutional)
    {
        // Scoped, the ops write into reused storage holding the last step's values, so every
        // element they leave unwritten would show here.
        float[] plain = TrainSteps(convolutional, scoped: false, 12, out long plainBytes);
        float[] scoped = TrainSteps(convolutional, scoped: true, 12, out long scopedBytes);
        Assert.Equal(plain, scoped);
        // Unscoped, each step allocates its activations: 61 x (251 + 127 + 127 + 10) floats for the
        // MLP, 61 x 7 x 121 floats per map for the CNN, and more.
        Assert.True(plainBytes > 100_000, $"{plainBytes} bytes per unscoped step");
        Assert.True(scopedBytes * 4 < plainBytes, $"{scopedBytes} bytes per scoped step against {plainBytes}");
    }

    [Fact]
    public void A_transformer_block_step_reuses_its_copies_and_norm_statistics()
    {
        // Attention splits heads out of the fused projection and merges them back (reshapes that
        // must copy), and LayerNorm keeps each row's mean and 1 / std for its gradient: a scoped
        // step recycles all of them. Before, each step allocated the copies afresh (a Transformer
        // language model of 128 wide: 8 MB a step). Sizes no other test uses (batch 9, 61 steps, 92 wide).
        const int n = 9, t = 61, d = 92;
        long StepBytes(bool scoped, out float[] weights)
        {
            Generator.ManualSeed(17);
            var layer = new TransformerEncoderLayer(d, 4, feedForward: 36, dropout: 0f, activation: "gelu", normFirst: true, causal: true);
            var x = Tensor.RandN([n, t, d], new Generator(18));
            layer.EnsureBuilt([t, d]);
            var sgd = new SGD(0.01f, parameters: layer.Parameters());
            long before = 0;
            for (int s = 0; s < 8; s++)
            {
                if (s == 3) before = GC.GetAllocatedBytesForCurrentThread();
                StepScope scope = scoped ? Tensor.StepScope() : default;
                try
                {
                    sgd.ZeroGrad(setToNone: false);
                    var y = layer.Forward(x);
                    (y * y).Mean().Backward();
                    sgd.Step();
                }
                finally
                {
                    scope.Dispose();
                }
            }
            weights = layer.Parameters().SelectMany(p => p.Value.ToArray()).ToArray();
            return (GC.GetAllocatedBytesForCurrentThread() - before) / 5;
        }
        long plain = StepBytes(scoped: false, out float[] plainWeights);
        long scoped = StepBytes(scoped: true, out float[] scopedWeights);
        Assert.Equal(plainWeights, scopedWeights);
        // One activation of [9, 61, 92] is 202 032 bytes; an unscoped step makes more than ten.
        Assert.True(plain > 10 * n * t * d * 4, $"{plain} bytes per unscoped step");
        Assert.True(scoped < n * t * d * 4, $"{scoped} bytes per scoped step: less than one activation of {n * t * d * 4} bytes expected");
    }

    [Fact]
    public void Activations_are_reused_by_the_next_step_but_clones_and_leaves_are_not()
    {
        // Sizes no other test uses, so the pool's arrays of this length are this test's alone.
        var g = new Generator(13);
        var w = Tensor.Normal([64, 61], 0f, 0.1f, g).RequireGrad();
        var x = Tensor.Normal([37, 64], 0f, 1f, g);
        Tensor first, kept;
        float[] keptValues;
        using (Tensor.StepScope())
        {
            first = x.MatMul(w).Tanh();
            kept = first.Clone();
            keptValues = first.ToArray();
            first.Sum().Backward();
        }
        float[] grad = w.Grad!.ToArray();
        var later = new List<Tensor>();
        using (Tensor.StepScope())
        {
            for (int i = 0; i < 3; i++)
            {
                Tensor product = (x * (i + 2f)).MatMul(w);
                later.Add(product);
                later.Add(product.Tanh());
            }
        }
        Assert.Contains(later, t => ReferenceEquals(t.Storage, first.Storage));
        Assert.Equal(keptValues, kept.ToArray());
        Assert.Equal(grad, w.Grad!.ToArray());
    }

    [Fact]
    public void Only_the_outermost_scope_returns_storage()
    {
        var g = new Generator(14);
        var w = Tensor.Normal([64, 64], 0f, 0.1f, g).RequireGrad();
        Tensor inner;
        using (Tensor.StepScope())
        {
            using (Tensor.StepScope())
            {
                inner = w.Tanh();
            }
            float[] values = inner.ToArray();
            Tensor other = w.Sigmoid();
            Assert.NotSame(inner.Storage, other.Storage);
            Assert.Equal(values, inner.ToArray());
        }
    }

    [Fact]
    public void TrainOnBatch_is_one_step_of_fit_and_returns_the_loss_before_the_update()
    {
        var g = new Generator(15);
        Tensor x = Tensor.RandN([16, 5], g), y = Tensor.RandN([16, 1], g);
        Generator.ManualSeed(16);
        var a = new Sequential(new Dense(8, "tanh", inputFeatures: 5), new Dense(1));
        a.Compile(new MeanSquaredError(), new SGD(0.1f));
        Generator.ManualSeed(16);
        var b = new Sequential(new Dense(8, "tanh", inputFeatures: 5), new Dense(1));
        b.Compile(new MeanSquaredError(), new SGD(0.1f));
        float before = a.Evaluate(x, y)["loss"];
        float reported = a.TrainOnBatch(x, y);
        b.Fit(x, y, epochs: 1, batchSize: 16, shuffle: false, verbose: 0);
        Assert.Equal(before, reported, 5);
        Assert.True(a.Evaluate(x, y)["loss"] < before);
        Assert.Equal(b.Parameters().SelectMany(p => p.Value.ToArray()), a.Parameters().SelectMany(p => p.Value.ToArray()));
    }
}
