using Nabla.Autograd;

namespace Nabla.Tests.Ops;

/// <summary>Known values of the ops attention is built from (their gradients are checked through OpCatalog).</summary>
public class AttentionOpsTests
{
    private static void Near(float[] expected, Tensor actual, float tolerance = 1e-5f)
    {
        float[] a = actual.ToArray();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(expected[i] - a[i]) <= tolerance, $"[{i}]: expected {expected[i]}, got {a[i]}");
    }

    [Fact]
    public void Cumsum_pad_roll_and_triangles_give_their_definitions()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        Near([1f, 3f, 6f, 4f, 9f, 15f], x.CumSum(1));
        Near([1f, 2f, 3f, 5f, 7f, 9f], x.CumSum(0));
        Near([9f, 9f, 1f, 2f, 3f, 9f, 9f, 9f, 4f, 5f, 6f, 9f], x.Pad(1, 2, 1, 9f));
        Near([3f, 1f, 2f, 6f, 4f, 5f], x.Roll(1, 1));
        Near([2f, 3f, 1f, 5f, 6f, 4f], x.Roll(-4, -1));
        var m = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f], 3, 3);
        Near([1f, 2f, 3f, 0f, 5f, 6f, 0f, 0f, 9f], m.Triu());
        Near([0f, 2f, 3f, 0f, 0f, 6f, 0f, 0f, 0f], m.Triu(1));
        Near([1f, 0f, 0f, 4f, 5f, 0f, 7f, 8f, 9f], m.Tril());
        // Infinities outside the triangle are dropped, not multiplied by zero into NaN.
        var inf = Tensor.FromArray([1f, float.NegativeInfinity, 2f, 3f], 2, 2);
        Near([1f, 0f, 2f, 3f], inf.Tril());
        Near([7f, 2f, 7f, 7f, 5f, 7f], x.MaskedFill(Tensor.FromArray([1f, 0f, 1f]), 7f));
    }

    [Fact]
    public void Sort_and_topk_give_values_and_stable_positions()
    {
        var x = Tensor.FromArray([3f, 1f, 2f, 1f, float.NaN, 0f], 1, 6);
        var (values, indices) = x.Sort(1);
        Near([0f, 1f, 1f, 2f, 3f], values.Slice(1, 0, 5));
        Assert.True(float.IsNaN(values.ToArray()[5]));
        Assert.Equal([5f, 1f, 3f, 2f, 0f, 4f], indices.ToArray()); // ties in order, NaN last
        var (top, where) = Tensor.FromArray([4f, 9f, 1f, 7f, 2f, 8f], 2, 3).TopK(2, 1);
        Assert.Equal([9f, 4f, 8f, 7f], top.ToArray());
        Assert.Equal([1f, 0f, 2f, 0f], where.ToArray());
        var (low, _) = Tensor.FromArray([4f, 9f, 1f], 3).TopK(1, largest: false);
        Assert.Equal([1f], low.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => x.TopK(7, 1));
    }

    [Fact]
    public void Scatter_add_adds_where_indices_repeat()
    {
        var y = Tensor.Zeros(2, 4).ScatterAdd(1, Tensor.FromArray([0f, 0f, 3f, 2f, 2f, 2f], 2, 3), Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3));
        Near([3f, 0f, 0f, 3f, 0f, 0f, 15f, 0f], y);
        Assert.Contains("ScatterAdd on axis 1", Assert.ThrowsAny<Exception>(() => Tensor.Zeros(2, 4).ScatterAdd(1, Tensor.FromArray([4f], 1, 1), Tensor.FromArray([1f], 1, 1))).Message);
    }

    [Fact]
    public void Logsumexp_is_stable_and_norm_has_a_zero_gradient_at_zero()
    {
        Near([1000f + MathF.Log(2f), MathF.Log(MathF.Exp(1f) + MathF.Exp(2f))], Tensor.FromArray([1000f, 1000f, 1f, 2f], 2, 2).LogSumExp(1), 1e-4f);
        Assert.Equal(float.NegativeInfinity, Tensor.FromArray([float.NegativeInfinity, float.NegativeInfinity], 1, 2).LogSumExp(1).Item());
        var v = Tensor.FromArray([3f, 4f, 0f, 0f], 2, 2).RequireGrad();
        Tensor n = v.Norm([1]);
        Near([5f, 0f], n);
        n.Sum().Backward();
        Near([0.6f, 0.8f, 0f, 0f], v.Grad!);
    }

    [Fact]
    public void Attention_is_softmax_of_scaled_scores_times_values_and_masks_hide_keys()
    {
        var g = new Generator(1);
        Tensor q = Tensor.RandN([2, 3, 4], g), k = Tensor.RandN([2, 5, 4], g), v = Tensor.RandN([2, 5, 2], g);
        Tensor expected = (q.MatMul(k.Transpose(1, 2)) * 0.5f).Softmax(-1).MatMul(v);
        Near(expected.ToArray(), Tensor.ScaledDotProductAttention(q, k, v), 1e-5f);

        // Causal: the first query sees the first key only.
        Tensor self = Tensor.ScaledDotProductAttention(k, k, v, causal: true);
        Near(v.Slice(1, 0, 1).ToArray(), self.Slice(1, 0, 1));
        // A padding mask: keys 3 and 4 hidden is attention over keys 0-2.
        Tensor mask = Tensor.FromArray([1f, 1f, 1f, 0f, 0f], 1, 1, 5);
        Near(Tensor.ScaledDotProductAttention(q, k.Slice(1, 0, 3), v.Slice(1, 0, 3)).ToArray(), Tensor.ScaledDotProductAttention(q, k, v, mask), 1e-5f);

        // A query that may see no key gets zeros, and gradients stay finite.
        Tensor qg = q.Detach().RequireGrad(), kg = k.Detach().RequireGrad();
        Tensor none = Tensor.FromArray([0f, 0f, 0f, 0f, 0f, 1f, 1f, 0f, 1f, 1f], 2, 1, 5);
        Tensor y = Tensor.ScaledDotProductAttention(qg, kg, v, none);
        Near(new float[3 * 2], y.Slice(0, 0, 1));
        (y * y).Sum().Backward();
        Assert.All(qg.Grad!.ToArray().Concat(kg.Grad!.ToArray()), x => Assert.True(float.IsFinite(x)));

        var result = GradCheck.Check(_ => Tensor.ScaledDotProductAttention(qg, kg, v, none), [qg, kg]);
        Assert.True(result.Passed, result.Worst);
    }

    [Theory]
    [InlineData(70, 130, 8, 5, false)]   // ragged tiles of queries and keys
    [InlineData(130, 130, 4, 4, true)]   // causal, square
    [InlineData(40, 150, 6, 3, true)]    // causal with more keys than queries (a cache)
    [InlineData(150, 40, 3, 3, true)]    // causal with more queries than keys: the first see nothing
    public void Tiled_attention_gives_the_outputs_and_gradients_of_the_plain_one(int tq, int tk, int d, int dv, bool causal)
    {
        var g = new Generator(5);
        Tensor q = Tensor.RandN([2, tq, d], g).RequireGrad(), k = Tensor.RandN([2, tk, d], g).RequireGrad(), v = Tensor.RandN([2, tk, dv], g).RequireGrad();
        Tensor up = Tensor.RandN([2, tq, dv], g);
        Tensor plain = Tensor.ScaledDotProductAttention(q, k, v, causal: causal);
        Tensor tiled = Tensor.TiledAttention(q, k, v, causal, 1f / MathF.Sqrt(d));
        Near(plain.ToArray(), tiled, 1e-5f);
        (plain * up).Sum().Backward();
        float[][] expected = [q.Grad!.ToArray(), k.Grad!.ToArray(), v.Grad!.ToArray()];
        foreach (var t in new[] { q, k, v }) t.ZeroGrad();
        (tiled * up).Sum().Backward();
        Tensor[] actual = [q.Grad!, k.Grad!, v.Grad!];
        for (int i = 0; i < 3; i++) Near(expected[i], actual[i], 2e-5f);
    }

    [Fact]
    public void Attention_over_4096_tokens_runs_in_tiles_within_a_few_megabytes()
    {
        // One head of 64 features: the [T, T] weights alone would be 64 MB; the tiles keep the step to
        // the inputs, the output and their gradients (1 MB each).
        var g = new Generator(6);
        Tensor q = Tensor.RandN([1, 4096, 64], g).RequireGrad(), k = Tensor.RandN([1, 4096, 64], g).RequireGrad(), v = Tensor.RandN([1, 4096, 64], g).RequireGrad();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Tensor y = Tensor.ScaledDotProductAttention(q, k, v, causal: true);
        y.Sum().Backward();
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(bytes < 12L << 20, $"allocated {bytes / 1e6:F1} MB");
        Assert.All(q.Grad!.ToArray(), x => Assert.True(float.IsFinite(x)));
        // The last query attends over all 4 096 keys; check it against the definition.
        float[] last = (q.Slice(1, 4095).MatMul(k.Transpose(1, 2)) * 0.125f).Softmax(-1).MatMul(v).ToArray();
        Near(last, y.Slice(1, 4095), 1e-4f);
    }

    [Fact]
    public void Einsum_contracts_transposes_and_sums_as_written()
    {
        var g = new Generator(7);
        Tensor q = Tensor.RandN([2, 3, 4, 5], g), k = Tensor.RandN([2, 3, 6, 5], g), v = Tensor.RandN([2, 3, 6, 4], g);
        Near(q.MatMul(k.Transpose(-1, -2)).ToArray(), Tensor.Einsum("bhqd,bhkd->bhqk", q, k), 1e-5f);
        Tensor scores = Tensor.RandN([2, 3, 4, 6], g);
        // Heads joined back: [b, h, q, d] -> [b, q, h, d].
        Near(scores.MatMul(v).Transpose(1, 2).ToArray(), Tensor.Einsum("bhqk,bhkd->bqhd", scores, v), 1e-5f);
        Tensor m = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        Near([1f, 4f, 2f, 5f, 3f, 6f], Tensor.Einsum("ij->ji", m));
        Near([6f, 15f], Tensor.Einsum("ij->i", m));
        Near([21f], Tensor.Einsum("ij->", m).Reshape(1));
        Near([14f, 32f, 32f, 77f], Tensor.Einsum("ij,kj->ik", m, m)); // m m^T
        Near([5f, 7f, 9f], Tensor.Einsum("ij,ij->j", m, Tensor.Ones(2, 3)));
        Assert.Contains("explicit output", Assert.Throws<ArgumentException>(() => Tensor.Einsum("ij,jk", m, m)).Message);
        Assert.Contains("size", Assert.Throws<ArgumentException>(() => Tensor.Einsum("ij,ij->i", m, Tensor.Ones(3, 2))).Message);
    }
}
