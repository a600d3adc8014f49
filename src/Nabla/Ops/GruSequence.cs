using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// A whole GRU sequence in one op (PyTorch's gates r, z, n, the reset gate applied to the
    /// hidden product), as <see cref="Layers.GRU"/> runs it: from the input projections of every
    /// step <paramref name="projected"/> [N, T, 3H] (x W_ih^T, without bias), the biases
    /// <paramref name="biasIh"/> and <paramref name="biasHh"/> [3H], the recurrent weight
    /// <paramref name="weightHh"/> [3H, H] and the initial state <paramref name="h0"/> [N, H],
    /// returns the hidden state of every step [N, T, H]. With a <paramref name="mask"/> [N, T]
    /// (non-zero for real steps), a padded step carries the state over unchanged. Backward runs
    /// through time with one product per step and the recurrent weight gradient as one product
    /// over all steps, with no per-step allocation.
    /// </summary>
    public static Tensor GruSequence(Tensor projected, Tensor biasIh, Tensor weightHh, Tensor biasHh, Tensor h0, Tensor? mask = null)
    {
        ArgumentNullException.ThrowIfNull(projected);
        ArgumentNullException.ThrowIfNull(biasIh);
        ArgumentNullException.ThrowIfNull(weightHh);
        ArgumentNullException.ThrowIfNull(biasHh);
        ArgumentNullException.ThrowIfNull(h0);
        if (projected.Rank != 3 || projected.ShapeArray[2] % 3 != 0)
            throw new ArgumentException($"GruSequence: projected inputs must be [N, T, 3H], got {projected.ShapeString}.");
        int n = projected.ShapeArray[0], t = projected.ShapeArray[1], h = projected.ShapeArray[2] / 3;
        if (weightHh.Rank != 2 || weightHh.ShapeArray[0] != 3 * h || weightHh.ShapeArray[1] != h)
            throw new ArgumentException($"GruSequence: weightHh must be [{3 * h}, {h}], got {weightHh.ShapeString}.");
        foreach (Tensor bias in new[] { biasIh, biasHh })
        {
            if (bias.Rank != 1 || bias.ShapeArray[0] != 3 * h)
                throw new ArgumentException($"GruSequence: biases must be [{3 * h}], got {bias.ShapeString}.");
        }
        if (h0.Rank != 2 || h0.ShapeArray[0] != n || h0.ShapeArray[1] != h)
            throw new ArgumentException($"GruSequence: the initial state must be [{n}, {h}], got {h0.ShapeString}.");
        if (t == 0) throw new ArgumentException("GruSequence: the sequence has no steps.");
        if (mask is not null && (mask.Rank != 2 || mask.ShapeArray[0] != n || mask.ShapeArray[1] != t))
            throw new ArgumentException($"GruSequence: mask must be [{n}, {t}], got {mask.ShapeString}.");
        bool[]? real = mask?.ToArray().Select(v => v != 0f).ToArray();

        var y = ForOverwrite([n, t, h]);
        float[] saved = BufferPool.RentFloats(n * t * 4 * h);
        float[] hp = BufferPool.RentFloats(n * 3 * h);
        float[] yData = y.Storage, pArray = projected.DenseArray(), wArray = weightHh.DenseArray(), hArray = h0.DenseArray();
        float[] bih = biasIh.DenseArray(), bhh = biasHh.DenseArray();
        using PackedMatrix? packedW = PackRecurrentWeight(n, transposed: true, wArray, 3 * h, h);
        // Rows are independent through time: each thread runs its rows through every step.
        Threading.For(n, (long)t * 3 * h * h, (r0, r1) => GruForwardRows(r0, r1, t, h, pArray, bih, bhh, hp, yData, saved, wArray, hArray, packedW, real));
        BufferPool.Return(hp);
        Tensor[] inputs = [projected, biasIh, weightHh, biasHh, h0];
        if (ShouldRecord(inputs)) return y.Record(new GruSequenceBackward(inputs, y, saved, real, n, t, h));
        BufferPool.Return(saved);
        return y;
    }

    /// <summary>Runs rows [<paramref name="r0"/>, <paramref name="r1"/>) of the batch through every step of the forward.</summary>
    private static void GruForwardRows(int r0, int r1, int t, int h, float[] p, float[] bih, float[] bhh, float[] hp, float[] yData, float[] saved,
        float[] w, float[] hInit, PackedMatrix? packedW, bool[]? real)
    {
        int rows = r1 - r0;
        Span<float> hpRows = hp.AsSpan(r0 * 3 * h, rows * 3 * h);
        for (int step = 0; step < t; step++)
        {
            // The hidden projections of this step: h_{t-1} W_hh^T, from the previous step's rows.
            ReadOnlySpan<float> hPrevRows = step == 0 ? hInit.AsSpan(r0 * h) : yData.AsSpan((r0 * t + step - 1) * h);
            int ldh = step == 0 ? h : t * h;
            if (packedW is not null) Gemm.Multiply(false, rows, hPrevRows, ldh, packedW, hpRows, 3 * h);
            else Gemm.Multiply(false, true, rows, 3 * h, h, hPrevRows, ldh, w, h, hpRows, 3 * h);
            for (int r = r0; r < r1; r++)
            {
                int row = r * t + step;
                ReadOnlySpan<float> hPrev = step == 0 ? hInit.AsSpan(r * h, h) : yData.AsSpan((row - 1) * h, h);
                if (real is not null && !real[row])
                {
                    hPrev.CopyTo(yData.AsSpan(row * h, h));
                    continue;
                }
                RecurrentCells.GruForward(p.AsSpan(row * 3 * h, 3 * h), bih, hp.AsSpan(r * 3 * h, 3 * h), bhh, hPrev, h,
                    yData.AsSpan(row * h, h), saved.AsSpan(row * 4 * h, 4 * h));
            }
        }
    }

    private sealed class GruSequenceBackward : Node
    {
        private readonly Tensor _output;
        private readonly float[] _saved;
        private readonly bool[]? _real;
        private readonly int _n, _t, _h;

        public GruSequenceBackward(Tensor[] inputs, Tensor output, float[] saved, bool[]? real, int n, int t, int h) : base(inputs)
        {
            _output = output;
            _saved = Keep(saved);
            _real = real;
            (_n, _t, _h) = (n, t, h);
        }

        /// <summary>Takes rows [<paramref name="r0"/>, <paramref name="r1"/>) back through every step: their projection gradients, and carry holds dh of the initial state.</summary>
        private void BackwardRows(int r0, int r1, float[] dy, float[] y, float[] w, float[] hInit, float[] dx, float[] dHp, float[] carry, PackedMatrix? packedW)
        {
            int t = _t, h = _h, rows = r1 - r0;
            float[] direct = BufferPool.RentFloats(rows * h), total = BufferPool.RentFloats(h);
            Span<float> carryRows = carry.AsSpan(r0 * h, rows * h), directRows = direct.AsSpan(0, rows * h);
            for (int step = t - 1; step >= 0; step--)
            {
                for (int r = r0; r < r1; r++)
                {
                    int row = r * t + step;
                    // The gradient reaching h_t: from the output at t and from step t + 1.
                    System.Numerics.Tensors.TensorPrimitives.Add(dy.AsSpan(row * h, h), carry.AsSpan(r * h, h), total.AsSpan(0, h));
                    if (_real is not null && !_real[row])
                    {
                        // A padded step passed the state through: so does its gradient.
                        dx.AsSpan(row * 3 * h, 3 * h).Clear();
                        dHp.AsSpan(row * 3 * h, 3 * h).Clear();
                        total.AsSpan(0, h).CopyTo(direct.AsSpan((r - r0) * h, h));
                        continue;
                    }
                    ReadOnlySpan<float> hPrev = step == 0 ? hInit.AsSpan(r * h, h) : y.AsSpan((row - 1) * h, h);
                    RecurrentCells.GruBackward(_saved.AsSpan(row * 4 * h, 4 * h), hPrev, total.AsSpan(0, h), h,
                        dx.AsSpan(row * 3 * h, 3 * h), dHp.AsSpan(row * 3 * h, 3 * h), direct.AsSpan((r - r0) * h, h));
                }
                // dh_{t-1} = dHp_t W_hh + the direct part (for padded rows, all of it).
                ReadOnlySpan<float> dHpStep = dHp.AsSpan((r0 * t + step) * 3 * h);
                if (packedW is not null) Gemm.Multiply(false, rows, dHpStep, t * 3 * h, packedW, carryRows, h);
                else Gemm.Multiply(false, false, rows, h, 3 * h, dHpStep, t * 3 * h, w, h, carryRows, h);
                System.Numerics.Tensors.TensorPrimitives.Add(carryRows, directRows, carryRows);
            }
            BufferPool.Return(direct);
            BufferPool.Return(total);
        }

        protected internal override Tensor?[] Backward(Tensor grad)
        {
            int n = _n, t = _t, h = _h;
            float[] yArray = _output.Storage, wArray = Input(2).DenseArray(), hArray = Input(4).DenseArray(), dyArray = grad.DenseArray();
            ReadOnlySpan<float> y = yArray, hInit = hArray;
            var dX = ForOverwrite([n, t, 3 * h]);
            float[] dx = dX.Storage;
            float[] dHp = BufferPool.RentFloats(n * t * 3 * h);
            float[] carry = BufferPool.RentFloats(n * h);
            Array.Clear(carry, 0, n * h);
            using PackedMatrix? packedW = PackRecurrentWeight(n, transposed: false, wArray, 3 * h, h);
            // As forward: each thread takes its rows back through every step.
            Threading.For(n, (long)t * 3 * h * h, (r0, r1) => BackwardRows(r0, r1, dyArray, yArray, wArray, hArray, dx, dHp, carry, packedW));
            Tensor? dWeight = null, dBiasIh = null, dBiasHh = null, dh0 = null;
            if (NeedsGrad(2))
            {
                // dW_hh = sum over steps of dHp_t^T h_{t-1}, all steps in one product.
                float[] hPrevAll = BufferPool.RentFloats(n * t * h);
                for (int r = 0; r < n; r++)
                {
                    hInit.Slice(r * h, h).CopyTo(hPrevAll.AsSpan(r * t * h, h));
                    y.Slice(r * t * h, (t - 1) * h).CopyTo(hPrevAll.AsSpan(r * t * h + h, (t - 1) * h));
                }
                dWeight = ForOverwrite([3 * h, h]);
                Gemm.Multiply(true, false, 3 * h, h, n * t, dHp, 3 * h, hPrevAll, h, dWeight.Storage, h);
                BufferPool.Return(hPrevAll);
            }
            if (NeedsGrad(1)) dBiasIh = ColumnSums(dx, n * t, 3 * h);
            if (NeedsGrad(3)) dBiasHh = ColumnSums(dHp, n * t, 3 * h);
            if (NeedsGrad(4))
            {
                dh0 = ForOverwrite([n, h]);
                carry.AsSpan(0, n * h).CopyTo(dh0.Storage);
            }
            BufferPool.Return(dHp);
            BufferPool.Return(carry);
            return [NeedsGrad(0) ? dX : null, dBiasIh, dWeight, dBiasHh, dh0];
        }

        private static Tensor ColumnSums(ReadOnlySpan<float> rows, int count, int width)
        {
            var sums = new Tensor([width]);
            Span<float> s = sums.Storage;
            for (int r = 0; r < count; r++) System.Numerics.Tensors.TensorPrimitives.Add(s, rows.Slice(r * width, width), s);
            return sums;
        }
    }
}
