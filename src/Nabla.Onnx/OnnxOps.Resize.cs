namespace Nabla.Onnx;

internal static partial class OnnxOps
{
    private static void RegisterResizeOps()
    {
        Add("Resize", (n, i, c) =>
        {
            Tensor x = T(n, i, 0);
            float[]? scales;
            long[]? sizes = null;
            if (c.Opset < 11) scales = T(n, i, 1).ToArray();
            else
            {
                scales = i.Length > 2 && i[2] is { } s && s.Shape.Length > 0 && s.Shape[0] > 0 ? s.AsTensor().ToArray() : null;
                sizes = i.Length > 3 && i[3] is { } z ? z.AsInts() : null;
            }
            string mode = n.String("mode", "nearest");
            string transform = c.Opset < 11 ? "asymmetric" : n.String("coordinate_transformation_mode", "half_pixel");
            string nearest = c.Opset < 11 ? "floor" : n.String("nearest_mode", "round_prefer_floor");
            return F(Resize(n, x, scales, sizes, mode, transform, nearest, n.Float("cubic_coeff_a", -0.75f), n.Int("exclude_outside", 0) != 0));
        });
        Add("Upsample", (n, i, c) =>
        {
            Tensor x = T(n, i, 0);
            float[] scales = c.Opset < 9 ? n.Floats("scales") ?? throw n.Invalid("scales are missing") : T(n, i, 1).ToArray();
            return F(Resize(n, x, scales, null, n.String("mode", "nearest"), "asymmetric", "floor", -0.75f, false));
        });
    }

    /// <summary>
    /// ONNX's Resize, one axis at a time (each mode is separable): every output position maps to a
    /// source coordinate by the coordinate transformation, then takes the nearest sample or a
    /// weighted sum of 2 (linear) or 4 (cubic) neighbours, edges repeated.
    /// </summary>
    private static Tensor Resize(OnnxNode n, Tensor x, float[]? scales, long[]? sizes, string mode, string transform, string nearest, float a, bool excludeOutside)
    {
        if (mode is not ("nearest" or "linear" or "cubic")) throw n.Unsupported($"mode '{mode}'");
        // Test files of ONNX 1.12 spell tf_half_pixel_for_nearest as tf_half_pixel_for_nn.
        if (transform == "tf_half_pixel_for_nn") transform = "tf_half_pixel_for_nearest";
        if (transform is not ("half_pixel" or "pytorch_half_pixel" or "align_corners" or "asymmetric" or "tf_half_pixel_for_nearest"))
            throw n.Unsupported($"coordinate_transformation_mode '{transform}'");
        if (nearest is not ("round_prefer_floor" or "round_prefer_ceil" or "floor" or "ceil")) throw n.Unsupported($"nearest_mode '{nearest}'");
        int rank = x.Rank;
        if (sizes is not null && sizes.Length != rank || scales is not null && sizes is null && scales.Length != rank || scales is null && sizes is null)
            throw n.Invalid($"resize needs {rank} scales or sizes for input {x.ShapeString}");
        for (int d = 0; d < rank; d++)
        {
            int inSize = x.Shape[d];
            double scale;
            int outSize;
            if (sizes is not null)
            {
                if (sizes[d] < 1 || sizes[d] > OnnxTensorReader.MaxComputedElements) throw n.Invalid($"size {sizes[d]} is not allowed");
                outSize = (int)sizes[d];
                scale = (double)outSize / inSize;
            }
            else
            {
                scale = scales![d];
                if (!(scale > 0) || scale * inSize > OnnxTensorReader.MaxComputedElements) throw n.Invalid($"scale {scale} is not allowed");
                outSize = (int)Math.Floor(inSize * scale);
            }
            if (outSize == inSize && scale == 1) continue;
            x = ResizeAxis(x, d, outSize, scale, mode, transform, nearest, a, excludeOutside);
            if (OnnxShapes.Count(x.Shape) > OnnxTensorReader.MaxComputedElements) throw n.Invalid($"the output {x.ShapeString} is too large");
        }
        return x;
    }

    private static Tensor ResizeAxis(Tensor x, int axis, int outSize, double scale, string mode, string transform, string nearest, float a, bool excludeOutside)
    {
        int inSize = x.Shape[axis];
        int taps = mode switch { "nearest" => 1, "linear" => 2, _ => 4 };
        var index = new float[taps][];
        var weight = new float[taps][];
        for (int k = 0; k < taps; k++)
        {
            index[k] = new float[outSize];
            weight[k] = new float[outSize];
        }
        double outWidth = scale * inSize;
        var w = new double[taps];
        for (int j = 0; j < outSize; j++)
        {
            double s = transform switch
            {
                "align_corners" => outWidth == 1 ? 0 : j * (inSize - 1) / (outWidth - 1),
                "asymmetric" => j / scale,
                "tf_half_pixel_for_nearest" => (j + 0.5) / scale,
                "pytorch_half_pixel" => outWidth == 1 ? -0.5 : (j + 0.5) / scale - 0.5,
                _ => (j + 0.5) / scale - 0.5,
            };
            double floor = Math.Floor(s), t = s - floor;
            int x0 = (int)floor;
            if (taps == 1)
            {
                bool up = t != 0 && nearest switch
                {
                    "round_prefer_floor" => t > 0.5,
                    "round_prefer_ceil" => t >= 0.5,
                    "ceil" => true,
                    _ => false,
                };
                index[0][j] = Math.Clamp(x0 + (up ? 1 : 0), 0, inSize - 1);
                weight[0][j] = 1f;
                continue;
            }
            int first = taps == 2 ? x0 : x0 - 1;
            if (taps == 2)
            {
                w[0] = 1 - t;
                w[1] = t;
            }
            else
            {
                double u = 1 - t;
                w[0] = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a;
                w[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
                w[2] = ((a + 2) * u - (a + 3)) * u * u + 1;
                w[3] = ((a * (u + 1) - 5 * a) * (u + 1) + 8 * a) * (u + 1) - 4 * a;
            }
            if (excludeOutside)
            {
                double sum = 0;
                for (int k = 0; k < taps; k++)
                {
                    if (first + k < 0 || first + k >= inSize) w[k] = 0;
                    sum += w[k];
                }
                for (int k = 0; k < taps; k++) w[k] /= sum;
            }
            for (int k = 0; k < taps; k++)
            {
                index[k][j] = Math.Clamp(first + k, 0, inSize - 1);
                weight[k][j] = (float)w[k];
            }
        }
        int[] weightShape = [.. Enumerable.Range(0, x.Rank).Select(d => d == axis ? outSize : 1)];
        Tensor? result = null;
        for (int k = 0; k < taps; k++)
        {
            Tensor picked = x.IndexSelect(axis, Tensor.FromArray(index[k], outSize));
            Tensor term = taps == 1 ? picked : Tensor.Mul(picked, Tensor.FromArray(weight[k], weightShape));
            result = result is null ? term : result + term;
        }
        return result!;
    }
}
