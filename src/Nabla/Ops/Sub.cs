using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>a - b, with broadcasting.</summary>
    public static Tensor Sub(Tensor a, Tensor b)
    {
        var y = BroadcastBinary<SubtractOp>(a, b, "Sub");
        return ShouldRecord(a, b) ? y.Record(new SubBackward(a, b)) : y;
    }

    /// <inheritdoc cref="Sub(Tensor, Tensor)"/>
    public static Tensor operator -(Tensor a, Tensor b) => Sub(a, b);

    /// <inheritdoc cref="Sub(Tensor, Tensor)"/>
    public static Tensor operator -(Tensor a, float b) => Sub(a, Scalar(b));

    /// <inheritdoc cref="Sub(Tensor, Tensor)"/>
    public static Tensor operator -(float a, Tensor b) => Sub(Scalar(a), b);

    private sealed class SubBackward(Tensor a, Tensor b) : Node([a, b])
    {
        protected internal override Tensor?[] Backward(Tensor grad) =>
            [NeedsGrad(0) ? grad.SumTo(Input(0).ShapeArray) : null, NeedsGrad(1) ? (-grad).SumTo(Input(1).ShapeArray) : null];
    }
}
