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
        labels.ToIndices(c, new IndexUse("SoftmaxCrossEntropy with logits", Of: logits), idx);
        float[] probabilities = BufferPool.RentFloats(n * c);
        var loss = ForOverwrite([n]);
        Tensor z = logits.IsContiguous ? logits : logits.ContiguousCopy();
        if (!WorthSharing((long)n * c)) LossRows(z.Storage, z.Offset, c, idx, probabilities, loss.Storage, 0, n);
        else LossRowsInParts(z.Storage, z.Offset, c, idx, probabilities, loss.Storage, n);
        if (ShouldRecord(logits)) return loss.Record(new SoftmaxCrossEntropyBackward(logits, probabilities, idx));
        BufferPool.Return(probabilities);
        BufferPool.Return(idx);
        return loss;
    }

    /// <summary>Rows [r0, r1): the softmax of the logits into <paramref name="probabilities"/> and each row's loss.</summary>
    private static void LossRows(float[] logits, int offset, int c, int[] idx, float[] probabilities, float[] loss, int r0, int r1)
    {
        for (int i = r0; i < r1; i++)
        {
            ReadOnlySpan<float> row = logits.AsSpan(offset + i * c, c);
            Span<float> p = probabilities.AsSpan(i * c, c);
            // softmax = exp(z - max) / sum, and the loss logsumexp(z) - z[label] = max + log(sum) - z[label]
            // from the same sum: one pass of exponentials for both.
            float max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, p);
            FastMath.Exp(p, p);
            float sum = TensorPrimitives.Sum(p);
            TensorPrimitives.Divide(p, sum, p);
            loss[i] = max + MathF.Log(sum) - row[idx[i]];
        }
    }

    private static void LossRowsInParts(float[] logits, int offset, int c, int[] idx, float[] probabilities, float[] loss, int n) =>
        ForRows(n, c, (r0, r1) => LossRows(logits, offset, c, idx, probabilities, loss, r0, r1));

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
            float[] g = grad.DenseArray();
            if (!WorthSharing((long)n * c)) GradRows(_probabilities, _labels, g, dz.Storage, c, 0, n);
            else GradRowsInParts(_probabilities, _labels, g, dz.Storage, c, n);
            return [dz];
        }

        /// <summary>Rows [r0, r1) of dz = g (softmax - onehot(label)).</summary>
        private static void GradRows(float[] probabilities, int[] labels, float[] g, float[] dz, int c, int r0, int r1)
        {
            for (int i = r0; i < r1; i++)
            {
                Span<float> row = dz.AsSpan(i * c, c);
                TensorPrimitives.Multiply(probabilities.AsSpan(i * c, c), g[i], row);
                row[labels[i]] -= g[i];
            }
        }

        private static void GradRowsInParts(float[] probabilities, int[] labels, float[] g, float[] dz, int c, int n) =>
            ForRows(n, c, (r0, r1) => GradRows(probabilities, labels, g, dz, c, r0, r1));
    }
}
