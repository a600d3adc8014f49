using Nabla.Autograd;

namespace Nabla.Tests.Autograd;

public class BackwardTests
{
    [Fact]
    public void Chain_rule_gives_the_analytic_gradient()
    {
        // f(x) = sum(sigmoid(x)^2) has df/dx = 2 s^2 (1 - s).
        var x = Tensor.FromArray([-1f, 0f, 2f]).RequireGrad();
        x.Sigmoid().Pow(2f).Sum().Backward();
        float[] g = x.Grad!.ToArray();
        float[] xs = [-1f, 0f, 2f];
        for (int i = 0; i < 3; i++)
        {
            float s = 1f / (1f + MathF.Exp(-xs[i]));
            Assert.Equal(2 * s * s * (1 - s), g[i], 6);
        }
    }

    [Fact]
    public void Gradients_accumulate_across_backward_calls_until_zeroed()
    {
        var w = Tensor.FromArray([1f, 2f]).RequireGrad();
        (w * 3f).Sum().Backward();
        (w * 3f).Sum().Backward();
        Assert.Equal([6f, 6f], w.Grad!.ToArray());
        w.ZeroGrad();
        Assert.Null(w.Grad);
        (w * w).Sum().Backward();
        Assert.Equal([2f, 4f], w.Grad!.ToArray());
    }

    [Fact]
    public void Backward_with_an_explicit_gradient_computes_a_vector_jacobian_product()
    {
        var x = Tensor.FromArray([1f, 2f, 3f]).RequireGrad();
        Tensor y = x * x;
        y.Backward(Tensor.FromArray([1f, 0.5f, -1f]));
        Assert.Equal([2f, 2f, -6f], x.Grad!.ToArray());
    }

    [Fact]
    public void Backward_on_a_non_scalar_without_gradient_throws_naming_the_shape()
    {
        var x = Tensor.Ones(2, 3).RequireGrad();
        var ex = Assert.Throws<InvalidOperationException>(() => (x * 2f).Backward());
        Assert.Contains("[2, 3]", ex.Message);
        var ex2 = Assert.Throws<ArgumentException>(() => (x * 2f).Backward(Tensor.Ones(3)));
        Assert.Contains("[3]", ex2.Message);
    }

    [Fact]
    public void Graph_is_released_after_backward_unless_retained()
    {
        var x = Tensor.FromArray([1f, 2f]).RequireGrad();
        Tensor loss = (x.Exp() * x).Sum();
        loss.Backward(retainGraph: true);
        float[] first = x.Grad!.ToArray();
        loss.Backward();
        Assert.Equal(first.Select(v => 2 * v).ToArray(), x.Grad!.ToArray());
        var ex = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("Backward", ex.Message);
        Assert.True(loss.GradFn!.IsReleased);
    }

    [Fact]
    public void NoGrad_records_nothing_and_Detach_cuts_the_graph()
    {
        var x = Tensor.Ones(3).RequireGrad();
        using (Tensor.NoGrad())
        {
            Tensor y = x * 2f;
            Assert.False(y.RequiresGrad);
            Assert.Null(y.GradFn);
            using (Tensor.NoGrad()) { }
            Assert.False(GradMode.IsEnabled);
        }
        Assert.True(GradMode.IsEnabled);
        Tensor z = x * 2f;
        Assert.Equal("MulBackward", z.GradFn!.Name);
        Tensor d = z.Detach();
        Assert.False(d.RequiresGrad);
        Assert.True(d.IsLeaf);
        Assert.Same(z.Storage, d.Storage);
        // The detached branch contributes nothing to x's gradient.
        (z + d * 100f).Sum().Backward();
        Assert.Equal([2f, 2f, 2f], x.Grad!.ToArray());
    }

    [Fact]
    public void Only_leaves_that_require_grad_receive_gradients()
    {
        var a = Tensor.FromArray([1f, 2f]).RequireGrad();
        var b = Tensor.FromArray([3f, 4f]);
        Tensor y = a * b;
        (y * y).Sum().Backward();
        Assert.NotNull(a.Grad);
        Assert.Null(b.Grad);
        Assert.Null(y.Grad);
        Assert.Throws<InvalidOperationException>(() => y.RequiresGrad = false);
        Assert.Throws<InvalidOperationException>(() => b.Sum().Backward());
    }

