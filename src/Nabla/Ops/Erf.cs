using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// The error function, elementwise (ONNX's Erf; the exact GELU is x (1 + erf(x / sqrt 2)) / 2).
    /// Its gradient is 2 / sqrt(pi) exp(-x^2).
    /// </summary>
    public Tensor Erf()
    {
        var y = Map(this, static (x, y) =>
        {
            for (int i = 0; i < x.Length; i++) y[i] = (float)SpecialFunctions.Erf(x[i]);
        });
        return ShouldRecord(this) ? y.Record(new ErfBackward(this)) : y;
    }

    private sealed class ErfBackward(Tensor x) : Node([x])
    {
        private static readonly float s_twoOverSqrtPi = (float)(2 / Math.Sqrt(Math.PI));

        protected internal override Tensor?[] Backward(Tensor grad) =>
            [MapGrad(Input(0), grad, static (x, g, dx) =>
            {
                for (int i = 0; i < x.Length; i++) dx[i] = g[i] * s_twoOverSqrtPi * MathF.Exp(-x[i] * x[i]);
            })];
    }
}
