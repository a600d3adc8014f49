namespace Nabla.Tests.Ops;

/// <summary>
/// Forward values of the ops whose gradient checks cannot catch a wrong forward formula, against
/// plain loops written here: batched matrix products with two batch dimensions, broadcast and
/// transposed operands; softmax and log-softmax over every axis; the fused softmax cross-entropy
/// and its gradient rule.
/// </summary>
public class OpReferenceTests
{
    private static Tensor Random(int seed, params int[] shape) => Tensor.RandN(shape, new Generator((ulong)seed));

    private static void Close(double[] expected, Tensor actual, string what, double tolerance = 1e-5)
    {
        float[] a = actual.ToArray();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.True(Math.Abs(expected[i] - a[i]) <= tolerance * (1 + Math.Abs(expected[i])), $"{what} element {i}: reference {expected[i]}, Nabla {a[i]}");
    }

    /// <summary>C[b..., i, j] = sum_k A[b..., i, k] B[b..., k, j] with batch dimensions broadcast, by index arithmetic on contiguous copies.</summary>
    private static double[] MatMulReference(Tensor a, Tensor b, int[] batch)
    {
        int m = a.Shape[^2], k = a.Shape[^1], n = b.Shape[^1];
        float[] av = a.Contiguous().ToArray(), bv = b.Contiguous().ToArray();
        int[] aBatch = a.Shape[..^2].ToArray(), bBatch = b.Shape[..^2].ToArray();
        int batches = batch.Aggregate(1, (x, y) => x * y);
        var c = new double[batches * m * n];
        for (int t = 0; t < batches; t++)
        {
            // The batch index, then each operand's own index with broadcast (size-1 or missing) dimensions pinned to 0.
            var index = new int[batch.Length];
            for (int d = batch.Length - 1, r = t; d >= 0; d--) { index[d] = r % batch[d]; r /= batch[d]; }
            int Offset(int[] own)
            {
                int o = 0;
                for (int d = 0; d < own.Length; d++) o = o * own[d] + (own[d] == 1 ? 0 : index[batch.Length - own.Length + d]);
                return o;
            }
            int ao = Offset(aBatch) * m * k, bo = Offset(bBatch) * k * n;
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int q = 0; q < k; q++) s += (double)av[ao + i * k + q] * bv[bo + q * n + j];
                    c[(t * m + i) * n + j] = s;
                }
            }
        }
        return c;
    }

    [Theory]
    [InlineData(new[] { 2, 3, 4, 5 }, new[] { 2, 3, 5, 6 }, new[] { 2, 3 })]
    [InlineData(new[] { 2, 1, 4, 5 }, new[] { 3, 5, 6 }, new[] { 2, 3 })]
    [InlineData(new[] { 4, 5 }, new[] { 2, 3, 5, 2 }, new[] { 2, 3 })]
    [InlineData(new[] { 3, 1, 2, 4, 3 }, new[] { 1, 2, 2, 3, 5 }, new[] { 3, 2, 2 })]
    public void Batched_products_with_several_batch_dimensions_match_the_sum(int[] aShape, int[] bShape, int[] batch)
    {
        Tensor a = Random(1, aShape), b = Random(2, bShape);
        Tensor c = a.MatMul(b);
        Assert.Equal([.. batch, aShape[^2], bShape[^1]], c.Shape.ToArray());
        Close(MatMulReference(a, b, batch), c, $"{Shapes.Format(aShape)} x {Shapes.Format(bShape)}");
    }

    [Fact]
    public void Transposed_and_permuted_operands_are_read_in_their_own_layout()
    {
        // a^T and b^T as views (column-major last two dimensions), and a permuted batch that needs a copy.
        Tensor at = Random(3, 2, 3, 5, 4), bt = Random(4, 2, 3, 6, 5);
        Tensor a = at.Transpose(-1, -2), b = bt.Transpose(-1, -2);
        Close(MatMulReference(a.Contiguous(), b.Contiguous(), [2, 3]), a.MatMul(b), "transposed views");
        Tensor p = Random(5, 4, 2, 3, 5).Permute(1, 2, 0, 3);
        Tensor q = Random(6, 2, 3, 5, 2);
        Close(MatMulReference(p.Contiguous(), q, [2, 3]), p.MatMul(q), "permuted left operand");
    }

    [Fact]
    public void Vectors_take_pytorchs_roles()
    {
        Tensor v = Tensor.FromArray([1f, -2f, 3f]);
        Tensor m = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f, 12f], 3, 4);
        Tensor vm = v.MatMul(m);
        Assert.Equal([4], vm.Shape.ToArray());
        Assert.Equal([1f - 10f + 27f, 2f - 12f + 30f, 3f - 14f + 33f, 4f - 16f + 36f], vm.ToArray());
        Tensor mt = m.T;
        Tensor mv = mt.MatMul(v);
        Assert.Equal([4], mv.Shape.ToArray());
        Assert.Equal(vm.ToArray(), mv.ToArray());
        Tensor dot = v.MatMul(Tensor.FromArray([4f, 5f, 6f]));
        Assert.Equal(0, dot.Rank);
        Assert.Equal(4f - 10f + 18f, dot.Item());
        // Batched matrix times vector, and vector times batched matrix.
        Tensor batched = Random(7, 2, 4, 3);
        Tensor bv = batched.MatMul(v);
        Assert.Equal([2, 4], bv.Shape.ToArray());
        Close(MatMulReference(batched, v.Reshape(3, 1), [2]), bv, "batched x vector");
        Tensor w = Tensor.FromArray([0.5f, -1f, 2f, 0f]);
        Tensor vb = w.MatMul(batched);
        Assert.Equal([2, 3], vb.Shape.ToArray());
        Close(MatMulReference(w.Reshape(1, 4), batched, [2]), vb, "vector x batched");
    }

    [Fact]
    public void A_matrix_is_read_in_place_exactly_when_its_strides_allow_it()
    {
        // Every small shape and stride pair: when a layout is claimed, each element's address must be
        // where that layout puts it; row- and column-major storage must always be read in place.
        for (int rows = 1; rows <= 4; rows++)
        {
            for (int cols = 1; cols <= 4; cols++)
            {
                for (int sRow = 0; sRow <= 9; sRow++)
                {
                    for (int sCol = 0; sCol <= 9; sCol++)
                    {
                        var layout = Tensor.InPlaceLayout(rows, cols, sRow, sCol);
                        string at = $"[{rows}, {cols}] strides ({sRow}, {sCol})";
                        if (layout is var (trans, ld))
                        {
                            for (int i = 0; i < rows; i++)
                            {
                                for (int j = 0; j < cols; j++)
                                    Assert.True(i * sRow + j * sCol == (trans ? j * ld + i : i * ld + j), $"{at}: claimed {(trans ? "column" : "row")}-major with ld {ld}");
                            }
                            // GEMM needs a leading dimension that covers the contiguous side.
                            Assert.True(ld >= (trans ? rows : cols), $"{at}: ld {ld}");
                        }
                        bool rowMajor = (cols == 1 || sCol == 1) && (rows == 1 || sRow >= cols);
                        bool columnMajor = (rows == 1 || sRow == 1) && (cols == 1 || sCol >= rows);
                        Assert.True(layout is not null || !(rowMajor || columnMajor), $"{at}: readable in place but copied");
                    }
                }
            }
        }
        Assert.Equal((false, 5), Tensor.InPlaceLayout(3, 5, 5, 1));
        Assert.Equal((true, 3), Tensor.InPlaceLayout(3, 5, 1, 3));
        Assert.Equal((false, 7), Tensor.InPlaceLayout(3, 5, 7, 1));
        Assert.Equal((true, 6), Tensor.InPlaceLayout(3, 5, 1, 6));
        Assert.Equal((false, 5), Tensor.InPlaceLayout(1, 5, 0, 1));
        Assert.Equal((false, 1), Tensor.InPlaceLayout(3, 1, 1, 0));
        Assert.Null(Tensor.InPlaceLayout(3, 1, 0, 7)); // a broadcast column: every row the same element
        Assert.Null(Tensor.InPlaceLayout(3, 5, 2, 2));
        Assert.Null(Tensor.InPlaceLayout(3, 5, 4, 1));
        Assert.Null(Tensor.InPlaceLayout(3, 5, 1, 2));
    }

    [Fact]
    public void Column_major_means_unit_row_stride_and_a_column_stride_covering_the_rows()
    {
        Assert.True(Tensor.IsColumnMajorLayout(3, 4, 1, 3));
        Assert.True(Tensor.IsColumnMajorLayout(3, 4, 1, 5));
        Assert.False(Tensor.IsColumnMajorLayout(3, 4, 1, 2));
        Assert.False(Tensor.IsColumnMajorLayout(3, 4, 4, 1));
        Assert.False(Tensor.IsColumnMajorLayout(1, 4, 1, 1));
        Assert.False(Tensor.IsColumnMajorLayout(3, 1, 1, 3));
        Assert.False(Tensor.IsColumnMajorLayout(3, 4, 2, 6));
        Assert.False(Tensor.IsColumnMajorLayout(0, 4, 1, 3));
        Assert.False(Tensor.IsColumnMajorLayout(3, 0, 1, 3));
    }

    [Fact]
    public void Ops_record_a_graph_only_for_inputs_that_require_grad()
    {
        Tensor a = Random(30, 3, 4), b = Random(31, 4, 2);
        Assert.Null(a.MatMul(b).GradFn);
        Assert.Null(a.Softmax().GradFn);
        Assert.Null(a.LogSoftmax(0).GradFn);
        Assert.Null(Tensor.SoftmaxCrossEntropy(a, Tensor.Zeros(3)).GradFn);
        Assert.Equal("MatMulBackward", a.RequireGrad().MatMul(b).GradFn!.Name);
        Assert.Equal("SoftmaxBackward", a.Softmax().GradFn!.Name);
        Assert.Equal("LogSoftmaxBackward", a.LogSoftmax(0).GradFn!.Name);
        using (Tensor.NoGrad())
        {
            Assert.Null(a.MatMul(b).GradFn);
            Assert.Null(a.Softmax().GradFn);
        }
        Assert.Contains("Softmax", Assert.Throws<ArgumentOutOfRangeException>(() => a.Softmax(2)).Message);
        Assert.Contains("LogSoftmax", Assert.Throws<ArgumentOutOfRangeException>(() => a.LogSoftmax(-3)).Message);
    }

    [Fact]
    public void Bad_operands_are_named()
    {
        Assert.Contains("inner dimensions differ: [2, 3] x [4, 5] (3 vs 4)", Assert.Throws<ArgumentException>(() => Tensor.Ones(2, 3).MatMul(Tensor.Ones(4, 5))).Message);
        Assert.Contains("vectors of different lengths [3] and [4]", Assert.Throws<ArgumentException>(() => Tensor.Ones(3).MatMul(Tensor.Ones(4))).Message);
        Assert.Contains("both operands need at least one dimension", Assert.Throws<ArgumentException>(() => Tensor.Ones(3).MatMul(Tensor.Scalar(1f))).Message);
        Assert.Contains("batch dimensions", Assert.Throws<ArgumentException>(() => Tensor.Ones(2, 3, 4).MatMul(Tensor.Ones(3, 4, 5))).Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(-1)]
    [InlineData(-3)]
    public void Softmax_and_log_softmax_over_any_axis_match_the_definition(int axis)
    {
        // Large values: a formula without the max subtraction overflows.
        Tensor x = Random(8, 3, 4, 5) * 30f;
        int[] shape = [3, 4, 5];
        int ax = axis < 0 ? axis + 3 : axis;
        float[] v = x.ToArray();
        var soft = new double[v.Length];
        var log = new double[v.Length];
        int inner = shape[(ax + 1)..].Aggregate(1, (p, q) => p * q), n = shape[ax], outer = v.Length / (n * inner);
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int At(int j) => (o * n + j) * inner + i;
                double max = Enumerable.Range(0, n).Max(j => (double)v[At(j)]);
                double sum = Enumerable.Range(0, n).Sum(j => Math.Exp(v[At(j)] - max));
                for (int j = 0; j < n; j++)
                {
                    soft[At(j)] = Math.Exp(v[At(j)] - max) / sum;
                    log[At(j)] = v[At(j)] - max - Math.Log(sum);
                }
            }
        }
        Close(soft, x.Softmax(axis), $"softmax axis {axis}", 1e-5);
        Close(log, x.LogSoftmax(axis), $"log-softmax axis {axis}", 1e-5);
    }

    [Fact]
    public void Softmax_gradient_along_a_middle_axis_is_y_times_g_minus_the_weighted_sum()
    {
        Tensor x = Random(9, 2, 3, 2).RequireGrad();
        Tensor g = Random(10, 2, 3, 2);
        Tensor y = x.Softmax(1);
        (y * g).Sum().Backward();
        float[] yv = y.ToArray(), gv = g.ToArray();
        var expected = new double[12];
        for (int a = 0; a < 2; a++)
        {
            for (int c = 0; c < 2; c++)
            {
                double dot = 0;
                for (int b = 0; b < 3; b++) dot += (double)yv[(a * 3 + b) * 2 + c] * gv[(a * 3 + b) * 2 + c];
                for (int b = 0; b < 3; b++) expected[(a * 3 + b) * 2 + c] = yv[(a * 3 + b) * 2 + c] * (gv[(a * 3 + b) * 2 + c] - dot);
            }
        }
        Close(expected, x.Grad!, "softmax gradient");
        Tensor z = Random(11, 2, 3, 2).RequireGrad();
        Tensor l = z.LogSoftmax(1);
        (l * g).Sum().Backward();
        float[] lv = l.ToArray();
        var expectedLog = new double[12];
        for (int a = 0; a < 2; a++)
        {
            for (int c = 0; c < 2; c++)
            {
                double sum = 0;
                for (int b = 0; b < 3; b++) sum += gv[(a * 3 + b) * 2 + c];
                for (int b = 0; b < 3; b++) expectedLog[(a * 3 + b) * 2 + c] = gv[(a * 3 + b) * 2 + c] - Math.Exp(lv[(a * 3 + b) * 2 + c]) * sum;
            }
        }
        Close(expectedLog, z.Grad!, "log-softmax gradient");
    }

    [Fact]
    public void Softmax_cross_entropy_is_logsumexp_minus_the_labels_logit_and_its_gradient_softmax_minus_one_hot()
    {
        // The second row spans 900: exp of the spread overflows even in double unless the maximum is subtracted.
        float[] z = [2f, -1f, 0.5f, 500f, 499f, -400f, 0f, 0f, 0f, -3f, 4f, 1f];
        float[] labels = [2f, 1f, 0f, 1f];
        Tensor logits = Tensor.FromArray(z, 4, 3).RequireGrad();
        Tensor loss = Tensor.SoftmaxCrossEntropy(logits, Tensor.FromArray(labels, 4, 1));
        Assert.Equal([4], loss.Shape.ToArray());
        var expected = new double[4];
        var probabilities = new double[12];
        for (int i = 0; i < 4; i++)
        {
            double max = Math.Max(z[i * 3], Math.Max(z[i * 3 + 1], z[i * 3 + 2]));
            double sum = Enumerable.Range(0, 3).Sum(k => Math.Exp(z[i * 3 + k] - max));
            expected[i] = max + Math.Log(sum) - z[i * 3 + (int)labels[i]];
            for (int k = 0; k < 3; k++) probabilities[i * 3 + k] = Math.Exp(z[i * 3 + k] - max) / sum;
        }
        Close(expected, loss, "loss");
        // A different weight per sample: the gradient row i is (softmax - onehot) * g[i].
        float[] g = [1f, -2f, 0.5f, 3f];
        (loss * Tensor.FromArray(g)).Sum().Backward();
        var grad = new double[12];
        for (int i = 0; i < 4; i++)
        {
            for (int k = 0; k < 3; k++) grad[i * 3 + k] = (probabilities[i * 3 + k] - (k == (int)labels[i] ? 1 : 0)) * g[i];
        }
        Close(grad, logits.Grad!, "gradient");
        // A label whose probability underflows to 0 in float still has its finite loss: 100 - (-100) + log(1 + e^-100 + e^-200).
        Assert.Equal(200f, Tensor.SoftmaxCrossEntropy(Tensor.FromArray([0f, 100f, -100f], 1, 3), Tensor.FromArray([2f])).Item(), 4);
    }

    [Fact]
    public void Softmax_cross_entropy_refuses_bad_labels()
    {
        Assert.Contains("logits must be [N, classes], got [4]", Assert.Throws<ArgumentException>(() => Tensor.SoftmaxCrossEntropy(Tensor.Ones(4), Tensor.Zeros(4))).Message);
        Assert.Contains("[3] labels for 2 samples", Assert.Throws<ArgumentException>(() => Tensor.SoftmaxCrossEntropy(Tensor.Ones(2, 3), Tensor.Zeros(3))).Message);
        Assert.Contains("SoftmaxCrossEntropy with logits of shape [2, 3]: index 3 at position 1 is not an integer in [0, 3)", Assert.Throws<IndexOutOfRangeException>(() => Tensor.SoftmaxCrossEntropy(Tensor.Ones(2, 3), Tensor.FromArray([0f, 3f]))).Message);
        Assert.Throws<IndexOutOfRangeException>(() => Tensor.SoftmaxCrossEntropy(Tensor.Ones(2, 3), Tensor.FromArray([0f, -1f])));
        Assert.Throws<IndexOutOfRangeException>(() => Tensor.SoftmaxCrossEntropy(Tensor.Ones(2, 3), Tensor.FromArray([0f, 1.5f])));
        Assert.Throws<ArgumentNullException>(() => Tensor.SoftmaxCrossEntropy(null!, Tensor.Zeros(2)));
        Assert.Throws<ArgumentNullException>(() => Tensor.SoftmaxCrossEntropy(Tensor.Ones(2, 3), null!));
        // Without a gradient to record, the loss is the same.
        Assert.Equal(Tensor.SoftmaxCrossEntropy(Tensor.FromArray([1f, 2f], 1, 2).RequireGrad(), Tensor.Zeros(1)).ToArray(),
            Tensor.SoftmaxCrossEntropy(Tensor.FromArray([1f, 2f], 1, 2), Tensor.Zeros(1)).ToArray());
    }
}
