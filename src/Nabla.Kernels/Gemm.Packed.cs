using System.Runtime.InteropServices;

namespace Nabla.Kernels;

/// <summary>
/// One operand of a <see cref="Gemm"/> product
/// packed once into the GEMM's micro-panel order, for a weight that takes part in many products
/// (an LSTM's recurrent weight at every step, a convolution's filters for every image), so the
/// packing is not repeated for each. Made by <see cref="Gemm.PackA"/> or <see cref="Gemm.PackB"/>;
/// <see cref="Dispose"/> hands its memory back for the next one. It does not see later changes to
/// the matrix it was packed from.
/// </summary>
public sealed unsafe class PackedMatrix : IDisposable
{
    private static readonly object s_gate = new();
    private static readonly Stack<PackedMatrix> s_free = new();
    private const int MaxFree = 8;

    private float[] _storage = [];
    private int _capacity;

    /// <summary>The packed values, 64-byte aligned (the storage is on the pinned heap and never moves).</summary>
    internal float* Data { get; private set; }

    /// <summary>True when this is the left operand, op(A) [m, k]; false for op(B) [k, n].</summary>
    public bool IsA { get; private set; }

    /// <summary>Rows of op(A) (m) or columns of op(B) (n): the dimension that is not summed.</summary>
    public int Extent { get; private set; }

    /// <summary>The summed dimension, k.</summary>
    public int Depth { get; private set; }

    private bool _disposed = true;

    private PackedMatrix()
    {
    }

    /// <summary>A packed matrix of at least <paramref name="floats"/> values, reused from the free list when one is big enough.</summary>
    internal static PackedMatrix Rent(bool isA, int extent, int depth, int floats)
    {
        PackedMatrix? m = null;
        lock (s_gate)
        {
            if (s_free.Count > 0) m = s_free.Pop();
        }
        m ??= new PackedMatrix();
        if (m._capacity < floats)
        {
            // 16 floats of room to align the start to 64 bytes.
            m._storage = GC.AllocateUninitializedArray<float>(floats + 16, pinned: true);
            m._capacity = floats;
            fixed (float* p = m._storage) m.Data = (float*)(((nint)p + 63) & ~(nint)63);
        }
        (m.IsA, m.Extent, m.Depth, m._disposed) = (isA, extent, depth, false);
        return m;
    }

    /// <summary>Throws when the matrix was handed back, or is not the operand <paramref name="wantA"/> a product expects.</summary>
    internal void Check(bool wantA)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (wantA != IsA) throw new ArgumentException($"Gemm: a packed {(IsA ? "A" : "B")} operand was given where {(wantA ? "A" : "B")} belongs.");
    }

    /// <summary>Hands the memory back for the next packed matrix; this one must not be used afterwards.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (s_gate)
        {
            if (s_free.Count < MaxFree) s_free.Push(this);
        }
    }
}

public static unsafe partial class Gemm
{
    /// <summary>
    /// Packs op(A) [<paramref name="m"/>, <paramref name="k"/>] once for many products
    /// <c>C = op(A) op(B)</c> with different B (as stored: A is [m, lda], or [k, lda] when
    /// <paramref name="transA"/>). Dispose the result when done.
    /// </summary>
    public static PackedMatrix PackA(bool transA, int m, int k, ReadOnlySpan<float> a, int lda)
    {
        if (m < 0 || k < 0) throw new ArgumentException($"Gemm.PackA: negative size m={m}, k={k}.");
        CheckExtent(a, transA ? k : m, transA ? m : k, lda, "A");
        int padded = (m + MR - 1) / MR * MR;
        PackedMatrix packed = PackedMatrix.Rent(isA: true, m, k, padded * k + PackSlack);
        if (m > 0 && k > 0)
        {
            fixed (float* pa = a)
            {
                new Job(transA, false, m, 0, k, pa, lda, null, 0, null, 0, false).PackWhole(packed.Data, isA: true);
            }
        }
        return packed;
    }

