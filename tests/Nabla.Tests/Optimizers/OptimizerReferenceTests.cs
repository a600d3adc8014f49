using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Tests.Optimizers;

/// <summary>
/// Every optimizer over several steps against PyTorch's update formulas written here in double
/// precision, with non-neutral hyperparameters (weight decay, a large epsilon, momentum, a
/// learning-rate schedule, clipping), on a parameter of 19 values so that vectorised loops and
/// their scalar tails both count.
/// </summary>
public class OptimizerReferenceTests
{
    private const int Size = 19;

    private static float[] Start() => Enumerable.Range(0, Size).Select(i => (float)Math.Sin(i + 1) * 2f).ToArray();

    /// <summary>The gradient of step <paramref name="step"/> (1-based): different at each step, both signs.</summary>
    private static float[] Gradient(int step) => Enumerable.Range(0, Size).Select(i => (float)Math.Cos(i * 0.7 + step * 1.3) * (1 + i % 3)).ToArray();

    /// <summary>Runs <paramref name="optimizer"/> for <paramref name="steps"/> steps with the gradients above and returns the parameter.</summary>
    private static float[] Run(Func<IEnumerable<Parameter>, Optimizer> make, int steps, Action<Optimizer>? configure = null)
    {
        var p = new Parameter(Tensor.FromArray(Start()));
        var optimizer = make([p]);
        configure?.Invoke(optimizer);
        for (int s = 1; s <= steps; s++)
        {
            p.Value.Grad = Tensor.FromArray(Gradient(s));
            optimizer.Step();
        }
        Assert.Equal(steps, optimizer.Iterations);
        return p.Value.ToArray();
    }

