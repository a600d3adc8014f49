using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>SiLU (swish): x * sigmoid(x).</summary>
    public Tensor Silu()
    {
        var y = Map(this, static (x, y) => Activations.Silu(x, y));
        return ShouldRecord(this) ? y.Record(new SiluBackward(this)) : y;
    }

    private sealed class SiluBackward(Tensor x) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad) =>
            [MapGrad(Input(0), grad, static (x, g, dx) => Activations.SiluBackward(x, g, dx))];
    }
}