    [Fact]
    public void A_very_deep_graph_does_not_overflow_the_stack()
    {
        var x = Tensor.FromArray([0.5f]).RequireGrad();
        Tensor y = x;
        for (int i = 0; i < 50_000; i++) y = y * 1.00001f;
        y.Sum().Backward();
        Assert.Equal(MathF.Pow(1.00001f, 50_000), x.Grad!.Item(), 2);
    }

    [Fact]
    public void A_diamond_graph_sums_both_paths_in_a_fixed_order()
    {
        var x = Tensor.FromArray([1f, 2f, 3f]).RequireGrad();
        Tensor h = x.Tanh();
        Tensor y = (h * 2f + h.Exp() + h).Sum();
        y.Backward();
        float[] g1 = x.Grad!.ToArray();
        var x2 = Tensor.FromArray([1f, 2f, 3f]).RequireGrad();
        Tensor h2 = x2.Tanh();
        (h2 * 2f + h2.Exp() + h2).Sum().Backward();
        Assert.Equal(g1, x2.Grad!.ToArray());
        for (int i = 0; i < 3; i++)
        {
            float t = MathF.Tanh(i + 1);
            Assert.Equal((3 + MathF.Exp(t)) * (1 - t * t), g1[i], 5);
        }
    }

    [Fact]
    public void In_place_updates_are_refused_while_recording()
    {
        var w = Tensor.Ones(2).RequireGrad();
        Assert.Throws<InvalidOperationException>(() => w.SubInPlace(Tensor.Ones(2)));
        Tensor y = w * 2f;
        Assert.Throws<InvalidOperationException>(() => y.AddInPlace(Tensor.Ones(2)));
        using (Tensor.NoGrad()) w.SubInPlace(Tensor.FromArray([0.5f, 0.25f]));
        Assert.Equal([0.5f, 0.75f], w.ToArray());
        var ex = Assert.Throws<ArgumentException>(() => { using var s = Tensor.NoGrad(); w.AddInPlace(Tensor.Ones(3)); });
        Assert.Contains("[3]", ex.Message);
    }

    [Fact]
    public void Gradients_zeroed_in_place_keep_their_buffer_and_read_as_zeros_or_the_new_gradient()
    {
        var a = Tensor.FromArray([1f, 2f, 3f]).RequireGrad();
        var b = Tensor.FromArray([4f, 5f]).RequireGrad();
        ((a * a).Sum() + (b * 3f).Sum()).Backward();
        Tensor ga = a.Grad!, gb = b.Grad!;
        a.ZeroGrad(setToNone: false);
        b.ZeroGrad(setToNone: false);
        // Only a gets a gradient now: it is the new one, not added to the old; b reads as zeros.
        (a * 5f).Sum().Backward();
        Assert.Same(ga, a.Grad);
        Assert.Equal([5f, 5f, 5f], a.Grad!.ToArray());
        Assert.Same(gb, b.Grad);
        Assert.Equal([0f, 0f], b.Grad!.ToArray());
        // And a later pass adds to it as usual.
        (a * 2f).Sum().Backward();
        Assert.Equal([7f, 7f, 7f], a.Grad!.ToArray());
    }

    [Fact]
    public void A_linear_weight_gradient_written_into_the_kept_buffer_matches_a_fresh_one_and_a_second_use_accumulates()
    {
        var g = new Generator(3);
        Tensor x = Tensor.RandN([5, 4], g), w = Tensor.RandN([3, 4], g).RequireGrad(), bias = Tensor.RandN([3], g).RequireGrad();
        // Used twice in one graph (as tied weights are): both contributions must be summed.
        Tensor Loss()
        {
            Tensor second = Tensor.Linear(x * 2f, w, null, relu: false);
            return Tensor.Linear(x, w, bias, relu: true).Sum() + (second * second).Sum();
        }
        Loss().Backward();
        float[] fresh = w.Grad!.ToArray(), freshBias = bias.Grad!.ToArray();
        Tensor kept = w.Grad!;
        for (int step = 0; step < 2; step++)
        {
            w.ZeroGrad(setToNone: false);
            bias.ZeroGrad(setToNone: false);
            Loss().Backward();
            Assert.Same(kept, w.Grad);
            Assert.Equal(fresh, w.Grad!.ToArray());
            Assert.Equal(freshBias, bias.Grad!.ToArray());
        }
        // Without zeroing, a further pass adds.
        Loss().Backward();
        float[] twice = w.Grad!.ToArray();
        for (int i = 0; i < fresh.Length; i++) Assert.Equal(2 * fresh[i], twice[i], 4);
    }
}
