namespace Nabla.Onnx;

internal static partial class OnnxOps
{
    private static void RegisterRecurrentOps()
    {
        Add("LSTM", (n, i, c) => Recurrent(n, i, RecurrentKind.Lstm));
        Add("GRU", (n, i, c) => Recurrent(n, i, RecurrentKind.Gru));
        Add("RNN", (n, i, c) => Recurrent(n, i, RecurrentKind.Rnn));
    }

    private enum RecurrentKind { Lstm, Gru, Rnn }

    /// <summary>
    /// ONNX's LSTM, GRU and RNN (forward, reverse or bidirectional; layout 0 [T, N, I] or 1 [N, T, I];
    /// per-sample lengths). LSTM and GRU with linear_before_reset run as Nabla's fused sequence ops
    /// with the gates reordered to PyTorch's; GRU without it and RNN step through time with tensor ops.
    /// </summary>
    private static OnnxValue?[] Recurrent(OnnxNode n, OnnxValue?[] i, RecurrentKind kind)
    {
        int gates = kind switch { RecurrentKind.Lstm => 4, RecurrentKind.Gru => 3, _ => 1 };
        if (n.Strings("activations") is { } acts)
        {
            string[] defaults = kind switch { RecurrentKind.Lstm => ["Sigmoid", "Tanh", "Tanh"], RecurrentKind.Gru => ["Sigmoid", "Tanh"], _ => ["Tanh"] };
            for (int k = 0; k < acts.Length; k++)
            {
                if (!string.Equals(acts[k], defaults[k % defaults.Length], StringComparison.OrdinalIgnoreCase)) throw n.Unsupported($"activation '{acts[k]}'");
            }
        }
        if (n.Has("clip")) throw n.Unsupported("cell clipping ('clip')");
        if (n.Int("input_forget", 0) != 0) throw n.Unsupported("input_forget");
        Tensor? peepholes = kind == RecurrentKind.Lstm ? OptionalT(i, 7) : null;
        Tensor x = T(n, i, 0), w = T(n, i, 1), r = T(n, i, 2);
        Tensor? b = OptionalT(i, 3);
        long[]? lengths = OptionalInts(i, 4);
        Tensor? h0All = OptionalT(i, 5), c0All = kind == RecurrentKind.Lstm ? OptionalT(i, 6) : null;
        bool batchFirst = n.Int("layout", 0) != 0;
        if (x.Rank != 3) throw n.Invalid($"X must have rank 3, got {x.ShapeString}");
        if (!batchFirst) x = x.Permute(1, 0, 2);
        int batch = x.Shape[0], steps = x.Shape[1];
        int hidden = (int)n.Int("hidden_size", r.Shape[^1]);
        string direction = n.String("direction", "forward");
        int dirs = direction == "bidirectional" ? 2 : 1;
        if (direction is not ("forward" or "reverse" or "bidirectional")) throw n.Invalid($"direction '{direction}' is unknown");
        if (w.Rank != 3 || w.Shape[0] != dirs || w.Shape[1] != gates * hidden || w.Shape[2] != x.Shape[2]) throw n.Invalid($"W {w.ShapeString} does not match {dirs} direction(s), {gates} gates of {hidden} and {x.Shape[2]} inputs");
        if (r.Rank != 3 || r.Shape[0] != dirs || r.Shape[1] != gates * hidden || r.Shape[2] != hidden) throw n.Invalid($"R {r.ShapeString} does not match {dirs} direction(s) and {gates} gates of {hidden}");
        if (b is not null && (b.Rank != 2 || b.Shape[0] != dirs || b.Shape[1] != 2 * gates * hidden)) throw n.Invalid($"B {b.ShapeString} must be [{dirs}, {2 * gates * hidden}]");
        Tensor? mask = null;
        if (lengths is not null)
        {
            if (lengths.Length != batch || lengths.Any(l => l < 0 || l > steps)) throw n.Invalid($"sequence_lens [{string.Join(", ", lengths)}] do not fit {batch} sequences of {steps} steps");
            if (lengths.Any(l => l != steps))
            {
                var m = new float[batch * steps];
                for (int s = 0; s < batch; s++)
                {
                    for (int t = 0; t < lengths[s]; t++) m[s * steps + t] = 1f;
                }
                mask = Tensor.FromArray(m, batch, steps);
            }
        }
        var ys = new List<Tensor>();
        var lastH = new List<Tensor>();
        var lastC = new List<Tensor>();
        for (int d = 0; d < dirs; d++)
        {
            bool reverse = direction == "reverse" || d == 1;
            Tensor xd = reverse ? ReverseSteps(x, lengths) : x;
            Tensor wd = w.Select(0, d), rd = r.Select(0, d);
            Tensor wb = b is null ? Tensor.Zeros(gates * hidden) : b.Select(0, d).Slice(0, 0, gates * hidden);
            Tensor rb = b is null ? Tensor.Zeros(gates * hidden) : b.Select(0, d).Slice(0, gates * hidden, 2 * gates * hidden);
            Tensor h0 = h0All is null ? Tensor.Zeros(batch, hidden) : h0All.Select(batchFirst ? 1 : 0, d);
            Tensor y, hl, cl = null!;
            switch (kind)
            {
                case RecurrentKind.Lstm when peepholes is not null:
                    {
                        if (peepholes.Rank != 2 || peepholes.Shape[0] != dirs || peepholes.Shape[1] != 3 * hidden) throw n.Invalid($"P {peepholes.ShapeString} must be [{dirs}, {3 * hidden}]");
                        Tensor c0 = c0All is null ? Tensor.Zeros(batch, hidden) : c0All.Select(batchFirst ? 1 : 0, d);
                        (y, hl, cl) = LstmWithPeepholes(xd, wd, rd, wb + rb, peepholes.Select(0, d), h0, c0, mask, hidden);
                        break;
                    }
                case RecurrentKind.Lstm:
                    {
                        // ONNX orders the gates i, o, f, c; PyTorch (and Nabla's op) i, f, g, o.
                        Tensor order = GateOrder([0, 2, 3, 1], hidden);
                        Tensor c0 = c0All is null ? Tensor.Zeros(batch, hidden) : c0All.Select(batchFirst ? 1 : 0, d);
                        Tensor projected = Tensor.MatMul(xd, wd.IndexSelect(0, order).Transpose(0, 1));
                        Tensor both = Tensor.LstmSequence(projected, wb.IndexSelect(0, order), rd.IndexSelect(0, order), rb.IndexSelect(0, order), h0, c0, mask);
                        y = both.Slice(2, 0, hidden);
                        hl = y.Select(1, steps - 1);
                        cl = both.Slice(2, hidden, 2 * hidden).Select(1, steps - 1);
                        break;
                    }
                case RecurrentKind.Gru when n.Int("linear_before_reset", 0) != 0:
                    {
                        // ONNX orders the gates z, r, h; PyTorch r, z, n.
                        Tensor order = GateOrder([1, 0, 2], hidden);
                        Tensor projected = Tensor.MatMul(xd, wd.IndexSelect(0, order).Transpose(0, 1));
                        y = Tensor.GruSequence(projected, wb.IndexSelect(0, order), rd.IndexSelect(0, order), rb.IndexSelect(0, order), h0, mask);
                        hl = y.Select(1, steps - 1);
                        break;
                    }
                default:
                    (y, hl) = StepThrough(kind, xd, wd, rd, wb, rb, h0, mask, hidden);
                    break;
            }
            if (reverse) y = ReverseSteps(y, lengths);
            if (mask is not null) y = Tensor.Mul(y, mask.Unsqueeze(2));
            ys.Add(y);
            lastH.Add(hl);
            if (kind == RecurrentKind.Lstm) lastC.Add(cl);
        }
        Tensor outY = batchFirst ? Tensor.Stack(ys, 2) : Tensor.Stack([.. ys.Select(v => v.Permute(1, 0, 2))], 1);
        int stateAxis = batchFirst ? 1 : 0;
        return [F(outY), F(Tensor.Stack(lastH, stateAxis)), kind == RecurrentKind.Lstm ? F(Tensor.Stack(lastC, stateAxis)) : null];
    }

