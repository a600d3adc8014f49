using Nabla.Data;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Metrics;
using Nabla.Optimizers;

namespace Nabla.Examples;

/// <summary>
/// A convolutional autoencoder on Fashion-MNIST: two strided convolutions squeeze each image to
/// 8 x 7 x 7 numbers (a sixth of its pixels), two transposed convolutions rebuild it. Reports the
/// test reconstruction MSE; then, trained on one class only (trousers), it scores every test
/// image by its reconstruction error and reports the ROC AUC of that score for telling the
/// other nine classes (the anomalies) from trousers.
/// </summary>
public sealed class AutoencoderExample : Example
{
    /// <summary>The class the anomaly detector is trained on (1: Trouser).</summary>
    public const int NormalClass = 1;

    /// <inheritdoc/>
    public override string Name => "autoencoder";

    /// <inheritdoc/>
    public override string Description => "a convolutional autoencoder on Fashion-MNIST: reconstruction, and anomaly detection from one class";

    /// <summary>The autoencoder, compiled with MSE and Adam.</summary>
    public static Sequential CreateModel()
    {
        var model = new Sequential(
            new Input(1, 28, 28),
            new Conv2D(16, 3, strides: 2, padding: "same", activation: "relu"),
            new Conv2D(8, 3, strides: 2, padding: "same", activation: "relu"),
            new Conv2DTranspose(16, 3, strides: 2, padding: "same", activation: "relu"),
            new Conv2DTranspose(1, 3, strides: 2, padding: "same", activation: "sigmoid"))
        { Name = "autoencoder" };
        model.Compile(new MeanSquaredError(), new Adam(2e-3f));
        return model;
    }

    /// <inheritdoc/>
    protected override ExampleResult Execute(ExampleOptions options, TextWriter log)
    {
        var (train, test) = FashionMnist.Load(options.DataPath);
        if (options.Limit is int limit && limit < train.Count) train = train.Take(limit);
        int epochs = options.Epochs ?? 5;
        var result = new ExampleResult(Name);

        Sequential model = CreateModel();
        if (options.Verbose > 0) model.Summary(log);
        log.WriteLine($"dataset: Fashion-MNIST, {train.Count} training images, {test.Count} test images, seed {options.Seed}");
        model.Fit(train.Images, train.Images, epochs: epochs, batchSize: 64, verbose: options.Verbose, output: log, distributed: options.Distributed);
        result.Metrics.Add("reconstruction_mse", model.Evaluate(test.Images, test.Images, batchSize: 256)["loss"]);

        // Anomaly detection: learn only trousers, then score every test image by how badly it is rebuilt.
        float[] labels = train.Labels.ToArray();
        Tensor normalIds = Tensor.FromArray(Enumerable.Range(0, labels.Length).Where(i => labels[i] == NormalClass).Select(i => (float)i).ToArray());
        Tensor normal = train.Images.IndexSelect(0, normalIds);
        log.WriteLine($"anomaly detection: training on {normal.Shape[0]} images of class {NormalClass} ({FashionMnist.ClassNames[NormalClass]})");
        Sequential detector = CreateModel();
        detector.Fit(normal, normal, epochs: epochs * 2, batchSize: 64, verbose: options.Verbose, output: log, distributed: options.Distributed);
        Tensor scores = new MeanSquaredError(Reduction.None).Compute(detector.Predict(test.Images, batchSize: 256), test.Images);
        float[] anomalous = test.Labels.ToArray().Select(l => l == NormalClass ? 0f : 1f).ToArray();
        result.Metrics.Add("anomaly_auc", Auc.RocAuc(scores.ToArray(), anomalous));
        result.Metrics.Add("epochs", epochs);
        result.Metrics.Add("train_images", train.Count);
        return result;
    }
}
