using Nabla.Data;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Examples;

/// <summary>The shared part of the Fashion-MNIST examples: load, train on the training set (10% held out for validation), report test figures.</summary>
public abstract class FashionExample : Example
{
    /// <summary>The default number of epochs.</summary>
    protected abstract int DefaultEpochs { get; }

    /// <summary>The model, uncompiled.</summary>
    protected abstract Sequential CreateModel();

    /// <summary>The optimizer.</summary>
    protected virtual Optimizer CreateOptimizer() => new Adam(1e-3f);

    /// <inheritdoc/>
    protected override ExampleResult Execute(ExampleOptions options, TextWriter log)
    {
        var (train, test) = FashionMnist.Load(options.DataPath);
        if (options.Limit is int limit && limit < train.Count) train = train.Take(limit);
        int epochs = options.Epochs ?? DefaultEpochs;
        Sequential model = CreateModel();
        model.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), CreateOptimizer(), "accuracy");
        if (options.Verbose > 0) model.Summary(log);
        log.WriteLine($"dataset: Fashion-MNIST from {FashionMnist.Find(options.DataPath)}, {train.Count} training images (last 10% for validation), {test.Count} test images, seed {options.Seed}");
        var history = model.Fit(train.Images, train.Labels, epochs: epochs, batchSize: 64, validationSplit: 0.1f, verbose: options.Verbose, output: log);
        var result = new ExampleResult(Name);
        var evaluation = model.Evaluate(test.Images, test.Labels, batchSize: 256);
        result.Metrics.Add("loss", history["loss"][^1]);
        result.Metrics.Add("accuracy", history["accuracy"][^1]);
        result.Metrics.Add("val_accuracy", history["val_accuracy"][^1]);
        result.Metrics.Add("test_loss", evaluation["loss"]);
        result.Metrics.Add("test_accuracy", evaluation["accuracy"]);
        result.Metrics.Add("epochs", history.Epochs);
        result.Metrics.Add("train_images", train.Count);
        return result;
    }
}

/// <summary>Fashion-MNIST with a dense network: 784-256-128-10, ReLU, dropout 0.2.</summary>
public sealed class FashionMlpExample : FashionExample
{
    /// <inheritdoc/>
    public override string Name => "fashion-mlp";

    /// <inheritdoc/>
    public override string Description => "Fashion-MNIST clothing images with a 784-256-128-10 dense network";

    /// <inheritdoc/>
    protected override int DefaultEpochs => 15;

    /// <inheritdoc/>
    protected override Sequential CreateModel() => new(
        new Input(1, 28, 28),
        new Flatten(),
        new Dense(256, "relu", kernelInitializer: "he_uniform"),
        new Dropout(0.2f),
        new Dense(128, "relu", kernelInitializer: "he_uniform"),
        new Dense(10))
    { Name = "fashion_mlp" };
}

/// <summary>Fashion-MNIST with a small CNN: two 3x3 convolutions (16 and 32 filters) with max pooling, then 128 dense units.</summary>
public sealed class FashionCnnExample : FashionExample
{
    /// <inheritdoc/>
    public override string Name => "fashion-cnn";

    /// <inheritdoc/>
    public override string Description => "Fashion-MNIST clothing images with a small convolutional network";

    /// <inheritdoc/>
    protected override int DefaultEpochs => 10;

    /// <inheritdoc/>
    protected override Sequential CreateModel() => new(
        new Conv2D(16, 3, padding: "same", activation: "relu", kernelInitializer: "he_uniform", inputShape: [1, 28, 28]),
        new MaxPooling2D(2),
        new Conv2D(32, 3, padding: "same", activation: "relu", kernelInitializer: "he_uniform"),
        new MaxPooling2D(2),
        new Flatten(),
        new Dense(128, "relu", kernelInitializer: "he_uniform"),
        new Dropout(0.3f),
        new Dense(10))
    { Name = "fashion_cnn" };
}
