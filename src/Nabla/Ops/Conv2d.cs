using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

/// <summary>Zero padding of the four sides of an image; an int pads all four equally.</summary>
/// <param name="Top">Rows added above.</param>
/// <param name="Bottom">Rows added below.</param>
/// <param name="Left">Columns added on the left.</param>
/// <param name="Right">Columns added on the right.</param>
public readonly record struct Padding2D(int Top, int Bottom, int Left, int Right)
{
    /// <summary>The same padding on every side.</summary>
    public static implicit operator Padding2D(int p) => new(p, p, p, p);
}

public sealed partial class Tensor
{
    /// <summary>
    /// 2-D convolution (cross-correlation, as PyTorch's conv2d) of <paramref name="input"/>
    /// [N, C, H, W] with <paramref name="weight"/> [Cout, C, KH, KW], plus an optional
    /// <paramref name="bias"/> [Cout]; the output is [N, Cout, OH, OW] with
    /// OH = (H + top + bottom - dilation (KH - 1) - 1) / stride + 1. Computed as one GEMM over the
    /// lowered batch (im2col); the gradients are a GEMM each plus col2im.
    /// </summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, (int H, int W)? stride = null,
        Padding2D padding = default, (int H, int W)? dilation = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank != 4) throw new ArgumentException($"Conv2d: input must be [N, C, H, W], got {input.ShapeString}.");
        if (weight.Rank != 4) throw new ArgumentException($"Conv2d: weight must be [Cout, C, KH, KW], got {weight.ShapeString}.");
        if (weight.ShapeArray[1] != input.ShapeArray[1])
            throw new ArgumentException($"Conv2d: input {input.ShapeString} has {input.ShapeArray[1]} channels but weight {weight.ShapeString} expects {weight.ShapeArray[1]}.");
        int cout = weight.ShapeArray[0];
        if (bias is not null && (bias.Rank != 1 || bias.ShapeArray[0] != cout))
            throw new ArgumentException($"Conv2d: bias must be [{cout}], got {bias.ShapeString}.");
        ConvGeometry g = Geometry("Conv2d", input, weight.ShapeArray[2], weight.ShapeArray[3], stride ?? (1, 1), padding, dilation ?? (1, 1));
        int n = input.ShapeArray[0], np = n * g.Positions;
        float[] cols = BufferPool.RentFloats(g.Rows * np);
        Conv.Im2Col(input.DenseArray(), n, g, cols);
        float[] product = BufferPool.RentFloats(cout * np);
        Gemm.Multiply(false, false, cout, np, g.Rows, weight.DenseArray(), g.Rows, cols, np, product, np);
        var y = new Tensor([n, cout, g.OH, g.OW]);
        float[]? b = bias?.DenseArray();
        for (int co = 0; co < cout; co++)
        {
            for (int i = 0; i < n; i++)
            {
                var src = product.AsSpan(co * np + i * g.Positions, g.Positions);
                var dst = y.Storage.AsSpan((i * cout + co) * g.Positions, g.Positions);
                if (b is null) src.CopyTo(dst);
                else System.Numerics.Tensors.TensorPrimitives.Add(src, b[co], dst);
            }
        }
        BufferPool.Return(product);
        Tensor[] inputs = bias is null ? [input, weight] : [input, weight, bias];
        if (ShouldRecord(inputs)) return y.Record(new Conv2dBackward(inputs, cols, g));
        BufferPool.Return(cols);
        return y;
    }

    /// <summary>The output geometry of a window operation, or an error naming the op and the sizes.</summary>
    internal static ConvGeometry Geometry(string op, Tensor input, int kh, int kw, (int H, int W) stride, Padding2D pad, (int H, int W) dilation)
    {
        if (kh < 1 || kw < 1) throw new ArgumentException($"{op}: kernel size {kh}x{kw} must be at least 1x1.");
        if (stride.H < 1 || stride.W < 1) throw new ArgumentException($"{op}: stride {stride.H}x{stride.W} must be at least 1x1.");
        if (dilation.H < 1 || dilation.W < 1) throw new ArgumentException($"{op}: dilation {dilation.H}x{dilation.W} must be at least 1x1.");
        if (pad.Top < 0 || pad.Bottom < 0 || pad.Left < 0 || pad.Right < 0) throw new ArgumentException($"{op}: padding {pad} cannot be negative.");
        int c = input.ShapeArray[1], h = input.ShapeArray[2], w = input.ShapeArray[3];
        int oh = (h + pad.Top + pad.Bottom - dilation.H * (kh - 1) - 1) / stride.H + 1;
        int ow = (w + pad.Left + pad.Right - dilation.W * (kw - 1) - 1) / stride.W + 1;
        if (h + pad.Top + pad.Bottom < dilation.H * (kh - 1) + 1 || w + pad.Left + pad.Right < dilation.W * (kw - 1) + 1)
            throw new ArgumentException($"{op}: a {kh}x{kw} window (dilation {dilation.H}x{dilation.W}) does not fit input {input.ShapeString} with padding {pad}.");
        return new ConvGeometry(c, h, w, kh, kw, stride.H, stride.W, pad.Top, pad.Left, dilation.H, dilation.W, oh, ow);
    }

    /// <summary>The elements as a row-major array of exactly <see cref="Size"/> values: the storage itself when it is that, else a copy.</summary>
    internal float[] DenseArray() => IsContiguous && Offset == 0 && Storage.Length == Size ? Storage : ContiguousCopy().Storage;

    private sealed class Conv2dBackward : Node
    {
        private readonly ConvGeometry g;

        public Conv2dBackward(Tensor[] inputs, float[] cols, ConvGeometry geometry) : base(inputs)
        {
            _cols = Keep(cols);
            g = geometry;
        }

        private readonly float[] _cols;

        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor input = Input(0), weight = Input(1);
            int n = input.ShapeArray[0], cout = weight.ShapeArray[0], np = n * g.Positions;
            float[] dy = grad.DenseArray();
            // [N, Cout, P] -> [Cout, N * P], the layout of the forward GEMM's output.
            float[] dyt = ChannelsToRows(dy, n, cout, g.Positions);
            var grads = new Tensor?[Inputs.Count];
            if (NeedsGrad(1))
            {
                var dw = new Tensor((int[])weight.ShapeArray.Clone());
                Gemm.Multiply(false, true, cout, g.Rows, np, dyt, np, _cols, np, dw.Storage, g.Rows);
                grads[1] = dw;
            }
            if (Inputs.Count == 3 && NeedsGrad(2))
            {
                var db = new Tensor([cout]);
                for (int co = 0; co < cout; co++) db.Storage[co] = System.Numerics.Tensors.TensorPrimitives.Sum(dyt.AsSpan(co * np, np));
                grads[2] = db;
            }
            if (NeedsGrad(0))
            {
                float[] dcols = BufferPool.RentFloats(g.Rows * np);
                Gemm.Multiply(true, false, g.Rows, np, cout, weight.DenseArray(), g.Rows, dyt, np, dcols, np);
                var dx = new Tensor((int[])input.ShapeArray.Clone());
                Conv.Col2Im(dcols, n, g, dx.Storage);
                BufferPool.Return(dcols);
                grads[0] = dx;
            }
            BufferPool.Return(dyt);
            return grads;
        }
    }
}
