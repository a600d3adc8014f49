using Nabla.Interpretability;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Tests.Trust;

public class AttributionTests
{
    [Fact]
    public void Saliency_is_the_input_gradient_of_the_explained_output()
    {
        // f(x) = w . x + b: the gradient is w for every sample.
        var model = new Sequential(new Dense(1, inputFeatures: 3));
        using (Tensor.NoGrad()) ((Dense)model.Layers[0]).Weight!.Value.CopyFrom(Tensor.FromArray([0.5f, -2f, 1f], 1, 3));
        Tensor s = Attribution.Saliency(model, Tensor.RandN([4, 3], new Generator(1)), absolute: false);
        for (int i = 0; i < 4; i++) Assert.Equal([0.5f, -2f, 1f], s.Select(0, i).ToArray());
        Assert.All(model.Parameters(), p => Assert.Null(p.Grad)); // the model is left untouched
    }

    [Fact]
    public void Integrated_gradients_add_up_to_the_output_difference_within_one_percent()
    {
        Generator.ManualSeed(2);
        var model = new Sequential(new Dense(16, "tanh", inputFeatures: 5), new Dense(16, "gelu"), new Dense(3));
        var x = Tensor.RandN([6, 5], new Generator(3)) * 2f;
        Tensor ig = Attribution.IntegratedGradients(model, x, steps: 64);
        Tensor fx, f0;
        using (Tensor.NoGrad())
        {
            fx = model.Forward(x);
            f0 = model.Forward(Tensor.ZerosLike(x));
        }
        int[] predicted = fx.ArgMax(1).ToArray().Select(v => (int)v).ToArray();
        for (int i = 0; i < 6; i++)
        {
            double sum = ig.Select(0, i).Sum().Item();
            double change = fx[i, predicted[i]] - f0[i, predicted[i]];
            Assert.True(Math.Abs(sum - change) <= 0.01 * Math.Abs(change) + 1e-4, $"sample {i}: attributions sum to {sum}, output changed by {change}");
        }
    }

    [Fact]
    public void Permutation_importance_finds_the_features_a_model_uses()
    {
        // y depends on features 0 and 2 only.
        var g = new Generator(4);
        var x = Tensor.RandN([400, 4], g);
        var y = (x.Select(1, 0) * 2f - x.Select(1, 2)).Unsqueeze(1);
        Generator.ManualSeed(5);
        var model = new Sequential(new Dense(16, "relu", inputFeatures: 4), new Dense(1));
        model.Compile("mse", new Adam(0.02f));
        model.Fit(x, y, epochs: 40, batchSize: 32, verbose: 0);
        float[] importance = Attribution.PermutationImportance(model, x, y, repeats: 3);
        Assert.True(importance[0] > 1f && importance[2] > 0.3f, string.Join(", ", importance));
        Assert.True(Math.Abs(importance[1]) < 0.1f && Math.Abs(importance[3]) < 0.1f, string.Join(", ", importance));
        Assert.True(importance[0] > importance[2]);
    }
}
