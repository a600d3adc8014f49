using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Tests.Optimizers;

/// <summary>Two steps of each optimizer on f(p) = sum(c * p^2) (gradient 2 c p), compared with values worked out by hand.</summary>
public class OptimizerTests
{
    private static readonly float[] C = [1f, -0.5f];

    private static Parameter Param() => new(Tensor.FromArray([1f, 2f]));

    /// <summary>Runs two steps and returns the parameter after each.</summary>
    private static (float[] First, float[] Second) TwoSteps(Optimizer opt, Parameter p)
    {
        var result = new float[2][];
        for (int s = 0; s < 2; s++)
        {
            opt.ZeroGrad();
            (Tensor.FromArray(C) * p.Value * p.Value).Sum().Backward();
            opt.Step();
            result[s] = p.Value.ToArray();
        }
        return (result[0], result[1]);
    }

    private static void Near(double[] expected, float[] actual)
    {
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 5);
    }

    [Fact]
    public void Sgd_plain_momentum_and_nesterov()
    {
        // g = 2 c p: p0 = (1, 2) -> g0 = (2, -2).
        var p = Param();
        var (a, b) = TwoSteps(new SGD(0.1f, parameters: [p]), p);
        Near([0.8, 2.2], a);                 // p - 0.1 g0
        Near([0.64, 2.42], b);               // g1 = (1.6, -2.2)
        p = Param();
        (a, b) = TwoSteps(new SGD(0.1f, momentum: 0.9f, parameters: [p]), p);
        Near([0.8, 2.2], a);                 // v0 = g0
        Near([0.8 - 0.1 * (0.9 * 2 + 1.6), 2.2 - 0.1 * (0.9 * -2 - 2.2)], b);
        p = Param();
        (a, b) = TwoSteps(new SGD(0.1f, momentum: 0.9f, nesterov: true, parameters: [p]), p);
        Near([1 - 0.1 * (2 + 0.9 * 2), 2 - 0.1 * (-2 + 0.9 * -2)], a);
        double[] p1 = [0.62, 2.38];
        double[] g1 = [2 * p1[0], -p1[1]];
        double[] v1 = [0.9 * 2 + g1[0], 0.9 * -2 + g1[1]];
        Near([p1[0] - 0.1 * (g1[0] + 0.9 * v1[0]), p1[1] - 0.1 * (g1[1] + 0.9 * v1[1])], b);
    }

    [Fact]
    public void Adam_and_adamw()
    {
        var p = Param();
        var (a, b) = TwoSteps(new Adam(0.1f, parameters: [p]), p);
        // Step 1: m-hat = g, v-hat = g^2, so the step is lr * sign(g) (up to eps).
        Near([0.9, 2.1], a);
        double[] g1 = [1.8, -2.1];
        double[] expected = new double[2];
        double[] g0 = [2, -2];
        for (int i = 0; i < 2; i++)
        {
            double m = 0.9 * (0.1 * g0[i]) + 0.1 * g1[i];
            double v = 0.999 * (0.001 * g0[i] * g0[i]) + 0.001 * g1[i] * g1[i];
            double mh = m / (1 - 0.81), vh = v / (1 - 0.999 * 0.999);
            expected[i] = a[i] - 0.1 * mh / (Math.Sqrt(vh) + 1e-8);
        }
        Near(expected, b);

        p = Param();
        (a, _) = TwoSteps(new AdamW(0.1f, weightDecay: 0.5f, parameters: [p]), p);
        // Decoupled: p * (1 - 0.1 * 0.5) - 0.1 * sign(g).
        Near([1 * 0.95 - 0.1, 2 * 0.95 + 0.1], a);
        p = Param();
        (a, _) = TwoSteps(new Adam(0.1f, weightDecay: 0.5f, parameters: [p]), p);
        // Coupled L2: g = (2 + 0.5, -2 + 1) still has the same signs, so the first step is lr * sign.
        Near([0.9, 2.1], a);
    }

    [Fact]
    public void RmsProp_and_adagrad()
    {
        var p = Param();
        var (a, b) = TwoSteps(new RMSProp(0.01f, rho: 0.9f, epsilon: 0f, parameters: [p]), p);
        // s0 = 0.1 g0^2 -> step = lr g0 / (sqrt(0.1) |g0|) = lr / sqrt(0.1) * sign.
        double step0 = 0.01 / Math.Sqrt(0.1);
        Near([1 - step0, 2 + step0], a);
        double[] expected = new double[2];
        double[] g0 = [2, -2];
        for (int i = 0; i < 2; i++)
        {
            double g1 = 2 * C[i] * a[i];
            double s1 = 0.9 * 0.1 * g0[i] * g0[i] + 0.1 * g1 * g1;
            expected[i] = a[i] - 0.01 * g1 / Math.Sqrt(s1);
        }
        Near(expected, b);

        p = Param();
        (a, b) = TwoSteps(new Adagrad(0.1f, epsilon: 0f, parameters: [p]), p);
        Near([0.9, 2.1], a);
        for (int i = 0; i < 2; i++)
        {
            double g1 = 2 * C[i] * a[i];
            expected[i] = a[i] - 0.1 * g1 / Math.Sqrt(g0[i] * g0[i] + g1 * g1);
        }
        Near(expected, b);
    }

    [Fact]
    public void Clipping_by_norm_and_value()
    {
        var p = Param();
        var opt = new SGD(1f, parameters: [p]) { ClipNorm = 1f };
        (Tensor.FromArray([3f, 4f]) * p.Value).Sum().Backward();
        opt.Step();
        Assert.Equal(5f, opt.LastGradientNorm, 5);
        Near([1 - 0.6, 2 - 0.8], p.Value.ToArray());
        p = Param();
        opt = new SGD(1f, parameters: [p]) { ClipValue = 0.5f };
        (Tensor.FromArray([3f, -0.25f]) * p.Value).Sum().Backward();
        opt.Step();
        Near([0.5, 2.25], p.Value.ToArray());
    }

    [Fact]
    public void Schedules_give_documented_rates()
    {
        var step = new StepDecay(1f, 10, 0.5f);
        Assert.Equal(1f, step.Get(9));
        Assert.Equal(0.5f, step.Get(10));
        Assert.Equal(0.25f, step.Get(25));
        var exp = new ExponentialDecay(1f, 100, 0.1f);
        Assert.Equal(MathF.Pow(0.1f, 0.5f), exp.Get(50), 5);
        Assert.Equal(1f, new ExponentialDecay(1f, 100, 0.1f, staircase: true).Get(99));
        var cos = new CosineDecay(1f, decaySteps: 100, warmupSteps: 10, alpha: 0.1f);
        Assert.Equal(0.1f, cos.Get(0), 5);
        Assert.Equal(1f, cos.Get(9), 5);
        Assert.Equal(1f, cos.Get(10), 5);
        Assert.Equal(0.55f, cos.Get(60), 5);
        Assert.Equal(0.1f, cos.Get(500), 5);
        var p = Param();
        var opt = new SGD(1f, parameters: [p]) { Schedule = step };
        Assert.Equal(1f, opt.CurrentLearningRate);
    }

    [Fact]
    public void Frozen_parameters_are_not_updated_and_state_round_trips()
    {
        var p = Param();
        var q = new Parameter(Tensor.FromArray([5f]), trainable: false);
        var opt = new Adam(0.1f, parameters: [p, q]);
        (p.Value.Sum() * 2f).Backward();
        opt.Step();
        Assert.Equal([5f], q.Value.ToArray());
        var (iterations, buffers) = opt.GetState();
        Assert.Equal(1, iterations);
        var p2 = new Parameter(Tensor.FromArray(p.Value.ToArray()));
        var opt2 = new Adam(0.1f, parameters: [p2, new Parameter(Tensor.FromArray([5f]), false)]);
        opt2.SetState(iterations, buffers);
        for (int s = 0; s < 2; s++)
        {
            opt.ZeroGrad(); opt2.ZeroGrad();
            (p.Value * p.Value).Sum().Backward();
            (p2.Value * p2.Value).Sum().Backward();
            opt.Step(); opt2.Step();
        }
        Assert.Equal(p.Value.ToArray(), p2.Value.ToArray());
    }
}
