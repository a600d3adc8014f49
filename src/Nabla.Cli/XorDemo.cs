

namespace Nabla.Cli;

/// <summary>
/// The default job: a 2-4-1 network (tanh hidden layer, sigmoid output, biases, Glorot-scaled
/// random weights) trained on XOR by full-batch gradient descent on binary cross-entropy,
/// written directly with tensors and autograd.
/// </summary>
internal static class XorDemo
{
    public static int Run(TextWriter output)
    {
        var x = Tensor.FromArray([0f, 0f, 0f, 1f, 1f, 0f, 1f, 1f], 4, 2);
        var y = Tensor.FromArray([0f, 1f, 1f, 0f], 4, 1);
        var gen = new Generator(42);
        Tensor w1 = Tensor.Uniform([2, 4], -1.1f, 1.1f, gen).RequireGrad();
        Tensor b1 = Tensor.Zeros(4).RequireGrad();
        Tensor w2 = Tensor.Uniform([4, 1], -1.1f, 1.1f, gen).RequireGrad();
        Tensor b2 = Tensor.Zeros(1).RequireGrad();
        Tensor[] parameters = [w1, b1, w2, b2];
        const float learningRate = 0.5f;
        const int epochs = 2000;

        output.WriteLine("Nabla: training a 2-4-1 network on XOR (tanh, sigmoid, binary cross-entropy, gradient descent, lr 0.5)");
        Tensor Forward() => ((x.MatMul(w1) + b1).Tanh().MatMul(w2) + b2).Sigmoid();
        float loss = float.NaN;
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            Tensor p = Forward().Clamp(1e-7f, 1f - 1e-7f);
            Tensor l = -(y * p.Log() + (1f - y) * (1f - p).Log()).Mean();
            foreach (var t in parameters) t.ZeroGrad();
            l.Backward();
            using (Tensor.NoGrad())
            {
                foreach (var t in parameters) t.SubInPlace(t.Grad! * learningRate);
            }
            loss = l.Item();
            if (epoch == 1 || epoch % 400 == 0) output.WriteLine($"  epoch {epoch,4}  loss {loss:F4}");
        }
        Tensor prediction;
        using (Tensor.NoGrad()) prediction = Forward();
        output.WriteLine("  x1 x2 | target | prediction");
        for (int i = 0; i < 4; i++)
            output.WriteLine($"   {x[i, 0]:0}  {x[i, 1]:0} |   {y[i, 0]:0}    |   {prediction[i, 0]:F4}");
        int correct = 0;
        for (int i = 0; i < 4; i++) correct += (prediction[i, 0] > 0.5f) == (y[i, 0] > 0.5f) ? 1 : 0;
        output.WriteLine($"accuracy {correct / 4.0:P0}, final loss {loss:F4}");
        return 0;
    }
}
