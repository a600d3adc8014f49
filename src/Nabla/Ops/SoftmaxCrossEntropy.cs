using Nabla.Autograd;
using Nabla.Kernels;
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
        // The probabilities and labels are the gradient rule's alone: pooled, and returned with the graph.
        int[] idx = BufferPool.RentInts(n);
        labels.ToIndices(c, $"SoftmaxCrossEntropy with logits {logits.ShapeString}", idx);
        float[] probabilities = BufferPool.RentFloats(n * c);
        var loss = ForOverwrite([n]);
        Kernels.Softmax.Forward(logits.Data, n, c, 1, probabilities);
        ReadOnlySpan<float> z = logits.Data;
        for (int i = 0; i < n; i++)
        {
            // logsumexp(z) = max + log(sum of exp(z - max)), and the softmax just computed holds
            // 1 / that sum at the largest logit (>= 1 / classes, so it never underflows): the loss
            // needs no second pass of exponentials.
            ReadOnlySpan<float> row = z.Slice(i * c, c);
            int top = TensorPrimitives.IndexOfMax(row);
            loss.Storage[i] = row[top] - row[idx[i]] - MathF.Log(probabilities[i * c + top]);
        }
        if (ShouldRecord(logits)) return loss.Record(new SoftmaxCrossEntropyBackward(logits, probabilities, idx));
        BufferPool.Return(probabilities);
        BufferPool.Return(idx);
        return loss;
    }

    private sealed class SoftmaxCrossEntropyBackward : Node
    {
        private readonly float[] _probabilities;
        private readonly int[] _labels;

        public SoftmaxCrossEntropyBackward(Tensor logits, float[] probabilities, int[] labels) : base([logits])
        {
            _probabilities = Keep(probabilities);
            _labels = Keep(labels);
        }

        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor logits = Input(0);
            int n = logits.ShapeArray[0], c = logits.ShapeArray[1];
            var dz = ForOverwrite([n, c]);
            ReadOnlySpan<float> g = grad.Data;
            for (int i = 0; i < n; i++)
            {
                Span<float> row = dz.Storage.AsSpan(i * c, c);
                TensorPrimitives.Multiply(_probabilities.AsSpan(i * c, c), g[i], row);
                row[_labels[i]] -= g[i];
            }
            return [dz];
        }
    }
}
