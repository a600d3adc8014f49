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
    protected abstract Model CreateModel();

    /// <summary>The optimizer.</summary>
    protected virtual Optimizer CreateOptimizer() => new Adam(1e-3f);

    /// <summary>Trains on the images, the last 10% held out for validation, in batches of 64.</summary>
    protected virtual Nabla.Training.History Train(Model model, Tensor images, Tensor labels, int epochs, ExampleOptions options, TextWriter log) =>
        model.Fit(images, labels, epochs: epochs, batchSize: 64, validationSplit: 0.1f, verbose: options.Verbose, output: log, distributed: options.Distributed);

    /// <inheritdoc/>
    protected override ExampleResult Execute(ExampleOptions options, TextWriter log)
    {
        var (train, test) = FashionMnist.Load(options.DataPath);
        if (options.Limit is int limit && limit < train.Count) train = train.Take(limit);
        int epochs = options.Epochs ?? DefaultEpochs;
        Model model = CreateModel();
        model.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), CreateOptimizer(), "accuracy");
        if (options.Verbose > 0) model.Summary(log);
        log.WriteLine($"dataset: Fashion-MNIST from {FashionMnist.Find(options.DataPath)}, {train.Count} training images (last 10% for validation), {test.Count} test images, seed {options.Seed}");
        var history = Train(model, train.Images, train.Labels, epochs, options, log);
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
    protected override Model CreateModel() => new Sequential(
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
    protected override Model CreateModel() => Build(1, 28, 28, 10);

    /// <summary>
    /// The network for images of [<paramref name="channels"/>, <paramref name="height"/>,
    /// <paramref name="width"/>] in <paramref name="classes"/> classes (logits out), after the given
    /// <paramref name="preprocessing"/> layers (augmentation); <c>nabla train --images</c> uses it too.
    /// </summary>
    public static Sequential Build(int channels, int height, int width, int classes, IEnumerable<Layer>? preprocessing = null)
    {
        var model = new Sequential(new Input(channels, height, width)) { Name = "fashion_cnn" };
        foreach (var layer in preprocessing ?? []) model.Add(layer);
        model.Add(new Conv2D(16, 3, padding: "same", activation: "relu", kernelInitializer: "he_uniform"));
        model.Add(new MaxPooling2D(2));
        model.Add(new Conv2D(32, 3, padding: "same", activation: "relu", kernelInitializer: "he_uniform"));
        model.Add(new MaxPooling2D(2));
        model.Add(new Flatten());
        model.Add(new Dense(128, "relu", kernelInitializer: "he_uniform"));
        model.Add(new Dropout(0.3f));
        model.Add(new Dense(classes));
        return model;
    }
}

/// <summary>
/// Fashion-MNIST with a small residual network built with the functional API: convolutions with
/// batch normalisation, two residual blocks whose skip connections join through <see cref="Add"/>
/// (He et al., 2016, the basic block), max pooling between stages, then 128 dense units.
/// </summary>
public sealed class FashionResNetExample : FashionExample
{
    /// <inheritdoc/>
    public override string Name => "fashion-resnet";

    /// <inheritdoc/>
    public override string Description => "Fashion-MNIST with a residual CNN (functional API, skip connections through Add)";

    /// <inheritdoc/>
    protected override int DefaultEpochs => 10;

    /// <inheritdoc/>
    protected override Optimizer CreateOptimizer() => new AdamW(2e-3f, weightDecay: 1e-4f);

    /// <summary>
    /// Trains on the first 90% of the images, each mirrored left-right with probability 1/2 as its
    /// batch is made (a streaming <see cref="IDataset"/>: the next batch is prepared in the
    /// background while the current one trains), the learning rate following a cosine from 2e-3
    /// to zero over the run; the last 10% validate.
    /// </summary>
    protected override Nabla.Training.History Train(Model model, Tensor images, Tensor labels, int epochs, ExampleOptions options, TextWriter log)
    {
        int n = images.Shape[0], nVal = n / 10;
        var training = new MirroredImages(images.Slice(0, 0, n - nVal), labels.Slice(0, 0, n - nVal), options.Seed);
        var validation = new TensorDataset(images.Slice(0, n - nVal), labels.Slice(0, n - nVal));
        int steps = (training.Count + 63) / 64 * epochs;
        model.Optimizer!.Schedule = new CosineDecay(2e-3f, steps);
        return model.Fit(training, epochs: epochs, batchSize: 64, validationData: validation, verbose: options.Verbose, output: log, distributed: options.Distributed);
    }

    /// <summary>Images [N, C, H, W] with labels, each image mirrored left-right with probability 1/2 each time it is drawn.</summary>
    private sealed class MirroredImages(Tensor images, Tensor labels, ulong seed) : IDataset
    {
        private readonly TensorDataset _data = new(images, labels);
        private readonly Generator _coin = new(seed);

        public int Count => _data.Count;

        public DataBatch Batch(ReadOnlySpan<int> indices)
        {
            var (x, y) = _data.Batch(indices);
            float[] pixels = x.ToArray();
            int width = x.Shape[^1], perImage = x.Size / Math.Max(1, x.Shape[0]);
            for (int i = 0; i < x.Shape[0]; i++)
            {
                if (_coin.NextFloat() >= 0.5f) continue;
                for (int row = i * perImage; row < (i + 1) * perImage; row += width) Array.Reverse(pixels, row, width);
            }
            return (Tensor.FromArray(pixels, x.Shape.ToArray()), y);
        }
    }

    /// <summary>A 3x3 convolution without bias, batch normalisation and, optionally, ReLU.</summary>
    private static SymbolicTensor ConvBn(SymbolicTensor x, int filters, bool relu)
    {
        var y = new BatchNormalization().Apply(new Conv2D(filters, 3, padding: "same", useBias: false, kernelInitializer: "he_uniform").Apply(x));
        return relu ? new Activation("relu").Apply(y) : y;
    }

    /// <summary>The basic residual block: relu(x + bn(conv(relu(bn(conv(x)))))).</summary>
    private static SymbolicTensor Block(SymbolicTensor x, int filters) =>
        new Activation("relu").Apply(new Add().Apply(ConvBn(ConvBn(x, filters, relu: true), filters, relu: false), x));

    /// <inheritdoc/>
    protected override Model CreateModel()
    {
        var image = new Input("image", 1, 28, 28);
        var x = new MaxPooling2D(2).Apply(ConvBn(image, 32, relu: true));   // 32 x 14 x 14
        x = new MaxPooling2D(2).Apply(Block(x, 32));                        // 32 x 7 x 7
        x = Block(ConvBn(x, 64, relu: true), 64);                           // 64 x 7 x 7
        x = new Dense(128, "relu", kernelInitializer: "he_uniform").Apply(new Flatten().Apply(x));
        return new Model(image, new Dense(10).Apply(new Dropout(0.3f).Apply(x)), "fashion_resnet");
    }
}
