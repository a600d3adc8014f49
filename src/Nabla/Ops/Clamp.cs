using Nabla.Autograd;
using System.Numerics.Tensors;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// Limits every element to [min, max]; either bound may be null. The gradient passes where
    /// min &lt;= x &lt;= max and is 0 outside, as in PyTorch.
    /// </summary>
    public Tensor Clamp(float? min = null, float? max = null)
    {
        if (min is { } lo && max is { } hi && lo > hi)
            throw new ArgumentException($"Clamp: min {lo} is greater than max {hi}.");
        float low = min ?? float.NegativeInfinity, high = max ?? float.PositiveInfinity;
        var y = Map(this, (x, y) =>
        {
            TensorPrimitives.Max(x, low, y);
            TensorPrimitives.Min(y, high, y);
        });
        return ShouldRecord(this) ? y.Record(new ClampBackward(this, low, high)) : y;
    }

    private sealed class ClampBackward(Tensor x, float low, float high) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad) =>
            [MapGrad(Input(0), grad, (x, g, dx) =>
            {
                for (int i = 0; i < dx.Length; i++) dx[i] = x[i] >= low && x[i] <= high ? g[i] : 0f;
            })];
    }
}
