using Nabla.Autograd;

namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// Matrix product with PyTorch's rules: [M,K] x [K,N] = [M,N]; leading (batch) dimensions
    /// broadcast; a 1-D left operand is a row vector and a 1-D right operand a column vector,
    /// whose added dimension is removed from the result.
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        if (a.Rank == 0 || b.Rank == 0)
            throw new ArgumentException($"MatMul: both operands need at least one dimension, got {a.ShapeString} and {b.ShapeString}.");
        if (a.Rank == 1 && b.Rank == 1)
        {
            if (a.ShapeArray[0] != b.ShapeArray[0])
                throw new ArgumentException($"MatMul: vectors of different lengths {a.ShapeString} and {b.ShapeString}.");
            return MatMul(a.Unsqueeze(0), b.Unsqueeze(1)).Reshape();
        }
        if (a.Rank == 1) return MatMul(a.Unsqueeze(0), b).Squeeze(-2);
        if (b.Rank == 1) return MatMul(a, b.Unsqueeze(1)).Squeeze(-1);
        var y = MatMulForward(a, b);
        return ShouldRecord(a, b) ? y.Record(new MatMulBackward(a, b)) : y;
    }

    /// <summary>This tensor times <paramref name="other"/>; see <see cref="MatMul(Tensor, Tensor)"/>.</summary>
    public Tensor MatMul(Tensor other) => MatMul(this, other);

    private static Tensor MatMulForward(Tensor a, Tensor b)
    {
        int m = a.ShapeArray[^2], k = a.ShapeArray[^1], k2 = b.ShapeArray[^2], n = b.ShapeArray[^1];
        if (k != k2)
            throw new ArgumentException($"MatMul: inner dimensions differ: {a.ShapeString} x {b.ShapeString} ({k} vs {k2}).");
        int[] batch = Shapes.Broadcast(a.ShapeArray.AsSpan(0, a.Rank - 2), b.ShapeArray.AsSpan(0, b.Rank - 2), "MatMul (batch dimensions)");
        Tensor ac = Materialize(a, [.. batch, m, k]);
        Tensor bc = Materialize(b, [.. batch, k, n]);
        var y = new Tensor([.. batch, m, n]);
        int batches = Shapes.Size(batch);
        for (int i = 0; i < batches; i++)
        {
            Kernels.MatMul.Multiply(ac.Storage, ac.Offset + i * m * k, bc.Storage, bc.Offset + i * k * n, y.Storage, i * m * n, m, k, n);
        }
        return y;
    }

    /// <summary>A contiguous (not recorded) version of x broadcast to shape; x itself when nothing needs doing.</summary>
    private static Tensor Materialize(Tensor x, int[] shape)
    {
        if (Shapes.Equal(x.ShapeArray, shape) && x.IsContiguous) return x;
        var view = new Tensor(x.Storage, x.Offset, shape, x.BroadcastStrides(shape));
        return view.ContiguousCopy();
    }

    private sealed class MatMulBackward(Tensor a, Tensor b) : Node([a, b])
    {
        // dA = G x B^T, dB = A^T x G, each summed back over broadcast batch dimensions.
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor a = Input(0), b = Input(1);
            return
            [
                NeedsGrad(0) ? MatMulForward(grad, b.Transpose(-1, -2)).SumTo(a.ShapeArray) : null,
                NeedsGrad(1) ? MatMulForward(a.Transpose(-1, -2), grad).SumTo(b.ShapeArray) : null,
            ];
        }
    }
}
