// XOR three ways: dotnet run --project samples/Xor
//   1. the textbook 2-2-1 network, written neuron by neuron with tensors and trained by plain
//      gradient descent, with the recipe courses often start from (no biases, weights in [0, 1),
//      sigmoid everywhere, squared error) -- it gets stuck at loss 0.25 with outputs near 0.5;
//   2. the same code as a 2-4-1 network with biases, tanh hidden units, Glorot-scaled weights and
//      cross-entropy -- it learns;
//   3. the Keras way: Sequential([Dense(4, relu), Dense(1, sigmoid)]), binary cross-entropy, Adam.
using Nabla;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

var x = Tensor.FromArray([0f, 0f, 0f, 1f, 1f, 0f, 1f, 1f], 4, 2);
var y = Tensor.FromArray([0f, 1f, 1f, 0f], 4, 1);

Textbook("2-2-1, naive recipe", hidden: 2, biases: false, naive: true, learningRate: 0.1f, epochs: 2000);
Textbook("2-4-1, fixed recipe", hidden: 4, biases: true, naive: false, learningRate: 0.5f, epochs: 2000);
KerasStyle();

void Textbook(string title, int hidden, bool biases, bool naive, float learningRate, int epochs)
{
    Console.WriteLine($"== {title}");
    var g = new Generator(1);
    // Weights: uniform in [0, 1) (naive) or in +-sqrt(6 / (fanIn + fanOut)) (Glorot).
    Tensor W(int inputs, int outputs) => naive
        ? Tensor.Uniform([inputs, outputs], 0f, 1f, g).RequireGrad()
        : Tensor.Uniform([inputs, outputs], -MathF.Sqrt(6f / (inputs + outputs)), MathF.Sqrt(6f / (inputs + outputs)), g).RequireGrad();
    Tensor w1 = W(2, hidden), w2 = W(hidden, 1);
    Tensor b1 = Tensor.Zeros(hidden).RequireGrad(), b2 = Tensor.Zeros(1).RequireGrad();
    Tensor[] parameters = biases ? [w1, b1, w2, b2] : [w1, w2];

    Tensor Forward()
    {
        Tensor h = x.MatMul(w1);
        if (biases) h += b1;
        h = naive ? h.Sigmoid() : h.Tanh();
        Tensor o = h.MatMul(w2);
        if (biases) o += b2;
        return o.Sigmoid();
    }

    for (int epoch = 1; epoch <= epochs; epoch++)
    {
        Tensor p = Forward();
        Tensor loss = naive
            ? ((p - y) * (p - y)).Mean()                                              // squared error
            : -(y * p.Clamp(1e-7f, 1f).Log() + (1f - y) * (1f - p).Clamp(1e-7f, 1f).Log()).Mean(); // cross-entropy
        foreach (var t in parameters) t.ZeroGrad();
        loss.Backward();
        using (Tensor.NoGrad())
        {
            foreach (var t in parameters) t.SubInPlace(t.Grad! * learningRate);  // plain gradient descent
        }
        if (epoch == 1 || epoch % 500 == 0) Console.WriteLine($"  epoch {epoch,4}  loss {loss.Item():F4}");
    }
    Tensor prediction;
    using (Tensor.NoGrad()) prediction = Forward();
    Console.WriteLine($"  predictions for 00, 01, 10, 11: {string.Join("  ", prediction.ToArray().Select(v => v.ToString("F3")))}");
}

void KerasStyle()
{
    Console.WriteLine("== Keras style: Dense(4, relu), Dense(1, sigmoid), binary cross-entropy, Adam");
    Generator.ManualSeed(3);
    var model = new Sequential(new Dense(4, "relu", inputFeatures: 2), new Dense(1, "sigmoid"));
    model.Compile(new BinaryCrossEntropy(), new Adam(0.05f), "accuracy");
    model.Summary();
    var history = model.Fit(x, y, epochs: 300, batchSize: 4, verbose: 0);
    for (int e = 0; e < 300; e += 75) Console.WriteLine($"  epoch {e + 1,4}  loss {history["loss"][e]:F4}");
    Console.WriteLine($"  epoch  300  loss {history["loss"][^1]:F4}  accuracy {history["accuracy"][^1]:F2}");
    Console.WriteLine($"  predictions for 00, 01, 10, 11: {string.Join("  ", model.Predict(x).ToArray().Select(v => v.ToString("F3")))}");
}
