using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>x for x &gt; 0, else alpha * (e^x - 1).</summary>
    public Tensor Elu(float alpha = 1f)
    {
        var y = Map(this, (x, y) => Activations.Elu(x, alpha, y));
        return ShouldRecord(this) ? y.Record(new EluBackward(this, y, alpha)) : y;
    }

    private sealed class EluBackward(Tensor x, Tensor y, float alpha) : Node([x], y)
    {
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            var x = Input(0).Data.ToArray();
            return [MapGrad(Saved[0], grad, (y, g, dx) => Activations.EluBackward(x, y, alpha, g, dx))];
        }
    }
}
