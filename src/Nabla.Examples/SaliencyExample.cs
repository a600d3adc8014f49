using Nabla.Data;
using Nabla.Interpretability;
using Nabla.IO;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Examples;

/// <summary>
/// What a Fashion-MNIST CNN looks at: trains a small CNN, then renders, for the first eight test
/// images, the image (top row), its saliency map (middle) and its integrated-gradients map
/// (bottom), into nabla-saliency.png. Also checks integrated gradients' completeness: per image,
/// the attributions should add up to the change in the predicted class's score from a black image.
/// </summary>
public sealed class SaliencyExample : Example
{
    /// <summary>The image written, in the current folder.</summary>
    public const string OutputFile = "nabla-saliency.png";

    /// <inheritdoc/>
    public override string Name => "saliency";

    /// <inheritdoc/>
    public override string Description => "saliency and integrated gradients of a Fashion-MNIST CNN, rendered as an image";

    /// <inheritdoc/>
    protected override ExampleResult Execute(ExampleOptions options, TextWriter log)
    {
        var (train, test) = FashionMnist.Load(options.DataPath);
        train = train.Take(options.Limit ?? 20000);
        var model = new Sequential(
            new Conv2D(16, 3, padding: "same", activation: "relu", inputShape: [1, 28, 28]), new MaxPooling2D(2),
            new Conv2D(32, 3, padding: "same", activation: "relu"), new MaxPooling2D(2),
            new Flatten(), new Dense(64, "relu"), new Dense(10))
        { Name = "saliency_cnn" };
        model.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), new Adam(1e-3f), "accuracy");
        model.Fit(train.Images, train.Labels, epochs: options.Epochs ?? 2, batchSize: 64, verbose: options.Verbose, output: log, distributed: options.Distributed);
        float accuracy = model.Evaluate(test.Images, test.Labels, batchSize: 256)["accuracy"];

        Tensor images = test.Images.Slice(0, 0, 8);
        Tensor saliency = Attribution.Saliency(model, images);
        Tensor ig = Attribution.IntegratedGradients(model, images, steps: 32);

        // Completeness: sum of attributions against F(x) - F(black).
        Tensor fx, f0;
        using (Tensor.NoGrad())
        using (Module.InferenceScope())
        {
            fx = model.Forward(images);
            f0 = model.Forward(Tensor.ZerosLike(images));
        }
        double worst = 0;
        for (int i = 0; i < 8; i++)
        {
            int c = (int)fx.Select(0, i).ArgMax().Item();
            double change = fx[i, c] - f0[i, c];
            double sum = ig.Select(0, i).Sum().Item();
            worst = Math.Max(worst, Math.Abs(sum - change) / Math.Max(Math.Abs(change), 1e-6));
        }

        // One grid: 3 rows (image, saliency, |integrated gradients|) of 8 tiles, each map scaled to [0, 1].
        var grid = new float[3 * 28 * 8 * 28];
        Tensor[] rows = [images, Normalize(saliency), Normalize(ig.Abs())];
        for (int r = 0; r < 3; r++)
        {
            for (int i = 0; i < 8; i++)
            {
                float[] tile = rows[r].Select(0, i).ToArray();
                for (int y = 0; y < 28; y++)
                {
                    for (int x = 0; x < 28; x++) grid[(r * 28 + y) * 8 * 28 + i * 28 + x] = tile[y * 28 + x];
                }
            }
        }
        Png.WriteGrey(OutputFile, Tensor.FromArray(grid, 3 * 28, 8 * 28));
        log.WriteLine($"wrote {Path.GetFullPath(OutputFile)}: rows are the test images, their saliency, their integrated gradients");
        var result = new ExampleResult(Name);
        result.Metrics.Add("test_accuracy", accuracy);
        result.Metrics.Add("ig_completeness_error", worst);
        return result;
    }

    /// <summary>Each image scaled so its largest value is 1.</summary>
    private static Tensor Normalize(Tensor maps) => maps / (maps.Max([1, 2, 3], keepDim: true) + 1e-12f);
}
