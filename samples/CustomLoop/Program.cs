// A PyTorch-style training loop: dotnet run --project samples/CustomLoop
// The model is a Module with named parameters; the loop does forward, loss, backward and the
// optimizer step itself, over shuffled mini-batches of points on either side of a sine-shaped boundary.
using Nabla;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

Generator.ManualSeed(0);
var g = new Generator(1);
// Data: points in [-2, 2]^2, labelled by which side of the curve y = sin(3x) / 2 they fall.
int n = 512;
var xs = Tensor.Uniform([n, 2], -2f, 2f, g);
var labels = Tensor.FromArray(Enumerable.Range(0, n).Select(i => xs[i, 1] > MathF.Sin(3 * xs[i, 0]) / 2 ? 1f : 0f).ToArray());

var model = new Sequential(new Dense(32, "relu", inputFeatures: 2), new Dense(32, "relu"), new Dense(2));
foreach (var (name, p) in model.NamedParameters()) Console.WriteLine($"{name,-10} {p.Value.ShapeString}");

var loss = new SparseCategoricalCrossEntropy(fromLogits: true);
var optimizer = new AdamW(3e-3f, parameters: model.Parameters());
int batch = 64;
var order = Enumerable.Range(0, n).ToArray();
for (int epoch = 1; epoch <= 60; epoch++)
{
    g.Shuffle(order);
    double total = 0;
    for (int start = 0; start < n; start += batch)
    {
        var ids = Tensor.FromArray(order[start..Math.Min(n, start + batch)].Select(i => (float)i).ToArray());
        Tensor logits = model.Forward(xs.IndexSelect(0, ids));
        Tensor l = loss.Compute(logits, labels.IndexSelect(0, ids));
        optimizer.ZeroGrad();
        l.Backward();
        optimizer.Step();
        total += l.Item() * ids.Size;
    }
    if (epoch % 10 == 0)
    {
        float accuracy;
        using (Tensor.NoGrad()) accuracy = model.Forward(xs).ArgMax(1).Eq(labels).Mean().Item();
        Console.WriteLine($"epoch {epoch,3}  loss {total / n:F4}  accuracy {accuracy:P1}");
    }
}
