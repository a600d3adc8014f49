using Nabla.Initializers;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Examples;

/// <summary>
/// The XOR networks of the textbooks, trained by plain full-batch gradient descent in a
/// custom loop (PyTorch style). The naive recipe (2-2-1 sigmoid neurons, no biases, weights
/// uniform in [0, 1), mean squared error) gets stuck near loss 0.25 with outputs near 0.5;
/// the fixed recipe (2-4-1, biases, Glorot-initialised tanh hidden layer, sigmoid output,
/// binary cross-entropy) learns it.
/// </summary>
public static class TextbookXor
{
    /// <summary>A recipe for a one-hidden-layer network.</summary>
    /// <param name="Title">What to call it in the output.</param>
    /// <param name="Hidden">Hidden units.</param>
    /// <param name="UseBias">Whether neurons have biases.</param>
    /// <param name="Init">Weight initializer.</param>
    /// <param name="HiddenActivation">Activation of the hidden layer.</param>
    /// <param name="Loss">Loss function.</param>
    /// <param name="LearningRate">Gradient-descent step size.</param>
    /// <param name="Epochs">Full-batch steps.</param>
    public sealed record Recipe(string Title, int Hidden, bool UseBias, Initializer Init, string HiddenActivation, Loss Loss, float LearningRate, int Epochs);

    /// <summary>The recipe courses start with, which fails.</summary>
    public static Recipe Naive { get; } = new("naive 2-2-1: sigmoid, no biases, uniform [0, 1) weights, MSE, lr 0.1", 2, false,
        new RandomUniform(0f, 1f), "sigmoid", new MeanSquaredError(), 0.1f, 2000);

    /// <summary>The recipe that works.</summary>
    public static Recipe Fixed { get; } = new("fixed 2-4-1: tanh hidden layer with biases, Glorot init, sigmoid output, cross-entropy, lr 0.5", 4, true,
        new GlorotUniform(), "tanh", new BinaryCrossEntropy(), 0.5f, 2000);

    /// <summary>Trains a recipe from <paramref name="seed"/>; returns the final loss and the four predictions.</summary>
    public static (float Loss, float[] Predictions) Train(Recipe recipe, ulong seed, TextWriter log)
    {
        Generator.ManualSeed(seed);
        var model = new Sequential(
            new Dense(recipe.Hidden, recipe.HiddenActivation, recipe.UseBias, recipe.Init, inputFeatures: 2),
            new Dense(1, "sigmoid", recipe.UseBias, recipe.Init));
        var optimizer = new SGD(recipe.LearningRate, parameters: model.Parameters());
        Tensor x = XorExample.Inputs, y = XorExample.Targets;
        log.WriteLine(recipe.Title);
        float loss = float.NaN;
        for (int epoch = 1; epoch <= recipe.Epochs; epoch++)
        {
            optimizer.ZeroGrad();
            Tensor l = recipe.Loss.Compute(model.Forward(x), y);
            l.Backward();
            optimizer.Step();
            loss = l.Item();
            if (epoch == 1 || epoch % (recipe.Epochs / 4) == 0) log.WriteLine($"  epoch {epoch,5}  loss {loss:F4}");
        }
        float[] p = model.Predict(x).ToArray();
        log.WriteLine("  predictions for (0,0) (0,1) (1,0) (1,1): " + string.Join("  ", p.Select(v => v.ToString("F3", System.Globalization.CultureInfo.InvariantCulture))));
        log.WriteLine($"  {Correct(p)}/4 correct");
        return (loss, p);
    }

    /// <summary>How many of the four XOR predictions fall on the right side of 0.5.</summary>
    public static int Correct(float[] predictions)
    {
        float[] targets = XorExample.Targets.ToArray();
        return predictions.Select((v, i) => (v > 0.5f) == (targets[i] > 0.5f) ? 1 : 0).Sum();
    }

    /// <summary>Trains a recipe from seeds 1..<paramref name="seeds"/> and counts the runs that learned XOR (all four right, loss below 0.05).</summary>
    public static int CountLearned(Recipe recipe, int seeds)
    {
        int learned = 0;
        for (int s = 1; s <= seeds; s++)
        {
            var (loss, p) = Train(recipe, (ulong)s, TextWriter.Null);
            if (Correct(p) == 4 && loss < 0.05f) learned++;
        }
        return learned;
    }
}
