using Nabla.Examples;

namespace Nabla.Cli;

/// <summary>
/// The default job: the textbook XOR networks, the recommended recipe with Keras-style training,
/// then two interleaved spirals with a progress bar, a model summary, the final figures and
/// the training curves and confusion matrix written as PNG.
/// </summary>
internal static class Tour
{
    public static int Run(TextWriter output)
    {
        output.WriteLine("Nabla tour 1/3: XOR the textbook way (plain gradient descent, custom training loop)");
        output.WriteLine();
        TextbookXor.Train(TextbookXor.Naive, seed: 1, output);
        output.WriteLine($"  learned XOR from {TextbookXor.CountLearned(TextbookXor.Naive, 20)} of 20 seeds: stuck near loss 0.25 with every output near 0.5.");
        output.WriteLine("  Without biases every neuron's boundary passes through the origin, and all-positive small weights");
        output.WriteLine("  start the sigmoids in a flat, nearly symmetric region where the gradients barely move them.");
        output.WriteLine();
        TextbookXor.Train(TextbookXor.Fixed, seed: 1, output);
        output.WriteLine($"  learned XOR from {TextbookXor.CountLearned(TextbookXor.Fixed, 20)} of 20 seeds.");
        output.WriteLine();
        output.WriteLine("Nabla tour 2/3: XOR the Keras way (Sequential, Compile, Fit, Adam)");
        var result = new XorExample().Run(new ExampleOptions(Verbose: 1), output);
        output.WriteLine(result.ToJson());
        output.WriteLine();
        Spirals(output);
        return 0;
    }

    /// <summary>Where the tour's pictures go, in the current folder.</summary>
    public const string PlotFolder = "nabla-tour";

    private static void Spirals(TextWriter output)
    {
        output.WriteLine("Nabla tour 3/3: two interleaved spirals, a problem no straight line can split (2-64-64-1 ReLU, Adam)");
        Generator.ManualSeed(42);
        var (x, y) = SpiralsExample.Generate(500, new Generator(42));
        Tensor xTrain = x.Slice(0, 0, 800), yTrain = y.Slice(0, 0, 800), xTest = x.Slice(0, 800), yTest = y.Slice(0, 800);
        var model = new Sequential(
            new Nabla.Layers.Dense(64, "relu", kernelInitializer: "he_uniform", inputFeatures: 2),
            new Nabla.Layers.Dense(64, "relu", kernelInitializer: "he_uniform"),
            new Nabla.Layers.Dense(1, "sigmoid"))
        { Name = "spirals" };
        model.Compile(new Nabla.Losses.BinaryCrossEntropy(), new Nabla.Optimizers.Adam(0.01f), "accuracy");
        Tables.Summary(model);
        const int epochs = 150;
        var history = SpectreProgress.Run("spirals: 800 training points, 200 held out", epochs,
            progress => model.Fit(xTrain, yTrain, epochs: epochs, batchSize: 32, validationData: (xTest, yTest), callbacks: [progress], verbose: 0));
        var test = model.Evaluate(xTest, yTest);
        Tables.Metrics([new("loss", history["loss"][^1]), new("val_loss", history["val_loss"][^1]), new("test_accuracy", test["accuracy"])]);
        float[] predicted = model.Predict(xTest).ToArray(), truth = yTest.ToArray();
        var confusion = new int[2, 2];
        for (int i = 0; i < truth.Length; i++) confusion[(int)truth[i], predicted[i] > 0.5f ? 1 : 0]++;
        Directory.CreateDirectory(PlotFolder);
        string curves = Path.Combine(PlotFolder, "spirals-curves.png"), matrix = Path.Combine(PlotFolder, "spirals-confusion.png");
        byte[] curvesPng = Charts.TrainingCurves(history, "spirals"), matrixPng = Charts.ConfusionMatrix(confusion, ["arm 0", "arm 1"], "spirals: held-out points");
        Nabla.IO.AtomicFile.Write(curves, s => s.Write(curvesPng));
        Nabla.IO.AtomicFile.Write(matrix, s => s.Write(matrixPng));
        output.WriteLine($"plots written: {Path.GetFullPath(curves)}, {Path.GetFullPath(matrix)}");
        output.WriteLine("next: nabla help (every command), nabla example sentiment, nabla train --csv your.csv --label COLUMN --report report.html");
    }
}
