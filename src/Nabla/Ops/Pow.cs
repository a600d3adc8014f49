using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>x raised to a constant power, elementwise.</summary>
    public Tensor Pow(float exponent)
    {
        var y = BroadcastBinary<PowOp>(this, Scalar(exponent), "Pow");
        return ShouldRecord(this) ? y.Record(new PowScalarBackward(this, exponent)) : y;
    }

    /// <summary>a raised to the power b elementwise, with broadcasting.</summary>
    public static Tensor Pow(Tensor a, Tensor b)
    {
        var y = BroadcastBinary<PowOp>(a, b, "Pow");
        return ShouldRecord(a, b) ? y.Record(new PowBackward(a, b, y)) : y;
    }

    private sealed class PowScalarBackward(Tensor x, float p) : Node([x])
    {
        // d x^p / dx = p x^(p-1).
        protected internal override Tensor?[] Backward(Tensor grad) =>
            [p == 0f ? ZerosLike(Input(0)) : grad * p * Input(0).Pow(p - 1f)];
    }

    private sealed class PowBackward(Tensor a, Tensor b, Tensor y) : Node([a, b], y)
    {
        // d a^b / da = b a^(b-1); d a^b / db = a^b ln a, taken as 0 where a = 0 and b >= 0 (as PyTorch).
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor a = Input(0), b = Input(1);
            Tensor? ga = NeedsGrad(0) ? (grad * b * Pow(a, b - 1f)).SumTo(a.ShapeArray) : null;
            Tensor? gb = null;
            if (NeedsGrad(1))
            {
                Tensor full = grad * Saved[0] * a.Log();
                Tensor zeroBase = a.Eq(0f) * b.Ge(0f);
                gb = Where(zeroBase, Scalar(0f), full).SumTo(b.ShapeArray);
            }
            return [ga, gb];
        }
    }
}
