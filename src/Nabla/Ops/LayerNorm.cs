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
        // Each row's mean and 1 / std are the gradient rule's alone: pooled, and returned with the graph.
        float[] mean = Kernels.BufferPool.RentFloats(rows), invStd = Kernels.BufferPool.RentFloats(rows);
        var rowsOf = new NormalizeArgs(input.DenseArray(), weight.DenseArray(), bias.DenseArray(), epsilon, f, y.Storage, mean, invStd);
        if (!WorthSharing((long)rows * f)) NormalizeRows(rowsOf, 0, rows);
        else NormalizeRowsInParts(rowsOf, rows);
        if (ShouldRecord([input, weight, bias])) return y.Record(new LayerNormBackward(input, weight, bias, mean, invStd));
        Kernels.BufferPool.Return(mean);
        Kernels.BufferPool.Return(invStd);
        return y;
    }

    /// <summary>The forward pass's operands: input, weight and bias (dense), and where the output, means and 1 / std go.</summary>
    private readonly record struct NormalizeArgs(float[] X, float[] W, float[] B, float Epsilon, int F, float[] Y, float[] Mean, float[] InvStd);

    /// <summary>Rows [r0, r1) of the forward pass: each row's mean and 1 / std, and y = x̂ w + b.</summary>
    private static void NormalizeRows(NormalizeArgs a, int r0, int r1)
    {
        int f = a.F;
        ReadOnlySpan<float> w = a.W.AsSpan(0, f), b = a.B.AsSpan(0, f);
        for (int r = r0; r < r1; r++)
        {
            ReadOnlySpan<float> row = a.X.AsSpan(r * f, f);
            Span<float> o = a.Y.AsSpan(r * f, f);
            float m = TensorPrimitives.Sum(row) / f;
            TensorPrimitives.Subtract(row, m, o);                    // x - m, in the output for now
            float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(o) / f + a.Epsilon);
            a.Mean[r] = m;
            a.InvStd[r] = inv;
            TensorPrimitives.Multiply(o, inv, o);                     // x̂
            TensorPrimitives.MultiplyAdd(o, w, b, o);                 // x̂ w + b
        }
    }

    private static void NormalizeRowsInParts(NormalizeArgs a, int rows) => ForRows(rows, 4 * a.F, (r0, r1) => NormalizeRows(a, r0, r1));

    private sealed class LayerNormBackward : Node
    {
        private readonly float[] _mean;
        private readonly float[] _invStd;

        public LayerNormBackward(Tensor input, Tensor weight, Tensor bias, float[] mean, float[] invStd) : base([input, weight, bias], input, weight)
        {
            _mean = Keep(mean);
            _invStd = Keep(invStd);
        }

        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor x = Saved[0], w = Saved[1];
            int f = x.ShapeArray[^1], rows = x.Size / f;
            var a = new GradArgs(x.DenseArray(), grad.DenseArray(), w.DenseArray(), _mean, _invStd, f, rows);
            bool shared = WorthSharing((long)rows * f);
            // dx row by row; dw and db feature by feature (each feature summed over the rows in
            // order, so the split over threads does not change a bit).
            Tensor? dx = NeedsGrad(0) ? ForOverwrite((int[])x.ShapeArray.Clone()) : null;
            if (dx is not null)
            {
                if (shared) InputGradRowsInParts(a, dx.Storage);
                else InputGradRows(a, dx.Storage, 0, rows);
            }
            if (!NeedsGrad(1) && !NeedsGrad(2)) return [dx, null, null];
            var dw = new Tensor([f]);
            var db = new Tensor([f]);
            if (shared && f > ParamBlock) ParamGradsInParts(a, dw.Storage, db.Storage);
            else ParamGrads(a, dw.Storage, db.Storage, 0, f);
            return [dx, NeedsGrad(1) ? dw : null, NeedsGrad(2) ? db : null];
        }

        /// <summary>Features per thread's piece of the weight and bias gradients.</summary>
        private const int ParamBlock = 32;

        /// <summary>The backward pass's operands (dense): input, upstream gradient, weight, and each row's mean and 1 / std.</summary>
        private readonly record struct GradArgs(float[] X, float[] Dy, float[] W, float[] Means, float[] Invs, int F, int Rows);

        private static void InputGradRowsInParts(GradArgs a, float[] dx) => ForRows(a.Rows, 6 * a.F, (r0, r1) => InputGradRows(a, dx, r0, r1));

        private static void ParamGradsInParts(GradArgs a, float[] dw, float[] db) =>
            Kernels.Threading.For((a.F + ParamBlock - 1) / ParamBlock, (long)a.Rows * ParamBlock, (b0, b1) => ParamGrads(a, dw, db, b0 * ParamBlock, Math.Min(a.F, b1 * ParamBlock)));

        /// <summary>Rows [r0, r1) of dx = inv (g w - mean(g w) - x̂ mean(g w x̂)).</summary>
        private static void InputGradRows(GradArgs a, float[] dx, int r0, int r1)
        {
            int f = a.F;
            float[] xs = a.X, dy = a.Dy, means = a.Means, invs = a.Invs;
            ReadOnlySpan<float> ws = a.W.AsSpan(0, f);
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
        private static void ParamGrads(GradArgs a, float[] dw, float[] db, int j0, int j1)
        {
            int f = a.F;
            float[] xs = a.X, dy = a.Dy, means = a.Means, invs = a.Invs;
            for (int r = 0; r < a.Rows; r++)
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
