namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// Scaled dot-product attention (PyTorch's F.scaled_dot_product_attention): softmax(q k^T /
    /// sqrt(d) + masks) v over the last two axes, for queries [..., Tq, d], keys [..., Tk, d] and
    /// values [..., Tk, dv] (leading axes, such as batch and heads, broadcast). With
    /// <paramref name="causal"/>, query i sees keys up to i (aligned at the end when Tk &gt; Tq, as for
    /// a cache of past keys); <paramref name="mask"/> (broadcast to [..., Tq, Tk]) is non-zero where a
    /// query may attend, zero where it may not (padding). <paramref name="dropout"/> drops attention
    /// weights in training, from <paramref name="generator"/> (default <see cref="Generator.Default"/>).
    /// A query that may attend to no key gets zeros, not NaN. Returns [..., Tq, dv]. From 1 024 keys,
    /// without a mask or dropout, it runs in tiles with a running softmax (memory: the output and
    /// one number per query, not the [Tq, Tk] weights).
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? mask = null, bool causal = false,
        float dropout = 0f, Generator? generator = null, float? scale = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (query.Rank < 2 || key.Rank < 2 || value.Rank < 2 || query.ShapeArray[^1] != key.ShapeArray[^1] || key.ShapeArray[^2] != value.ShapeArray[^2])
            throw new ArgumentException($"ScaledDotProductAttention: query [..., Tq, d], key [..., Tk, d] and value [..., Tk, dv], got {query.ShapeString}, {key.ShapeString} and {value.ShapeString}.");
        if (!(dropout >= 0f && dropout < 1f)) throw new ArgumentOutOfRangeException(nameof(dropout), $"ScaledDotProductAttention: dropout must be in [0, 1), not {dropout}.");
        int tq = query.ShapeArray[^2], tk = key.ShapeArray[^2], d = query.ShapeArray[^1];
        // Long sequences without a mask or dropout run in tiles, never holding the [Tq, Tk] weights.
        if (mask is null && dropout == 0f && tk >= TiledAttentionFrom && query.Rank == key.Rank && key.Rank == value.Rank
            && Shapes.Equal(query.ShapeArray[..^2], key.ShapeArray[..^2]) && Shapes.Equal(key.ShapeArray[..^2], value.ShapeArray[..^2]))
            return TiledAttention(query, key, value, causal, scale ?? 1f / MathF.Sqrt(d));
        float factor = scale ?? 1f / MathF.Sqrt(d);
        Tensor? allowed = mask is null ? null : mask.Ne(0f);
        Tensor weights;
        if (causal && allowed is null && tk >= tq)
        {
            // Causal alone, every query seeing at least its own key: scaling, the mask and the
            // softmax in one op.
            weights = query.MatMul(key.Transpose(-2, -1)).ScaledCausalSoftmax(factor);
        }
        else
        {
            Tensor scores = query.MatMul(key.Transpose(-2, -1)) * factor;
            if (causal)
            {
                Tensor lower = TriangleMask(tq, tk, tk - tq, upper: false);
                allowed = allowed is null ? lower : allowed * lower;
            }
            weights = allowed is null ? scores.Softmax(-1) : MaskedSoftmax(scores, allowed);
        }
        return Dropped(weights, dropout, generator).MatMul(value);
    }

    /// <summary>Softmax over the last axis of <paramref name="scores"/> where <paramref name="allowed"/> is non-zero, zeros elsewhere.</summary>
    private static Tensor MaskedSoftmax(Tensor scores, Tensor allowed)
    {
        // A row with no key allowed would be all -inf, NaN after the softmax and in its gradient:
        // such rows are left unmasked for the softmax, then zeroed.
        Tensor any = allowed.Sum(-1, keepDim: true).Gt(0f);
        Tensor weights = scores.MaskedFill(allowed.Eq(0f) * any, float.NegativeInfinity).Softmax(-1);
        return Where(any, weights, Scalar(0f));
    }

    /// <summary>Inverted dropout of attention weights (none when <paramref name="rate"/> is 0).</summary>
    private static Tensor Dropped(Tensor weights, float rate, Generator? generator)
    {
        if (rate == 0f) return weights;
        var keep = new Tensor((int[])weights.ShapeArray.Clone());
        var g = generator ?? Generator.Default;
        float factor = 1f / (1f - rate);
        int rows = weights.Shape[0];
        var (before, after) = Distributed.BatchShard.Skips(rows, keep.Size / Math.Max(1, rows));
        g.Skip(before);
        for (int i = 0; i < keep.Size; i++) keep.Storage[i] = g.NextFloat() < rate ? 0f : factor;
        g.Skip(after);
        return weights * keep;
    }
}
