using Nabla.Autograd;
using System.Numerics.Tensors;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>The natural logarithm elementwise (-inf at 0, NaN below).</summary>
    public Tensor Log()
    {
        var y = Map(this, static (x, y) => TensorPrimitives.Log(x, y));
        return ShouldRecord(this) ? y.Record(new LogBackward(this)) : y;
    }

    private sealed class LogBackward(Tensor x) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad) => [grad / Input(0)];
    }
}
