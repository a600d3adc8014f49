namespace Nabla.Layers;

/// <summary>
/// Resamples a batch of images [N, C, H, W] through one affine map per image, as Keras's
/// random-transform layers do: output pixel (i, j) reads the input at
/// (sy, sx) = (a (i - cy) + b (j - cx) + cy + ty, c (i - cy) + d (j - cx) + cx + tx), the image
/// centre (cy, cx), bilinearly or at the nearest pixel. Positions outside the image follow the
/// fill mode: reflect (d c b a | a b c d | d c b a), wrap, nearest (the edge), or constant.
/// Built from gathers, so the gradient reaches the input.
/// </summary>
internal static class ImageWarp
{
    /// <summary>The fill modes accepted.</summary>
    public static readonly string[] FillModes = ["reflect", "wrap", "nearest", "constant"];

    /// <summary>The interpolations accepted.</summary>
    public static readonly string[] Interpolations = ["bilinear", "nearest"];

    /// <summary>Throws unless <paramref name="fillMode"/> and <paramref name="interpolation"/> are known, naming the layer.</summary>
    public static void Check(string fillMode, string interpolation, string layer)
    {
        if (!FillModes.Contains(fillMode)) throw new ArgumentException($"{layer}: fill mode '{fillMode}' is not one of {string.Join(", ", FillModes)}.");
        if (!Interpolations.Contains(interpolation)) throw new ArgumentException($"{layer}: interpolation '{interpolation}' is not one of {string.Join(", ", Interpolations)}.");
    }

    /// <summary>
    /// Warps <paramref name="x"/> [N, C, H, W] with six numbers per image in <paramref name="maps"/>
    /// (a, b, c, d, ty, tx as in the class summary).
    /// </summary>
    public static Tensor Affine(Tensor x, ReadOnlySpan<float> maps, string fillMode, float fillValue, string interpolation)
    {
        if (x.Rank != 4) throw new ArgumentException($"ImageWarp: images must be [N, C, H, W], got {x.ShapeString}.");
        int n = x.Shape[0], ch = x.Shape[1], h = x.Shape[2], w = x.Shape[3], plane = h * w;
        if (maps.Length != 6 * n) throw new ArgumentException($"ImageWarp: {maps.Length} map values for {n} images.");
        bool bilinear = interpolation == "bilinear";
        int taps = bilinear ? 4 : 1;
        var index = new float[taps][];
        var weight = new float[taps][];
        for (int t = 0; t < taps; t++)
        {
            index[t] = new float[n * ch * plane];
            weight[t] = new float[n * plane];
        }
        var fill = new float[n * plane];
        float cy = (h - 1) / 2f, cx = (w - 1) / 2f;
        for (int s = 0; s < n; s++)
        {
            ReadOnlySpan<float> m = maps.Slice(6 * s, 6);
            for (int i = 0; i < h; i++)
            {
                for (int j = 0; j < w; j++)
                {
                    float sy = m[0] * (i - cy) + m[1] * (j - cx) + cy + m[4];
                    float sx = m[2] * (i - cy) + m[3] * (j - cx) + cx + m[5];
                    int p = s * plane + i * w + j;
                    if (!bilinear)
                    {
                        Tap(0, (int)MathF.Round(sy), (int)MathF.Round(sx), 1f);
                        continue;
                    }
                    int y0 = (int)MathF.Floor(sy), x0 = (int)MathF.Floor(sx);
                    float fy = sy - y0, fx = sx - x0;
                    Tap(0, y0, x0, (1 - fy) * (1 - fx));
                    Tap(1, y0, x0 + 1, (1 - fy) * fx);
                    Tap(2, y0 + 1, x0, fy * (1 - fx));
                    Tap(3, y0 + 1, x0 + 1, fy * fx);

                    void Tap(int t, int yy, int xx, float wt)
                    {
                        int my = Map(yy, h, fillMode), mx = Map(xx, w, fillMode);
                        float source = 0;
                        if (my < 0 || mx < 0)
                        {
                            fill[p] += wt;
                            wt = 0;
                        }
                        else source = my * w + mx;
                        weight[t][p] = wt;
                        for (int c = 0; c < ch; c++) index[t][(s * ch + c) * plane + i * w + j] = source;
                    }
                }
            }
        }
        Tensor flat = x.Reshape(n, ch, plane);
        Tensor? y = null;
        for (int t = 0; t < taps; t++)
        {
            Tensor term = Tensor.Mul(flat.Gather(2, Tensor.FromArray(index[t], n, ch, plane)), Tensor.FromArray(weight[t], n, 1, plane));
            y = y is null ? term : y + term;
        }
        if (fillMode == "constant" && fillValue != 0) y = y! + Tensor.FromArray(fill, n, 1, plane) * fillValue;
        return y!.Reshape(n, ch, h, w);
    }

    /// <summary>A coordinate inside [0, size) by the fill mode, or -1 where the constant fills.</summary>
    private static int Map(int k, int size, string mode)
    {
        if (k >= 0 && k < size) return k;
        switch (mode)
        {
            case "constant":
                return -1;
            case "nearest":
                return Math.Clamp(k, 0, size - 1);
            case "wrap":
                return ((k % size) + size) % size;
            default:
                int period = 2 * size;
                int r = ((k % period) + period) % period;
                return r < size ? r : period - 1 - r;
        }
    }
}