    /// <summary>
    /// Packs op(B) [<paramref name="k"/>, <paramref name="n"/>] once for many products
    /// <c>C = op(A) op(B)</c> with different A (as stored: B is [k, ldb], or [n, ldb] when
    /// <paramref name="transB"/>). Dispose the result when done.
    /// </summary>
    public static PackedMatrix PackB(bool transB, int k, int n, ReadOnlySpan<float> b, int ldb)
    {
        if (n < 0 || k < 0) throw new ArgumentException($"Gemm.PackB: negative size k={k}, n={n}.");
        CheckExtent(b, transB ? n : k, transB ? k : n, ldb, "B");
        int padded = (n + NR - 1) / NR * NR;
        PackedMatrix packed = PackedMatrix.Rent(isA: false, n, k, padded * k);
        if (n > 0 && k > 0)
        {
            fixed (float* pb = b)
            {
                new Job(false, transB, 0, n, k, null, 0, pb, ldb, null, 0, false).PackWhole(packed.Data, isA: false);
            }
        }
        return packed;
    }

    /// <summary>
    /// <c>C = A op(B)</c> (or <c>C +=</c> with <paramref name="accumulate"/>) for an A packed by
    /// <see cref="PackA"/>: [m, k] times op(B) [k, n], with n the columns of C. Every element is
    /// summed in the same order as the packed path of
    /// <see cref="Multiply(bool, bool, int, int, int, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, Span{float}, int, bool, bool)"/>,
    /// whatever the thread count.
    /// </summary>
    /// <param name="a">op(A) [m, k], from <see cref="PackA"/>.</param>
    /// <param name="transB">op(B) = B^T: B is stored [n, ldb].</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="b">B, starting at its first element.</param>
    /// <param name="ldb">Row stride of B as stored.</param>
    /// <param name="c">C [m, n], starting at its first element.</param>
    /// <param name="ldc">Row stride of C.</param>
    /// <param name="accumulate">Add to C instead of overwriting it.</param>
    public static void Multiply(PackedMatrix a, bool transB, int n, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false)
    {
        ArgumentNullException.ThrowIfNull(a);
        int m = a.Extent, k = a.Depth;
        a.Check(wantA: true);
        if (n < 0) throw new ArgumentException($"Gemm: negative size n={n}.");
        if (m == 0 || n == 0) return;
        CheckExtent(b, transB ? n : k, transB ? k : n, ldb, "B");
        CheckExtent(c, m, n, ldc, "C");
        fixed (float* pb = b, pc = c)
        {
            RunPacked(new Job(false, transB, m, n, k, null, 0, pb, ldb, pc, ldc, accumulate, packedA: a.Data), m, n, k);
        }
    }

    /// <summary>
    /// <c>C = op(A) B</c> (or <c>C +=</c> with <paramref name="accumulate"/>) for a B packed by
    /// <see cref="PackB"/>: op(A) [m, k] times [k, n]. Summed as the packed path of
    /// <see cref="Multiply(bool, bool, int, int, int, ReadOnlySpan{float}, int, ReadOnlySpan{float}, int, Span{float}, int, bool, bool)"/>
    /// sums, whatever the thread count; unlike it, products of a few rows are packed too.
    /// </summary>
    /// <param name="transA">op(A) = A^T: A is stored [k, lda].</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="a">A, starting at its first element.</param>
    /// <param name="lda">Row stride of A as stored.</param>
    /// <param name="b">op(B) [k, n], from <see cref="PackB"/>.</param>
    /// <param name="c">C [m, n], starting at its first element.</param>
    /// <param name="ldc">Row stride of C.</param>
    /// <param name="accumulate">Add to C instead of overwriting it.</param>
    public static void Multiply(bool transA, int m, ReadOnlySpan<float> a, int lda, PackedMatrix b, Span<float> c, int ldc, bool accumulate = false)
    {
        ArgumentNullException.ThrowIfNull(b);
        int n = b.Extent, k = b.Depth;
        b.Check(wantA: false);
        if (m < 0) throw new ArgumentException($"Gemm: negative size m={m}.");
        if (m == 0 || n == 0) return;
        CheckExtent(a, transA ? k : m, transA ? m : k, lda, "A");
        CheckExtent(c, m, n, ldc, "C");
        fixed (float* pa = a, pc = c)
        {
            RunPacked(new Job(transA, false, m, n, k, pa, lda, null, 0, pc, ldc, accumulate, packedB: b.Data), m, n, k);
        }
    }

    private static void RunPacked(Job job, int m, int n, int k)
    {
        int threads = Math.Min(Threading.NumThreads, 64);
        if (threads <= 1 || (long)m * n * k < 1 << 17 || Math.Max(m, n) < 2 * NR) job.Run(0, m, 0, n);
        else job.RunParallel(threads);
    }
}
