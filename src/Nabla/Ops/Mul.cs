using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>a * b elementwise, with broadcasting.</summary>
    public static Tensor Mul(Tensor a, Tensor b)
    {
        var y = BroadcastBinary<MultiplyOp>(a, b, "Mul");
        return ShouldRecord(a, b) ? y.Record(new MulBackward(a, b)) : y;
    }

    /// <inheritdoc cref="Mul(Tensor, Tensor)"/>
    public static Tensor operator *(Tensor a, Tensor b) => Mul(a, b);

    /// <inheritdoc cref="Mul(Tensor, Tensor)"/>
    public static Tensor operator *(Tensor a, float b) => Mul(a, Scalar(b));

    /// <inheritdoc cref="Mul(Tensor, Tensor)"/>
    public static Tensor operator *(float a, Tensor b) => Mul(Scalar(a), b);

    private sealed class MulBackward(Tensor a, Tensor b) : Node([a, b])
    {
        protected internal override Tensor?[] Backward(Tensor grad) =>
        [
            NeedsGrad(0) ? (grad * Input(1)).SumTo(Input(0).ShapeArray) : null,
            NeedsGrad(1) ? (grad * Input(0)).SumTo(Input(1).ShapeArray) : null,
        ];
    }
}
