using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>1 / (1 + e^-x) elementwise.</summary>
    public Tensor Sigmoid()
    {
        var y = Map(this, static (x, y) => Activations.Sigmoid(x, y));
        return ShouldRecord(this) ? y.Record(new SigmoidBackward(this, y)) : y;
    }

    private sealed class SigmoidBackward(Tensor x, Tensor y) : Node([x], y)
    {
        protected internal override Tensor?[] Backward(Tensor grad) =>
            [MapGrad(Saved[0], grad, static (y, g, dx) => Activations.SigmoidBackward(y, g, dx))];
    }
}
