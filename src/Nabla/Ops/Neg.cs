using Nabla.Autograd;
using System.Numerics.Tensors;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>-x elementwise.</summary>
    public Tensor Neg()
    {
        var y = Map(this, static (x, y) => TensorPrimitives.Negate(x, y));
        return ShouldRecord(this) ? y.Record(new NegBackward(this)) : y;
    }

    /// <inheritdoc cref="Neg()"/>
    public static Tensor operator -(Tensor x) => x.Neg();

    private sealed class NegBackward(Tensor x) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad) => [-grad];
    }
}
