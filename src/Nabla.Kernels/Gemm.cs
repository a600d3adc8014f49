using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels;

/// <summary>
/// Single-precision matrix multiply, <c>C = op(A) x op(B)</c> or <c>C += op(A) x op(B)</c>, where
/// op is the identity or the transpose (handled while packing, never by copying the matrix).
/// Row-major storage with leading dimensions: op(A) is [m, k], op(B) is [k, n], C is [m, n].
/// The structure is GotoBLAS's: B panels of KC x NC and A blocks of MC x KC are packed into
/// micro-panel order and multiplied by a register-blocked 6 x 16 AVX2/FMA micro-kernel; a
/// scalar micro-kernel stands in on other processors. Small products skip packing. Work is
/// split statically over <see cref="Threading.NumThreads"/> threads along the larger of m and n,
/// and every element is summed in the same order whatever the thread count.
/// </summary>
public static unsafe partial class Gemm
{
    private const int MR = 6, NR = 16;
    private const int KC = 320, MC = 144, NC = 2048;

    // Packing A stores 8 floats where a step holds MR = 6 (the next step's store overwrites the
    // two extra), so the buffer has room for the last step's overhang.
    private const int PackSlack = 8;

    /// <summary>True when the AVX2/FMA code (or wider) is in use: <see cref="Isa.Current"/> is AVX2 or AVX-512.</summary>
    private static bool UseAvx2 => Isa.Current >= InstructionSet.Avx2;

    [ThreadStatic] private static float* t_packA;
    [ThreadStatic] private static float* t_packB;

