using Nabla.Autograd;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// Elementwise choice: <paramref name="a"/> where <paramref name="condition"/> is non-zero,
    /// else <paramref name="b"/>, with all three broadcast together. Gradients flow to the
    /// chosen side only; the condition gets none.
    /// </summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        int[] shape = Shapes.Broadcast(Shapes.Broadcast(condition.ShapeArray, a.ShapeArray, "Where"), b.ShapeArray, "Where");
        var y = new Tensor(shape);
        Kernels.Elementwise.Where(shape,
            condition.Storage, condition.Offset, condition.BroadcastStrides(shape),
            a.Storage, a.Offset, a.BroadcastStrides(shape),
            b.Storage, b.Offset, b.BroadcastStrides(shape), y.Storage);
        return ShouldRecord(a, b) ? y.Record(new WhereBackward(condition.Detach(), a, b)) : y;
    }

    private sealed class WhereBackward(Tensor condition, Tensor a, Tensor b) : Node([a, b], condition)
    {
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor cond = Saved[0], zero = Scalar(0f);
            return
            [
                NeedsGrad(0) ? Where(cond, grad, zero).SumTo(Input(0).ShapeArray) : null,
                NeedsGrad(1) ? Where(cond, zero, grad).SumTo(Input(1).ShapeArray) : null,
            ];
        }
    }
}
