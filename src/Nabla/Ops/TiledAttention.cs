using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>Keys from which attention without a mask or dropout runs in tiles: the [T, T] matrix would be 4 MB and more per head.</summary>
    internal const int TiledAttentionFrom = 1024;

    private const int QueryTile = 64, KeyTile = 64;

    /// <summary>
    /// Attention computed tile by tile with a running softmax (the FlashAttention scheme): for each
    /// block of queries, blocks of keys update a running maximum, sum and output, so no [Tq, Tk]
    /// matrix is ever held: memory is the output and one log-sum-exp per query (4 096 tokens of 64
    /// features: 1 MB per head). The backward pass recomputes each tile's weights from the saved
    /// log-sum-exp. Queries [..., Tq, d], keys [..., Tk, d], values [..., Tk, dv] with the same leading axes.
    /// </summary>
    internal static Tensor TiledAttention(Tensor query, Tensor key, Tensor value, bool causal, float scale)
    {
        int tq = query.ShapeArray[^2], tk = key.ShapeArray[^2], d = query.ShapeArray[^1], dv = value.ShapeArray[^1];
        int batch = query.Size / Math.Max(1, tq * d);
        if (!Shapes.Equal(query.ShapeArray[..^2], key.ShapeArray[..^2]) || !Shapes.Equal(key.ShapeArray[..^2], value.ShapeArray[..^2]))
            throw new ArgumentException($"TiledAttention: query {query.ShapeString}, key {key.ShapeString} and value {value.ShapeString} need the same leading axes.");
        ReadOnlySpan<float> q = query.Data[..query.Size], k = key.Data[..key.Size], v = value.Data[..value.Size];
        int[] outShape = [.. query.ShapeArray[..^1], dv];
        var output = ForOverwrite(outShape);
        var lse = ForOverwrite([batch * tq]);
        for (int b = 0; b < batch; b++)
        {
            TiledForward(q.Slice(b * tq * d, tq * d), k.Slice(b * tk * d, tk * d), v.Slice(b * tk * dv, tk * dv),
                output.Storage.AsSpan(b * tq * dv, tq * dv), lse.Storage.AsSpan(b * tq, tq), tq, tk, d, dv, causal, scale);
        }
        return ShouldRecord([query, key, value]) ? output.Record(new TiledAttentionBackward(query, key, value, output, lse, causal, scale)) : output;
    }

    /// <summary>The last key query <paramref name="i"/> may see (all with no causal mask).</summary>
    private static int LastKey(int i, int tq, int tk, bool causal) => causal ? Math.Min(tk - 1, i + tk - tq) : tk - 1;

    private static void TiledForward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> o, Span<float> lse,
        int tq, int tk, int d, int dv, bool causal, float scale)
    {
        Span<float> s = new float[QueryTile * KeyTile];
        Span<float> acc = new float[QueryTile * dv];
        Span<float> max = stackalloc float[QueryTile];
        Span<float> sum = stackalloc float[QueryTile];
        for (int i0 = 0; i0 < tq; i0 += QueryTile)
        {
            int br = Math.Min(QueryTile, tq - i0);
            max.Fill(float.NegativeInfinity);
            sum.Clear();
            acc.Clear();
            int keyEnd = LastKey(i0 + br - 1, tq, tk, causal) + 1;
            for (int j0 = 0; j0 < keyEnd; j0 += KeyTile)
            {
                int bc = Math.Min(KeyTile, keyEnd - j0);
                Gemm.Multiply(false, true, br, bc, d, q.Slice(i0 * d), d, k.Slice(j0 * d), d, s, KeyTile);
                for (int r = 0; r < br; r++)
                {
                    int last = LastKey(i0 + r, tq, tk, causal) - j0; // columns past it are masked
                    Span<float> row = s.Slice(r * KeyTile, bc);
                    float tileMax = float.NegativeInfinity;
                    for (int c = 0; c <= Math.Min(last, bc - 1); c++) tileMax = MathF.Max(tileMax, row[c] * scale);
                    float newMax = MathF.Max(max[r], tileMax);
                    if (newMax == float.NegativeInfinity)
                    {
                        row.Clear();
                        continue;
                    }
                    float rescale = MathF.Exp(max[r] - newMax);
                    sum[r] *= rescale;
                    System.Numerics.Tensors.TensorPrimitives.Multiply(acc.Slice(r * dv, dv), rescale, acc.Slice(r * dv, dv));
                    for (int c = 0; c < bc; c++)
                    {
                        float p = c <= last ? MathF.Exp(row[c] * scale - newMax) : 0f;
                        row[c] = p;
                        sum[r] += p;
                    }
                    max[r] = newMax;
                }
                Gemm.Multiply(false, false, br, dv, bc, s, KeyTile, v.Slice(j0 * dv), dv, acc, dv, accumulate: true);
            }
            for (int r = 0; r < br; r++)
            {
                Span<float> dst = o.Slice((i0 + r) * dv, dv);
                if (sum[r] > 0f) System.Numerics.Tensors.TensorPrimitives.Multiply(acc.Slice(r * dv, dv), 1f / sum[r], dst);
                else dst.Clear();
                lse[i0 + r] = sum[r] > 0f ? max[r] + MathF.Log(sum[r]) : float.NegativeInfinity;
            }
        }
    }

    private sealed class TiledAttentionBackward(Tensor q, Tensor k, Tensor v, Tensor o, Tensor lse, bool causal, float scale)
        : Node([q, k, v], q, k, v, o, lse)
    {
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor query = Saved[0], key = Saved[1], value = Saved[2], output = Saved[3];
            int tq = query.ShapeArray[^2], tk = key.ShapeArray[^2], d = query.ShapeArray[^1], dv = value.ShapeArray[^1];
            int batch = query.Size / Math.Max(1, tq * d);
            ReadOnlySpan<float> qs = query.Data[..query.Size], ks = key.Data[..key.Size], vs = value.Data[..value.Size];
            ReadOnlySpan<float> os = output.Data[..output.Size], dos = grad.Data[..grad.Size], ls = Saved[4].Data[..(batch * tq)];
            var dq = new Tensor((int[])query.ShapeArray.Clone());
            var dk = new Tensor((int[])key.ShapeArray.Clone());
            var dvT = new Tensor((int[])value.ShapeArray.Clone());
            var p = new float[QueryTile * KeyTile];
            var dp = new float[QueryTile * KeyTile];
            var delta = new float[tq];
            for (int b = 0; b < batch; b++)
            {
                ReadOnlySpan<float> qb = qs.Slice(b * tq * d, tq * d), kb = ks.Slice(b * tk * d, tk * d), vb = vs.Slice(b * tk * dv, tk * dv);
                ReadOnlySpan<float> ob = os.Slice(b * tq * dv, tq * dv), dob = dos.Slice(b * tq * dv, tq * dv), lb = ls.Slice(b * tq, tq);
                Span<float> dqb = dq.Storage.AsSpan(b * tq * d, tq * d), dkb = dk.Storage.AsSpan(b * tk * d, tk * d), dvb = dvT.Storage.AsSpan(b * tk * dv, tk * dv);
                // D_i = dO_i . O_i: the softmax's correction term, once per query.
                for (int i = 0; i < tq; i++) delta[i] = System.Numerics.Tensors.TensorPrimitives.Dot(dob.Slice(i * dv, dv), ob.Slice(i * dv, dv));
                for (int j0 = 0; j0 < tk; j0 += KeyTile)
                {
                    int bc = Math.Min(KeyTile, tk - j0);
                    for (int i0 = 0; i0 < tq; i0 += QueryTile)
                    {
                        int br = Math.Min(QueryTile, tq - i0);
                        if (LastKey(i0 + br - 1, tq, tk, causal) < j0) continue; // every key of the tile is masked
                        Gemm.Multiply(false, true, br, bc, d, qb.Slice(i0 * d), d, kb.Slice(j0 * d), d, p, KeyTile);
                        for (int r = 0; r < br; r++)
                        {
                            int last = LastKey(i0 + r, tq, tk, causal) - j0;
                            float l = lb[i0 + r];
                            Span<float> row = p.AsSpan(r * KeyTile, bc);
                            for (int c = 0; c < bc; c++) row[c] = c <= last && l != float.NegativeInfinity ? MathF.Exp(row[c] * scale - l) : 0f;
                        }
                        // dV_j += P^T dO_i; dP = dO_i V_j^T
                        Gemm.Multiply(true, false, bc, dv, br, p, KeyTile, dob.Slice(i0 * dv), dv, dvb.Slice(j0 * dv), dv, accumulate: true);
                        Gemm.Multiply(false, true, br, bc, dv, dob.Slice(i0 * dv), dv, vb.Slice(j0 * dv), dv, dp, KeyTile);
                        // dS = P (dP - D) scale, in place of P
                        for (int r = 0; r < br; r++)
                        {
                            for (int c = 0; c < bc; c++) p[r * KeyTile + c] *= (dp[r * KeyTile + c] - delta[i0 + r]) * scale;
                        }
                        // dQ_i += dS K_j; dK_j += dS^T Q_i
                        Gemm.Multiply(false, false, br, d, bc, p, KeyTile, kb.Slice(j0 * d), d, dqb.Slice(i0 * d), d, accumulate: true);
                        Gemm.Multiply(true, false, bc, d, br, p, KeyTile, qb.Slice(i0 * d), d, dkb.Slice(j0 * d), d, accumulate: true);
                    }
                }
            }
            return [NeedsGrad(0) ? dq : null, NeedsGrad(1) ? dk : null, NeedsGrad(2) ? dvT : null];
        }
    }
}
