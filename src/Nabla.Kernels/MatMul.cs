using System.Numerics.Tensors;

namespace Nabla.Kernels;

/// <summary>
/// Matrix multiply over contiguous row-major operands. This is the correct, simply blocked
/// version: each row of C accumulates scaled rows of B (SIMD through TensorPrimitives),
/// rows split across threads. The packed, register-blocked GEMM replaces it later.
/// </summary>
public static class MatMul
{
    private const int KBlock = 128;

    /// <summary>
    /// <c>C[M,N] = A[M,K] x B[K,N]</c> (C is overwritten), on the calling thread. The summation
    /// order over K is fixed, so results are repeatable.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n)
    {
        if (a.Length < m * k || b.Length < k * n || c.Length < m * n)
            throw new ArgumentException($"MatMul buffers too small for [{m},{k}] x [{k},{n}].");
        if (m == 0 || n == 0) return;
        Rows(a, b, c, 0, m, k, n);
    }

    /// <summary>
    /// <c>C[M,N] = A[M,K] x B[K,N]</c> over arrays at offsets, with the rows of C split across
    /// up to <see cref="Threading.NumThreads"/> threads when the product is large enough. Each row
    /// is computed by one thread in the same order, so the result does not depend on the thread count.
    /// </summary>
    public static void Multiply(float[] a, int aOffset, float[] b, int bOffset, float[] c, int cOffset, int m, int k, int n)
    {
        if (m == 0 || n == 0) return;
        Threading.For(m, (long)n * k, (start, end) =>
            Rows(a.AsSpan(aOffset, m * k), b.AsSpan(bOffset, k * n), c.AsSpan(cOffset, m * n), start, end, k, n));
    }

    private static void Rows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int start, int end, int k, int n)
    {
        c.Slice(start * n, (end - start) * n).Clear();
        for (int k0 = 0; k0 < k; k0 += KBlock)
        {
            int k1 = Math.Min(k, k0 + KBlock);
            for (int i = start; i < end; i++)
            {
                Span<float> crow = c.Slice(i * n, n);
                ReadOnlySpan<float> arow = a.Slice(i * k, k);
                for (int p = k0; p < k1; p++)
                {
                    TensorPrimitives.MultiplyAdd(b.Slice(p * n, n), arow[p], crow, crow);
                }
            }
        }
    }
}
