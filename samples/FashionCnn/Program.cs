// A small CNN on Fashion-MNIST: dotnet run --project samples/FashionCnn -c Release [-- EPOCHS]
// Needs the data: bash scripts/install-data.sh (Debian's dataset-fashion-mnist), or the four
// IDX files in $NABLA_DATA/fashion-mnist; otherwise it is downloaded into ~/.cache/nabla.
using Nabla;
using Nabla.Data;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

int epochs = args.Length > 0 ? int.Parse(args[0]) : 3;
Generator.ManualSeed(42);
var (train, test) = FashionMnist.Load();

var model = new Sequential(
    new Conv2D(16, 3, padding: "same", activation: "relu", inputShape: [1, 28, 28]),
    new MaxPooling2D(2),
    new Conv2D(32, 3, padding: "same", activation: "relu"),
    new MaxPooling2D(2),
    new Flatten(),
    new Dense(128, "relu"),
    new Dropout(0.3f),
    new Dense(10));
model.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), new Adam(1e-3f), "accuracy");
model.Summary();
model.Fit(train.Images, train.Labels, epochs: epochs, batchSize: 64, validationSplit: 0.1f);
Console.WriteLine($"test accuracy: {model.Evaluate(test.Images, test.Labels)["accuracy"]:P2}");

// What the model thinks of the first five test images.
Tensor probabilities = model.Predict(test.Images.Slice(0, 0, 5)).Softmax();
for (int i = 0; i < 5; i++)
{
    int guess = (int)probabilities.Select(0, i).ArgMax().Item();
    Console.WriteLine($"image {i}: {FashionMnist.ClassNames[guess],-12} ({probabilities[i, guess]:P0}), truly {FashionMnist.ClassNames[(int)test.Labels[i]]}");
}
