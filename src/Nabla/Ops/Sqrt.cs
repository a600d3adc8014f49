using Nabla.Autograd;
using System.Numerics.Tensors;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>The square root elementwise.</summary>
    public Tensor Sqrt()
    {
        var y = Map(this, static (x, y) => TensorPrimitives.Sqrt(x, y));
        return ShouldRecord(this) ? y.Record(new SqrtBackward(this, y)) : y;
    }

    private sealed class SqrtBackward(Tensor x, Tensor y) : Node([x], y)
    {
        // d sqrt(x) / dx = 1 / (2 sqrt(x)).
        protected internal override Tensor?[] Backward(Tensor grad) => [grad * 0.5f / Saved[0]];
    }
}
