using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// A fully connected layer's forward as one op, PyTorch's <c>linear</c>: <c>x W^T + b</c> for
    /// <paramref name="input"/> [N, in], <paramref name="weight"/> [out, in] and an optional
    /// <paramref name="bias"/> [out], then a ReLU when <paramref name="relu"/>. The bias is the
    /// product's starting value and the ReLU runs on the output while it is in cache; backward
    /// masks the gradient once and makes each gradient with one product (the bias's as column sums).
    /// </summary>
    internal static Tensor Linear(Tensor input, Tensor weight, Tensor? bias, bool relu)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank != 2 || weight.Rank != 2 || input.ShapeArray[1] != weight.ShapeArray[1])
            throw new ArgumentException($"Linear: input {input.ShapeString} and weight {weight.ShapeString} must be [N, in] and [out, in].");
        int n = input.ShapeArray[0], inF = input.ShapeArray[1], outF = weight.ShapeArray[0];
        if (bias is not null && (bias.Rank != 1 || bias.ShapeArray[0] != outF))
            throw new ArgumentException($"Linear: bias must be [{outF}], got {bias.ShapeString}.");
        var y = ForOverwrite([n, outF]);
        Span<float> ys = y.Storage;
        if (bias is not null)
        {
            ReadOnlySpan<float> b = bias.Data;
            for (int i = 0; i < n; i++) b.CopyTo(ys.Slice(i * outF, outF));
        }
        Gemm.Multiply(false, true, n, outF, inF, input.DenseArray(), inF, weight.DenseArray(), inF, ys, outF, accumulate: bias is not null);
        if (relu) Activations.Relu(ys, ys);
        Tensor[] inputs = bias is null ? [input, weight] : [input, weight, bias];
        return ShouldRecord(inputs) ? y.Record(new LinearBackward(inputs, relu ? y : null)) : y;
    }

    /// <summary>
    /// The gradient through a fused ReLU: <paramref name="grad"/> where <paramref name="reluOutput"/>
    /// is positive, else 0, in a pooled buffer the caller returns; shared over the threads in blocks.
    /// </summary>
    internal static float[] ReluMask(Tensor reluOutput, float[] grad)
    {
        int size = reluOutput.Size;
        float[] y = reluOutput.DenseArray(), through = BufferPool.RentFloats(size);
        if (Threading.NumThreads > 1 && size > MaskBlock) ReluMaskShared(y, grad, through, size);
        else Activations.ReluBackward(y.AsSpan(0, size), grad.AsSpan(0, size), through.AsSpan(0, size));
        return through;
    }

    private const int MaskBlock = 16384;

    // Apart from ReluMask, so its closure is only made when the work is shared out.
    private static void ReluMaskShared(float[] y, float[] grad, float[] through, int size) =>
        Threading.For((size + MaskBlock - 1) / MaskBlock, MaskBlock, (b0, b1) =>
        {
            int start = b0 * MaskBlock, length = Math.Min(size, b1 * MaskBlock) - start;
            Activations.ReluBackward(y.AsSpan(start, length), grad.AsSpan(start, length), through.AsSpan(start, length));
        });

    private sealed class LinearBackward(Tensor[] inputs, Tensor? reluOutput) : Node(inputs)
    {
        /// <inheritdoc/>
        public override string Name => reluOutput is null ? "LinearBackward" : "LinearReluBackward";

        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor input = Input(0), weight = Input(1);
            int n = input.ShapeArray[0], inF = input.ShapeArray[1], outF = weight.ShapeArray[0];
            float[] g = grad.DenseArray();
            float[]? masked = reluOutput is null ? null : ReluMask(reluOutput, g);
            if (masked is not null) g = masked;
            var grads = new Tensor?[Inputs.Count];
            if (NeedsGrad(0))
            {
                var dx = ForOverwrite([n, inF]);
                Gemm.Multiply(false, false, n, inF, outF, g, outF, weight.DenseArray(), inF, dx.Storage, inF);
                grads[0] = dx;
            }
            if (NeedsGrad(1))
            {
                // Straight into the weight's kept gradient when it is waiting to be overwritten.
                float[]? kept = weight.TakeGradBuffer();
                Tensor? dw = kept is null ? ForOverwrite([outF, inF]) : null;
                Gemm.Multiply(true, false, outF, inF, n, g, outF, input.DenseArray(), inF, kept ?? dw!.Storage, inF);
                grads[1] = dw;
            }
            if (Inputs.Count == 3 && NeedsGrad(2))
            {
                var db = new Tensor([outF]);
                Span<float> sums = db.Storage;
                for (int i = 0; i < n; i++) System.Numerics.Tensors.TensorPrimitives.Add(sums, g.AsSpan(i * outF, outF), sums);
                grads[2] = db;
            }
            if (masked is not null) BufferPool.Return(masked);
            return grads;
        }
    }
}
