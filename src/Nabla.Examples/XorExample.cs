using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Examples;

/// <summary>
/// XOR with the recommended recipe: Dense(8, tanh) then Dense(1, sigmoid), binary
/// cross-entropy, Adam with learning rate 0.05, the four rows as one batch.
/// </summary>
public sealed class XorExample : Example
{
    /// <inheritdoc/>
    public override string Name => "xor";

    /// <inheritdoc/>
    public override string Description => "the XOR truth table with a 2-8-1 tanh/sigmoid network and Adam";

    /// <summary>The four inputs [4, 2].</summary>
    public static Tensor Inputs => Tensor.FromArray([0f, 0f, 0f, 1f, 1f, 0f, 1f, 1f], 4, 2);

    /// <summary>The four targets [4, 1].</summary>
    public static Tensor Targets => Tensor.FromArray([0f, 1f, 1f, 0f], 4, 1);

    /// <summary>The recommended XOR model, compiled.</summary>
    public static Sequential CreateModel()
    {
        var model = new Sequential(new Dense(8, "tanh", inputFeatures: 2), new Dense(1, "sigmoid")) { Name = "xor" };
        model.Compile(new BinaryCrossEntropy(), new Adam(0.05f), "accuracy");
        return model;
    }

    /// <inheritdoc/>
    protected override ExampleResult Execute(ExampleOptions options, TextWriter log)
    {
        int epochs = options.Epochs ?? 500;
        Sequential model = CreateModel();
        if (options.Verbose > 0) model.Summary(log);
        var history = model.Fit(Inputs, Targets, epochs: epochs, batchSize: 4, verbose: 0, distributed: options.Distributed);
        Tensor p = model.Predict(Inputs);
        if (options.Verbose > 0)
        {
            log.WriteLine($"after {epochs} epochs: loss {history["loss"][^1]:F5}");
            log.WriteLine(" x1 x2 | target | prediction");
            for (int i = 0; i < 4; i++)
                log.WriteLine($"  {Inputs[i, 0]:0}  {Inputs[i, 1]:0} |   {Targets[i, 0]:0}    |   {p[i, 0]:F4}");
        }
        var metrics = model.Evaluate(Inputs, Targets);
        var result = new ExampleResult(Name);
        result.Metrics.Add("loss", metrics["loss"]);
        result.Metrics.Add("accuracy", metrics["accuracy"]);
        result.Metrics.Add("epochs", epochs);
        return result;
    }
}
