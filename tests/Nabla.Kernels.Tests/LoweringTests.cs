namespace Nabla.Kernels.Tests;

/// <summary>Col2Im is the adjoint of Im2Col: &lt;Im2Col(x), c&gt; = &lt;x, Col2Im(c)&gt; for every x and c.</summary>
public class LoweringTests
{
    [Theory]
    [InlineData(3, 3, 1, 1, 1)]  // the CNN benchmark's convolutions: stride 1, padding 1 (the vectorised range add)
    [InlineData(3, 3, 1, 0, 1)]
    [InlineData(5, 3, 1, 2, 1)]
    [InlineData(3, 3, 2, 1, 1)]  // stride 2: the scalar path
    [InlineData(3, 3, 1, 2, 2)]  // dilation 2
    public void Col2im_is_the_adjoint_of_im2col(int kh, int kw, int stride, int pad, int dilation)
    {
        int n = 2, c = 3, h = 9, w = 11;
        int oh = (h + 2 * pad - dilation * (kh - 1) - 1) / stride + 1, ow = (w + 2 * pad - dilation * (kw - 1) - 1) / stride + 1;
        var g = new ConvGeometry(c, h, w, kh, kw, stride, stride, pad, pad, dilation, dilation, oh, ow);
        var r = new System.Random(kh * 100 + stride * 10 + pad);
        var x = Enumerable.Range(0, n * c * h * w).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray();
        var cols = Enumerable.Range(0, g.Rows * n * g.Positions).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray();
        var lowered = new float[cols.Length];
        Conv.Im2Col(x, n, g, lowered);
        var back = new float[x.Length];
        Conv.Col2Im(cols, n, g, back);
        double left = 0, right = 0;
        for (int i = 0; i < cols.Length; i++) left += (double)lowered[i] * cols[i];
        for (int i = 0; i < x.Length; i++) right += (double)x[i] * back[i];
        Assert.Equal(left, right, 4);
        Assert.NotEqual(0, left, 3);
    }

    [Theory]
    [InlineData(3, 3, 1, 1, 1)]
    [InlineData(3, 3, 2, 1, 1)]
    [InlineData(3, 3, 1, 2, 2)]
    public void The_per_image_lowering_is_the_batch_lowering_cut_by_image_and_its_adjoint_matches(int kh, int kw, int stride, int pad, int dilation)
    {
        int n = 3, c = 2, h = 8, w = 10;
        int oh = (h + 2 * pad - dilation * (kh - 1) - 1) / stride + 1, ow = (w + 2 * pad - dilation * (kw - 1) - 1) / stride + 1;
        var g = new ConvGeometry(c, h, w, kh, kw, stride, stride, pad, pad, dilation, dilation, oh, ow);
        var r = new System.Random(7 + stride + pad);
        var x = Enumerable.Range(0, n * c * h * w).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray();
        var batch = new float[g.Rows * n * g.Positions];
        Conv.Im2Col(x, n, g, batch);
        var cols = Enumerable.Range(0, g.Rows * n * g.Positions).Select(_ => (float)(r.NextDouble() - 0.5)).ToArray();
        var batchBack = new float[x.Length];
        Conv.Col2Im(cols, n, g, batchBack);
        int imageSize = c * h * w, block = g.Rows * g.Positions;
        var back = new float[x.Length];
        for (int i = 0; i < n; i++)
        {
            var mine = new float[block];
            Conv.Im2ColImage(x.AsSpan(i * imageSize, imageSize), g, mine);
            // The same values as the batch layout's columns of image i.
            var perImage = new float[block];
            for (int row = 0; row < g.Rows; row++)
            {
                Assert.Equal(batch.AsSpan(row * n * g.Positions + i * g.Positions, g.Positions).ToArray(), mine.AsSpan(row * g.Positions, g.Positions).ToArray());
                cols.AsSpan(row * n * g.Positions + i * g.Positions, g.Positions).CopyTo(perImage.AsSpan(row * g.Positions));
            }
            Conv.Col2ImImage(perImage, g, back.AsSpan(i * imageSize, imageSize));
        }
        Assert.Equal(batchBack, back);
    }

    [Theory]
    [InlineData(3, 3, 1, 1, 1)]  // "same" padding: the contiguous copy with wrapped values cleared
    [InlineData(5, 5, 1, 2, 1)]
    [InlineData(3, 3, 1, 2, 2)]
    [InlineData(1, 1, 1, 0, 1)]
    [InlineData(3, 3, 1, 0, 1)]  // narrower output rows: row by row
    [InlineData(3, 3, 2, 1, 1)]
    public void The_lowering_matches_its_definition(int kh, int kw, int stride, int pad, int dilation)
    {
        int c = 2, h = 7, w = 6;
        int oh = (h + 2 * pad - dilation * (kh - 1) - 1) / stride + 1, ow = (w + 2 * pad - dilation * (kw - 1) - 1) / stride + 1;
        var g = new ConvGeometry(c, h, w, kh, kw, stride, stride, pad, pad, dilation, dilation, oh, ow);
        var r = new System.Random(kh + 10 * pad + 100 * dilation);
        var x = Enumerable.Range(0, c * h * w).Select(_ => (float)(r.NextDouble() + 0.5)).ToArray();
        var cols = Enumerable.Repeat(float.NaN, g.Rows * g.Positions).ToArray();
        Conv.Im2ColImage(x, g, cols);
        for (int ch = 0; ch < c; ch++)
        {
            for (int ki = 0; ki < kh; ki++)
            {
                for (int kj = 0; kj < kw; kj++)
                {
                    int row = (ch * kh + ki) * kw + kj;
                    for (int y = 0; y < oh; y++)
                    {
                        for (int z = 0; z < ow; z++)
                        {
                            int ih = y * stride - pad + ki * dilation, iw = z * stride - pad + kj * dilation;
                            float expected = ih >= 0 && ih < h && iw >= 0 && iw < w ? x[(ch * h + ih) * w + iw] : 0f;
                            Assert.Equal(expected, cols[row * g.Positions + y * ow + z]);
                        }
                    }
                }
            }
        }
    }
}
