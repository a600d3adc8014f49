using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>a + b, with broadcasting.</summary>
    public static Tensor Add(Tensor a, Tensor b)
    {
        var y = BroadcastBinary<AddOp>(a, b, "Add");
        return ShouldRecord(a, b) ? y.Record(new AddBackward(a, b)) : y;
    }

    /// <inheritdoc cref="Add(Tensor, Tensor)"/>
    public static Tensor operator +(Tensor a, Tensor b) => Add(a, b);

    /// <inheritdoc cref="Add(Tensor, Tensor)"/>
    public static Tensor operator +(Tensor a, float b) => Add(a, Scalar(b));

    /// <inheritdoc cref="Add(Tensor, Tensor)"/>
    public static Tensor operator +(float a, Tensor b) => Add(Scalar(a), b);

    private sealed class AddBackward(Tensor a, Tensor b) : Node([a, b])
    {
        protected internal override Tensor?[] Backward(Tensor grad) =>
            [NeedsGrad(0) ? grad.SumTo(Input(0).ShapeArray) : null, NeedsGrad(1) ? grad.SumTo(Input(1).ShapeArray) : null];
    }
}
