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
        var y = ForOverwrite([.. batch, m, n]);
        var (aT, aLd, aStrides, aSrc) = GemmOperand(a, [.. batch, m, k]);
        var (bT, bLd, bStrides, bSrc) = GemmOperand(b, [.. batch, k, n]);
        int batches = Shapes.Size(batch);
        var products = new BatchedProduct(aT, bT, m, n, k, aSrc, aLd, aStrides, bSrc, bLd, bStrides, batch, y.Storage);
        // Many products (attention's heads): each thread takes whole products, one after another
        // (the same bits as each product shared over the threads).
        if (batches >= 2 && Kernels.Threading.NumThreads > 1 && (long)batches * m * n * k >= 1 << 18)
            products.RunInParts(batches);
        else products.Run(0, batches, singleThread: false);
        return y;
    }

    /// <summary>The products of a batch: operand i of each read at its batch strides, product i written at i m n of the output.</summary>
    private readonly record struct BatchedProduct(bool ATrans, bool BTrans, int M, int N, int K, Tensor A, int ALd, int[] AStrides, Tensor B, int BLd, int[] BStrides, int[] Batch, float[] Y)
    {
        /// <summary>All <paramref name="batches"/> products shared over the threads (apart from the serial path, so that only this one makes a closure).</summary>
        public void RunInParts(int batches)
        {
            BatchedProduct self = this;
            Kernels.Threading.For(batches, (long)M * N * K, (b0, b1) => self.Run(b0, b1, singleThread: true));
        }

        /// <summary>Products [b0, b1), one after another.</summary>
        public void Run(int b0, int b1, bool singleThread)
        {
            for (int i = b0; i < b1; i++)
            {
                int aOff = A.Offset, bOff = B.Offset;
                for (int d = Batch.Length - 1, rest = i; d >= 0; d--)
                {
                    int at = rest % Batch[d];
                    rest /= Batch[d];
                    aOff += at * AStrides[d];
                    bOff += at * BStrides[d];
                }
                Kernels.Gemm.Multiply(ATrans, BTrans, M, N, K, A.Storage.AsSpan(aOff), ALd, B.Storage.AsSpan(bOff), BLd, Y.AsSpan(i * M * N, M * N), N, singleThread: singleThread);
            }
        }
    }

    /// <summary>
    /// How GEMM reads one operand broadcast to <paramref name="shape"/> ([batch..., rows, cols]):
    /// transposed or not, its leading dimension and batch strides, read in place when its last two
    /// dimensions are row- or column-major (so transposed views cost no copy), else from a copy.
    /// </summary>
    private static (bool Trans, int Ld, int[] BatchStrides, Tensor Source) GemmOperand(Tensor x, int[] shape)
    {
        int[] strides = x.BroadcastStrides(shape);
        int rank = shape.Length;
        int[] batchStrides = strides[..(rank - 2)];
        if (InPlaceLayout(shape[rank - 2], shape[rank - 1], strides[rank - 2], strides[rank - 1]) is var (trans, ld)) return (trans, ld, batchStrides, x);
        Tensor copy = x.ContiguousCopy();
        return (false, shape[rank - 1], copy.BroadcastStrides(shape)[..(rank - 2)], copy);
    }

    /// <summary>
    /// How GEMM can read a [rows, cols] matrix whose elements are <paramref name="sRow"/> and
    /// <paramref name="sCol"/> apart: row-major with leading dimension ld (element (i, j) at
    /// i ld + j), column-major (transposed, at j ld + i), or null when neither (a copy is needed).
    /// A single row or column may have any stride along its one-long dimension.
    /// </summary>
    internal static (bool Trans, int Ld)? InPlaceLayout(int rows, int cols, int sRow, int sCol)
    {
        if ((cols == 1 || sCol == 1) && (rows == 1 || sRow >= cols)) return (false, rows == 1 ? cols : sRow);
        if ((rows == 1 || sRow == 1) && (cols == 1 || sCol >= rows)) return (true, cols == 1 ? rows : sCol);
        return null;
    }

    private sealed class MatMulBackward(Tensor a, Tensor b) : Node([a, b])
    {
        // dA = G x B^T, dB = A^T x G, each summed back over broadcast batch dimensions. When an
        // input is stored column-major (a transposed view, as a Dense weight is), its gradient is
        // computed transposed, (B G^T)^T or (G^T A)^T, so it comes out in the input's own layout
        // and flows back through the transpose without a strided copy.
        protected internal override Tensor?[] Backward(Tensor grad)
        {
            Tensor a = Input(0), b = Input(1);
            Tensor? ga = null, gb = null;
            if (NeedsGrad(0))
            {
                // Stryker disable once Conditional : both branches compute G B^T; the choice only decides the result's layout (no strided copy later).
                ga = IsColumnMajor(a)
                    ? MatMulForward(b, grad.Transpose(-1, -2)).Transpose(-1, -2)
                    : MatMulForward(grad, b.Transpose(-1, -2));
                ga = ga.SumTo(a.ShapeArray);
            }
            if (NeedsGrad(1))
            {
                // Stryker disable once Conditional : both branches compute A^T G; the choice only decides the result's layout.
                gb = IsColumnMajor(b)
                    ? MatMulForward(grad.Transpose(-1, -2), a).Transpose(-1, -2)
                    : MatMulForward(a.Transpose(-1, -2), grad);
                gb = gb.SumTo(b.ShapeArray);
            }
            return [ga, gb];
        }

        private static bool IsColumnMajor(Tensor x) => IsColumnMajorLayout(x.ShapeArray[^2], x.ShapeArray[^1], x.Strides[^2], x.Strides[^1]);
    }

    /// <summary>True when a [rows, cols] matrix (both above 1) is stored column by column: (i, j) at i + j sCol with sCol &gt;= rows.</summary>
    internal static bool IsColumnMajorLayout(int rows, int cols, int sRow, int sCol) => rows > 1 && cols > 1 && sRow == 1 && sCol >= rows;
}