    /// <summary>Row indices that reorder blocks of <paramref name="hidden"/> rows.</summary>
    private static Tensor GateOrder(int[] blocks, int hidden)
    {
        var idx = new float[blocks.Length * hidden];
        for (int g = 0; g < blocks.Length; g++)
        {
            for (int k = 0; k < hidden; k++) idx[g * hidden + k] = blocks[g] * hidden + k;
        }
        return Tensor.FromArray(idx, idx.Length);
    }

    /// <summary>Each sequence [N, T, F] reversed within its own length (padding stays at the end).</summary>
    private static Tensor ReverseSteps(Tensor x, long[]? lengths)
    {
        int batch = x.Shape[0], steps = x.Shape[1], features = x.Shape[2];
        var idx = new float[batch * steps * features];
        for (int s = 0; s < batch; s++)
        {
            long len = lengths?[s] ?? steps;
            for (int t = 0; t < steps; t++)
            {
                float from = t < len ? len - 1 - t : t;
                idx.AsSpan((s * steps + t) * features, features).Fill(from);
            }
        }
        return x.Gather(1, Tensor.FromArray(idx, batch, steps, features));
    }

    /// <summary>
    /// ONNX's LSTM with peephole connections (P: i, o, f), one step at a time: the input and forget
    /// gates also read the previous cell, the output gate the new one; a masked step keeps both states.
    /// </summary>
    private static (Tensor Y, Tensor LastH, Tensor LastC) LstmWithPeepholes(Tensor x, Tensor w, Tensor r, Tensor bias, Tensor p, Tensor h, Tensor c, Tensor? mask, int hidden)
    {
        int steps = x.Shape[1];
        Tensor gx = Tensor.MatMul(x, w.Transpose(0, 1)) + bias;
        Tensor pi = p.Slice(0, 0, hidden), po = p.Slice(0, hidden, 2 * hidden), pf = p.Slice(0, 2 * hidden, 3 * hidden);
        var outputs = new List<Tensor>(steps);
        for (int t = 0; t < steps; t++)
        {
            Tensor g = gx.Select(1, t) + Tensor.MatMul(h, r.Transpose(0, 1));
            Tensor input = (g.Slice(1, 0, hidden) + Tensor.Mul(pi, c)).Sigmoid();
            Tensor forget = (g.Slice(1, 2 * hidden, 3 * hidden) + Tensor.Mul(pf, c)).Sigmoid();
            Tensor cell = Tensor.Mul(forget, c) + Tensor.Mul(input, g.Slice(1, 3 * hidden, 4 * hidden).Tanh());
            Tensor output = (g.Slice(1, hidden, 2 * hidden) + Tensor.Mul(po, cell)).Sigmoid();
            Tensor next = Tensor.Mul(output, cell.Tanh());
            if (mask is not null)
            {
                Tensor m = mask.Slice(1, t, t + 1);
                next = Tensor.Mul(m, next) + Tensor.Mul(1f - m, h);
                cell = Tensor.Mul(m, cell) + Tensor.Mul(1f - m, c);
            }
            (h, c) = (next, cell);
            outputs.Add(h);
        }
        return (Tensor.Stack(outputs, 1), h, c);
    }

