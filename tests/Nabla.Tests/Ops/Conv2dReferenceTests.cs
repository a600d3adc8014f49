namespace Nabla.Tests.Ops;

/// <summary>
/// The convolution, forward and every gradient, against direct loops over the definition: strides,
/// dilation and asymmetric padding, with and without bias and fused ReLU, for batches that take
/// each path of the op (one image; more than 16 images, so several weight-gradient chunks; few
/// lowered rows, whose weight gradient is computed transposed; many output channels, whose
/// filters are packed once).
/// </summary>
public class Conv2dReferenceTests
{
    private sealed record Case(int N, int C, int H, int W, int Cout, int KH, int KW, (int H, int W) Stride, Padding2D Pad, (int H, int W) Dilation, bool Bias, bool Relu);

    public static IEnumerable<object[]> Cases() =>
    [
        [new Case(1, 2, 5, 6, 3, 3, 3, (1, 1), new Padding2D(1, 1, 1, 1), (1, 1), true, false)],
        [new Case(17, 1, 6, 5, 8, 3, 2, (2, 1), new Padding2D(0, 2, 1, 0), (1, 2), true, true)],
        [new Case(3, 3, 7, 7, 6, 2, 3, (1, 2), new Padding2D(2, 0, 0, 1), (2, 1), false, false)],
        [new Case(2, 4, 4, 5, 2, 3, 3, (1, 1), new Padding2D(0, 0, 0, 0), (1, 1), true, true)],
        [new Case(20, 3, 5, 5, 5, 1, 1, (2, 2), new Padding2D(1, 0, 1, 0), (1, 1), false, true)],
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_and_gradients_match_the_definition(object boxed)
    {
        var k = (Case)boxed;
        var g = new Generator(11);
        Tensor x = Tensor.RandN([k.N, k.C, k.H, k.W], g).RequireGrad();
        Tensor w = Tensor.RandN([k.Cout, k.C, k.KH, k.KW], g).RequireGrad();
        Tensor? b = k.Bias ? Tensor.RandN([k.Cout], g).RequireGrad() : null;
        Tensor y = k.Relu ? Tensor.Conv2dRelu(x, w, b, k.Stride, k.Pad, k.Dilation) : Tensor.Conv2d(x, w, b, k.Stride, k.Pad, k.Dilation);
        int oh = (k.H + k.Pad.Top + k.Pad.Bottom - k.Dilation.H * (k.KH - 1) - 1) / k.Stride.H + 1;
        int ow = (k.W + k.Pad.Left + k.Pad.Right - k.Dilation.W * (k.KW - 1) - 1) / k.Stride.W + 1;
        Assert.Equal([k.N, k.Cout, oh, ow], y.Shape.ToArray());
        float[] xv = x.ToArray(), wv = w.ToArray(), bv = b?.ToArray() ?? new float[k.Cout];
        int X(int n, int c, int i, int j) => ((n * k.C + c) * k.H + i) * k.W + j;
        int Wt(int o, int c, int i, int j) => ((o * k.C + c) * k.KH + i) * k.KW + j;
        int Y(int n, int o, int i, int j) => ((n * k.Cout + o) * oh + i) * ow + j;
        // Every (output, tap) pair whose input position lies inside the image.
        IEnumerable<(int n, int o, int p, int q, int c, int i, int j, int ih, int iw)> Taps()
        {
            for (int n = 0; n < k.N; n++)
                for (int o = 0; o < k.Cout; o++)
                    for (int p = 0; p < oh; p++)
                        for (int q = 0; q < ow; q++)
                            for (int c = 0; c < k.C; c++)
                                for (int i = 0; i < k.KH; i++)
                                    for (int j = 0; j < k.KW; j++)
                                    {
                                        int ih = p * k.Stride.H - k.Pad.Top + i * k.Dilation.H, iw = q * k.Stride.W - k.Pad.Left + j * k.Dilation.W;
                                        if (ih >= 0 && ih < k.H && iw >= 0 && iw < k.W) yield return (n, o, p, q, c, i, j, ih, iw);
                                    }
        }
        var pre = new double[k.N * k.Cout * oh * ow];
        for (int n = 0; n < k.N; n++) for (int o = 0; o < k.Cout; o++) for (int p = 0; p < oh * ow; p++) pre[(n * k.Cout + o) * oh * ow + p] = bv[o];
        foreach (var t in Taps()) pre[Y(t.n, t.o, t.p, t.q)] += (double)xv[X(t.n, t.c, t.ih, t.iw)] * wv[Wt(t.o, t.c, t.i, t.j)];
        double[] expected = k.Relu ? pre.Select(v => Math.Max(v, 0)).ToArray() : pre;
        Close(expected, y.ToArray(), "output");

        // Backward with a random upstream gradient (not all ones, which hides misrouted values).
        Tensor up = Tensor.RandN(y.Shape.ToArray(), g);
        (y * up).Sum().Backward();
        float[] uv = up.ToArray();
        double[] dy = uv.Select((u, i) => k.Relu && pre[i] <= 0 ? 0.0 : u).ToArray();
        var dx = new double[xv.Length];
        var dw = new double[wv.Length];
        var db = new double[k.Cout];
        foreach (var t in Taps())
        {
            double d = dy[Y(t.n, t.o, t.p, t.q)];
            dx[X(t.n, t.c, t.ih, t.iw)] += d * wv[Wt(t.o, t.c, t.i, t.j)];
            dw[Wt(t.o, t.c, t.i, t.j)] += d * xv[X(t.n, t.c, t.ih, t.iw)];
        }
        for (int n = 0; n < k.N; n++) for (int o = 0; o < k.Cout; o++) for (int p = 0; p < oh * ow; p++) db[o] += dy[(n * k.Cout + o) * oh * ow + p];
        Close(dx, x.Grad!.ToArray(), "input gradient");
        Close(dw, w.Grad!.ToArray(), "weight gradient");
        if (b is not null) Close(db, b.Grad!.ToArray(), "bias gradient");
    }

    [Fact]
    public void Only_the_gradients_asked_for_are_computed_and_an_empty_batch_works()
    {
        var g = new Generator(12);
        Tensor x = Tensor.RandN([2, 1, 4, 4], g), w = Tensor.RandN([3, 1, 2, 2], g).RequireGrad();
        Tensor.Conv2d(x, w).Sum().Backward();
        Assert.Null(x.Grad);
        Assert.NotNull(w.Grad);
        Tensor empty = Tensor.Conv2d(Tensor.Zeros(0, 1, 4, 4), w);
        Assert.Equal([0, 3, 3, 3], empty.Shape.ToArray());
        empty.Sum().Backward();
        Assert.Equal("Conv2dReluBackward", Tensor.Conv2dRelu(x, w, null, null, default, null).GradFn!.Name);
        Assert.Equal("Conv2dBackward", Tensor.Conv2d(x, w).GradFn!.Name);
        Assert.Null(Tensor.Conv2d(x, w.Detach()).GradFn);
        Assert.Equal("input", Assert.Throws<ArgumentNullException>(() => Tensor.Conv2d(null!, w)).ParamName);
        Assert.Equal("weight", Assert.Throws<ArgumentNullException>(() => Tensor.Conv2d(x, null!)).ParamName);
    }

    [Fact]
    public void A_view_into_a_larger_tensor_is_read_from_its_own_offset()
    {
        // Images 1 and 2 of three: contiguous, but starting one image into the storage.
        var g = new Generator(13);
        Tensor all = Tensor.RandN([3, 2, 5, 5], g), w = Tensor.RandN([4, 2, 3, 3], g);
        Tensor view = all.Slice(0, 1, 3);
        Assert.Equal(Tensor.Conv2d(view.Contiguous().Clone(), w).ToArray(), Tensor.Conv2d(view, w).ToArray());
    }

    [Fact]
    public void A_convolution_too_large_to_lower_is_an_error_not_an_overflow()
    {
        // 256 channels, an 11 x 11 window and 300 x 300 outputs: 30 976 x 90 000 lowered values overflow an int.
        var error = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(Tensor.Zeros(1, 256, 310, 310), Tensor.Zeros(1, 256, 11, 11)));
        Assert.Contains("Conv2d: input [1, 256, 310, 310] with a 11x11 window gives 300x300 outputs per channel; lowering one image needs 30,976 x 90,000 values", error.Message);
    }

