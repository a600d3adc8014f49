using System.Numerics.Tensors;
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
        ReadOnlySpan<float> x = input.Data[..input.Size], w = weight.Data[..f], b = bias.Data[..f];
        var y = ForOverwrite((int[])input.ShapeArray.Clone());
        var mean = ForOverwrite([rows]);
        var invStd = ForOverwrite([rows]);
        Span<float> ys = y.Storage.AsSpan(0, y.Size);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = x.Slice(r * f, f);
            Span<float> o = ys.Slice(r * f, f);
            float m = TensorPrimitives.Sum(row) / f;
            TensorPrimitives.Subtract(row, m, o);                    // x - m, in the output for now
            float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(o) / f + epsilon);
            mean.Storage[r] = m;
            invStd.Storage[r] = inv;
            TensorPrimitives.Multiply(o, inv, o);                     // x̂
            TensorPrimitives.MultiplyAdd(o, w, b, o);                 // x̂ w + b
        }
        if (ShouldRecord([input, weight, bias])) y.Record(new LayerNormBackward(input, weight, bias, mean, invStd));
        return y;
    }

    private sealed class LayerNormBackward(Tensor input, Tensor weight, Tensor bias, Tensor mean, Tensor invStd)
        : Node([input, weight, bias], input, weight, mean, invStd)
    {
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor x = Saved[0], w = Saved[1];
            int f = x.ShapeArray[^1], rows = x.Size / f;
            ReadOnlySpan<float> xs = x.Data[..x.Size], dy = grad.Data[..grad.Size], ws = w.Data[..f];
            ReadOnlySpan<float> means = Saved[2].Data[..rows], invs = Saved[3].Data[..rows];
            Tensor? dx = NeedsGrad(0) ? ForOverwrite((int[])x.ShapeArray.Clone()) : null;
            var dw = new Tensor([f]);
            var db = new Tensor([f]);
            Span<float> xhat = f <= 1024 ? stackalloc float[f] : new float[f];
            Span<float> gw = f <= 1024 ? stackalloc float[f] : new float[f];
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<float> g = dy.Slice(r * f, f);
                TensorPrimitives.Subtract(xs.Slice(r * f, f), means[r], xhat);
                TensorPrimitives.Multiply(xhat, invs[r], xhat);
                // dw += g x̂, db += g
                TensorPrimitives.MultiplyAdd(g, xhat, dw.Storage.AsSpan(0, f), dw.Storage.AsSpan(0, f));
                TensorPrimitives.Add(g, db.Storage.AsSpan(0, f), db.Storage.AsSpan(0, f));
                if (dx is null) continue;
                // dx = inv (g w - mean(g w) - x̂ mean(g w x̂))
                TensorPrimitives.Multiply(g, ws, gw);
                float meanGw = TensorPrimitives.Sum(gw) / f, meanGwX = TensorPrimitives.Dot(gw, xhat) / f;
                Span<float> o = dx.Storage.AsSpan(r * f, f);
                TensorPrimitives.Multiply(xhat, -meanGwX, o);
                TensorPrimitives.Add(o, gw, o);
                TensorPrimitives.Add(o, -meanGw, o);
                TensorPrimitives.Multiply(o, invs[r], o);
            }
            return [dx, NeedsGrad(1) ? dw : null, NeedsGrad(2) ? db : null];
        }
    }
}
