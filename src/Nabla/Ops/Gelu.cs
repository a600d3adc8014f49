using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// GELU, x * Phi(x) with Phi the standard normal CDF (exact, through erf, as PyTorch by default);
    /// with <paramref name="approximate"/>, the tanh approximation.
    /// </summary>
    public Tensor Gelu(bool approximate = false)
    {
        var y = Map(this, (x, y) => Activations.Gelu(x, approximate, y));
        return ShouldRecord(this) ? y.Record(new GeluBackward(this, approximate)) : y;
    }

    private sealed class GeluBackward(Tensor x, bool approximate) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad) =>
            [MapGrad(Input(0), grad, (x, g, dx) => Activations.GeluBackward(x, approximate, g, dx))];
    }
}