    /// <summary>
    /// Computes <c>C = op(A) op(B)</c> (or adds it to C when <paramref name="accumulate"/>).
    /// </summary>
    /// <param name="transA">op(A) = A^T: A is stored [k, lda] and op(A)[i, p] = a[p * lda + i].</param>
    /// <param name="transB">op(B) = B^T: B is stored [n, ldb] and op(B)[p, j] = b[j * ldb + p].</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="k">The summed dimension.</param>
    /// <param name="a">A, starting at its first element.</param>
    /// <param name="lda">Row stride of A as stored.</param>
    /// <param name="b">B, starting at its first element.</param>
    /// <param name="ldb">Row stride of B as stored.</param>
    /// <param name="c">C, starting at its first element.</param>
    /// <param name="ldc">Row stride of C.</param>
    /// <param name="accumulate">Add to C instead of overwriting it.</param>
    /// <param name="singleThread">Run on the calling thread alone (the caller shares out many products itself); the result is the same bits.</param>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false, bool singleThread = false)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"Gemm: negative size m={m}, n={n}, k={k}.");
        // Stryker disable once all : an empty C gets no writes below either; returning early only skips the setup.
        if (m == 0 || n == 0) return;
        CheckExtent(a, transA ? k : m, transA ? m : k, lda, "A");
        CheckExtent(b, transB ? n : k, transB ? k : n, ldb, "B");
        CheckExtent(c, m, n, ldc, "C");
        fixed (float* pa = a, pb = b, pc = c)
        {
            var job = new Job(transA, transB, m, n, k, pa, lda, pb, ldb, pc, ldc, accumulate);
            long flops = (long)m * n * k;
            // The path is chosen from the whole product, so every element is summed the same
            // way whatever the thread count.
            // Which path and how many threads are speed choices: every path computes the definition's
            // sums (each is tested against it), so the marks below keep them out of mutation scores.
            // Stryker disable once all : speed only.
            int threads = singleThread ? 1 : Math.Min(Threading.NumThreads, 64);
            // Stryker disable once all : speed only.
            bool small = m <= 4 || flops < 4096;
            // Stryker disable once all : speed only.
            bool smallParallel = threads > 1 && flops >= 1 << 17 && n >= 2 * NR;
            // Stryker disable once all : speed only.
            bool serial = threads <= 1 || flops < 1 << 17 || Math.Max(m, n) < 2 * NR;
            if (small)
            {
                // Matrix-vector products (batch-1 inference): split C's columns, so each thread
                // reads its own rows of a weight and keeps them in its core's cache call after call.
                if (smallParallel) job.SmallParallel(threads);
                else job.Small(0, m, 0, n);
                return;
            }
            if (serial)
            {
                job.Run(0, m, 0, n);
                return;
            }
            job.RunParallel(threads);
        }
    }

    private static void CheckExtent(ReadOnlySpan<float> s, int rows, int cols, int ld, string name)
    {
        if (rows == 0 || cols == 0) return;
        if (ld < cols && rows > 1) throw new ArgumentException($"Gemm: leading dimension {ld} of {name} is less than its {cols} columns.");
        long needed = (long)(rows - 1) * ld + cols;
        if (s.Length < needed) throw new ArgumentException($"Gemm: {name} holds {s.Length} values, but [{rows}, {cols}] with leading dimension {ld} needs {needed}.");
    }

    /// <summary>One multiply, with its operands pinned; the thread parts are sub-rectangles of C.</summary>
    private readonly struct Job(bool transA, bool transB, int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, bool accumulate,
        float* packedA = null, float* packedB = null)
    {
        // With a pre-packed operand, k block pc of it starts at pc * (rows or columns rounded up to
        // whole micro-panels), and the micro-panel of row (column) r at r * kc within the block.
        private int PaddedM => (m + MR - 1) / MR * MR;
        private int PaddedN => (n + NR - 1) / NR * NR;

        public void RunParallel(int threads)
        {
            // Split the larger dimension of C in equal, NR- or MR-aligned pieces.
            // Stryker disable once all : how C is split over the threads is a speed choice; any split covers C.
            bool splitN = n >= m;
            int extent = splitN ? n : m, align = splitN ? NR : MR;
            // Stryker disable once all : speed only (parts beyond the units are empty).
            int units = (extent + align - 1) / align;
            // Stryker disable once all : speed only.
            PartRunner.Run(this, Math.Min(threads, units), units, align, splitN ? PartRunner.Kind.Columns : PartRunner.Kind.Rows);
        }

        public int M => m;
        public int N => n;

        /// <summary>Computes rows [i0, i1) and columns [j0, j1) of C.</summary>
        public void Run(int i0, int i1, int j0, int j1)
        {
            // Stryker disable once all : the per-thread buffers are kept for reuse; allocating them again changes memory use only.
            float* packA = t_packA != null ? t_packA : t_packA = (float*)NativeMemory.AlignedAlloc((nuint)((MC * KC + PackSlack) * sizeof(float)), 64);
            // Stryker disable once all : as above.
            float* packB = t_packB != null ? t_packB : t_packB = (float*)NativeMemory.AlignedAlloc((nuint)(KC * NC * sizeof(float)), 64);
            float* tile = stackalloc float[MR * NR];
            bool wide = Isa.Current == InstructionSet.Avx512;
            for (int jc = j0; jc < j1; jc += NC)
            {
                int nc = Math.Min(NC, j1 - jc);
                // Stryker disable once all : how k is cut into blocks changes the order of the sums' parts, not what is summed.
                int kBlocks = (k + KC - 1) / KC;
                // Stryker disable once all : as above (k is never 0 here: the small path takes empty products).
                int kcBalanced = kBlocks == 0 ? 0 : (k + kBlocks - 1) / kBlocks;
                for (int pc = 0; pc < k; pc += kcBalanced)
                {
                    int kc = Math.Min(kcBalanced, k - pc);
                    bool first = pc == 0 && !accumulate;
                    // Stryker disable once all : packing B panel by panel or a block at a time gives the same packed values.
                    bool panelByPanel = i1 - i0 <= MC && kc >= 32;
                    if (panelByPanel)
                    {
                        // All of this part's rows fit one block of A (a batch of 128, a layer of 64
                        // filters): each B micro-panel is used by this block alone, so it is packed
                        // just before its use and read back from L1 rather than from a panel in L3.
                        // Below 32 steps (a first convolution's k = 9) packing panel by panel costs
                        // more than it saves (0.67 -> 0.83 ms for that layer's 64 products).
                        float* ablock = BlockOfA(packA, i0, i1 - i0, pc, kc);
                        for (int jr = 0; jr < nc;)
                        {
                            // Two micro-panels at once on the AVX-512 path, else one.
                            int nr = wide && jr + 2 * NR <= nc ? 2 * NR : Math.Min(NR, nc - jr);
                            float* bp;
                            if (packedB != null)
                            {
                                bp = packedB + (long)pc * PaddedN + (long)(jc + jr) * kc;
                            }
                            else
                            {
                                PackB(packB, pc, kc, jc + jr, nr);
                                bp = packB;
                            }
                            if (nr == 2 * NR) Panel2(ablock, bp, bp + NR * kc, i0, i1 - i0, jc + jr, kc, first, tile);
                            else Panel(ablock, bp, i0, i1 - i0, jc + jr, nr, kc, first, tile);
                            jr += nr;
                        }
                        continue;
                    }
                    float* bblock = packB;
                    if (packedB != null) bblock = packedB + (long)pc * PaddedN + (long)jc * kc;
                    else PackB(packB, pc, kc, jc, nc);
                    for (int ic = i0; ic < i1; ic += MC)
                    {
                        int mc = Math.Min(MC, i1 - ic);
                        float* ablock = BlockOfA(packA, ic, mc, pc, kc);
                        int jr = 0;
                        if (wide)
                        {
                            for (; jr + 2 * NR <= nc; jr += 2 * NR) Panel2(ablock, bblock + jr * kc, bblock + (jr + NR) * kc, ic, mc, jc + jr, kc, first, tile);
                        }
                        for (; jr < nc; jr += NR)
                        {
                            Panel(ablock, bblock + jr * kc, ic, mc, jc + jr, Math.Min(NR, nc - jr), kc, first, tile);
                        }
                    }
                }
                if (k == 0 && !accumulate)
                {
                    for (int i = i0; i < i1; i++) new Span<float>(c + (long)i * ldc + jc, nc).Clear();
                }
            }
        }

        /// <summary>The packed rows [ic, ic + mc) of op(A) over k steps [pc, pc + kc): from the pre-packed operand, or packed now into <paramref name="scratch"/>.</summary>
        private float* BlockOfA(float* scratch, int ic, int mc, int pc, int kc)
        {
            if (packedA != null) return packedA + (long)pc * PaddedM + (long)ic * kc;
            PackA(scratch, ic, mc, pc, kc);
            return scratch;
        }

        /// <summary>Packs all of op(A) (<paramref name="isA"/>) or op(B), k block after k block, in the layout <see cref="Run"/> reads a pre-packed operand in.</summary>
        public void PackWhole(float* dst, bool isA)
        {
            int kBlocks = (k + KC - 1) / KC;
            int kcBalanced = kBlocks == 0 ? 0 : (k + kBlocks - 1) / kBlocks;
            for (int pc = 0; pc < k; pc += kcBalanced)
            {
                int kc = Math.Min(kcBalanced, k - pc);
                if (isA) PackA(dst + (long)pc * PaddedM, 0, m, pc, kc);
                else PackB(dst + (long)pc * PaddedN, pc, kc, 0, n);
            }
        }

        /// <summary>C[ic..ic+mc, j..j+nr] (=, or += unless <paramref name="first"/>) packed block of A x one packed micro-panel of B.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Panel(float* packA, float* bp, int ic, int mc, int j, int nr, int kc, bool first, float* tile)
        {
            for (int ir = 0; ir < mc; ir += MR)
            {
                int mr = Math.Min(MR, mc - ir);
                float* ap = packA + ir * kc;
                float* cp = c + (long)(ic + ir) * ldc + j;
                if (mr == MR && nr == NR) MicroKernel(kc, ap, bp, cp, ldc, !first);
                else Edge(ap, bp, cp, mr, nr, kc, first, tile);
            }
        }

        /// <summary>
        /// As <see cref="Panel"/> for two full micro-panels of B side by side (columns j..j+32): the
        /// AVX-512 micro-kernel's 6 x 32 tile, which loads each step's broadcasts of A once for both.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Panel2(float* packA, float* bp0, float* bp1, int ic, int mc, int j, int kc, bool first, float* tile)
        {
            for (int ir = 0; ir < mc; ir += MR)
            {
                int mr = Math.Min(MR, mc - ir);
                float* ap = packA + ir * kc;
                float* cp = c + (long)(ic + ir) * ldc + j;
                if (mr == MR)
                {
                    MicroKernelAvx512(kc, ap, bp0, bp1, cp, ldc, !first);
                    continue;
                }
                Edge(ap, bp0, cp, mr, NR, kc, first, tile);
                Edge(ap, bp1, cp + NR, mr, NR, kc, first, tile);
            }
        }

        /// <summary>A partial tile (<paramref name="mr"/> x <paramref name="nr"/>): computed whole into <paramref name="tile"/>, then its part copied or added to C.</summary>
        private void Edge(float* ap, float* bp, float* cp, int mr, int nr, int kc, bool first, float* tile)
        {
            MicroKernel(kc, ap, bp, tile, NR, false);
            for (int r = 0; r < mr; r++)
            {
                float* dst = cp + (long)r * ldc;
                float* src = tile + r * NR;
                if (first) for (int q = 0; q < nr; q++) dst[q] = src[q];
                else for (int q = 0; q < nr; q++) dst[q] += src[q];
            }
        }

        // Only the small path's transposed-A branch reads A element by element.
        private float A(int i, int p) => a[(long)p * lda + i];

        private float B(int p, int j) => transB ? b[(long)j * ldb + p] : b[(long)p * ldb + j];

        /// <summary>Products too small to pay for packing: dot products or row updates, in the same p order.</summary>
        /// <summary>C[0..4) = x . B[r, :] for four consecutive rows r of B (row stride <paramref name="ldb"/>), over <paramref name="k"/> values.</summary>
        private static void Dot4(float* x, float* b, int ldb, int k, float* c, bool accumulate)
        {
            Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
            float* b1 = b + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
            int p = 0;
            for (; p + 8 <= k; p += 8)
            {
                Vector256<float> xv = Avx.LoadVector256(x + p);
                s0 = Fma.MultiplyAdd(Avx.LoadVector256(b + p), xv, s0);
                s1 = Fma.MultiplyAdd(Avx.LoadVector256(b1 + p), xv, s1);
                s2 = Fma.MultiplyAdd(Avx.LoadVector256(b2 + p), xv, s2);
                s3 = Fma.MultiplyAdd(Avx.LoadVector256(b3 + p), xv, s3);
            }
            float d0 = Vector256.Sum(s0), d1 = Vector256.Sum(s1), d2 = Vector256.Sum(s2), d3 = Vector256.Sum(s3);
            for (; p < k; p++)
            {
                d0 += x[p] * b[p];
                d1 += x[p] * b1[p];
                d2 += x[p] * b2[p];
                d3 += x[p] * b3[p];
            }
            if (accumulate)
            {
                c[0] += d0;
                c[1] += d1;
                c[2] += d2;
                c[3] += d3;
            }
            else
            {
                c[0] = d0;
                c[1] = d1;
                c[2] = d2;
                c[3] = d3;
            }
        }

        public void SmallParallel(int threads)
        {
            // Stryker disable once all : speed only (parts beyond the units are empty).
            int units = (n + NR - 1) / NR;
            // Stryker disable once all : speed only.
            PartRunner.Run(this, Math.Min(threads, units), units, NR, PartRunner.Kind.SmallColumns);
        }

        public void Small(int i0, int i1, int j0, int j1)
        {
            int cols = j1 - j0;
            for (int i = i0; i < i1; i++)
            {
                float* crow = c + (long)i * ldc + j0;
                if (!transB && !transA)
                {
                    // Row update: C[i, :] += A[i, p] * B[p, :], vectorised over j.
                    var dst = new Span<float>(crow, cols);
                    if (!accumulate) dst.Clear();
                    for (int p = 0; p < k; p++)
                    {
                        var row = new ReadOnlySpan<float>(b + (long)p * ldb + j0, cols);
                        System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(row, a[(long)i * lda + p], dst, dst);
                    }
                }
                else if (transB && !transA)
                {
                    // Dot products of contiguous rows: C[i, j] = A[i, :] . B[j, :].
                    var arow = new ReadOnlySpan<float>(a + (long)i * lda, k);
                    int j = j0;
                    // Stryker disable once all : four dot products at once or one at a time give the same sums.
                    bool fourAtOnce = Avx2.IsSupported && Fma.IsSupported;
                    if (fourAtOnce)
                    {
                        // Four rows of B at a time: each load of A's row feeds four FMAs. Groups
                        // start at j0 (a multiple of 16 when split over threads), so every element
                        // is summed the same way whatever the thread count.
                        for (; j + 4 <= j1; j += 4) Dot4(a + (long)i * lda, b + (long)j * ldb, ldb, k, crow + (j - j0), accumulate);
                    }
                    for (; j < j1; j++)
                    {
                        float d = System.Numerics.Tensors.TensorPrimitives.Dot(arow, new ReadOnlySpan<float>(b + (long)j * ldb, k));
                        crow[j - j0] = accumulate ? crow[j - j0] + d : d;
                    }
                }
                else
                {
                    for (int j = j0; j < j1; j++)
                    {
                        float s = 0;
                        for (int p = 0; p < k; p++) s += A(i, p) * B(p, j);
                        crow[j - j0] = accumulate ? crow[j - j0] + s : s;
                    }
                }
            }
        }

        /// <summary>Packs op(A)[ic..ic+mc, pc..pc+kc] into MR-row micro-panels: panel r holds kc steps of MR values, zero-padded.</summary>
        private void PackA(float* dst, int ic, int mc, int pc, int kc)
        {
            for (int ir = 0; ir < mc; ir += MR)
            {
                int mr = Math.Min(MR, mc - ir);
                float* panel = dst + ir * kc;
                if (transA)
                {
                    int p = 0;
                    // Stryker disable once all : the vector and scalar packings write the same panel (both are tested).
                    bool vector = UseAvx2 && mr == MR && ic + ir + 8 <= m;
                    if (vector)
                    {
                        // Eight consecutive values per step, of which the next step overwrites two.
                        for (; p < kc; p++) Avx.Store(panel + p * MR, Avx.LoadVector256(a + (long)(pc + p) * lda + ic + ir));
                    }
                    for (; p < kc; p++)
                    {
                        float* src = a + (long)(pc + p) * lda + ic + ir;
                        float* d = panel + p * MR;
                        int r = 0;
                        // Stryker disable once Equality : one value more or less here lands in the padding rows, whose products are never stored.
                        for (; r < mr; r++) d[r] = src[r];
                        // Stryker disable once Equality : as above (the panel has slack past its end).
                        for (; r < MR; r++) d[r] = 0f;
                    }
                }
                else
                {
                    int p0 = 0;
                    // Stryker disable once all : the vector and scalar packings write the same panel (both are tested).
                    bool vector = UseAvx2 && mr == MR;
                    if (vector)
                    {
                        // 8 x 8 register transposes of six rows (and two zero rows): each step's
                        // eight values are stored where six belong, the next step overwriting two.
                        float* row = a + (long)(ic + ir) * lda + pc;
                        for (; p0 + 8 <= kc; p0 += 8)
                        {
                            Transpose6x8(row + p0, lda, panel + p0 * MR);
                        }
                    }
                    for (int r = 0; r < MR; r++)
                    {
                        if (r < mr)
                        {
                            float* src = a + (long)(ic + ir + r) * lda + pc;
                            // Stryker disable once Equality : one step more writes the next panel's first value, rewritten after (or the slack).
                            for (int p = p0; p < kc; p++) panel[p * MR + r] = src[p];
                        }
                        else
                        {
                            // Stryker disable once Equality : padding rows: one value more or less is never read as a result.
                            for (int p = p0; p < kc; p++) panel[p * MR + r] = 0f;
                        }
                    }
                }
            }
        }

        /// <summary>Packs op(B)[pc..pc+kc, jc..jc+nc] into NR-column micro-panels: panel j holds kc rows of NR values, zero-padded.</summary>
        private void PackB(float* dst, int pc, int kc, int jc, int nc)
        {
            for (int jr = 0; jr < nc; jr += NR)
            {
                int nr = Math.Min(NR, nc - jr);
                float* panel = dst + jr * kc;
                if (!transB)
                {
                    for (int p = 0; p < kc; p++)
                    {
                        float* src = b + (long)(pc + p) * ldb + jc + jr;
                        float* d = panel + p * NR;
                        // Stryker disable once all : the vector and scalar packings write the same panel (both are tested).
                        bool vector = nr == NR && UseAvx2;
                        if (vector)
                        {
                            Avx.Store(d, Avx.LoadVector256(src));
                            Avx.Store(d + 8, Avx.LoadVector256(src + 8));
                            continue;
                        }
                        int q = 0;
                        // Stryker disable once Equality : one value more or less lands in the padding columns, whose products are never stored.
                        for (; q < nr; q++) d[q] = src[q];
                        // Stryker disable once Equality : as above (the panel has slack past its end).
                        for (; q < NR; q++) d[q] = 0f;
                    }
                }
                else
                {
                    int p = 0;
                    // Stryker disable once all : the vector and scalar packings write the same panel (both are tested).
                    bool vector = nr == NR && UseAvx2;
                    if (vector)
                    {
                        // 8 x 8 register transposes: 8 rows of B (columns of op(B)) become 8 packed rows.
                        float* src0 = b + (long)(jc + jr) * ldb + pc;
                        for (; p + 8 <= kc; p += 8)
                        {
                            Transpose8x8(src0 + p, ldb, panel + p * NR, NR);
                            Transpose8x8(src0 + 8L * ldb + p, ldb, panel + p * NR + 8, NR);
                        }
                    }
                    for (int q = 0; q < NR; q++)
                    {
                        if (q < nr)
                        {
                            float* src = b + (long)(jc + jr + q) * ldb + pc;
                            // Stryker disable once Equality : one step more writes the next panel's first value, rewritten after (or the slack).
                            for (int pp = p; pp < kc; pp++) panel[pp * NR + q] = src[pp];
                        }
                        else
                        {
                            // Stryker disable once Equality : padding columns: one value more or less is never read as a result.
                            for (int pp = p; pp < kc; pp++) panel[pp * NR + q] = 0f;
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// One product's parts on the worker pool: C's columns or rows in equal pieces of whole
    /// micro-panels. Kept per calling thread with its delegate made once, so that splitting a
    /// product allocates nothing; a call while the thread's runner is in use makes another.
    /// </summary>
    private sealed class PartRunner
    {
        public enum Kind
        {
            Columns,
            Rows,
            SmallColumns,
        }

        [ThreadStatic] private static PartRunner? t_free;

        private readonly Action<int> _body;
        private Job _job;
        private int _parts, _units, _align;
        private Kind _kind;

        private PartRunner() => _body = RunPart;

        public static void Run(Job job, int parts, int units, int align, Kind kind)
        {
            // Stryker disable once all : reusing the runner saves an allocation per call, nothing else.
            PartRunner runner = t_free ?? new PartRunner();
            t_free = null;
            (runner._job, runner._parts, runner._units, runner._align, runner._kind) = (job, parts, units, align, kind);
            try
            {
                WorkerPool.Run(parts, runner._body);
            }
            finally
            {
                runner._job = default;
                t_free = runner;
            }
        }

        private void RunPart(int part)
        {
            int extent = _kind == Kind.Rows ? _job.M : _job.N;
            int s = (int)((long)_units * part / _parts) * _align, e = Math.Min(extent, (int)((long)_units * (part + 1) / _parts) * _align);
            if (s >= e) return;
            switch (_kind)
            {
                case Kind.Columns: _job.Run(0, _job.M, s, e); break;
                case Kind.Rows: _job.Run(s, e, 0, _job.N); break;
                default: _job.Small(0, _job.M, s, e); break;
            }
        }
    }

    /// <summary>
    /// Packs eight steps of a six-row A panel: dst[c * 6 + r] = src[r * lds + c] for r &lt; 6, c &lt; 8,
    /// each step stored as eight floats (the last two zero) that the next step's store overwrites.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose6x8(float* src, int lds, float* dst) =>
        TransposeRows(Avx.LoadVector256(src), Avx.LoadVector256(src + lds), Avx.LoadVector256(src + 2 * lds), Avx.LoadVector256(src + 3 * lds),
            Avx.LoadVector256(src + 4 * lds), Avx.LoadVector256(src + 5 * lds), Vector256<float>.Zero, Vector256<float>.Zero, dst, MR);

    /// <summary>dst[c * ldd + r] = src[r * lds + c] for an 8 x 8 block (AVX: unpack, shuffle, lane permute).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, int lds, float* dst, int ldd) =>
        TransposeRows(Avx.LoadVector256(src), Avx.LoadVector256(src + lds), Avx.LoadVector256(src + 2 * lds), Avx.LoadVector256(src + 3 * lds),
            Avx.LoadVector256(src + 4 * lds), Avx.LoadVector256(src + 5 * lds), Avx.LoadVector256(src + 6 * lds), Avx.LoadVector256(src + 7 * lds), dst, ldd);

    /// <summary>Stores column c of the 8 x 8 block of rows r0..r7 at dst + c * ldd (in order, so overlapping stores keep the later column's values).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransposeRows(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, float* dst, int ldd)
    {
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(dst + 3 * ldd, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(dst + 5 * ldd, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(dst + 7 * ldd, Avx.Permute2x128(s3, s7, 0x31));
    }

    /// <summary>C[6, 16] (row stride ldc) = or += A-panel x B-panel over kc steps.</summary>
    private static void MicroKernel(int kc, float* a, float* b, float* c, int ldc, bool accumulate)
    {
        switch (Isa.Current)
        {
            case >= InstructionSet.Avx2: MicroKernelAvx2(kc, a, b, c, ldc, accumulate); break;
            case InstructionSet.Vector128: MicroKernelVector128(kc, a, b, c, ldc, accumulate); break;
            default: MicroKernelScalar(kc, a, b, c, ldc, accumulate); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernelAvx2(int kc, float* a, float* b, float* c, int ldc, bool accumulate)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        int p = 0;
        for (; p + 4 <= kc; p += 4)
        {
            Step(a, b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(a + MR, b + NR, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(a + 2 * MR, b + 2 * NR, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(a + 3 * MR, b + 3 * NR, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            a += 4 * MR;
            b += 4 * NR;
        }
        for (; p < kc; p++)
        {
            Step(a, b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            a += MR;
            b += NR;
        }
        Store(c, c00, c01, accumulate); c += ldc;
        Store(c, c10, c11, accumulate); c += ldc;
        Store(c, c20, c21, accumulate); c += ldc;
        Store(c, c30, c31, accumulate); c += ldc;
        Store(c, c40, c41, accumulate); c += ldc;
        Store(c, c50, c51, accumulate);
    }

    /// <summary>
    /// C[6, 32] (row stride ldc) = or += A-panel x two B-panels (columns 0-15 from <paramref name="b0"/>,
    /// 16-31 from <paramref name="b1"/>) over kc steps, in 512-bit registers: twelve accumulators, and
    /// per step two loads of B and six broadcasts of A for twelve FMAs of sixteen lanes (the 256-bit
    /// kernel needs eight loads for half that work). Each element is summed in the same order as on
    /// the other paths, so the results are the same bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernelAvx512(int kc, float* a, float* b0, float* b1, float* c, int ldc, bool accumulate)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> x = Avx512F.LoadAlignedVector512(b0), y = Avx512F.LoadAlignedVector512(b1);
            Vector512<float> av = Vector512.Create(a[0]);
            c0 = Avx512F.FusedMultiplyAdd(av, x, c0); d0 = Avx512F.FusedMultiplyAdd(av, y, d0);
            av = Vector512.Create(a[1]);
            c1 = Avx512F.FusedMultiplyAdd(av, x, c1); d1 = Avx512F.FusedMultiplyAdd(av, y, d1);
            av = Vector512.Create(a[2]);
            c2 = Avx512F.FusedMultiplyAdd(av, x, c2); d2 = Avx512F.FusedMultiplyAdd(av, y, d2);
            av = Vector512.Create(a[3]);
            c3 = Avx512F.FusedMultiplyAdd(av, x, c3); d3 = Avx512F.FusedMultiplyAdd(av, y, d3);
            av = Vector512.Create(a[4]);
            c4 = Avx512F.FusedMultiplyAdd(av, x, c4); d4 = Avx512F.FusedMultiplyAdd(av, y, d4);
            av = Vector512.Create(a[5]);
            c5 = Avx512F.FusedMultiplyAdd(av, x, c5); d5 = Avx512F.FusedMultiplyAdd(av, y, d5);
            a += MR;
            b0 += NR;
            b1 += NR;
        }
        Store512(c, c0, d0, accumulate); c += ldc;
        Store512(c, c1, d1, accumulate); c += ldc;
        Store512(c, c2, d2, accumulate); c += ldc;
        Store512(c, c3, d3, accumulate); c += ldc;
        Store512(c, c4, d4, accumulate); c += ldc;
        Store512(c, c5, d5, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> lo, Vector512<float> hi, bool accumulate)
    {
        if (accumulate)
        {
            lo = Avx512F.Add(lo, Avx512F.LoadVector512(c));
            hi = Avx512F.Add(hi, Avx512F.LoadVector512(c + NR));
        }
        Avx512F.Store(c, lo);
        Avx512F.Store(c + NR, hi);
    }

    /// <summary>One k step of the 6 x 16 tile: two loads of B, six broadcasts of A, twelve FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(float* a, float* b,
        ref Vector256<float> c00, ref Vector256<float> c01, ref Vector256<float> c10, ref Vector256<float> c11,
        ref Vector256<float> c20, ref Vector256<float> c21, ref Vector256<float> c30, ref Vector256<float> c31,
        ref Vector256<float> c40, ref Vector256<float> c41, ref Vector256<float> c50, ref Vector256<float> c51)
    {
        Vector256<float> b0 = Avx.LoadAlignedVector256(b);
        Vector256<float> b1 = Avx.LoadAlignedVector256(b + 8);
        Vector256<float> av = Avx.BroadcastScalarToVector256(a);
        c00 = Fma.MultiplyAdd(av, b0, c00); c01 = Fma.MultiplyAdd(av, b1, c01);
        av = Avx.BroadcastScalarToVector256(a + 1);
        c10 = Fma.MultiplyAdd(av, b0, c10); c11 = Fma.MultiplyAdd(av, b1, c11);
        av = Avx.BroadcastScalarToVector256(a + 2);
        c20 = Fma.MultiplyAdd(av, b0, c20); c21 = Fma.MultiplyAdd(av, b1, c21);
        av = Avx.BroadcastScalarToVector256(a + 3);
        c30 = Fma.MultiplyAdd(av, b0, c30); c31 = Fma.MultiplyAdd(av, b1, c31);
        av = Avx.BroadcastScalarToVector256(a + 4);
        c40 = Fma.MultiplyAdd(av, b0, c40); c41 = Fma.MultiplyAdd(av, b1, c41);
        av = Avx.BroadcastScalarToVector256(a + 5);
        c50 = Fma.MultiplyAdd(av, b0, c50); c51 = Fma.MultiplyAdd(av, b1, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector256<float> lo, Vector256<float> hi, bool accumulate)
    {
        if (accumulate)
        {
            lo = Avx.Add(lo, Avx.LoadVector256(c));
            hi = Avx.Add(hi, Avx.LoadVector256(c + 8));
        }
        Avx.Store(c, lo);
        Avx.Store(c + 8, hi);
    }

    /// <summary>The 6 x 16 tile with 128-bit vectors (four per row of C): the portable path, for ARM64's AdvSimd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernelVector128(int kc, float* a, float* b, float* c, int ldc, bool accumulate)
    {
        for (int r = 0; r < MR; r++)
        {
            // One row of C at a time: four accumulators, as many registers as any 128-bit machine has.
            Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default;
            float* ap = a + r, bp = b;
            for (int p = 0; p < kc; p++, ap += MR, bp += NR)
            {
                var av = Vector128.Create(*ap);
                s0 = Vector128.FusedMultiplyAdd(av, Vector128.Load(bp), s0);
                s1 = Vector128.FusedMultiplyAdd(av, Vector128.Load(bp + 4), s1);
                s2 = Vector128.FusedMultiplyAdd(av, Vector128.Load(bp + 8), s2);
                s3 = Vector128.FusedMultiplyAdd(av, Vector128.Load(bp + 12), s3);
            }
            float* row = c + (long)r * ldc;
            if (accumulate)
            {
                s0 += Vector128.Load(row);
                s1 += Vector128.Load(row + 4);
                s2 += Vector128.Load(row + 8);
                s3 += Vector128.Load(row + 12);
            }
            s0.Store(row);
            s1.Store(row + 4);
            s2.Store(row + 8);
            s3.Store(row + 12);
        }
    }

    private static void MicroKernelScalar(int kc, float* a, float* b, float* c, int ldc, bool accumulate)
    {
        float* acc = stackalloc float[MR * NR];
        // Stryker disable once all : stackalloc memory starts zeroed (the project does not skip locals' initialisation); the clear keeps that explicit.
        new Span<float>(acc, MR * NR).Clear();
        for (int p = 0; p < kc; p++)
        {
            for (int r = 0; r < MR; r++)
            {
                float av = a[p * MR + r];
                float* row = acc + r * NR;
                float* bp = b + p * NR;
                for (int q = 0; q < NR; q++) row[q] = MathF.FusedMultiplyAdd(av, bp[q], row[q]);
            }
        }
        for (int r = 0; r < MR; r++)
        {
            for (int q = 0; q < NR; q++) c[(long)r * ldc + q] = accumulate ? c[(long)r * ldc + q] + acc[r * NR + q] : acc[r * NR + q];
        }
    }
}
