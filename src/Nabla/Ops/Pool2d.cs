using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// Max pooling of [N, C, H, W] over <paramref name="kernel"/> windows (stride defaults to the
    /// kernel size); padded positions never win. The gradient goes to each window's maximum.
    /// </summary>
    public static Tensor MaxPool2d(Tensor input, (int H, int W) kernel, (int H, int W)? stride = null, Padding2D padding = default)
    {
        ConvGeometry g = PoolGeometry("MaxPool2d", input, kernel, stride, padding);
        int n = input.ShapeArray[0];
        var y = ForOverwrite([n, g.C, g.OH, g.OW]);
        int[] argmax = BufferPool.RentInts(y.Size);
        Conv.MaxPool(input.DenseArray(), n, g, y.Storage, argmax);
        if (ShouldRecord(input)) return y.Record(new MaxPool2dBackward(input, argmax, g));
        BufferPool.Return(argmax);
        return y;
    }

    /// <summary>
    /// Average pooling of [N, C, H, W] over <paramref name="kernel"/> windows (stride defaults to the
    /// kernel size); each window averages only its positions inside the image.
    /// </summary>
    public static Tensor AvgPool2d(Tensor input, (int H, int W) kernel, (int H, int W)? stride = null, Padding2D padding = default)
    {
        ConvGeometry g = PoolGeometry("AvgPool2d", input, kernel, stride, padding);
        int n = input.ShapeArray[0];
        var y = ForOverwrite([n, g.C, g.OH, g.OW]);
        Conv.AvgPool(input.DenseArray(), n, g, y.Storage);
        return ShouldRecord(input) ? y.Record(new AvgPool2dBackward(input, g)) : y;
    }

    private static ConvGeometry PoolGeometry(string op, Tensor input, (int H, int W) kernel, (int H, int W)? stride, Padding2D padding)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 4) throw new ArgumentException($"{op}: input must be [N, C, H, W], got {input.ShapeString}.");
        if (padding.Top >= kernel.H || padding.Bottom >= kernel.H || padding.Left >= kernel.W || padding.Right >= kernel.W)
            throw new ArgumentException($"{op}: padding {padding} must be smaller than the {kernel.H}x{kernel.W} window.");
        return Geometry(op, input, kernel.H, kernel.W, stride ?? kernel, padding, (1, 1));
    }

    private sealed class MaxPool2dBackward : Node
    {
        private readonly int[] _argmax;
        private readonly ConvGeometry g;

        public MaxPool2dBackward(Tensor input, int[] argmax, ConvGeometry geometry) : base([input])
        {
            _argmax = Keep(argmax);
            g = geometry;
        }

        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor x = Input(0);
            // Windows that tile the image write every input's gradient: no clearing needed.
            var dx = Conv.MaxPoolBackwardWritesAll(g) ? ForOverwrite((int[])x.ShapeArray.Clone()) : new Tensor((int[])x.ShapeArray.Clone());
            Conv.MaxPoolBackward(grad.DenseArray(), _argmax, x.ShapeArray[0], g, dx.Storage);
            return [dx];
        }
    }

    private sealed class AvgPool2dBackward(Tensor input, ConvGeometry g) : Node([input])
    {
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor x = Input(0);
            var dx = new Tensor((int[])x.ShapeArray.Clone());
            Conv.AvgPoolBackward(grad.DenseArray(), x.ShapeArray[0], g, dx.Storage);
            return [dx];
        }
    }
}
