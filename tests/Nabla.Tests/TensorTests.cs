namespace Nabla.Tests;

public class TensorTests
{
    private static void Equal(float[] expected, Tensor actual, float tol = 1e-6f)
    {
        float[] got = actual.ToArray();
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MathF.Abs(expected[i] - got[i]) <= tol * MathF.Max(1f, MathF.Abs(expected[i])), $"element {i}: expected {expected[i]}, got {got[i]}");
    }

    [Fact]
    public void Creation_functions_give_the_documented_values()
    {
        Assert.Equal([2, 3], Tensor.Zeros(2, 3).Shape.ToArray());
        Assert.All(Tensor.Zeros(2, 3).ToArray(), v => Assert.Equal(0f, v));
        Assert.All(Tensor.Ones(4).ToArray(), v => Assert.Equal(1f, v));
        Assert.All(Tensor.Full([2, 2], 7.5f).ToArray(), v => Assert.Equal(7.5f, v));
        Equal([0, 1, 2, 3, 4], Tensor.Arange(5));
        Equal([1f, 1.5f, 2f, 2.5f], Tensor.Arange(1f, 3f, 0.5f));
        Equal([5, 3, 1], Tensor.Arange(5f, 0f, -2f));
        Equal([0f, 0.25f, 0.5f, 0.75f, 1f], Tensor.Linspace(0, 1, 5));
        Assert.Equal(0, Tensor.Scalar(3f).Rank);
        Assert.Equal(3f, Tensor.Scalar(3f).Item());
        var m = Tensor.FromArray(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal([2, 3], m.Shape.ToArray());
        Assert.Equal(6f, m[1, 2]);
        Assert.Equal(4f, m[-1, 0]);
    }

    [Fact]
    public void FromArray_copies_the_data()
    {
        float[] data = [1, 2, 3];
        var t = Tensor.FromArray(data);
        data[0] = 100;
        Assert.Equal(1f, t[0]);
    }

    [Fact]
    public void Random_tensors_are_repeatable_from_a_seed_and_have_the_right_moments()
    {
        var a = Tensor.RandN([10000], new Generator(5));
        var b = Tensor.RandN([10000], new Generator(5));
        Assert.Equal(a.ToArray(), b.ToArray());
        Assert.InRange(a.Mean().Item(), -0.05f, 0.05f);
        Assert.InRange(a.Var().Item(), 0.95f, 1.05f);
        var u = Tensor.Uniform([10000], -2f, 4f, new Generator(6));
        Assert.InRange(u.Min().Item(), -2f, -1.99f);
        Assert.InRange(u.Max().Item(), 3.99f, 4f);
        Assert.InRange(u.Mean().Item(), 0.95f, 1.05f);
        Assert.NotEqual(a.ToArray(), Tensor.RandN([10000], new Generator(6)).ToArray());
    }

    [Fact]
    public void Generator_state_round_trips()
    {
        var g = new Generator(9);
        g.NextUInt64();
        ulong[] state = g.GetState();
        ulong next = g.NextUInt64();
        var h = new Generator(0);
        h.SetState(state);
        Assert.Equal(next, h.NextUInt64());
    }

    [Fact]
    public void Broadcasting_follows_numpy_rules()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        Equal([11, 22, 33, 14, 25, 36], x + Tensor.FromArray([10f, 20f, 30f]));
        Equal([11, 12, 13, 24, 25, 26], x + Tensor.FromArray([10f, 20f], 2, 1));
        var outer = Tensor.FromArray([1f, 2f], 2, 1) * Tensor.FromArray([1f, 10f, 100f], 1, 3);
        Assert.Equal([2, 3], outer.Shape.ToArray());
        Equal([1, 10, 100, 2, 20, 200], outer);
        Equal([0.5f, 1f, 1.5f, 2f, 2.5f, 3f], x / 2f);
        Equal([-1, 0, 1, 2, 3, 4], x - 2f);
        Equal([1f, 0.5f, 1f / 3, 0.25f, 0.2f, 1f / 6], 1f / x);
        var ex = Assert.Throws<ArgumentException>(() => x + Tensor.Ones(2));
        Assert.Contains("Add", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("[2]", ex.Message);
    }

    [Fact]
    public void Views_share_storage_and_reshape_infers_a_dimension()
    {
        var x = Tensor.Arange(12).Reshape(3, -1);
        Assert.Equal([3, 4], x.Shape.ToArray());
        Assert.Same(x.Storage, x.Reshape(2, 6).Storage);
        var t = x.T;
        Assert.Equal([4, 3], t.Shape.ToArray());
        Assert.Same(x.Storage, t.Storage);
        Assert.False(t.IsContiguous);
        Assert.Equal(x[1, 2], t[2, 1]);
        Equal([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], t);
        // Reshaping a non-contiguous view copies.
        var r = t.Reshape(12);
        Assert.NotSame(x.Storage, r.Storage);
        Equal([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], r);
        Equal([1, 3, 5, 7, 9, 11], x.Slice(1, 1, null, 2));
        Equal([8, 9, 10, 11], x.Select(0, -1));
        Equal([3, 7, 11], x.Select(1, 3));
        Equal([4, 5, 6, 7, 4, 5, 6, 7], x.Select(0, 1).Expand(2, 4));
        Assert.Equal([3, 1, 4], x.Unsqueeze(1).Shape.ToArray());
        Assert.Equal([3, 4], x.Unsqueeze(1).Squeeze().Shape.ToArray());
        Assert.Equal([2, 12], Tensor.Zeros(2, 3, 4).Flatten(1).Shape.ToArray());
        Assert.Equal([4, 2, 3], Tensor.Zeros(2, 3, 4).Permute(2, 0, 1).Shape.ToArray());
    }

    [Fact]
    public void Concat_stack_index_select_gather_and_where_give_known_values()
    {
        var a = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2);
        var b = Tensor.FromArray([5f, 6f], 2, 1);
        Equal([1, 2, 5, 3, 4, 6], Tensor.Concat([a, b], 1));
        Equal([1, 2, 3, 4, 1, 2, 3, 4], Tensor.Concat([a, a], 0));
        var s = Tensor.Stack([a, a * 10f], 0);
        Assert.Equal([2, 2, 2], s.Shape.ToArray());
        Equal([1, 2, 3, 4, 10, 20, 30, 40], s);
        var table = Tensor.FromArray([0f, 0f, 1f, 1f, 2f, 2f], 3, 2);
        var ids = Tensor.FromArray([2f, 0f, 1f, 2f], 2, 2);
        var emb = table.IndexSelect(0, ids);
        Assert.Equal([2, 2, 2], emb.Shape.ToArray());
        Equal([2, 2, 0, 0, 1, 1, 2, 2], emb);
        var scores = Tensor.FromArray([0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f], 2, 3);
        var labels = Tensor.FromArray([1f, 0f], 2, 1);
        Equal([0.7f, 0.5f], scores.Gather(1, labels));
        Equal([1f, 0f], scores.ArgMax(1));
        Equal([0f, 2f], scores.ArgMin(1));
        Assert.Equal(1f, scores.ArgMax().Item());
        Equal([10, 2, 30], Tensor.Where(Tensor.FromArray([1f, 0f, 1f]), Tensor.FromArray([10f, 20f, 30f]), Tensor.Scalar(2f)));
        Equal([0, 1, 1], Tensor.FromArray([1f, 2f, 3f]).Gt(1f));
        Equal([1, 1, 0], Tensor.FromArray([1f, 2f, 3f]) <= 2f);
        Equal([0, 1, 0], Tensor.FromArray([1f, 2f, 3f]).Eq(Tensor.FromArray([0f, 2f, 4f])));
    }

    [Fact]
    public void Math_and_activations_give_known_values()
    {
        var x = Tensor.FromArray([-2f, -0.5f, 0f, 1f, 3f]);
        Equal([0, 0, 0, 1, 3], x.Relu());
        Equal([-0.2f, -0.05f, 0, 1, 3], x.LeakyRelu(0.1f));
        Equal([MathF.Exp(-2) - 1, MathF.Exp(-0.5f) - 1, 0, 1, 3], x.Elu());
        // GELU(1) = Phi(1) = 0.8413447; GELU(-2) = -2 * Phi(-2) = -0.04550026.
        Equal([-0.04550026f, -0.15426877f, 0f, 0.84134475f, 2.99595031f], x.Gelu(), 1e-5f);
        Equal([-2f / (1 + MathF.Exp(2)), -0.5f / (1 + MathF.Exp(0.5f)), 0, 1f / (1 + MathF.Exp(-1)), 3f / (1 + MathF.Exp(-3))], x.Silu(), 1e-6f);
        Equal([1 / (1 + MathF.Exp(2)), 1 / (1 + MathF.Exp(0.5f)), 0.5f, 1 / (1 + MathF.Exp(-1)), 1 / (1 + MathF.Exp(-3))], x.Sigmoid(), 1e-6f);
        Equal([MathF.Tanh(-2), MathF.Tanh(-0.5f), 0, MathF.Tanh(1), MathF.Tanh(3)], x.Tanh(), 1e-6f);
        Equal([MathF.Log(1 + MathF.Exp(-2)), MathF.Log(1 + MathF.Exp(-0.5f)), MathF.Log(2), MathF.Log(1 + MathF.E), MathF.Log(1 + MathF.Exp(3))], x.Softplus(), 1e-6f);
        Assert.Equal(100f, Tensor.FromArray([100f]).Softplus().Item());
        Equal([2, 0.5f, 0, 1, 3], x.Abs());
        Equal([-1, -0.5f, 0, 1, 1], x.Clamp(-1, 1));
        Equal([4, 0.25f, 0, 1, 9], x.Pow(2));
        Equal([1, 2, 3], Tensor.FromArray([1f, 4f, 9f]).Sqrt());
        Equal([0, 1], Tensor.FromArray([1f, MathF.E]).Log());
        Equal([1, MathF.E], Tensor.FromArray([0f, 1f]).Exp());
        Equal([8, 9], Tensor.Pow(Tensor.FromArray([2f, 3f]), Tensor.FromArray([3f, 2f])));
    }

    [Fact]
    public void Softmax_is_stable_and_sums_to_one()
    {
        var logits = Tensor.FromArray([1000f, 1001f, 1002f, -5f, 0f, 5f], 2, 3);
        var p = logits.Softmax();
        float e1 = MathF.Exp(-1), e2 = MathF.Exp(-2), z = 1 + e1 + e2;
        Equal([e2 / z, e1 / z, 1 / z], p.Select(0, 0), 1e-6f);
        Equal([1f, 1f], p.Sum(1), 1e-6f);
        var logp = logits.LogSoftmax();
        Equal([-2 - MathF.Log(z), -1 - MathF.Log(z), -MathF.Log(z)], logp.Select(0, 0), 1e-5f);
        Assert.All(logp.ToArray(), v => Assert.True(float.IsFinite(v)));
        // Along the first axis of a 3-D tensor: each column of each slice sums to one.
        var q = Tensor.RandN([3, 2, 4], new Generator(1)).Softmax(0);
        Equal(Enumerable.Repeat(1f, 8).ToArray(), q.Sum(0), 1e-6f);
    }

    [Fact]
    public void Reductions_give_known_values()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        Assert.Equal(21f, x.Sum().Item());
        Equal([5, 7, 9], x.Sum(0));
        Equal([6, 15], x.Sum(1));
        Assert.Equal([2, 1], x.Sum(1, keepDim: true).Shape.ToArray());
        Equal([2, 5], x.Mean(1));
        Equal([3, 6], x.Max(1));
        Equal([1, 2, 3], x.Min(0));
        Assert.Equal(3.5f, x.Mean().Item());
        // Unbiased variance of 1..6 is 3.5; population variance 35/12.
        Assert.Equal(3.5f, Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f]).Var().Item(), 5);
        Assert.Equal(35f / 12f, x.Var(correction: 0).Item(), 5);
        Equal([1f, 1f], x.Var(1));
        var big = Tensor.RandN([2, 3, 4, 5], new Generator(2));
        Assert.Equal(big.Sum().Item(), big.Sum([1, 2]).Sum().Item(), 3);
        Assert.Equal([2, 1, 1, 5], big.Sum([1, 2], keepDim: true).Shape.ToArray());
        Assert.Equal([3, 4], big.Sum([0, -1]).Shape.ToArray());
    }

    [Fact]
    public void MatMul_matches_a_naive_product_for_all_operand_kinds()
    {
        var g = new Generator(3);
        foreach (var (m, k, n) in new[] { (1, 1, 1), (3, 5, 2), (17, 9, 33), (64, 65, 63) })
        {
            var a = Tensor.RandN([m, k], g);
            var b = Tensor.RandN([k, n], g);
            var c = a.MatMul(b);
            Assert.Equal([m, n], c.Shape.ToArray());
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++) s += a[i, p] * (double)b[p, j];
                    Assert.True(Math.Abs(s - c[i, j]) < 1e-4 * Math.Max(1, Math.Abs(s)), $"[{m},{k}]x[{k},{n}] at ({i},{j})");
                }
            }
            // The transposed views give the same product as their contiguous copies.
            Assert.Equal(c.T.ToArray(), b.T.Contiguous().MatMul(a.T.Contiguous()).ToArray());
        }
        var batched = Tensor.RandN([2, 3, 4], g).MatMul(Tensor.RandN([4, 5], g));
        Assert.Equal([2, 3, 5], batched.Shape.ToArray());
        Assert.Equal([4], Tensor.Ones(3).MatMul(Tensor.Ones(3, 4)).Shape.ToArray());
        Assert.Equal(3f, Tensor.Ones(3).MatMul(Tensor.Ones(3)).Item());
    }

    [Fact]
    public void MatMul_reads_transposed_broadcast_and_expanded_views_correctly()
    {
        var g = new Generator(4);
        var a = Tensor.RandN([5, 7], g);
        var b = Tensor.RandN([7, 6], g);
        float[] expected = a.MatMul(b).ToArray();
        Equal(expected, a.T.Contiguous().T.MatMul(b), 1e-5f);
        Equal(expected, a.MatMul(b.T.Contiguous().T), 1e-5f);
        // A row expanded to a matrix (stride 0 between rows) and a column expanded across columns.
        var row = Tensor.RandN([1, 7], g);
        Tensor expandedRow = row.Expand(5, 7);
        Equal(expandedRow.Contiguous().MatMul(b).ToArray(), expandedRow.MatMul(b), 1e-5f);
        var col = Tensor.RandN([7, 1], g);
        Tensor expandedCol = col.Expand(7, 6);
        Equal(a.MatMul(expandedCol.Contiguous()).ToArray(), a.MatMul(expandedCol), 1e-5f);
        // Every other row of a larger matrix.
        var tall = Tensor.RandN([10, 7], g);
        Tensor strided = tall.Slice(0, 0, null, 2);
        Equal(strided.Contiguous().MatMul(b).ToArray(), strided.MatMul(b), 1e-5f);
    }

    [Fact]
    public void Conv2d_and_pooling_match_direct_definitions()
    {
        var g = new Generator(5);
        var x = Tensor.RandN([2, 3, 7, 6], g);
        var w = Tensor.RandN([4, 3, 3, 2], g);
        var b = Tensor.RandN([4], g);
        (int sh, int sw, int pt, int pl, int dh, int dw) = (2, 1, 1, 0, 1, 2);
        var y = Tensor.Conv2d(x, w, b, (sh, sw), new Padding2D(pt, 1, pl, 2), (dh, dw));
        int oh = (7 + 2 - 2 - 1) / 2 + 1, ow = (6 + 2 - 2 - 1) / 1 + 1;
        Assert.Equal([2, 4, oh, ow], y.Shape.ToArray());
        for (int n = 0; n < 2; n++)
        {
            for (int co = 0; co < 4; co++)
            {
                for (int i = 0; i < oh; i++)
                {
                    for (int j = 0; j < ow; j++)
                    {
                        double s = b[co];
                        for (int c = 0; c < 3; c++)
                        {
                            for (int ki = 0; ki < 3; ki++)
                            {
                                for (int kj = 0; kj < 2; kj++)
                                {
                                    int ih = i * sh - pt + ki * dh, iw = j * sw - pl + kj * dw;
                                    if (ih >= 0 && ih < 7 && iw >= 0 && iw < 6) s += x[n, c, ih, iw] * (double)w[co, c, ki, kj];
                                }
                            }
                        }
                        Assert.True(Math.Abs(s - y[n, co, i, j]) < 1e-4, $"({n},{co},{i},{j})");
                    }
                }
            }
        }
        var img = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f, 12f, 13f, 14f, 15f, 16f], 1, 1, 4, 4);
        Equal([6, 8, 14, 16], Tensor.MaxPool2d(img, (2, 2)));
        Equal([3.5f, 5.5f, 11.5f, 13.5f], Tensor.AvgPool2d(img, (2, 2)));
        // 3x3 windows, stride 2, padding 1: corners average only the valid positions.
        Equal([(1 + 2 + 5 + 6) / 4f, (2 + 3 + 4 + 6 + 7 + 8) / 6f, (5 + 6 + 9 + 10 + 13 + 14) / 6f, (6 + 7 + 8 + 10 + 11 + 12 + 14 + 15 + 16) / 9f],
            Tensor.AvgPool2d(img, (3, 3), (2, 2), 1));
        Equal([6, 8, 14, 16], Tensor.MaxPool2d(img, (3, 3), (2, 2), 1));
        // 2x2 windows over an odd size with padding only at the bottom and right ("same"): the
        // last windows hang over the edge and must not read past it.
        var odd = Tensor.Arange(25).Reshape(1, 1, 5, 5);
        Equal([6, 8, 9, 16, 18, 19, 21, 23, 24], Tensor.MaxPool2d(odd, (2, 2), (2, 2), new Padding2D(0, 1, 0, 1)));
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, Tensor.Ones(4, 2, 3, 3)));
        Assert.Contains("3 channels", ex.Message);
        Assert.Contains("does not fit", Assert.Throws<ArgumentException>(() => Tensor.Conv2d(Tensor.Ones(1, 1, 2, 2), Tensor.Ones(1, 1, 3, 3))).Message);
    }

    [Fact]
    public void Conv2d_and_its_gradients_are_the_same_on_one_thread_and_on_several()
    {
        // Large enough that images are shared out over the threads (and each image's products
        // then run on one thread), against every product on the calling thread; 20 images make
        // two chunks of the weight gradient's sum.
        (float[] Y, float[] Dx, float[] Dw, float[] Db) Run(int threads)
        {
            int saved = Kernels.Threading.NumThreads;
            try
            {
                Kernels.Threading.NumThreads = threads;
                var g = new Generator(21);
                var x = Tensor.RandN([20, 8, 12, 12], g).RequireGrad();
                var w = Tensor.RandN([16, 8, 3, 3], g).RequireGrad();
                var b = Tensor.RandN([16], g).RequireGrad();
                var y = Tensor.Conv2d(x, w, b, padding: 1);
                (y * y).Sum().Backward();
                return (y.ToArray(), x.Grad!.ToArray(), w.Grad!.ToArray(), b.Grad!.ToArray());
            }
            finally
            {
                Kernels.Threading.NumThreads = saved;
            }
        }
        var one = Run(1);
        var three = Run(3);
        Assert.Equal(one.Y, three.Y);
        Assert.Equal(one.Dx, three.Dx);
        Assert.Equal(one.Dw, three.Dw);
        Assert.Equal(one.Db, three.Db);
    }

    [Fact]
    public void Elementwise_and_row_ops_split_over_threads_give_the_same_bits_at_every_thread_count()
    {
        // [301, 257]: 77 357 elements, enough for the maps, row ops and copies to be split over
        // the threads; odd sizes so that pieces end in scalar tails, and 257 features so
        // LayerNorm's weight gradient has a last piece of one feature.
        float[][] Run(int threads)
        {
            int saved = Kernels.Threading.NumThreads;
            try
            {
                Kernels.Threading.NumThreads = threads;
                var g = new Generator(31);
                var x = Tensor.RandN([301, 257], g).RequireGrad();
                var w = Tensor.RandN([257], g).RequireGrad();
                var b = Tensor.RandN([257], g).RequireGrad();
                var labels = Tensor.FromArray(Enumerable.Range(0, 301).Select(i => (float)(i * 7 % 257)).ToArray());
                Tensor h = Tensor.LayerNorm(x, w, b, 1e-5f);
                Tensor y = h.Gelu().Tanh() + h.Sigmoid().Softmax() + h.Silu().LogSoftmax() + h.Exp().Clamp(0f, 3f) + (h * h + 1f).Log() * h;
                y = y.Transpose(0, 1).Contiguous().Transpose(0, 1);
                // Causal attention over 67 steps: 4 x 2 x 67 x 67 scores, split by rows.
                var q = Tensor.RandN([4, 2, 67, 19], g).RequireGrad();
                var kv = Tensor.RandN([4, 2, 67, 19], g).RequireGrad();
                Tensor a = Tensor.ScaledDotProductAttention(q, kv, kv, causal: true);
                // A product with a bias over 301 x 130 outputs: the bias rows and its gradient's column sums are shared out.
                var lw = Tensor.RandN([130, 257], g).RequireGrad();
                var lb = Tensor.RandN([130], g).RequireGrad();
                Tensor lin = Tensor.Linear(y, lw, lb, relu: false);
                Tensor loss = Tensor.SoftmaxCrossEntropy(y, labels).Sum() + (y * y).Sum() + (a * a).Sum() + (lin * lin).Sum();
                loss.Backward();
                return [y.ToArray(), x.Grad!.ToArray(), w.Grad!.ToArray(), b.Grad!.ToArray(), a.ToArray(), q.Grad!.ToArray(), kv.Grad!.ToArray(), lin.ToArray(), lb.Grad!.ToArray()];
            }
            finally
            {
                Kernels.Threading.NumThreads = saved;
            }
        }
        float[][] one = Run(1);
        foreach (int threads in new[] { 2, 3 })
        {
            float[][] many = Run(threads);
            for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], many[i]);
        }
    }

    [Fact]
    public void An_empty_batch_gives_zero_weight_gradients_through_the_fused_ops()
    {
        var g = new Generator(23);
        var w = Tensor.RandN([4, 1, 3, 3], g).RequireGrad();
        var b = Tensor.RandN([4], g).RequireGrad();
        Tensor.Conv2dRelu(Tensor.Zeros(0, 1, 5, 5), w, b, null, 1, null).Sum().Backward();
        Assert.All(w.Grad!.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(b.Grad!.ToArray(), v => Assert.Equal(0f, v));
        var lw = Tensor.RandN([3, 5], g).RequireGrad();
        Tensor.Linear(Tensor.Zeros(0, 5), lw, null, relu: true).Sum().Backward();
        Assert.All(lw.Grad!.ToArray(), v => Assert.Equal(0f, v));
        // LayerNorm keeps its rows' statistics in pooled buffers: none for no rows.
        var nw = Tensor.RandN([5], g).RequireGrad();
        var nb = Tensor.RandN([5], g).RequireGrad();
        Tensor.LayerNorm(Tensor.Zeros(0, 5), nw, nb, 1e-5f).Sum().Backward();
        Assert.All(nw.Grad!.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(nb.Grad!.ToArray(), v => Assert.Equal(0f, v));
        using (Tensor.NoGrad()) Assert.Equal([0, 5], Tensor.LayerNorm(Tensor.Zeros(0, 5), nw, nb, 1e-5f).Shape.ToArray());
    }

    [Fact]
    public void A_first_layer_weight_gradient_matches_its_definition()
    {
        // One input channel and 17 filters over three images: the weight gradient is summed
        // image by image in the transposed orientation.
        var g = new Generator(22);
        int n = 3, h = 6, w = 5, cout = 17;
        var x = Tensor.RandN([n, 1, h, w], g);
        var weight = Tensor.RandN([cout, 1, 3, 3], g).RequireGrad();
        var y = Tensor.Conv2d(x, weight, null, padding: 1);
        (y * y).Sum().Backward();
        float[] dy = (y * 2f).ToArray(), xs = x.ToArray(), dw = weight.Grad!.ToArray();
        for (int co = 0; co < cout; co++)
        {
            for (int ki = 0; ki < 3; ki++)
            {
                for (int kj = 0; kj < 3; kj++)
                {
                    double expected = 0;
                    for (int b = 0; b < n; b++)
                    {
                        for (int oh = 0; oh < h; oh++)
                        {
                            for (int ow = 0; ow < w; ow++)
                            {
                                int ih = oh + ki - 1, iw = ow + kj - 1;
                                if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                                expected += (double)dy[((b * cout) + co) * h * w + oh * w + ow] * xs[(b * h + ih) * w + iw];
                            }
                        }
                    }
                    float actual = dw[co * 9 + ki * 3 + kj];
                    Assert.True(Math.Abs(actual - expected) <= 1e-5 * (1 + Math.Abs(expected)), $"dW[{co}, {ki}, {kj}] = {actual}, expected {expected}");
                }
            }
        }
    }

    [Fact]
    public void Conv_transpose2d_is_the_adjoint_of_conv2d()
    {
        // <conv(x), y> = <x, conv_transpose(y)> for the same weight, stride and padding.
        var g = new Generator(8);
        var x = Tensor.RandN([2, 3, 7, 6], g);
        var w = Tensor.RandN([4, 3, 3, 3], g);
        Tensor cx = Tensor.Conv2d(x, w, null, (2, 2), 1);
        var y = Tensor.RandN(cx.Shape.ToArray(), g);
        // 7 = (4 - 1) * 2 - 2 + 2 + 1 + 0 and 6 = (3 - 1) * 2 - 2 + 2 + 1 + 1.
        Tensor ty = Tensor.ConvTranspose2d(y, w, null, (2, 2), (1, 1), (0, 1));
        Assert.Equal(x.Shape.ToArray(), ty.Shape.ToArray());
        Assert.Equal((cx * y).Sum().Item(), (x * ty).Sum().Item(), 2);
        Assert.Contains("channels", Assert.Throws<ArgumentException>(() => Tensor.ConvTranspose2d(y, Tensor.Ones(3, 2, 3, 3))).Message);
    }

    [Fact]
    public void ToString_prints_values_and_grad_state()
    {
        var x = Tensor.FromArray([1f, 2.5f, 3f, 4f], 2, 2);
        Assert.Equal("tensor([[1.0000, 2.5000],\n        [3.0000, 4.0000]])", x.ToString());
        Assert.Equal("tensor([1., 2.])", Tensor.FromArray([1f, 2f]).ToString());
        Assert.Equal("tensor(3.)", Tensor.Scalar(3f).ToString());
        var w = Tensor.Ones(2).RequireGrad();
        Assert.Contains("requiresGrad=true", w.ToString());
        Assert.Contains("gradFn=MulBackward", (w * 2f).ToString());
        string big = Tensor.Zeros(100, 100).ToString();
        Assert.Contains("...", big);
        Assert.Contains("shape=[100, 100]", big);
        Assert.True(big.Length < 2000);
    }

    [Fact]
    public void Tensors_of_the_same_row_length_share_strides_without_views_changing_them()
    {
        // Contiguous [N, 4] tensors share one strides array; views that change strides must copy it.
        Tensor a = Tensor.Arange(0, 12).Reshape(3, 4), b = Tensor.Arange(0, 20).Reshape(5, 4);
        Tensor every2 = b.Slice(1, 0, 4, step: 2), transposed = b.T, permuted = a.Permute(1, 0);
        Assert.Equal([0f, 2f, 4f, 6f, 8f, 10f, 12f, 14f, 16f, 18f], every2.ToArray());
        Assert.Equal(0f + 4f, transposed.ToArray()[1]);
        Assert.Equal(4f, permuted.ToArray()[1]);
        Assert.True(a.IsContiguous);
        Assert.True(b.IsContiguous);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (float)i), a.ToArray());
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (float)i), (b * 1f).ToArray());
    }
}
