using Nabla.Autograd;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>The sine, elementwise (radians); its gradient is the cosine.</summary>
    public Tensor Sin()
    {
        var y = Map(this, static (x, y) =>
        {
            for (int i = 0; i < x.Length; i++) y[i] = MathF.Sin(x[i]);
        });
        return ShouldRecord(this) ? y.Record(new SinBackward(this)) : y;
    }

    /// <summary>The cosine, elementwise (radians); its gradient is minus the sine.</summary>
    public Tensor Cos()
    {
        var y = Map(this, static (x, y) =>
        {
            for (int i = 0; i < x.Length; i++) y[i] = MathF.Cos(x[i]);
        });
        return ShouldRecord(this) ? y.Record(new CosBackward(this)) : y;
    }

    private sealed class SinBackward(Tensor x) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad) =>
            [MapGrad(Input(0), grad, static (x, g, dx) =>
            {
                for (int i = 0; i < x.Length; i++) dx[i] = g[i] * MathF.Cos(x[i]);
            })];
    }

    private sealed class CosBackward(Tensor x) : Node([x])
    {
        protected internal override Tensor?[] Backward(Tensor grad) =>
            [MapGrad(Input(0), grad, static (x, g, dx) =>
            {
                for (int i = 0; i < x.Length; i++) dx[i] = -g[i] * MathF.Sin(x[i]);
            })];
    }
}
