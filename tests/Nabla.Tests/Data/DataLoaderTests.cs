using Nabla.Data;

namespace Nabla.Tests.Data;

public class DataLoaderTests
{
    private static TensorDataset Numbers(int n) =>
        new(Tensor.Arange(n).Reshape(n, 1), Tensor.Arange(n) * 10f);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Each_epoch_yields_every_sample_once_in_a_seeded_order(bool prefetch)
    {
        var loader = new DataLoader(Numbers(23), batchSize: 5, seed: 3, prefetch: prefetch);
        Assert.Equal(5, loader.Count);
        var epoch1 = loader.SelectMany(b => b.X.ToArray()).ToArray();
        var epoch2 = loader.SelectMany(b => b.X.ToArray()).ToArray();
        Assert.Equal(Enumerable.Range(0, 23).Select(i => (float)i), epoch1.Order());
        Assert.NotEqual(epoch1, epoch2); // reshuffled each epoch
        var again = new DataLoader(Numbers(23), batchSize: 5, seed: 3, prefetch: !prefetch);
        Assert.Equal(epoch1, again.SelectMany(b => b.X.ToArray()).ToArray()); // same seed, same order, prefetch or not
        foreach (var (x, y) in loader) Assert.Equal(x.ToArray().Select(v => v * 10f), y.ToArray()); // pairs stay together
    }

    [Fact]
    public void Drop_last_and_unshuffled_order()
    {
        var loader = new DataLoader(Numbers(23), batchSize: 5, shuffle: false, dropLast: true);
        var batches = loader.ToList();
        Assert.Equal(4, batches.Count);
        Assert.All(batches, b => Assert.Equal(5, b.X.Shape[0]));
        Assert.Equal([0f, 1f, 2f, 3f, 4f], batches[0].X.ToArray());
    }

    [Fact]
    public void Splits_partition_the_samples()
    {
        var parts = Numbers(100).Split(seed: 1, 0.7f, 0.2f);
        Assert.Equal([70, 20, 10], parts.Select(p => p.Count).ToArray());
        var all = parts.SelectMany(p => p.X.ToArray()).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (float)i), all);
        Assert.Throws<ArgumentException>(() => Numbers(10).Split(1, 0.8f, 0.5f));
        Assert.Contains("same number of samples", Assert.Throws<ArgumentException>(() => new TensorDataset(Tensor.Ones(3, 2), Tensor.Ones(4))).Message);
    }

    [Fact]
    public void Scaler_is_fitted_on_training_data_and_one_hot_encodes()
    {
        var train = Tensor.FromArray([1f, 10f, 3f, 10f], 2, 2);
        var scaler = StandardScaler.Fit(train);
        Assert.Equal([-1f, 0f, 1f, 0f], scaler.Transform(train).ToArray());
        // Test data uses the training statistics, not its own.
        Assert.Equal([3f, 0f], scaler.Transform(Tensor.FromArray([5f, 10f], 1, 2)).ToArray());
        Assert.Equal([5f, 10f], scaler.InverseTransform(Tensor.FromArray([3f, 0f], 1, 2)).ToArray());
        Assert.Equal([0f, 1f, 0f, 1f, 0f, 0f], OneHot.Encode(Tensor.FromArray([1f, 0f]), 3).ToArray());
        Assert.Throws<IndexOutOfRangeException>(() => OneHot.Encode(Tensor.FromArray([3f]), 3));
    }

    [Fact]
    public void A_custom_training_loop_over_a_loader_learns()
    {
        var g = new Generator(4);
        var x = Tensor.RandN([256, 3], g);
        var y = (x.Select(1, 0) - 2f * x.Select(1, 2)).Unsqueeze(1);
        Generator.ManualSeed(5);
        var model = new Sequential(new Nabla.Layers.Dense(1, inputFeatures: 3));
        var optimizer = new Nabla.Optimizers.Adam(0.05f, parameters: model.Parameters());
        var loss = new Nabla.Losses.MeanSquaredError();
        var loader = new DataLoader(new TensorDataset(x, y), batchSize: 32, seed: 6);
        for (int epoch = 0; epoch < 30; epoch++)
        {
            foreach (var (xb, yb) in loader)
            {
                optimizer.ZeroGrad();
                loss.Compute(model.Forward(xb), yb).Backward();
                optimizer.Step();
            }
        }
        Assert.True(loss.Compute(model.Predict(x), y).Item() < 1e-3);
    }
}
