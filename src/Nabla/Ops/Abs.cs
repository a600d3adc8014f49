using Nabla.Autograd;
using System.Numerics.Tensors;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>|x| elementwise. Its gradient is sign(x), 0 at 0 (as PyTorch).</summary>
    public Tensor Abs()
    {
        var y = Map(this, static (x, y) => TensorPrimitives.Abs(x, y));
        return ShouldRecord(this) ? y.Record(new AbsBackward(this)) : y;
    }

    private sealed class AbsBackward(Tensor x) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad) =>
            [MapGrad(Input(0), grad, static (x, g, dx) =>
            {
                for (int i = 0; i < dx.Length; i++) dx[i] = x[i] > 0 ? g[i] : x[i] < 0 ? -g[i] : 0f;
            })];
    }
}
