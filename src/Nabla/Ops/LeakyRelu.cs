using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>x for x &gt; 0, else <paramref name="negativeSlope"/> * x.</summary>
    public Tensor LeakyRelu(float negativeSlope = 0.01f)
    {
        var y = Map(this, (x, y) => Activations.LeakyRelu(x, negativeSlope, y));
        return ShouldRecord(this) ? y.Record(new LeakyReluBackward(this, negativeSlope)) : y;
    }

    private sealed class LeakyReluBackward(Tensor x, float slope) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad) =>
            [MapGrad(Input(0), grad, (x, g, dx) => Activations.LeakyReluBackward(x, slope, g, dx))];
    }
}
