using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// log(1 + e^(beta x)) / beta, computed stably; linear where beta * x exceeds
    /// <paramref name="threshold"/> (as PyTorch).
    /// </summary>
    public Tensor Softplus(float beta = 1f, float threshold = 20f)
    {
        if (!(beta > 0)) throw new ArgumentOutOfRangeException(nameof(beta), $"Softplus: beta must be positive, not {beta}.");
        var y = Map(this, (x, y) => Activations.Softplus(x, beta, threshold, y));
        return ShouldRecord(this) ? y.Record(new SoftplusBackward(this, beta, threshold)) : y;
    }

    private sealed class SoftplusBackward(Tensor x, float beta, float threshold) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad) =>
            [MapGrad(Input(0), grad, (x, g, dx) => Activations.SoftplusBackward(x, beta, threshold, g, dx))];
    }
}