    private static void Close(double[] expected, float[] actual, string what, double tolerance = 2e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])), $"{what} element {i}: reference {expected[i]}, Nabla {actual[i]}");
    }

    /// <summary>The reference: applies <paramref name="update"/>(i, p, g, step, lr) for each element and step, with an optional learning rate per step.</summary>
    private static double[] Reference(int steps, Func<int, double> lr, Action<int, double[], double[], int, double> update)
    {
        double[] p = Start().Select(v => (double)v).ToArray();
        for (int s = 1; s <= steps; s++)
        {
            double[] g = Gradient(s).Select(v => (double)v).ToArray();
            for (int i = 0; i < Size; i++) update(i, p, g, s, lr(s));
        }
        return p;
    }

    [Theory]
    [InlineData(0f, false, 0f)]
    [InlineData(0f, false, 0.05f)]
    [InlineData(0.9f, false, 0.05f)]
    [InlineData(0.8f, true, 0.1f)]
    public void Sgd_matches_pytorch(float momentum, bool nesterov, float weightDecay)
    {
        float[] actual = Run(ps => new SGD(0.05f, momentum, nesterov, weightDecay, ps), 4);
        var velocity = new double[Size];
        double[] expected = Reference(4, _ => 0.05, (i, p, g, step, lr) =>
        {
            double d = g[i] + weightDecay * p[i];
            if (momentum != 0)
            {
                velocity[i] = step == 1 ? d : momentum * velocity[i] + d;
                d = nesterov ? d + momentum * velocity[i] : velocity[i];
            }
            p[i] -= lr * d;
        });
        Close(expected, actual, $"SGD(momentum {momentum}, nesterov {nesterov}, wd {weightDecay})");
    }

    [Theory]
    [InlineData(false, 0f, 1e-8f)]
    [InlineData(false, 0.1f, 1e-2f)]
    [InlineData(true, 0.1f, 1e-2f)]
    [InlineData(true, 0.3f, 0.5f)]
    public void Adam_and_adamw_match_pytorch(bool decoupled, float weightDecay, float epsilon)
    {
        const double beta1 = 0.8, beta2 = 0.95;
        float[] actual = Run(ps => decoupled ? new AdamW(0.02f, 0.8f, 0.95f, epsilon, weightDecay, ps) : new Adam(0.02f, 0.8f, 0.95f, epsilon, weightDecay, ps), 5);
        var m = new double[Size];
        var v = new double[Size];
        double[] expected = Reference(5, _ => 0.02, (i, p, g, t, lr) =>
        {
            double d = g[i];
            if (decoupled) p[i] *= 1 - lr * weightDecay;
            else d += weightDecay * p[i];
            m[i] = beta1 * m[i] + (1 - beta1) * d;
            v[i] = beta2 * v[i] + (1 - beta2) * d * d;
            double mHat = m[i] / (1 - Math.Pow(beta1, t)), vHat = v[i] / (1 - Math.Pow(beta2, t));
            p[i] -= lr * mHat / (Math.Sqrt(vHat) + epsilon);
        });
        Close(expected, actual, $"{(decoupled ? "AdamW" : "Adam")}(wd {weightDecay}, eps {epsilon})");
    }

    [Theory]
    [InlineData(0f, 0f, 1e-7f)]
    [InlineData(0.7f, 0.05f, 0.1f)]
    public void RmsProp_matches_pytorch(float momentum, float weightDecay, float epsilon)
    {
        const double rho = 0.85;
        float[] actual = Run(ps => new RMSProp(0.01f, 0.85f, epsilon, momentum, weightDecay, ps), 4);
        var square = new double[Size];
        var buffer = new double[Size];
        double[] expected = Reference(4, _ => 0.01, (i, p, g, t, lr) =>
        {
            double d = g[i] + weightDecay * p[i];
            square[i] = rho * square[i] + (1 - rho) * d * d;
            double step = d / (Math.Sqrt(square[i]) + epsilon);
            if (momentum != 0)
            {
                buffer[i] = momentum * buffer[i] + step;
                step = buffer[i];
            }
            p[i] -= lr * step;
        });
        Close(expected, actual, $"RMSProp(momentum {momentum}, wd {weightDecay}, eps {epsilon})");
    }

    [Theory]
    [InlineData(0f, 1e-10f)]
    [InlineData(0.1f, 0.5f)]
    public void Adagrad_matches_pytorch(float weightDecay, float epsilon)
    {
        float[] actual = Run(ps => new Adagrad(0.1f, epsilon, weightDecay, ps), 4);
        var sum = new double[Size];
        double[] expected = Reference(4, _ => 0.1, (i, p, g, t, lr) =>
        {
            double d = g[i] + weightDecay * p[i];
            sum[i] += d * d;
            p[i] -= lr * d / (Math.Sqrt(sum[i]) + epsilon);
        });
        Close(expected, actual, $"Adagrad(wd {weightDecay}, eps {epsilon})");
        var adagrad = new Adagrad(0.3f, 0.25f, 0.5f);
        Assert.Equal((0.3f, 0.25f, 0.5f), (adagrad.LearningRate, adagrad.Epsilon, adagrad.WeightDecay));
    }

    [Fact]
    public void A_schedule_sets_the_learning_rate_of_every_step_not_just_the_first()
    {
        var schedule = new StepDecay(0.1f, stepSize: 2, gamma: 0.5f);
        float[] actual = Run(ps => new SGD(1f, parameters: ps), 5, o => o.Schedule = schedule);
        // Steps 1..5 use schedule.Get(0..4): 0.1, 0.1, 0.05, 0.05, 0.025.
        double[] expected = Reference(5, s => 0.1 * Math.Pow(0.5, (s - 1) / 2), (i, p, g, t, lr) => p[i] -= lr * g[i]);
        Close(expected, actual, "SGD under StepDecay");
        var sgd = new SGD(1f) { Schedule = schedule };
        Assert.Equal(0.1f, sgd.CurrentLearningRate);
        // The schedule owns the learning rate (as in Keras): setting it under a schedule is an error, not ignored.
        Assert.Throws<InvalidOperationException>(() => sgd.LearningRate = 7f);
        Assert.Equal(0.1f, sgd.CurrentLearningRate);
        sgd.Schedule = null;
        sgd.LearningRate = 7f;
        Assert.Equal(7f, sgd.CurrentLearningRate);
    }

    [Fact]
    public void Clipping_by_global_norm_scales_every_parameter_and_by_value_clamps_each_element()
    {
        var a = new Parameter(Tensor.FromArray([1f, 2f, 3f]));
        var b = new Parameter(Tensor.FromArray([-1f, 0.5f]));
        var frozen = new Parameter(Tensor.FromArray([10f]), trainable: false);
        var sgd = new SGD(1f, parameters: [a, b, frozen]) { ClipNorm = 1f };
        a.Value.Grad = Tensor.FromArray([3f, 0f, -4f]);
        b.Value.Grad = Tensor.FromArray([0f, 12f]);
        sgd.Step();
        // Norm 13 (the frozen parameter has no gradient and does not count): every gradient scaled by 1/13.
        Assert.Equal(13f, sgd.LastGradientNorm, 4);
        Close([1 - 3 / 13.0, 2, 3 + 4 / 13.0], a.Value.ToArray(), "a");
        Close([-1, 0.5 - 12 / 13.0], b.Value.ToArray(), "b");
        Assert.Equal([10f], frozen.Value.ToArray());
        // A norm below the limit is not scaled up.
        a.Value.Grad = Tensor.FromArray([0.3f, 0f, 0.4f]);
        b.Value.Grad = null;
        sgd.Step();
        Assert.Equal(0.5f, sgd.LastGradientNorm, 5);
        Close([1 - 3 / 13.0 - 0.3, 2, 3 + 4 / 13.0 - 0.4], a.Value.ToArray(), "a after an unclipped step");

        // Exactly at the limit: not scaled. Just above: scaled by max / (norm + 1e-6), as PyTorch does.
        var d = new Parameter(Tensor.FromArray([0f, 0f]));
        var atLimit = new SGD(1f, parameters: [d]) { ClipNorm = 5f };
        d.Value.Grad = Tensor.FromArray([3f, 4f]);
        atLimit.Step();
        Assert.Equal([-3f, -4f], d.Value.ToArray());
        var e = new Parameter(Tensor.FromArray([0f, 0f]));
        var above = new SGD(1f, parameters: [e]) { ClipNorm = 1f };
        e.Value.Grad = Tensor.FromArray([6f, 8f]);
        above.Step();
        float scale = 1f / (10f + 1e-6f);
        Assert.Equal([-(6f * scale), -(8f * scale)], e.Value.ToArray());

        var c = new Parameter(Tensor.FromArray([0f, 0f, 0f, 0f]));
        var byValue = new SGD(1f, parameters: [c]) { ClipValue = 0.5f };
        c.Value.Grad = Tensor.FromArray([2f, -3f, 0.25f, -0.5f]);
        byValue.Step();
        Assert.Equal([-0.5f, 0.5f, -0.25f, 0.5f], c.Value.ToArray());
        Assert.True(float.IsNaN(byValue.LastGradientNorm));
    }

    [Fact]
    public void A_transposed_gradient_is_read_in_the_parameters_order()
    {
        var p = new Parameter(Tensor.Zeros(2, 3));
        var sgd = new SGD(1f, parameters: [p]);
        p.Value.Grad = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 3, 2).T;
        sgd.Step();
        Assert.Equal([-1f, -3f, -5f, -2f, -4f, -6f], p.Value.ToArray());
    }

    [Fact]
    public void State_round_trips_and_resumes_exactly()
    {
        float[] straight = Run(ps => new Adam(0.05f, weightDecay: 0.1f, parameters: ps), 4);
        var p = new Parameter(Tensor.FromArray(Start()));
        var first = new Adam(0.05f, weightDecay: 0.1f, parameters: [p]);
        for (int s = 1; s <= 2; s++)
        {
            p.Value.Grad = Tensor.FromArray(Gradient(s));
            first.Step();
        }
        var (iterations, buffers) = first.GetState();
        Assert.Equal(2, iterations);
        Assert.Equal(2, buffers[0].Length);
        var second = new Adam(0.05f, weightDecay: 0.1f, parameters: [p]);
        second.SetState(iterations, buffers);
        for (int s = 3; s <= 4; s++)
        {
            p.Value.Grad = Tensor.FromArray(Gradient(s));
            second.Step();
        }
        Assert.Equal(straight, p.Value.ToArray());
        Assert.Contains("Adam.SetState: state for 0 parameters, but the optimizer has 1", Assert.Throws<ArgumentException>(() => second.SetState(1, [])).Message);
        Assert.Contains("Adam.SetState: state of parameter 0 does not fit its shape [19]", Assert.Throws<ArgumentException>(() => second.SetState(1, [[new float[3], new float[3]]])).Message);
        // One slot of the right length and one of the wrong length is still wrong.
        Assert.Throws<ArgumentException>(() => second.SetState(1, [[new float[Size], new float[Size - 1]]]));
        Assert.Throws<ArgumentException>(() => second.SetState(1, [[new float[Size]]]));
        Assert.Equal("buffers", Assert.Throws<ArgumentNullException>(() => second.SetState(1, null!)).ParamName);
        // A state that was never created reads back as empty and restores as empty.
        var fresh = new SGD(0.1f, momentum: 0.5f, parameters: [new Parameter(Tensor.Ones(2))]);
        Assert.Empty(fresh.GetState().Buffers[0]);
        fresh.SetState(5, [[]]);
        Assert.Equal(5, fresh.Iterations);
        // Plain SGD keeps no state at all; with momentum, one buffer; Adam and RMSProp two; Adagrad one.
        foreach (var (optimizer, slots) in new (Func<Parameter, Optimizer>, int)[]
        {
            (q => new SGD(0.1f, parameters: [q]), 0), (q => new SGD(0.1f, 0.9f, parameters: [q]), 1), (q => new Adam(parameters: [q]), 2),
            (q => new RMSProp(parameters: [q]), 2), (q => new Adagrad(parameters: [q]), 1),
        })
        {
            var q = new Parameter(Tensor.Ones(3));
            var o = optimizer(q);
            q.Value.Grad = Tensor.Ones(3);
            o.Step();
            Assert.Equal(slots, o.GetState().Buffers[0].Length);
        }
    }

    [Theory]
    [InlineData("sgd", typeof(SGD))]
    [InlineData("ADAM", typeof(Adam))]
    [InlineData("adamw", typeof(AdamW))]
    [InlineData("rmsprop", typeof(RMSProp))]
    [InlineData("adagrad", typeof(Adagrad))]
    public void Keras_names_give_the_optimizer_with_its_defaults(string name, Type type)
    {
        Optimizer o = name;
        Assert.IsType(type, o);
        float expected = o is SGD or Adagrad ? 0.01f : 1e-3f;
        Assert.Equal(expected, o.LearningRate);
        Assert.Equal(o is AdamW ? 0.01f : 0f, o.WeightDecay);
        Assert.Contains("adagrad", Assert.Throws<ArgumentException>(() => Optimizer.Get("lamb")).Message);
    }

    [Fact]
    public void Guards_name_the_bad_setting()
    {
        Assert.Contains("SGD: learning rate must be positive, not 0", Assert.Throws<ArgumentOutOfRangeException>(() => new SGD(0f)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SGD(float.NaN));
        Assert.Contains("SGD momentum must be >= 0, not -0.1", Assert.Throws<ArgumentOutOfRangeException>(() => new SGD(0.1f, momentum: -0.1f)).Message);
        Assert.Contains("Nesterov momentum needs a momentum above 0", Assert.Throws<ArgumentException>(() => new SGD(0.1f, nesterov: true)).Message);
        Assert.Contains("Adam beta1 must be in [0, 1), not 1", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta1: 1f)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta1: -0.1f));
        Assert.Contains("Adam beta2 must be in [0, 1), not -0.1", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta2: -0.1f)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta2: 1f));
        Assert.Contains("RMSProp rho must be in [0, 1), not 1", Assert.Throws<ArgumentOutOfRangeException>(() => new RMSProp(rho: 1f)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RMSProp(rho: -0.5f));
        // The bounds themselves are allowed.
        Assert.Equal((0f, 0f), (new Adam(beta1: 0f, beta2: 0f).Beta1, new Adam(beta1: 0f, beta2: 0f).Beta2));
        Assert.Equal(0f, new RMSProp(rho: 0f).Rho);
        var bound = new SGD(0.1f, parameters: [new Parameter(Tensor.Ones(1))]);
        Assert.Contains("SGD is already bound to 1 parameters", Assert.Throws<InvalidOperationException>(() => bound.Bind([new Parameter(Tensor.Ones(1))])).Message);
        Assert.Contains("SGD.Step: no parameters", Assert.Throws<InvalidOperationException>(() => new SGD(0.1f).Step()).Message);
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() => new SGD(0.1f).Bind(null!)).ParamName);
    }
}
