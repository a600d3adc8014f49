using Nabla.Autograd;
using System.Numerics.Tensors;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>e^x elementwise.</summary>
    public Tensor Exp()
    {
        var y = Map(this, static (x, y) => Kernels.FastMath.Exp(x, y));
        return ShouldRecord(this) ? y.Record(new ExpBackward(this, y)) : y;
    }

    private sealed class ExpBackward(Tensor x, Tensor y) : Node([x], y)
    {
        // d e^x / dx = e^x, the saved output.
        protected internal override Tensor?[] Backward(Tensor grad) => [grad * Saved[0]];
    }
}
