namespace Nabla.Kernels.Tests;

public class PoolTests
{
    [Theory]
    [InlineData(2, 2, 2, 0, 20)]  // the vectorised 2x2 path (OW = 10: a block of 8 and an overlapping one)
    [InlineData(2, 2, 2, 0, 32)]  // OW = 16: two blocks of 8
    [InlineData(2, 2, 2, 0, 14)]  // OW = 7: blocks of 4 (the second pooling of the CNN benchmark)
    [InlineData(2, 2, 2, 0, 15)]  // OW = 7 with an odd width: the last column is never read
    [InlineData(2, 2, 2, 0, 6)]   // OW = 3: scalar
    [InlineData(3, 3, 2, 1, 20)]  // the general path with padding
    [InlineData(2, 3, 1, 0, 20)]
    public void Max_pooling_matches_a_naive_scan(int kh, int kw, int stride, int pad, int w)
    {
        int n = 2, c = 3, h = 7;
        var r = new System.Random(kh * 10 + kw);
        var x = Enumerable.Range(0, n * c * h * w).Select(_ => (float)r.NextDouble()).ToArray();
        int oh = (h + 2 * pad - kh) / stride + 1, ow = (w + 2 * pad - kw) / stride + 1;
        var g = new ConvGeometry(c, h, w, kh, kw, stride, stride, pad, pad, 1, 1, oh, ow);
        var y = new float[n * c * oh * ow];
        var arg = new int[y.Length];
        Conv.MaxPool(x, n, g, y, arg);
        int o = 0;
        for (int p = 0; p < n * c; p++)
        {
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j++, o++)
                {
                    float best = float.NegativeInfinity;
                    int bi = -1;
                    for (int a = 0; a < kh; a++)
                    {
                        for (int b = 0; b < kw; b++)
                        {
                            int ih = i * stride - pad + a, iw = j * stride - pad + b;
                            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                            float v = x[p * h * w + ih * w + iw];
                            if (v > best) { best = v; bi = ih * w + iw; }
                        }
                    }
                    Assert.Equal(best, y[o]);
                    Assert.Equal(bi, arg[o]);
                }
            }
        }
    }

    [Theory]
    [InlineData(2, 2, 2, 8, 28, true)]   // OW = 14: a block of 8 and an overlapping one (the CNN benchmark's first pooling)
    [InlineData(2, 2, 2, 8, 32, true)]   // OW = 16: two blocks of 8
    [InlineData(2, 2, 2, 14, 14, true)]  // OW = 7: scalar (the second pooling)
    [InlineData(2, 2, 2, 6, 6, true)]    // OW = 3: scalar
    [InlineData(2, 2, 2, 7, 20, false)]  // an odd height leaves a row no window covers: accumulated
    [InlineData(2, 2, 2, 8, 15, false)]  // an odd width likewise
    [InlineData(3, 3, 2, 9, 20, false)]  // overlapping windows: accumulated
    public void Max_pooling_backward_sends_each_gradient_to_its_maximum(int kh, int kw, int stride, int h, int w, bool writesAll)
    {
        int n = 2, c = 3;
        var r = new System.Random(h * 100 + w);
        var x = Enumerable.Range(0, n * c * h * w).Select(_ => (float)r.NextDouble()).ToArray();
        int oh = (h - kh) / stride + 1, ow = (w - kw) / stride + 1;
        var g = new ConvGeometry(c, h, w, kh, kw, stride, stride, 0, 0, 1, 1, oh, ow);
        var y = new float[n * c * oh * ow];
        var arg = new int[y.Length];
        Conv.MaxPool(x, n, g, y, arg);
        var dy = Enumerable.Range(0, y.Length).Select(_ => (float)r.NextDouble() + 0.5f).ToArray();
        var expected = new float[x.Length];
        for (int p = 0; p < n * c; p++)
        {
            for (int o = 0; o < oh * ow; o++) expected[p * h * w + arg[p * oh * ow + o]] += dy[p * oh * ow + o];
        }
        Assert.Equal(writesAll, Conv.MaxPoolBackwardWritesAll(g));
        // Where every element is written, stale values must not survive; elsewhere the kernel adds to zeros.
        var dx = Enumerable.Repeat(writesAll ? float.NaN : 0f, x.Length).ToArray();
        Conv.MaxPoolBackward(dy, arg, n, g, dx);
        Assert.Equal(expected, dx);
    }
}
