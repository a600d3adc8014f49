using Nabla.Data;
using Nabla.Examples;

namespace Nabla.Tests.Data;

/// <summary>
/// On the real Fashion-MNIST, which .ci/run installs (Debian package dataset-fashion-mnist).
/// These fail with the loader's message, naming where it looked, when the data is missing.
/// </summary>
public class FashionMnistTests
{
    [Fact]
    public void The_real_dataset_has_the_documented_shape_and_balance()
    {
        var (train, test) = FashionMnist.Load();
        Assert.Equal([60000, 1, 28, 28], train.Images.Shape.ToArray());
        Assert.Equal([10000], test.Labels.Shape.ToArray());
        float[] labels = train.Labels.ToArray();
        for (int c = 0; c < 10; c++) Assert.Equal(6000, labels.Count(l => l == c));
        Assert.InRange(train.Images.Min().Item(), 0f, 0f);
        Assert.InRange(train.Images.Max().Item(), 1f, 1f);
    }

    [Fact]
    public void A_dense_network_learns_fashion_mnist_from_ten_thousand_images()
    {
        var result = new FashionMlpExample().Run(new ExampleOptions(Epochs: 2, Verbose: 0, Limit: 10000), TextWriter.Null);
        Assert.True(result["test_accuracy"] >= 0.80, result.ToJson());
    }

    [Fact]
    public void A_small_cnn_learns_fashion_mnist_from_three_thousand_images()
    {
        var result = new FashionCnnExample().Run(new ExampleOptions(Epochs: 1, Verbose: 0, Limit: 3000), TextWriter.Null);
        Assert.True(result["test_accuracy"] >= 0.65, result.ToJson());
    }

    [Fact]
    public void A_residual_cnn_built_with_the_functional_api_learns_fashion_mnist_from_three_thousand_images()
    {
        // One epoch of 47 steps with the learning rate decaying to zero: five times chance (0.1).
        // The full run (10 epochs, 60 000 images) reaches 92.8%; see README.
        var result = new FashionResNetExample().Run(new ExampleOptions(Epochs: 1, Verbose: 0, Limit: 3000), TextWriter.Null);
        Assert.True(result["test_accuracy"] >= 0.5, result.ToJson());
    }

    [Fact]
    public void Autoencoder_reconstructs_and_its_error_detects_other_classes()
    {
        var result = new AutoencoderExample().Run(new ExampleOptions(Epochs: 3, Verbose: 0, Limit: 20000), TextWriter.Null);
        // Predicting the mean pixel everywhere gives an MSE near 0.1; a working autoencoder gets far below.
        Assert.True(result["reconstruction_mse"] < 0.01, result.ToJson());
        Assert.True(result["anomaly_auc"] >= 0.9, result.ToJson());
    }
}
