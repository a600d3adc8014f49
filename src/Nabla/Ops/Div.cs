using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>a / b elementwise, with broadcasting.</summary>
    public static Tensor Div(Tensor a, Tensor b)
    {
        var y = BroadcastBinary<DivideOp>(a, b, "Div");
        return ShouldRecord(a, b) ? y.Record(new DivBackward(a, b)) : y;
    }

    /// <inheritdoc cref="Div(Tensor, Tensor)"/>
    public static Tensor operator /(Tensor a, Tensor b) => Div(a, b);

    /// <inheritdoc cref="Div(Tensor, Tensor)"/>
    public static Tensor operator /(Tensor a, float b) => Div(a, Scalar(b));

    /// <inheritdoc cref="Div(Tensor, Tensor)"/>
    public static Tensor operator /(float a, Tensor b) => Div(Scalar(a), b);

    private sealed class DivBackward(Tensor a, Tensor b) : Node([a, b])
    {
        // d(a/b)/da = 1/b; d(a/b)/db = -a/b^2.
        protected internal override Tensor?[] Backward(Tensor grad) =>
        [
            NeedsGrad(0) ? (grad / Input(1)).SumTo(Input(0).ShapeArray) : null,
            NeedsGrad(1) ? (-grad * Input(0) / (Input(1) * Input(1))).SumTo(Input(1).ShapeArray) : null,
        ];
    }
}
