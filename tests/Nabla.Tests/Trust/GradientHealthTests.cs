using Nabla.Callbacks;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Tests.Trust;

public class GradientHealthTests
{
    private static GradientHealth Train(string activation, string init, int depth = 10)
    {
        Generator.ManualSeed(1);
        var model = new Sequential(new Input(16));
        for (int i = 0; i < depth; i++) model.Add(new Dense(32, activation, kernelInitializer: init));
        model.Add(new Dense(1));
        model.Compile("mse", new SGD(0.01f));
        var g = new Generator(2);
        var health = new GradientHealth(every: 4);
        model.Fit(Tensor.RandN([128, 16], g), Tensor.RandN([128, 1], g), epochs: 1, batchSize: 16, verbose: 0, callbacks: [health]);
        return health;
    }

    [Fact]
    public void A_deep_sigmoid_network_is_flagged_as_vanishing_and_relu_with_he_init_is_not()
    {
        GradientHealth sigmoid = Train("sigmoid", "glorot_uniform");
        Assert.Contains(sigmoid.Warnings, w => w.StartsWith("Vanishing gradients") && w.Contains("layer dense "));
        GradientHealth relu = Train("relu", "he_uniform");
        Assert.Empty(relu.Warnings);
        // 11 layers measured at batches 1, 4 and 8.
        Assert.Equal(11 * 3, relu.Samples.Count);
        Assert.All(relu.Samples, s => Assert.InRange(s.UpdateRatio, 1e-6, 1));
    }

    [Fact]
    public void Exploding_gradients_are_flagged_and_the_plot_is_written()
    {
        Generator.ManualSeed(3);
        var model = new Sequential(new Dense(16, "relu", inputFeatures: 4, kernelInitializer: new Nabla.Initializers.RandomNormal(0, 5)),
            new Dense(16, "relu", kernelInitializer: new Nabla.Initializers.RandomNormal(0, 5)), new Dense(1));
        model.Compile("mse", new SGD(1e-6f));
        var g = new Generator(4);
        var log = new StringWriter();
        var health = new GradientHealth(every: 1, warnings: log);
        model.Fit(Tensor.RandN([32, 4], g) * 10f, Tensor.RandN([32, 1], g), epochs: 1, batchSize: 8, verbose: 0, callbacks: [health]);
        Assert.Contains(health.Warnings, w => w.StartsWith("Exploding gradients"));
        Assert.Contains("Exploding gradients", log.ToString());
        string path = Path.Combine(Path.GetTempPath(), $"nabla-health-{Guid.NewGuid():N}.svg");
        try
        {
            health.WriteSvg(path);
            string svg = File.ReadAllText(path);
            Assert.StartsWith("<svg", svg);
            Assert.Equal(3, svg.Split("<polyline").Length - 1);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