    /// <summary>GRU (reset applied before the recurrent product) and RNN, one step at a time; a masked step keeps the state.</summary>
    private static (Tensor Y, Tensor Last) StepThrough(RecurrentKind kind, Tensor x, Tensor w, Tensor r, Tensor wb, Tensor rb, Tensor h, Tensor? mask, int hidden)
    {
        int steps = x.Shape[1];
        Tensor gx = Tensor.MatMul(x, w.Transpose(0, 1)) + wb;
        var outputs = new List<Tensor>(steps);
        for (int t = 0; t < steps; t++)
        {
            Tensor g = gx.Select(1, t);
            Tensor next;
            if (kind == RecurrentKind.Rnn) next = (g + Tensor.MatMul(h, r.Transpose(0, 1)) + rb).Tanh();
            else
            {
                Tensor gh = Tensor.MatMul(h, r.Slice(0, 0, 2 * hidden).Transpose(0, 1)) + rb.Slice(0, 0, 2 * hidden);
                Tensor z = (g.Slice(1, 0, hidden) + gh.Slice(1, 0, hidden)).Sigmoid();
                Tensor reset = (g.Slice(1, hidden, 2 * hidden) + gh.Slice(1, hidden, 2 * hidden)).Sigmoid();
                Tensor candidate = (g.Slice(1, 2 * hidden, 3 * hidden) + Tensor.MatMul(Tensor.Mul(reset, h), r.Slice(0, 2 * hidden, 3 * hidden).Transpose(0, 1)) + rb.Slice(0, 2 * hidden, 3 * hidden)).Tanh();
                next = Tensor.Mul(1f - z, candidate) + Tensor.Mul(z, h);
            }
            if (mask is not null)
            {
                Tensor m = mask.Slice(1, t, t + 1);
                next = Tensor.Mul(m, next) + Tensor.Mul(1f - m, h);
            }
            h = next;
            outputs.Add(h);
        }
        return (Tensor.Stack(outputs, 1), h);
    }
}
