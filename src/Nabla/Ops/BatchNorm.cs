using System.Numerics.Tensors;
using Nabla.Autograd;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// Batch normalisation as one op, in training mode: for input [N, C, ...], each channel c is
    /// normalised with the mean and biased variance of its N * (spatial) values, then scaled by
    /// <paramref name="weight"/>[c] and shifted by <paramref name="bias"/>[c]. Returns the output and
    /// the batch statistics [C] (mean, biased variance) for the running averages. The gradient rule
    /// is the closed form (dx = w / std * (dy - mean(dy) - x̂ mean(dy x̂))), which costs two passes
    /// instead of the graph of a dozen broadcasting ops the composed formula records.
    /// </summary>
    public static (Tensor Output, Tensor Mean, Tensor Variance) BatchNorm(Tensor input, Tensor weight, Tensor bias, float epsilon)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(bias);
        if (input.Rank < 2 || weight.Rank != 1 || bias.Rank != 1 || weight.Size != input.ShapeArray[1] || bias.Size != weight.Size)
            throw new ArgumentException($"BatchNorm: input [N, C, ...] with weight and bias [C], got {input.ShapeString}, {weight.ShapeString} and {bias.ShapeString}.");
        int n = input.ShapeArray[0], c = input.ShapeArray[1], spatial = input.Size / Math.Max(1, n * c);
        int count = n * spatial;
        if (count < 2) throw new ArgumentException($"BatchNorm needs more than one value per channel, got input of shape {input.ShapeString}.");
        ReadOnlySpan<float> x = input.Data[..input.Size];
        ReadOnlySpan<float> w = weight.Data[..c], b = bias.Data[..c];
        var y = ForOverwrite((int[])input.ShapeArray.Clone());
        var mean = ForOverwrite([c]);
        var variance = ForOverwrite([c]);
        var invStd = ForOverwrite([c]);
        Span<float> ys = y.Storage.AsSpan(0, y.Size);
        // Each channel's centred block lands in its place in y, which the last pass overwrites.
        for (int ch = 0; ch < c; ch++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++) sum += TensorPrimitives.Sum(x.Slice((i * c + ch) * spatial, spatial));
            float m = (float)(sum / count);
            // Two passes (the mean, then the squares about it), not sum(x^2) - n m^2, which cancels.
            double squares = 0;
            for (int i = 0; i < n; i++)
            {
                Span<float> centred = ys.Slice((i * c + ch) * spatial, spatial);
                TensorPrimitives.Subtract(x.Slice((i * c + ch) * spatial, spatial), m, centred);
                squares += TensorPrimitives.SumOfSquares(centred);
            }
            float v = (float)(squares / count);
            float inv = 1f / MathF.Sqrt(v + epsilon);
            mean.Storage[ch] = m;
            variance.Storage[ch] = v;
            invStd.Storage[ch] = inv;
            // y = x * (w inv) + (b - m w inv)
            float scale = w[ch] * inv, shift = b[ch] - m * scale;
            for (int i = 0; i < n; i++)
            {
                int at = (i * c + ch) * spatial;
                Span<float> o = ys.Slice(at, spatial);
                TensorPrimitives.Multiply(x.Slice(at, spatial), scale, o);
                TensorPrimitives.Add(o, shift, o);
            }
        }
        if (ShouldRecord([input, weight, bias])) y.Record(new BatchNormBackward(input, weight, bias, mean, invStd));
        return (y, mean, variance);
    }

    private sealed class BatchNormBackward(Tensor input, Tensor weight, Tensor bias, Tensor mean, Tensor invStd)
        : Node([input, weight, bias], input, weight, mean, invStd)
    {
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor x = Saved[0], w = Saved[1];
            int n = x.ShapeArray[0], c = x.ShapeArray[1], spatial = x.Size / (n * c), count = n * spatial;
            ReadOnlySpan<float> xs = x.Data[..x.Size], dy = grad.Data[..grad.Size], ws = w.Data[..c];
            ReadOnlySpan<float> means = Saved[2].Data[..c], invs = Saved[3].Data[..c];
            Tensor? dx = NeedsGrad(0) ? ForOverwrite((int[])x.ShapeArray.Clone()) : null;
            var dw = ForOverwrite([c]);
            var db = ForOverwrite([c]);
            for (int ch = 0; ch < c; ch++)
            {
                float m = means[ch], inv = invs[ch];
                double sumDy = 0, sumDyXhat = 0;
                for (int i = 0; i < n; i++)
                {
                    int at = (i * c + ch) * spatial;
                    ReadOnlySpan<float> g = dy.Slice(at, spatial), v = xs.Slice(at, spatial);
                    sumDy += TensorPrimitives.Sum(g);
                    // sum(dy * (x - m)) = sum(dy x) - m sum(dy), then times inv for x̂.
                    sumDyXhat += TensorPrimitives.Dot(g, v);
                }
                sumDyXhat = (sumDyXhat - m * sumDy) * inv;
                db.Storage[ch] = (float)sumDy;
                dw.Storage[ch] = (float)sumDyXhat;
                if (dx is null) continue;
                // dx = w inv (dy - sumDy / M - x̂ sumDyXhat / M), x̂ = (x - m) inv
                float k = ws[ch] * inv;
                float meanDy = (float)(sumDy / count), meanDyXhat = (float)(sumDyXhat / count);
                float a = k, bx = -k * meanDyXhat * inv, constant = -k * meanDy + k * meanDyXhat * inv * m;
                Span<float> outSpan = dx.Storage.AsSpan(0, dx.Size);
                for (int i = 0; i < n; i++)
                {
                    int at = (i * c + ch) * spatial;
                    ReadOnlySpan<float> g = dy.Slice(at, spatial), v = xs.Slice(at, spatial);
                    Span<float> o = outSpan.Slice(at, spatial);
                    // o = a g + bx x + constant
                    TensorPrimitives.Multiply(v, bx, o);
                    TensorPrimitives.Add(o, constant, o);
                    TensorPrimitives.MultiplyAdd(g, a, o, o);
                }
            }
            return [dx, NeedsGrad(1) ? dw : null, NeedsGrad(2) ? db : null];
        }
    }
}
