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
        Padding2D padding = default, (int H, int W)? dilation = null) => Conv2dCore(input, weight, bias, stride, padding, dilation, relu: false);

    /// <summary>
    /// <c>Conv2d(...).Relu()</c> in one op: the ReLU is applied to each image's output while it is
    /// still in cache, and its gradient mask is applied inside the convolution's backward (what
    /// Conv2D layers with a ReLU activation run).
    /// </summary>
    internal static Tensor Conv2dRelu(Tensor input, Tensor weight, Tensor? bias, (int H, int W)? stride, Padding2D padding, (int H, int W)? dilation) =>
        Conv2dCore(input, weight, bias, stride, padding, dilation, relu: true);

    private static Tensor Conv2dCore(Tensor input, Tensor weight, Tensor? bias, (int H, int W)? stride, Padding2D padding, (int H, int W)? dilation, bool relu)
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
        int n = input.ShapeArray[0], positions = g.Positions, rows = g.Rows, imageSize = g.C * g.H * g.W;
        // One image at a time, each product written straight into its [Cout, OH * OW] block of
        // the output (no transposes); images are shared out over the threads, each lowering its
        // images in turn into one cache-sized buffer (backward lowers them again rather than keep
        // N lowered images, which would go out to memory and come back).
        float[] x = input.DenseArray(), w = weight.DenseArray();
        float[]? b = bias?.DenseArray();
        var y = ForOverwrite([n, cout, g.OH, g.OW]);
        float[] ys = y.Storage;
        // The filters are packed once for every image's product (bit-identical to unpacked products).
        // Stryker disable once all : packing or not gives the same values; the threshold is a speed choice.
        bool pack = n > 1 && cout > 4;
        using PackedMatrix? packedW = pack ? Gemm.PackA(false, cout, rows, w, rows) : null;
        // Stryker disable once all : the work estimate only decides how many threads share the images.
        long work = (long)cout * rows * positions;
        Threading.For(n, work, (i0, i1) =>
        {
            float[] cols = BufferPool.RentFloats(rows * positions);
            for (int i = i0; i < i1; i++)
            {
                Span<float> block = cols.AsSpan(0, rows * positions);
                Conv.Im2ColImage(x.AsSpan(i * imageSize, imageSize), g, block);
                Span<float> yi = ys.AsSpan(i * cout * positions, cout * positions);
                // The bias is the product's starting value.
                if (b is not null) for (int co = 0; co < cout; co++) yi.Slice(co * positions, positions).Fill(b[co]);
                if (packedW is not null) Gemm.Multiply(packedW, false, positions, block, positions, yi, positions, accumulate: b is not null);
                else Gemm.Multiply(false, false, cout, positions, rows, w, rows, block, positions, yi, positions, accumulate: b is not null);
                if (relu) Activations.Relu(yi, yi);
            }
            // Stryker disable once Statement : returning a buffer to the pool changes memory use, not values.
            BufferPool.Return(cols);
        });
        Tensor[] inputs = bias is null ? [input, weight] : [input, weight, bias];
        return ShouldRecord(inputs) ? y.Record(new Conv2dBackward(inputs, g, relu ? y : null)) : y;
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
        // Sizes the kernels index with int: one image's lowered matrix [C*KH*KW, OH*OW] must fit an array.
        long rows = (long)c * kh * kw, positions = (long)oh * ow;
        if (rows * positions > Array.MaxLength)
            throw new ArgumentException($"{op}: input {input.ShapeString} with a {kh}x{kw} window gives {oh}x{ow} outputs per channel; lowering one image needs {rows:N0} x {positions:N0} values, more than an array holds ({Array.MaxLength:N0}). Use smaller images, fewer channels or a larger stride.");
        return new ConvGeometry(c, h, w, kh, kw, stride.H, stride.W, pad.Top, pad.Left, dilation.H, dilation.W, oh, ow);
    }

    /// <summary>The elements as a row-major array of exactly <see cref="Size"/> values: the storage itself when it is that, else a copy.</summary>
    internal float[] DenseArray() => IsContiguous && Offset == 0 && Storage.Length == Size ? Storage : ContiguousCopy().Storage;

    private sealed class Conv2dBackward : Node
    {
        private readonly ConvGeometry g;

        public Conv2dBackward(Tensor[] inputs, ConvGeometry geometry, Tensor? reluOutput) : base(inputs)
        {
            g = geometry;
            _reluOutput = reluOutput;
        }

        // With a fused ReLU, its output: the gradient passes where it is positive.
        private readonly Tensor? _reluOutput;

        /// <inheritdoc/>
        public override string Name => _reluOutput is null ? base.Name : "Conv2dReluBackward";

        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor input = Input(0), weight = Input(1);
            int n = input.ShapeArray[0], cout = weight.ShapeArray[0], positions = g.Positions, rows = g.Rows;
            int imageSize = g.C * g.H * g.W, outSize = cout * positions;
            float[] dy = grad.DenseArray();
            float[]? masked = _reluOutput is null ? null : ReluMask(_reluOutput, dy);
            if (masked is not null) dy = masked;
            var grads = new Tensor?[Inputs.Count];
            if (NeedsGrad(1))
            {
                grads[1] = WeightGradient(dy, n, weight.ShapeArray);
            }
            if (Inputs.Count == 3 && NeedsGrad(2))
            {
                var db = new Tensor([cout]);
                for (int i = 0; i < n; i++)
                {
                    for (int co = 0; co < cout; co++) db.Storage[co] += System.Numerics.Tensors.TensorPrimitives.Sum(dy.AsSpan(i * outSize + co * positions, positions));
                }
                grads[2] = db;
            }
            if (NeedsGrad(0))
            {
                float[] w = weight.DenseArray();
                var dx = new Tensor((int[])input.ShapeArray.Clone());
                float[] dxs = dx.Storage;
                // W^T is packed once for every image's product.
                // Stryker disable once all : packing or not gives the same values; the threshold is a speed choice.
                bool pack = n > 1 && rows > 4;
                using PackedMatrix? packedWt = pack ? Gemm.PackA(true, rows, cout, w, rows) : null;
                // Stryker disable once all : the work estimate only decides how many threads share the images.
                long work = (long)rows * cout * positions;
                Threading.For(n, work, (i0, i1) =>
                {
                    float[] dcols = BufferPool.RentFloats(rows * positions);
                    for (int i = i0; i < i1; i++)
                    {
                        // dcols_i = W^T [rows, Cout] x dY_i [Cout, P], then added back into image i.
                        if (packedWt is not null) Gemm.Multiply(packedWt, false, positions, dy.AsSpan(i * outSize, outSize), positions, dcols, positions);
                        else Gemm.Multiply(true, false, rows, positions, cout, w, rows, dy.AsSpan(i * outSize, outSize), positions, dcols, positions);
                        Conv.Col2ImImage(dcols.AsSpan(0, rows * positions), g, dxs.AsSpan(i * imageSize, imageSize));
                    }
                    // Stryker disable once Statement : returning a buffer to the pool changes memory use, not values.
                    BufferPool.Return(dcols);
                });
                grads[0] = dx;
            }
            // Stryker disable once all : returning a buffer to the pool changes memory use, not values.
            if (masked is not null) BufferPool.Return(masked);
            return grads;
        }

        /// <summary>
        /// dW = sum over images of dY_i [Cout, P] x cols_i^T [P, rows]. With few rows (a first
        /// layer's 1 x 3 x 3) the product is computed transposed, as cols_i x dY_i^T [rows, Cout],
        /// which fills the micro-kernel's 16 columns. Images go in fixed chunks of 16, each chunk's
        /// sum made by one thread and the chunks' sums added in order: the same result whatever the
        /// thread count.
        /// </summary>
        private Tensor WeightGradient(float[] dy, int n, int[] weightShape)
        {
            int cout = weightShape[0], positions = g.Positions, rows = g.Rows, outSize = cout * positions;
            if (n == 0) return new Tensor((int[])weightShape.Clone());
            var dw = ForOverwrite((int[])weightShape.Clone());
            // Stryker disable once all : both orientations compute the same sums; the transposed one fills the micro-kernel better for few rows.
            bool transposed = rows < 16 && rows < cout;
            const int ChunkImages = 16;
            int chunks = (n + ChunkImages - 1) / ChunkImages, size = rows * cout;
            float[][] partial = new float[chunks][];
            for (int c = 0; c < chunks; c++) partial[c] = c == 0 && !transposed ? dw.Storage : BufferPool.RentFloats(size);
            float[] x = Input(0).DenseArray();
            int imageSize = g.C * g.H * g.W;
            // Stryker disable once all : the work estimate only decides how many threads share the chunks.
            long work = (long)ChunkImages * size * positions;
            Threading.For(chunks, work, (c0, c1) =>
            {
                float[] cols = BufferPool.RentFloats(rows * positions);
                for (int c = c0; c < c1; c++)
                {
                    int first = c * ChunkImages, last = Math.Min(n, first + ChunkImages);
                    for (int i = first; i < last; i++)
                    {
                        // Image i lowered again, into a buffer that stays in cache for its product.
                        Span<float> colsi = cols.AsSpan(0, rows * positions);
                        Conv.Im2ColImage(x.AsSpan(i * imageSize, imageSize), g, colsi);
                        ReadOnlySpan<float> dyi = dy.AsSpan(i * outSize, outSize);
                        if (transposed) Gemm.Multiply(false, true, rows, cout, positions, colsi, positions, dyi, positions, partial[c], cout, accumulate: i > first);
                        else Gemm.Multiply(false, true, cout, rows, positions, dyi, positions, colsi, positions, partial[c], rows, accumulate: i > first);
                    }
                }
                // Stryker disable once Statement : returning a buffer to the pool changes memory use, not values.
                BufferPool.Return(cols);
            });
            float[] sum = partial[0];
            for (int c = 1; c < chunks; c++)
            {
                System.Numerics.Tensors.TensorPrimitives.Add(sum.AsSpan(0, size), partial[c].AsSpan(0, size), sum.AsSpan(0, size));
                // Stryker disable once Statement : returning a buffer to the pool changes memory use, not values.
                BufferPool.Return(partial[c]);
            }
            if (transposed)
            {
                for (int r = 0; r < rows; r++)
                {
                    for (int co = 0; co < cout; co++) dw.Storage[co * rows + r] = sum[r * cout + co];
                }
                // Stryker disable once Statement : returning a buffer to the pool changes memory use, not values.
                BufferPool.Return(sum);
            }
            return dw;
        }
    }
}
