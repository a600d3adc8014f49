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
            // The bias starts every row of the product (which then adds to it).
            float[] b = bias.DenseArray();
            if (!WorthSharing((long)n * outF, CheapGrain)) CopyBiasRows(b, y.Storage, outF, 0, n);
            else CopyBiasRowsInParts(b, y.Storage, outF, n);
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

    private static void CopyBiasRows(float[] bias, float[] y, int outF, int r0, int r1)
    {
        for (int i = r0; i < r1; i++) bias.AsSpan(0, outF).CopyTo(y.AsSpan(i * outF, outF));
    }

    // Apart from Linear, so its closure is only made when the work is shared out.
    private static void CopyBiasRowsInParts(float[] bias, float[] y, int outF, int n) => ForRows(n, outF, (r0, r1) => CopyBiasRows(bias, y, outF, r0, r1));

    /// <summary>Columns per piece of the bias gradient's sums.</summary>
    private const int BiasBlock = 64;

    /// <summary>sums[j] += g[i, j] over the rows in order, for the columns [j0, j1).</summary>
    private static void SumColumns(float[] g, int n, int outF, float[] sums, int j0, int j1)
    {
        Span<float> s = sums.AsSpan(j0, j1 - j0);
        for (int i = 0; i < n; i++) System.Numerics.Tensors.TensorPrimitives.Add(s, g.AsSpan(i * outF + j0, j1 - j0), s);
    }

    private static void SumColumnsInParts(float[] g, int n, int outF, float[] sums, int blocks) =>
        Threading.For(blocks, 2L * n * BiasBlock, (b0, b1) => SumColumns(g, n, outF, sums, b0 * BiasBlock, Math.Min(outF, b1 * BiasBlock)));

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
                // Column sums in row order; split by blocks of columns, so any split gives the same bits.
                int blocks = (outF + BiasBlock - 1) / BiasBlock;
                if (!WorthSharing((long)n * outF) || blocks < 2) SumColumns(g, n, outF, db.Storage, 0, outF);
                else SumColumnsInParts(g, n, outF, db.Storage, blocks);
                grads[2] = db;
            }
            if (masked is not null) BufferPool.Return(masked);
            return grads;
        }
    }
}
