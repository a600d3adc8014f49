using Nabla.Autograd;

namespace Nabla.Tests.Autograd;

public class GradCheckTests
{
    private static Tensor Sin(Tensor x, bool brokenRule) => Function.Apply(
        "SinBackward", [x],
        xs => Tensor.FromArray(xs[0].ToArray().Select(MathF.Sin).ToArray(), xs[0].Shape.ToArray()),
        (xs, g) =>
        {
            // The true rule is cos(x); the broken one returns sin(x), a classic slip.
            float[] d = xs[0].ToArray().Select(v => brokenRule ? MathF.Sin(v) : MathF.Cos(v)).ToArray();
            return [g * Tensor.FromArray(d, xs[0].Shape.ToArray())];
        });

    [Fact]
    public void A_correct_custom_rule_passes()
    {
        var result = GradCheck.Check(x => Sin(x[0], brokenRule: false), [Tensor.RandN([3, 4], new Generator(1))]);
        Assert.True(result.Passed, result.Worst);
        Assert.True(result.MaxAbsError < 1e-2);
    }

    [Fact]
    public void A_broken_custom_rule_fails_and_is_named()
    {
        var result = GradCheck.Check(x => Sin(x[0], brokenRule: true), [Tensor.RandN([3, 4], new Generator(1))]);
        Assert.False(result.Passed);
        Assert.Contains("input 0", result.Worst);
        Assert.Equal("SinBackward", Sin(Tensor.Ones(1).RequireGrad(), false).GradFn!.Name);
    }

    [Fact]
    public void A_rule_off_by_a_few_percent_fails()
    {
        // 3 percent too large: within what a careless rule might produce, still caught.
        Tensor Scaled(Tensor x) => Function.Apply("ScaledSquare", [x], xs => xs[0] * xs[0], (xs, g) => [g * xs[0] * 2.06f]);
        var result = GradCheck.Check(x => Scaled(x[0]), [Tensor.RandN([4, 3], new Generator(2))]);
        Assert.False(result.Passed);
    }

    [Fact]
    public void A_gradient_sent_to_the_wrong_element_fails()
    {
        // Reversing the gradient's order keeps sum(grad) the same; only a random projection catches it.
        Tensor Swapped(Tensor x) => Function.Apply("SwappedSquare", [x], xs => xs[0] * xs[0], (xs, g) =>
        {
            float[] d = (g * xs[0] * 2f).ToArray();
            Array.Reverse(d);
            return [Tensor.FromArray(d, xs[0].Shape.ToArray())];
        });
        var result = GradCheck.Check(x => Swapped(x[0]), [Tensor.RandN([5], new Generator(3))]);
        Assert.False(result.Passed);
    }

    [Fact]
    public void Inputs_are_restored_after_the_check()
    {
        var x = Tensor.RandN([3, 3], new Generator(4));
        float[] before = x.ToArray();
        GradCheck.Check(t => t[0].Tanh(), [x]);
        Assert.Equal(before, x.ToArray());
    }
}
