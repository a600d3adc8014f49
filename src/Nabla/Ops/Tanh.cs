using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>The hyperbolic tangent elementwise.</summary>
    public Tensor Tanh()
    {
        var y = Map(this, static (x, y) => Activations.Tanh(x, y));
        return ShouldRecord(this) ? y.Record(new TanhBackward(this, y)) : y;
    }

    private sealed class TanhBackward(Tensor x, Tensor y) : Node([x], y)
    {
        protected internal override Tensor?[] Backward(Tensor grad) =>
            [MapGrad(Saved[0], grad, static (y, g, dx) => Activations.TanhBackward(y, g, dx))];
    }
}