    [Fact]
    public void Bad_geometry_is_named()
    {
        Tensor x = Tensor.Ones(1, 2, 5, 5);
        Assert.Contains("Conv2d: input must be [N, C, H, W], got [2, 5, 5]", Assert.Throws<ArgumentException>(() => Tensor.Conv2d(Tensor.Ones(2, 5, 5), Tensor.Ones(1, 2, 3, 3))).Message);
        Assert.Contains("Conv2d: weight must be [Cout, C, KH, KW], got [2, 3, 3]", Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, Tensor.Ones(2, 3, 3))).Message);
        Assert.Contains("has 2 channels but weight [1, 3, 3, 3] expects 3", Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, Tensor.Ones(1, 3, 3, 3))).Message);
        Assert.Contains("bias must be [4], got [3]", Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, Tensor.Ones(4, 2, 3, 3), Tensor.Ones(3))).Message);
        Assert.Contains("Conv2d: kernel size 0x3", Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, Tensor.Ones(1, 2, 0, 3))).Message);
        Assert.Contains("stride 0x1", Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, Tensor.Ones(1, 2, 3, 3), stride: (0, 1))).Message);
        Assert.Contains("dilation 1x0", Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, Tensor.Ones(1, 2, 3, 3), dilation: (1, 0))).Message);
        Assert.Contains("cannot be negative", Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, Tensor.Ones(1, 2, 3, 3), padding: new Padding2D(0, -1, 0, 0))).Message);
        Assert.Contains("does not fit input [1, 2, 5, 5]", Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, Tensor.Ones(1, 2, 6, 3))).Message);
        Assert.Contains("does not fit", Assert.Throws<ArgumentException>(() => Tensor.Conv2d(x, Tensor.Ones(1, 2, 3, 3), dilation: (1, 3))).Message);
        // A window exactly the padded size fits.
        Assert.Equal([1, 1, 1, 1], Tensor.Conv2d(x, Tensor.Ones(1, 2, 7, 7), padding: 1).Shape.ToArray());
    }

    private static void Close(double[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * (1 + Math.Abs(expected[i])), $"{what} element {i}: reference {expected[i]}, Nabla {actual[i]}");
    }
}
