using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// A whole LSTM sequence in one op (PyTorch's gate order i, f, g, o), as <see cref="Layers.LSTM"/>
    /// runs it: from the input projections of every step
    /// <paramref name="projected"/> [N, T, 4H] (x W_ih^T, without bias), the input bias
    /// <paramref name="biasIh"/> [4H], the recurrent weight <paramref name="weightHh"/> [4H, H]
    /// and bias <paramref name="biasHh"/> [4H], and the initial
    /// states <paramref name="h0"/> and <paramref name="c0"/> [N, H], returns [N, T, 2H]: the hidden
    /// state of each step in the first H columns and its cell in the last H. Each step costs one
    /// [N, H] x [H, 4H] product and one fused pass over the gates; backward runs through time with
    /// one product per step for the hidden gradient, and the weight gradient of all steps in a
    /// single [4H, N*T] x [N*T, H] product, with no per-step allocation.
    /// </summary>
    public static Tensor LstmSequence(Tensor projected, Tensor biasIh, Tensor weightHh, Tensor biasHh, Tensor h0, Tensor c0, Tensor? mask = null)
    {
        ArgumentNullException.ThrowIfNull(projected);
        ArgumentNullException.ThrowIfNull(biasIh);
        ArgumentNullException.ThrowIfNull(weightHh);
        ArgumentNullException.ThrowIfNull(biasHh);
        ArgumentNullException.ThrowIfNull(h0);
        ArgumentNullException.ThrowIfNull(c0);
        if (projected.Rank != 3 || projected.ShapeArray[2] % 4 != 0)
            throw new ArgumentException($"LstmSequence: projected inputs must be [N, T, 4H], got {projected.ShapeString}.");
        int n = projected.ShapeArray[0], t = projected.ShapeArray[1], h = projected.ShapeArray[2] / 4;
        if (weightHh.Rank != 2 || weightHh.ShapeArray[0] != 4 * h || weightHh.ShapeArray[1] != h)
            throw new ArgumentException($"LstmSequence: weightHh must be [{4 * h}, {h}], got {weightHh.ShapeString}.");
        foreach (Tensor bias in new[] { biasIh, biasHh })
        {
            if (bias.Rank != 1 || bias.ShapeArray[0] != 4 * h)
                throw new ArgumentException($"LstmSequence: biases must be [{4 * h}], got {bias.ShapeString}.");
        }
        foreach (Tensor s in new[] { h0, c0 })
        {
            if (s.Rank != 2 || s.ShapeArray[0] != n || s.ShapeArray[1] != h)
                throw new ArgumentException($"LstmSequence: initial states must be [{n}, {h}], got {s.ShapeString}.");
        }
        if (t == 0) throw new ArgumentException("LstmSequence: the sequence has no steps.");
        if (mask is not null && (mask.Rank != 2 || mask.ShapeArray[0] != n || mask.ShapeArray[1] != t))
            throw new ArgumentException($"LstmSequence: mask must be [{n}, {t}], got {mask.ShapeString}.");
        bool[]? real = mask?.ToArray().Select(v => v != 0f).ToArray();

        var y = ForOverwrite([n, t, 2 * h]);
        float[] gates = BufferPool.RentFloats(n * t * 4 * h);
        float[] saved = BufferPool.RentFloats(n * t * 5 * h);
        ReadOnlySpan<float> p = projected.Data;
        Span<float> g = gates.AsSpan(0, n * t * 4 * h);
        // The gates start as the input projections plus both biases.
        float[] b = BufferPool.RentFloats(4 * h);
        System.Numerics.Tensors.TensorPrimitives.Add(biasIh.Data, biasHh.Data, b.AsSpan(0, 4 * h));
        for (int r = 0; r < n * t; r++) System.Numerics.Tensors.TensorPrimitives.Add(p.Slice(r * 4 * h, 4 * h), b.AsSpan(0, 4 * h), g.Slice(r * 4 * h, 4 * h));
        BufferPool.Return(b);
        float[] yData = y.Storage, wArray = weightHh.DenseArray(), hArray = h0.DenseArray(), cArray = c0.DenseArray();
        // W_hh^T is packed once for all steps (batches of a few rows keep the matrix-vector path).
        using PackedMatrix? packedW = PackRecurrentWeight(n, transposed: true, wArray, 4 * h, h);
        // Rows are independent through time: each thread runs its rows through every step, with
        // no hand-over between steps (each row's sums are the same whatever the split).
        Threading.For(n, (long)t * 4 * h * h, (r0, r1) => ForwardRows(r0, r1, t, h, gates, yData, saved, wArray, hArray, cArray, packedW, real));
        BufferPool.Return(gates);
        Tensor[] inputs = [projected, biasIh, weightHh, biasHh, h0, c0];
        if (ShouldRecord(inputs)) return y.Record(new LstmSequenceBackward(inputs, y, saved, real, n, t, h));
        BufferPool.Return(saved);
        return y;
    }

    /// <summary>Runs rows [<paramref name="r0"/>, <paramref name="r1"/>) of the batch through every step of the forward.</summary>
    private static void ForwardRows(int r0, int r1, int t, int h, float[] gates, float[] yData, float[] saved, float[] w, float[] hInit, float[] cInit, PackedMatrix? packedW, bool[]? real)
    {
        int rows = r1 - r0;
        for (int step = 0; step < t; step++)
        {
            // gates_t += h_{t-1} W_hh^T, reading h_{t-1} from the previous step's output rows.
            ReadOnlySpan<float> hPrev = step == 0 ? hInit.AsSpan(r0 * h) : yData.AsSpan((r0 * t + step - 1) * 2 * h);
            int ldh = step == 0 ? h : t * 2 * h;
            Span<float> g = gates.AsSpan((r0 * t + step) * 4 * h);
            if (packedW is not null) Gemm.Multiply(false, rows, hPrev, ldh, packedW, g, t * 4 * h, accumulate: true);
            else Gemm.Multiply(false, true, rows, 4 * h, h, hPrev, ldh, w, h, g, t * 4 * h, accumulate: true);
            for (int r = r0; r < r1; r++)
            {
                int row = r * t + step;
                ReadOnlySpan<float> cPrev = step == 0 ? cInit.AsSpan(r * h, h) : yData.AsSpan((row - 1) * 2 * h + h, h);
                if (real is not null && !real[row])
                {
                    // A padded step: h and c carry over.
                    (step == 0 ? hInit.AsSpan(r * h, h) : yData.AsSpan((row - 1) * 2 * h, h)).CopyTo(yData.AsSpan(row * 2 * h, h));
                    cPrev.CopyTo(yData.AsSpan(row * 2 * h + h, h));
                    continue;
                }
                RecurrentCells.LstmForward(gates.AsSpan(row * 4 * h, 4 * h), cPrev, 1, h, yData.AsSpan(row * 2 * h, 2 * h), saved.AsSpan(row * 5 * h, 5 * h));
            }
        }
    }

    /// <summary>
    /// A recurrent weight [G, H] (G = 4H for an LSTM, 3H for a GRU) packed once for the products of
    /// every step: transposed as the forward's B operand ([H, G]), or as it is for the backward's
    /// ([G, H]). Null for batches of at most four rows, whose matrix-vector products are faster unpacked.
    /// </summary>
    internal static PackedMatrix? PackRecurrentWeight(int batch, bool transposed, ReadOnlySpan<float> weight, int gateRows, int h) =>
        batch <= 4 ? null : transposed ? Gemm.PackB(true, h, gateRows, weight, h) : Gemm.PackB(false, gateRows, h, weight, h);

    private sealed class LstmSequenceBackward : Node
    {
        private readonly Tensor _output;
        private readonly float[] _saved;
        private readonly bool[]? _real;
        private readonly int _n, _t, _h;

        public LstmSequenceBackward(Tensor[] inputs, Tensor output, float[] saved, bool[]? real, int n, int t, int h) : base(inputs)
        {
            _real = real;
            // The output's values (every h_t and c_t) are read back; the graph holds it anyway.
            _output = output;
            _saved = Keep(saved);
            (_n, _t, _h) = (n, t, h);
        }

        /// <summary>Takes rows [<paramref name="r0"/>, <paramref name="r1"/>) back through every step: their gate gradients, and dh, dc of the initial states.</summary>
        private void BackwardRows(int r0, int r1, float[] dy, float[] y, float[] w, float[] cInit, float[] dg, float[] dh, float[] dc, PackedMatrix? packedW)
        {
            int t = _t, h = _h, rows = r1 - r0;
            float[] dhc = BufferPool.RentFloats(2 * h);
            float[]? carried = _real is null ? null : BufferPool.RentFloats(rows * h);
            for (int step = t - 1; step >= 0; step--)
            {
                for (int r = r0; r < r1; r++)
                {
                    int row = r * t + step;
                    // The gradient reaching (h_t, c_t): from the output at t and from step t + 1.
                    System.Numerics.Tensors.TensorPrimitives.Add(dy.AsSpan(row * 2 * h, h), dh.AsSpan(r * h, h), dhc.AsSpan(0, h));
                    System.Numerics.Tensors.TensorPrimitives.Add(dy.AsSpan(row * 2 * h + h, h), dc.AsSpan(r * h, h), dhc.AsSpan(h, h));
                    if (_real is not null && !_real[row])
                    {
                        // A padded step passed both states through: so does their gradient, and its gates get none.
                        dg.AsSpan(row * 4 * h, 4 * h).Clear();
                        dhc.AsSpan(0, h).CopyTo(carried.AsSpan((r - r0) * h, h));
                        dhc.AsSpan(h, h).CopyTo(dc.AsSpan(r * h, h));
                        continue;
                    }
                    ReadOnlySpan<float> cPrev = step == 0 ? cInit.AsSpan(r * h, h) : y.AsSpan((row - 1) * 2 * h + h, h);
                    RecurrentCells.LstmBackward(_saved.AsSpan(row * 5 * h, 5 * h), cPrev, dhc.AsSpan(0, 2 * h), 1, h, dg.AsSpan(row * 4 * h, 4 * h), dc.AsSpan(r * h, h));
                }
                // dh_{t-1} = dgates_t W_hh (zero for padded rows, which take their carried gradient back).
                ReadOnlySpan<float> dgStep = dg.AsSpan((r0 * t + step) * 4 * h);
                Span<float> dhRows = dh.AsSpan(r0 * h, rows * h);
                if (packedW is not null) Gemm.Multiply(false, rows, dgStep, t * 4 * h, packedW, dhRows, h);
                else Gemm.Multiply(false, false, rows, h, 4 * h, dgStep, t * 4 * h, w, h, dhRows, h);
                if (_real is not null)
                {
                    for (int r = r0; r < r1; r++)
                    {
                        if (!_real[r * t + step]) carried.AsSpan((r - r0) * h, h).CopyTo(dh.AsSpan(r * h, h));
                    }
                }
            }
            BufferPool.Return(dhc);
            if (carried is not null) BufferPool.Return(carried);
        }

        protected internal override Tensor?[] Backward(Tensor grad)
        {
            int n = _n, t = _t, h = _h;
            float[] yArray = _output.Storage, wArray = Input(2).DenseArray(), cArray = Input(5).DenseArray(), dyArray = grad.DenseArray();
            ReadOnlySpan<float> y = yArray, hInit = Input(4).Data;
            var dGates = ForOverwrite([n, t, 4 * h]);
            float[] dg = dGates.Storage;
            float[] dh = BufferPool.RentFloats(n * h), dc = BufferPool.RentFloats(n * h);
            Array.Clear(dh, 0, n * h);
            Array.Clear(dc, 0, n * h);
            using PackedMatrix? packedW = PackRecurrentWeight(n, transposed: false, wArray, 4 * h, h);
            // As forward: each thread takes its rows back through every step.
            Threading.For(n, (long)t * 4 * h * h, (r0, r1) => BackwardRows(r0, r1, dyArray, yArray, wArray, cArray, dg, dh, dc, packedW));
            Tensor? dWeight = null, dBias = null, dh0 = null, dc0 = null;
            if (NeedsGrad(2))
            {
                // dW_hh = sum over steps of dgates_t^T h_{t-1}: the previous hidden states of all steps side by side, one product.
                float[] hPrev = BufferPool.RentFloats(n * t * h);
                for (int r = 0; r < n; r++)
                {
                    hInit.Slice(r * h, h).CopyTo(hPrev.AsSpan(r * t * h, h));
                    for (int step = 1; step < t; step++) y.Slice((r * t + step - 1) * 2 * h, h).CopyTo(hPrev.AsSpan((r * t + step) * h, h));
                }
                dWeight = ForOverwrite([4 * h, h]);
                Gemm.Multiply(true, false, 4 * h, h, n * t, dg, 4 * h, hPrev, h, dWeight.Storage, h);
                BufferPool.Return(hPrev);
            }
            if (NeedsGrad(1) || NeedsGrad(3))
            {
                // Both biases enter every gate pre-activation once: the same gradient for each.
                dBias = new Tensor([4 * h]);
                Span<float> db = dBias.Storage;
                for (int r = 0; r < n * t; r++) System.Numerics.Tensors.TensorPrimitives.Add(db, dg.AsSpan(r * 4 * h, 4 * h), db);
            }
            if (NeedsGrad(4))
            {
                dh0 = ForOverwrite([n, h]);
                dh.AsSpan(0, n * h).CopyTo(dh0.Storage);
            }
            if (NeedsGrad(5))
            {
                dc0 = ForOverwrite([n, h]);
                dc.AsSpan(0, n * h).CopyTo(dc0.Storage);
            }
            BufferPool.Return(dh);
            BufferPool.Return(dc);
            // One tensor for both biases: the engine copies a gradient it hands to two leaves.
            return [NeedsGrad(0) ? dGates : null, NeedsGrad(1) ? dBias : null, dWeight, NeedsGrad(3) ? dBias : null, dh0, dc0];
        }
    }
}
