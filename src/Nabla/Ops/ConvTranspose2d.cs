using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// Transposed 2-D convolution (PyTorch's conv_transpose2d), the adjoint of <see cref="Conv2d"/>:
    /// <paramref name="input"/> [N, Cin, H, W] with <paramref name="weight"/> [Cin, Cout, KH, KW] gives
    /// [N, Cout, OH, OW], OH = (H - 1) stride - 2 padding + dilation (KH - 1) + outputPadding + 1.
    /// Each input pixel scatters its kernel-weighted values into the output (a GEMM then col2im).
    /// </summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, (int H, int W)? stride = null,
        (int H, int W)? padding = null, (int H, int W)? outputPadding = null, (int H, int W)? dilation = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank != 4) throw new ArgumentException($"ConvTranspose2d: input must be [N, Cin, H, W], got {input.ShapeString}.");
        if (weight.Rank != 4) throw new ArgumentException($"ConvTranspose2d: weight must be [Cin, Cout, KH, KW], got {weight.ShapeString}.");
        if (weight.ShapeArray[0] != input.ShapeArray[1])
            throw new ArgumentException($"ConvTranspose2d: input {input.ShapeString} has {input.ShapeArray[1]} channels but weight {weight.ShapeString} expects {weight.ShapeArray[0]}.");
        var (s, p, op, d) = (stride ?? (1, 1), padding ?? (0, 0), outputPadding ?? (0, 0), dilation ?? (1, 1));
        if (s.H < 1 || s.W < 1 || d.H < 1 || d.W < 1 || p.H < 0 || p.W < 0 || op.H < 0 || op.W < 0 || op.H >= s.H || op.W >= s.W)
            throw new ArgumentException($"ConvTranspose2d: invalid stride {s}, padding {p}, output padding {op} or dilation {d}.");
        int n = input.ShapeArray[0], cin = input.ShapeArray[1], h = input.ShapeArray[2], w = input.ShapeArray[3];
        int cout = weight.ShapeArray[1], kh = weight.ShapeArray[2], kw = weight.ShapeArray[3];
        if (bias is not null && (bias.Rank != 1 || bias.ShapeArray[0] != cout))
            throw new ArgumentException($"ConvTranspose2d: bias must be [{cout}], got {bias.ShapeString}.");
        int oh = (h - 1) * s.H - 2 * p.H + d.H * (kh - 1) + op.H + 1, ow = (w - 1) * s.W - 2 * p.W + d.W * (kw - 1) + op.W + 1;
        if (oh < 1 || ow < 1) throw new ArgumentException($"ConvTranspose2d: input {input.ShapeString} with padding {p} gives an empty output ({oh}x{ow}).");
        if ((long)cout * kh * kw * n * h * w > Array.MaxLength || (long)n * cout * oh * ow > Array.MaxLength)
            throw new ArgumentException($"ConvTranspose2d: input {input.ShapeString} with weight {weight.ShapeString} needs more values than an array holds ({Array.MaxLength:N0}); use smaller images or fewer channels.");
        // The convolution whose input gradient this is: from [N, Cout, OH, OW] to [N, Cin, H, W].
        var g = new ConvGeometry(cout, oh, ow, kh, kw, s.H, s.W, p.H, p.W, d.H, d.W, h, w);
        int np = n * h * w, rows = g.Rows;
        float[] xt = ChannelsToRows(input.DenseArray(), n, cin, h * w);
        float[] cols = BufferPool.RentFloats(rows * np);
        Gemm.Multiply(true, false, rows, np, cin, weight.DenseArray(), rows, xt, np, cols, np);
        var y = new Tensor([n, cout, oh, ow]);
        Conv.Col2Im(cols, n, g, y.Storage);
        BufferPool.Return(cols);
        if (bias is not null)
        {
            float[] b = bias.DenseArray();
            for (int i = 0; i < n; i++)
            {
                for (int c = 0; c < cout; c++)
                {
                    var plane = y.Storage.AsSpan((i * cout + c) * oh * ow, oh * ow);
                    System.Numerics.Tensors.TensorPrimitives.Add(plane, b[c], plane);
                }
            }
        }
        Tensor[] inputs = bias is null ? [input, weight] : [input, weight, bias];
        if (ShouldRecord(inputs)) return y.Record(new ConvTranspose2dBackward(inputs, xt, g));
        BufferPool.Return(xt);
        return y;
    }

    /// <summary>[N, C, P] to a pooled [C, N * P] (channels as rows).</summary>
    private static float[] ChannelsToRows(float[] x, int n, int c, int positions)
    {
        float[] rows = BufferPool.RentFloats(c * n * positions);
        for (int i = 0; i < n; i++)
        {
            for (int ch = 0; ch < c; ch++)
                x.AsSpan((i * c + ch) * positions, positions).CopyTo(rows.AsSpan(ch * n * positions + i * positions, positions));
        }
        return rows;
    }

    private sealed class ConvTranspose2dBackward : Node
    {
        private readonly float[] _xt;
        private readonly ConvGeometry g;

        public ConvTranspose2dBackward(Tensor[] inputs, float[] xt, ConvGeometry geometry) : base(inputs)
        {
            _xt = Keep(xt);
            g = geometry;
        }

        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor input = Input(0), weight = Input(1);
            int n = input.ShapeArray[0], cin = input.ShapeArray[1], np = n * g.Positions, rows = g.Rows;
            float[] dy = grad.DenseArray();
            float[] dcols = BufferPool.RentFloats(rows * np);
            Conv.Im2Col(dy, n, g, dcols);
            var grads = new Tensor?[Inputs.Count];
            if (NeedsGrad(0))
            {
                float[] dxt = BufferPool.RentFloats(cin * np);
                Gemm.Multiply(false, false, cin, np, rows, weight.DenseArray(), rows, dcols, np, dxt, np);
                var dx = new Tensor((int[])input.ShapeArray.Clone());
                for (int i = 0; i < n; i++)
                {
                    for (int c = 0; c < cin; c++)
                        dxt.AsSpan(c * np + i * g.Positions, g.Positions).CopyTo(dx.Storage.AsSpan((i * cin + c) * g.Positions, g.Positions));
                }
                BufferPool.Return(dxt);
                grads[0] = dx;
            }
            if (NeedsGrad(1))
            {
                var dw = new Tensor((int[])weight.ShapeArray.Clone());
                Gemm.Multiply(false, true, cin, rows, np, _xt, np, dcols, np, dw.Storage, rows);
                grads[1] = dw;
            }
            if (Inputs.Count == 3 && NeedsGrad(2)) grads[2] = grad.Sum([0, 2, 3]);
            BufferPool.Return(dcols);
            return grads;
        }
    }
}
