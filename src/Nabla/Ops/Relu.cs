using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>max(x, 0) elementwise.</summary>
    public Tensor Relu()
    {
        var y = Map(this, static (x, y) => Activations.Relu(x, y));
        return ShouldRecord(this) ? y.Record(new ReluBackward(this)) : y;
    }

    private sealed class ReluBackward(Tensor x) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad) =>
            [MapGrad(Input(0), grad, static (x, g, dx) => Activations.ReluBackward(x, g, dx))];
    }
}
