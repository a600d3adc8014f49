using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Nabla.Autograd;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// Layer normalisation as one op: each row of the last axis normalised with its own mean and
    /// biased variance, then scaled by <paramref name="weight"/> and shifted by <paramref name="bias"/>
    /// (both [features]), as PyTorch's F.layer_norm over the last axis. The gradient rule is the closed
    /// form, dx = w / std * (dy - mean(dy w) ... ), two passes per row instead of a graph of eight ops.
    /// </summary>
    public static Tensor LayerNorm(Tensor input, Tensor weight, Tensor bias, float epsilon)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(bias);
        int f = input.Rank == 0 ? 0 : input.ShapeArray[^1];
        if (input.Rank == 0 || weight.Rank != 1 || bias.Rank != 1 || weight.Size != f || bias.Size != f)
            throw new ArgumentException($"LayerNorm: input [..., F] with weight and bias [F], got {input.ShapeString}, {weight.ShapeString} and {bias.ShapeString}.");
        int rows = f == 0 ? 0 : input.Size / f;
        var y = ForOverwrite((int[])input.ShapeArray.Clone());
        var mean = ForOverwrite([rows]);
        var invStd = ForOverwrite([rows]);
        float[] xs = input.IsContiguous ? input.Storage : input.ContiguousCopy().Storage;
        int xOffset = input.IsContiguous ? input.Offset : 0;
        float[] ws = weight.Data[..f].ToArray(), bs = bias.Data[..f].ToArray();
        if ((long)rows * f < 2 * MapGrain || Kernels.Threading.NumThreads == 1) NormalizeRows(xs, xOffset, ws, bs, epsilon, f, y.Storage, mean.Storage, invStd.Storage, 0, rows);
        else ForRows(rows, 4 * f, (r0, r1) => NormalizeRows(xs, xOffset, ws, bs, epsilon, f, y.Storage, mean.Storage, invStd.Storage, r0, r1));
        if (ShouldRecord([input, weight, bias])) y.Record(new LayerNormBackward(input, weight, bias, mean, invStd));
        return y;
    }

    /// <summary>Rows [r0, r1) of the forward pass: each row's mean and 1 / std, and y = x̂ w + b.</summary>
    private static void NormalizeRows(float[] xs, int xOffset, float[] w, float[] b, float epsilon, int f, float[] y, float[] mean, float[] invStd, int r0, int r1)
    {
        for (int r = r0; r < r1; r++)
        {
            ReadOnlySpan<float> row = xs.AsSpan(xOffset + r * f, f);
            Span<float> o = y.AsSpan(r * f, f);
            float m = TensorPrimitives.Sum(row) / f;
            TensorPrimitives.Subtract(row, m, o);                    // x - m, in the output for now
            float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(o) / f + epsilon);
            mean[r] = m;
            invStd[r] = inv;
            TensorPrimitives.Multiply(o, inv, o);                     // x̂
            TensorPrimitives.MultiplyAdd(o, w, b, o);                 // x̂ w + b
        }
    }

    private sealed class LayerNormBackward(Tensor input, Tensor weight, Tensor bias, Tensor mean, Tensor invStd)
        : Node([input, weight, bias], input, weight, mean, invStd)
    {
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor x = Saved[0], w = Saved[1];
            int f = x.ShapeArray[^1], rows = x.Size / f;
            float[] xs = Contiguous(x), dy = Contiguous(grad), ws = w.Data[..f].ToArray();
            float[] means = Saved[2].Storage, invs = Saved[3].Storage;
            Tensor? dx = NeedsGrad(0) ? ForOverwrite((int[])x.ShapeArray.Clone()) : null;
            var dw = new Tensor([f]);
            var db = new Tensor([f]);
            bool parallel = (long)rows * f >= 2 * MapGrain && Kernels.Threading.NumThreads > 1;
            // dx row by row; dw and db feature by feature (each feature summed over the rows in
            // order, so the split over threads does not change a bit).
            if (dx is not null)
            {
                if (parallel) ForRows(rows, 6 * f, (r0, r1) => InputGradRows(xs, dy, ws, means, invs, f, dx.Storage, r0, r1));
                else InputGradRows(xs, dy, ws, means, invs, f, dx.Storage, 0, rows);
            }
            if (!NeedsGrad(1) && !NeedsGrad(2)) return [dx, null, null];
            int blocks = (f + ParamBlock - 1) / ParamBlock;
            if (parallel && blocks > 1) Kernels.Threading.For(blocks, (long)rows * ParamBlock, (b0, b1) => ParamGrads(xs, dy, means, invs, f, rows, dw.Storage, db.Storage, b0 * ParamBlock, Math.Min(f, b1 * ParamBlock)));
            else ParamGrads(xs, dy, means, invs, f, rows, dw.Storage, db.Storage, 0, f);
            return [dx, NeedsGrad(1) ? dw : null, NeedsGrad(2) ? db : null];
        }

        /// <summary>Features per thread's piece of the weight and bias gradients.</summary>
        private const int ParamBlock = 32;

        private static float[] Contiguous(Tensor t) => t.IsContiguous && t.Offset == 0 ? t.Storage : t.ContiguousCopy().Storage;

        /// <summary>Rows [r0, r1) of dx = inv (g w - mean(g w) - x̂ mean(g w x̂)).</summary>
        private static void InputGradRows(float[] xs, float[] dy, float[] ws, float[] means, float[] invs, int f, float[] dx, int r0, int r1)
        {
            Span<float> xhat = f <= 1024 ? stackalloc float[f] : new float[f];
            Span<float> gw = f <= 1024 ? stackalloc float[f] : new float[f];
            for (int r = r0; r < r1; r++)
            {
                ReadOnlySpan<float> g = dy.AsSpan(r * f, f);
                TensorPrimitives.Subtract(xs.AsSpan(r * f, f), means[r], xhat);
                TensorPrimitives.Multiply(xhat, invs[r], xhat);
                TensorPrimitives.Multiply(g, ws, gw);
                float meanGw = TensorPrimitives.Sum(gw) / f, meanGwX = TensorPrimitives.Dot(gw, xhat) / f;
                Span<float> o = dx.AsSpan(r * f, f);
                TensorPrimitives.Multiply(xhat, -meanGwX, o);
                TensorPrimitives.Add(o, gw, o);
                TensorPrimitives.Add(o, -meanGw, o);
                TensorPrimitives.Multiply(o, invs[r], o);
            }
        }

        /// <summary>Features [j0, j1) of dw = sum over rows of g x̂ and db = sum of g, rows in order, one element at a time (the same operations whichever piece holds the feature).</summary>
        private static void ParamGrads(float[] xs, float[] dy, float[] means, float[] invs, int f, int rows, float[] dw, float[] db, int j0, int j1)
        {
            for (int r = 0; r < rows; r++)
            {
                float m = means[r], inv = invs[r];
                int row = r * f;
                int j = j0;
                if (Vector256.IsHardwareAccelerated)
                {
                    Vector256<float> vm = Vector256.Create(m), vinv = Vector256.Create(inv);
                    for (; j + 8 <= j1; j += 8)
                    {
                        Vector256<float> g = Vector256.Create(dy.AsSpan(row + j, 8)), xhat = (Vector256.Create(xs.AsSpan(row + j, 8)) - vm) * vinv;
                        Vector256.FusedMultiplyAdd(g, xhat, Vector256.Create(dw.AsSpan(j, 8))).CopyTo(dw.AsSpan(j, 8));
                        (Vector256.Create(db.AsSpan(j, 8)) + g).CopyTo(db.AsSpan(j, 8));
                    }
                }
                for (; j < j1; j++)
                {
                    float g = dy[row + j];
                    dw[j] = MathF.FusedMultiplyAdd(g, (xs[row + j] - m) * inv, dw[j]);
                    db[j] += g;
                }
            }
        }
    }
}
