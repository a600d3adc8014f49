using Nabla.Autograd;
using System.Numerics.Tensors;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// Fused softmax cross-entropy for integer labels: from logits [N, C] and class indices [N]
    /// (float tensor of integers), the per-sample loss logsumexp(z) - z[label], shape [N]. One
    /// pass forward; the gradient is (softmax(z) - onehot(label)) times the upstream gradient,
    /// with no separate log-softmax, gather or negation.
    /// </summary>
    public static Tensor SoftmaxCrossEntropy(Tensor logits, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        if (logits.Rank != 2) throw new ArgumentException($"SoftmaxCrossEntropy: logits must be [N, classes], got {logits.ShapeString}.");
        int n = logits.ShapeArray[0], c = logits.ShapeArray[1];
        if (labels.Size != n) throw new ArgumentException($"SoftmaxCrossEntropy: {labels.ShapeString} labels for {n} samples.");
        int[] idx = labels.ToIndices(c, $"SoftmaxCrossEntropy with logits {logits.ShapeString}");
        var probabilities = new Tensor([n, c]);
        var loss = new Tensor([n]);
        Kernels.Softmax.Forward(logits.Data, n, c, 1, probabilities.Storage);
        ReadOnlySpan<float> z = logits.Data;
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> row = z.Slice(i * c, c);
            float max = TensorPrimitives.Max(row);
            double sum = 0;
            for (int k = 0; k < c; k++) sum += Math.Exp(row[k] - max);
            loss.Storage[i] = (float)(max + Math.Log(sum) - row[idx[i]]);
        }
        return ShouldRecord(logits) ? loss.Record(new SoftmaxCrossEntropyBackward(logits, probabilities, idx)) : loss;
    }

    private sealed class SoftmaxCrossEntropyBackward(Tensor logits, Tensor probabilities, int[] labels) : Node([logits], probabilities)
    {
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor p = Saved[0];
            int n = p.ShapeArray[0], c = p.ShapeArray[1];
            var dz = new Tensor([n, c]);
            ReadOnlySpan<float> g = grad.Data;
            for (int i = 0; i < n; i++)
            {
                Span<float> row = dz.Storage.AsSpan(i * c, c);
                TensorPrimitives.Multiply(p.Storage.AsSpan(i * c, c), g[i], row);
                row[labels[i]] -= g[i];
            }
            return [dz];
        }
    }
}
