using Nabla.Layers;

namespace Nabla.Tests.Layers;

public class RecurrentTests
{
    private static float Sig(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>
    /// Outputs and every gradient equal up to float rounding, relative 1e-5 (a fused recurrent
    /// op sums the biases first and the weight gradient over all steps at once).
    /// </summary>
    private static void AssertSame((float[] Out, float[][] Grads) reference, (float[] Out, float[][] Grads) fused)
    {
        static void Close(float expected, float actual, string what) =>
            Assert.True(Math.Abs(expected - actual) <= 1e-5f * (1f + Math.Abs(expected)), $"{what}: {actual} against {expected}");
        Assert.Equal(reference.Out.Length, fused.Out.Length);
        for (int i = 0; i < fused.Out.Length; i++) Close(reference.Out[i], fused.Out[i], $"output {i}");
        Assert.Equal(reference.Grads.Length, fused.Grads.Length);
        for (int k = 0; k < fused.Grads.Length; k++)
        {
            for (int i = 0; i < fused.Grads[k].Length; i++) Close(reference.Grads[k][i], fused.Grads[k][i], $"gradient {k}, element {i}");
        }
    }

    private static void Set(Parameter p, params float[] values)
    {
        using var _ = Tensor.NoGrad();
        p.Value.CopyFrom(Tensor.FromArray(values, p.Shape.ToArray()));
    }

    [Fact]
    public void Lstm_follows_pytorch_gate_order_i_f_g_o()
    {
        var lstm = new LSTM(1, inputShape: [2, 1]);
        Set(lstm.WeightIh!, 0.5f, -0.3f, 0.8f, 0.2f);
        Set(lstm.WeightHh!, 0.1f, 0.4f, -0.6f, 0.7f);
        Set(lstm.BiasIh!, 0.01f, 0.02f, 0.03f, 0.04f);
        Set(lstm.BiasHh!, -0.05f, 0.06f, -0.07f, 0.08f);
        float h = 0f, c = 0f;
        foreach (float x in new[] { 1.5f, -0.7f })
        {
            float i = Sig(0.5f * x + 0.1f * h + 0.01f - 0.05f);
            float f = Sig(-0.3f * x + 0.4f * h + 0.02f + 0.06f);
            float g = MathF.Tanh(0.8f * x - 0.6f * h + 0.03f - 0.07f);
            float o = Sig(0.2f * x + 0.7f * h + 0.04f + 0.08f);
            c = f * c + i * g;
            h = o * MathF.Tanh(c);
        }
        var (output, states) = lstm.Run(Tensor.FromArray([1.5f, -0.7f], 1, 2, 1));
        Assert.Equal(h, output.Item(), 6);
        Assert.Equal(c, states[1].Item(), 6);
        Assert.Equal(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"], lstm.NamedParameters().Select(p => p.Name).ToArray());
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Fused_lstm_sequence_equals_a_step_by_step_reference_forward_and_backward(bool returnSequences, bool masked)
    {
        // Padding at the end, at the start (step 0 too), in the middle, and a row all real.
        float[]? mask = masked ? [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1] : null;
        var (fused, reference) = LstmAgainstReference(batch: 4, steps: 6, units: 5, returnSequences, mask);
        AssertSame(reference, fused);
    }

    [Fact]
    public void Fused_lstm_sequence_of_a_larger_batch_matches_the_reference_and_is_the_same_for_any_thread_count()
    {
        // More than four rows take the packed recurrent weight; rows are split over the threads.
        const int Batch = 7, Steps = 9;
        var r = new Random(5);
        float[] mask = [.. Enumerable.Range(0, Batch * Steps).Select(i => i % Steps == 0 || r.NextDouble() < 0.8 ? 1f : 0f)];
        MatchesTheReferenceAtAnyThreadCount(() => LstmAgainstReference(Batch, Steps, units: 24, returnSequences: true, mask));
    }

    /// <summary>At 1, 2 and 3 threads: the fused run matches its reference, and the fused results are bit-identical across the thread counts.</summary>
    private static void MatchesTheReferenceAtAnyThreadCount(Func<((float[] Out, float[][] Grads) Fused, (float[] Out, float[][] Grads) Reference)> run)
    {
        int saved = Kernels.Threading.NumThreads;
        try
        {
            (float[] Out, float[][] Grads)? first = null;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                Kernels.Threading.NumThreads = threads;
                var (fused, reference) = run();
                AssertSame(reference, fused);
                if (first is { } one)
                {
                    Assert.Equal(one.Out, fused.Out);
                    for (int k = 0; k < one.Grads.Length; k++) Assert.Equal(one.Grads[k], fused.Grads[k]);
                }
                else
                {
                    first = fused;
                }
            }
        }
        finally
        {
            Kernels.Threading.NumThreads = saved;
        }
    }

    /// <summary>
    /// An LSTM layer's fused run and the same recurrence written out step by step with LstmCell and
    /// Where: outputs and every gradient (weights, biases, initial states) of each.
    /// </summary>
    private static ((float[] Out, float[][] Grads) Fused, (float[] Out, float[][] Grads) Reference) LstmAgainstReference(
        int batch, int steps, int units, bool returnSequences, float[]? maskValues)
    {
        var g = new Generator(11);
        Generator.ManualSeed(11);
        var lstm = new LSTM(units, returnSequences: returnSequences, inputShape: [steps, 3]);
        var x = Tensor.Normal([batch, steps, 3], 0f, 1f, g);
        var h0 = Tensor.Normal([batch, units], 0f, 0.5f, g).RequireGrad();
        var c0 = Tensor.Normal([batch, units], 0f, 0.5f, g).RequireGrad();
        var projection = Tensor.Normal(returnSequences ? [batch, steps, units] : [batch, units], 0f, 1f, g);
        Tensor? mask = maskValues is null ? null : Tensor.FromArray(maskValues, batch, steps);

        (Tensor Output, Tensor[] States) Reference()
        {
            Tensor projected = (x.Reshape(batch * steps, 3).MatMul(lstm.WeightIh!.Value.T) + lstm.BiasIh!.Value).Reshape(batch, steps, 4 * units);
            Tensor h = h0, c = c0;
            var outputs = new List<Tensor>();
            for (int step = 0; step < steps; step++)
            {
                Tensor hc = Tensor.LstmCell(projected.Select(1, step) + h.MatMul(lstm.WeightHh!.Value.T) + lstm.BiasHh!.Value, c);
                Tensor hn = hc.Slice(1, 0, units), cn = hc.Slice(1, units, 2 * units);
                if (mask is not null)
                {
                    Tensor m = mask.Select(1, step).Unsqueeze(1);
                    hn = Tensor.Where(m, hn, h);
                    cn = Tensor.Where(m, cn, c);
                }
                (h, c) = (hn, cn);
                outputs.Add(h);
            }
            return (returnSequences ? Tensor.Stack(outputs, 1) : h, [h, c]);
        }
        (float[] Out, float[][] Grads) Run(Func<(Tensor Output, Tensor[] States)> forward)
        {
            lstm.ZeroGrad();
            h0.Grad = null;
            c0.Grad = null;
            var (output, states) = forward();
            ((output * projection).Sum() + (states[1] * states[1]).Sum()).Backward();
            return (output.ToArray(), [.. lstm.Parameters().Select(p => p.Value.Grad!.ToArray()), h0.Grad!.ToArray(), c0.Grad!.ToArray()]);
        }
        return (Run(() => lstm.Run(x, [h0, c0], mask)), Run(Reference));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Fused_gru_sequence_equals_a_step_by_step_reference_forward_and_backward(bool returnSequences, bool masked)
    {
        float[]? mask = masked ? [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1] : null;
        var (fused, reference) = GruAgainstReference(batch: 4, steps: 6, units: 5, returnSequences, mask);
        AssertSame(reference, fused);
    }

    [Fact]
    public void Fused_gru_sequence_of_a_larger_batch_matches_the_reference_and_is_the_same_for_any_thread_count()
    {
        const int Batch = 7, Steps = 9;
        var r = new Random(6);
        float[] mask = [.. Enumerable.Range(0, Batch * Steps).Select(i => i % Steps == Steps - 1 || r.NextDouble() < 0.8 ? 1f : 0f)];
        MatchesTheReferenceAtAnyThreadCount(() => GruAgainstReference(Batch, Steps, units: 24, returnSequences: true, mask));
    }

    /// <summary>A GRU layer's fused run and PyTorch's GRU equations written out step by step: outputs and every gradient of each.</summary>
    private static ((float[] Out, float[][] Grads) Fused, (float[] Out, float[][] Grads) Reference) GruAgainstReference(
        int batch, int steps, int units, bool returnSequences, float[]? maskValues)
    {
        var g = new Generator(12);
        Generator.ManualSeed(12);
        var gru = new GRU(units, returnSequences: returnSequences, inputShape: [steps, 3]);
        var x = Tensor.Normal([batch, steps, 3], 0f, 1f, g);
        var h0 = Tensor.Normal([batch, units], 0f, 0.5f, g).RequireGrad();
        var projection = Tensor.Normal(returnSequences ? [batch, steps, units] : [batch, units], 0f, 1f, g);
        Tensor? mask = maskValues is null ? null : Tensor.FromArray(maskValues, batch, steps);

        (Tensor Output, Tensor Last) Reference()
        {
            Tensor projected = (x.Reshape(batch * steps, 3).MatMul(gru.WeightIh!.Value.T) + gru.BiasIh!.Value).Reshape(batch, steps, 3 * units);
            Tensor h = h0;
            var outputs = new List<Tensor>();
            for (int step = 0; step < steps; step++)
            {
                Tensor xp = projected.Select(1, step), hp = h.MatMul(gru.WeightHh!.Value.T) + gru.BiasHh!.Value;
                Tensor r = (xp.Slice(1, 0, units) + hp.Slice(1, 0, units)).Sigmoid();
                Tensor z = (xp.Slice(1, units, 2 * units) + hp.Slice(1, units, 2 * units)).Sigmoid();
                Tensor candidate = (xp.Slice(1, 2 * units, 3 * units) + r * hp.Slice(1, 2 * units, 3 * units)).Tanh();
                Tensor hn = (1f - z) * candidate + z * h;
                if (mask is not null) hn = Tensor.Where(mask.Select(1, step).Unsqueeze(1), hn, h);
                h = hn;
                outputs.Add(h);
            }
            return (returnSequences ? Tensor.Stack(outputs, 1) : h, h);
        }
        (float[] Out, float[][] Grads) Run(Func<(Tensor Output, Tensor Last)> forward)
        {
            gru.ZeroGrad();
            h0.Grad = null;
            var (output, last) = forward();
            ((output * projection).Sum() + (last * last).Sum()).Backward();
            return (output.ToArray(), [.. gru.Parameters().Select(p => p.Value.Grad!.ToArray()), h0.Grad!.ToArray()]);
        }
        var fused = Run(() =>
        {
            var (output, states) = gru.Run(x, [h0], mask);
            return (output, states[0]);
        });
        return (fused, Run(Reference));
    }

    [Fact]
    public void Gru_applies_the_reset_gate_after_the_hidden_product()
    {
        var gru = new GRU(1, inputShape: [2, 1]);
        Set(gru.WeightIh!, 0.5f, -0.3f, 0.8f);
        Set(gru.WeightHh!, 0.1f, 0.4f, -0.6f);
        Set(gru.BiasIh!, 0.01f, 0.02f, 0.03f);
        Set(gru.BiasHh!, -0.05f, 0.06f, -0.07f);
        float h = 0.3f;
        foreach (float x in new[] { 1.5f, -0.7f })
        {
            float r = Sig(0.5f * x + 0.01f + 0.1f * h - 0.05f);
            float z = Sig(-0.3f * x + 0.02f + 0.4f * h + 0.06f);
            float n = MathF.Tanh(0.8f * x + 0.03f + r * (-0.6f * h - 0.07f));
            h = (1 - z) * n + z * h;
        }
        var (output, _) = gru.Run(Tensor.FromArray([1.5f, -0.7f], 1, 2, 1), [Tensor.FromArray([0.3f], 1, 1)]);
        Assert.Equal(h, output.Item(), 6);
    }

    [Fact]
    public void Masked_steps_carry_the_state_so_padding_does_not_change_the_result()
    {
        Generator.ManualSeed(3);
        var lstm = new LSTM(4, inputShape: [5, 3]);
        var g = new Generator(4);
        Tensor full = Tensor.RandN([1, 5, 3], g);
        Tensor firstThree = full.Slice(1, 0, 3);
        Tensor mask = Tensor.FromArray([1f, 1f, 1f, 0f, 0f], 1, 5);
        Assert.Equal(lstm.Forward(firstThree, null).ToArray(), lstm.Forward(full, mask).ToArray());
        Assert.NotEqual(lstm.Forward(firstThree, null).ToArray(), lstm.Forward(full, null).ToArray());
    }

    [Fact]
    public void Embedding_padding_masks_the_next_recurrent_layer_in_a_model()
    {
        Generator.ManualSeed(5);
        var model = new Sequential(new Embedding(10, 4, paddingIndex: 0), new GRU(3));
        Tensor padded = Tensor.FromArray([4f, 7f, 2f, 0f, 0f], 1, 5);
        Tensor unpadded = Tensor.FromArray([4f, 7f, 2f], 1, 3);
        Tensor a = model.Forward(padded), b = model.Forward(unpadded);
        for (int i = 0; i < 3; i++) Assert.Equal(b[0, i], a[0, i], 6);
    }

    [Fact]
    public void Bidirectional_concatenates_the_forward_and_reversed_runs()
    {
        Generator.ManualSeed(6);
        var bi = new Bidirectional(new SimpleRNN(2, returnSequences: true));
        Tensor x = Tensor.RandN([1, 4, 3], new Generator(7));
        Tensor y = bi.Forward(x);
        Assert.Equal([1, 4, 4], y.Shape.ToArray());
        Tensor reversed = x.IndexSelect(1, Tensor.FromArray([3f, 2f, 1f, 0f]));
        Tensor back = bi.Backwards.Forward(reversed, null);
        // The backward half at time t is the reversed run's output at T - 1 - t.
        for (int t = 0; t < 4; t++)
        {
            for (int u = 0; u < 2; u++) Assert.Equal(back[0, 3 - t, u], y[0, t, 2 + u], 6);
        }
        Assert.Contains("forward_layer.weight_ih_l0", bi.NamedParameters().Select(p => p.Name));
        Assert.Contains("backward_layer.weight_ih_l0", bi.NamedParameters().Select(p => p.Name));
    }

    [Fact]
    public void Wrong_shapes_are_named()
    {
        var lstm = new LSTM(2, inputShape: [3, 4]);
        var ex = Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Ones(2, 3, 5)));
        Assert.Contains("4 features", ex.Message);
        Assert.Contains("[2, 3, 5]", ex.Message);
        Assert.Contains("[N, T, features]", Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Ones(2, 3))).Message);
        var conv = new Conv2D(2, 3, inputShape: [1, 8, 8]);
        Assert.Contains("[N, 1, H, W]", Assert.Throws<ArgumentException>(() => conv.Forward(Tensor.Ones(2, 3, 8, 8))).Message);
        // [N, H, W] instead of [N, C, H, W].
        var ex2 = Assert.Throws<ArgumentException>(() => new Conv2D(2, 3).Forward(Tensor.Ones(2, 8, 8)));
        Assert.Contains("Conv2D", ex2.Message);
        Assert.Contains("[N, C, H, W]", ex2.Message);
        // A kernel larger than the padded input.
        var ex3 = Assert.Throws<ArgumentException>(() => new Conv2D(2, 5).Forward(Tensor.Ones(1, 1, 3, 3)));
        Assert.Contains("5x5", ex3.Message);
        Assert.Contains("[1, 1, 3, 3]", ex3.Message);
        // Sequences of uneven length cannot be batched without padding.
        var ex4 = Assert.Throws<ArgumentException>(() => Tensor.Stack([Tensor.Ones(4, 3), Tensor.Ones(5, 3)]));
        Assert.Contains("[5, 3]", ex4.Message);
        Assert.Contains("[4, 3]", ex4.Message);
    }
}
