namespace Nabla.Onnx;

internal static partial class OnnxOps
{
    private static void RegisterNeuralOps()
    {
        Add("Conv", Conv);
        Add("ConvTranspose", ConvTranspose);
        Add("MaxPool", (n, i, c) => Pool(n, i, max: true));
        Add("AveragePool", (n, i, c) => Pool(n, i, max: false));
        Add("GlobalAveragePool", (n, i, c) =>
        {
            Tensor x = T(n, i, 0);
            return F(x.Mean([.. Enumerable.Range(2, x.Rank - 2)], keepDim: true));
        });
        Add("GlobalMaxPool", (n, i, c) =>
        {
            Tensor x = T(n, i, 0);
            return F(x.Max([.. Enumerable.Range(2, x.Rank - 2)], keepDim: true));
        });
        s_ops.Add("BatchNormalization", (n, i, c) =>
        {
            Tensor x = T(n, i, 0), scale = T(n, i, 1), bias = T(n, i, 2), mean = T(n, i, 3), variance = T(n, i, 4);
            float epsilon = n.Float("epsilon", 1e-5f);
            int[] channel = [.. Enumerable.Range(0, x.Rank).Select(d => d == 1 ? x.Shape[1] : 1)];
            if (n.Int("training_mode", 0) != 0)
            {
                // Batch statistics normalise; the running ones move toward them by 1 - momentum.
                int[] axes = [.. Enumerable.Range(0, x.Rank).Where(d => d != 1)];
                Tensor batchMean = x.Mean(axes), batchVar = x.Var(axes, correction: 0);
                float momentum = n.Float("momentum", 0.9f);
                Tensor y = Tensor.Mul(Tensor.Div(x - batchMean.Reshape(channel), (batchVar + epsilon).Sqrt().Reshape(channel)), scale.Reshape(channel)) + bias.Reshape(channel);
                return [F(y), F(mean * momentum + batchMean.Detach() * (1 - momentum)), F(variance * momentum + batchVar.Detach() * (1 - momentum))];
            }
            if (n.Outputs.Count(o => o.Length > 0) > 1) throw n.Unsupported("running statistics as outputs outside training_mode");
            Tensor inv = (variance + epsilon).Sqrt();
            Tensor factor = Tensor.Div(scale, inv).Reshape(channel);
            return [F(Tensor.Mul(x - mean.Reshape(channel), factor) + bias.Reshape(channel))];
        });
        Add("InstanceNormalization", (n, i, c) =>
        {
            Tensor x = T(n, i, 0), scale = T(n, i, 1), bias = T(n, i, 2);
            int[] axes = [.. Enumerable.Range(2, x.Rank - 2)];
            int[] channel = [.. Enumerable.Range(0, x.Rank).Select(d => d == 1 ? x.Shape[1] : 1)];
            Tensor centred = x - x.Mean(axes, keepDim: true);
            Tensor inv = 1f / ((centred * centred).Mean(axes, keepDim: true) + n.Float("epsilon", 1e-5f)).Sqrt();
            return F(Tensor.Mul(centred * inv, scale.Reshape(channel)) + bias.Reshape(channel));
        });
        Add("LayerNormalization", LayerNormalization);
        Add("MeanVarianceNormalization", (n, i, c) =>
        {
            Tensor x = T(n, i, 0);
            int[] axes = [.. (n.Ints("axes") ?? [0, 2, 3]).Select(a => OnnxShapes.Axis(a, x.Rank, n.Label))];
            Tensor centred = x - x.Mean(axes, keepDim: true);
            return F(Tensor.Div(centred, ((centred * centred).Mean(axes, keepDim: true).Sqrt() + 1e-9f)));
        });
        Add("LRN", (n, i, c) =>
        {
            // y = x / (bias + alpha / size * sum of x^2 over the size channels around each one)^beta
            Tensor x = T(n, i, 0);
            int size = (int)n.Int("size", 0);
            if (size < 1) throw n.Invalid("size must be at least 1");
            float alpha = n.Float("alpha", 1e-4f), beta = n.Float("beta", 0.75f), bias = n.Float("bias", 1f);
            int channels = x.Shape[1];
            Tensor padded = (x * x).Pad(1, (size - 1) / 2, size / 2);
            Tensor sum = padded.Slice(1, 0, channels);
            for (int k = 1; k < size; k++) sum = sum + padded.Slice(1, k, k + channels);
            return F(Tensor.Div(x, (sum * (alpha / size) + bias).Pow(beta)));
        });
        Add("Softmax", (n, i, c) => Softmax(n, i, c, log: false));
        Add("LogSoftmax", (n, i, c) => Softmax(n, i, c, log: true));
        Add("Dropout", (n, i, c) =>
        {
            Tensor x = T(n, i, 0);
            float ratio = c.Opset < 12 ? n.Float("ratio", 0.5f) : i.Length > 1 && i[1] is { } r ? Scalar(r) : 0.5f;
            bool training = c.Opset >= 12 && i.Length > 2 && i[2] is { } tm && Scalar(tm) != 0 || c.Training;
            if (c.Opset < 7 && n.Int("is_test", 0) == 0 && !c.Training) training = false;
            if (!training || ratio == 0f) return [F(x), OnnxValue.Static(Enumerable.Repeat(1L, x.Size).ToArray(), x.Shape.ToArray(), OnnxTypes.Bool)];
            if (!c.Training) throw n.Unsupported("training_mode = true outside training (its random mask cannot match another framework's)");
            float keep = 1f - ratio;
            Tensor mask = Tensor.Rand(x.Shape.ToArray()).Lt(keep);
            return [F(Tensor.Mul(x, mask) * (1f / keep)), OnnxValue.Typed(mask, OnnxTypes.Bool)];
        });
    }

    /// <summary>A 1-D op is run as 2-D with a height of 1; more than two spatial axes are refused.</summary>
    private static int SpatialRank(OnnxNode n, Tensor x)
    {
        int s = x.Rank - 2;
        if (s is not (1 or 2)) throw n.Unsupported($"{s} spatial dimensions (input {x.ShapeString}; 1-D and 2-D are)");
        return s;
    }

    private static long[] Attr(OnnxNode n, string name, int count, long fallback)
    {
        long[] v = n.Ints(name) ?? [.. Enumerable.Repeat(fallback, count)];
        if (v.Length != count) throw n.Invalid($"'{name}' has {v.Length} values for {count} spatial dimensions");
        return v;
    }

    /// <summary>Begin and end padding of each spatial axis from 'pads' or 'auto_pad' (SAME_UPPER puts the odd one at the end).</summary>
    private static (long[] Begin, long[] End) Padding(OnnxNode n, int[] input, long[] kernel, long[] stride, long[] dilation)
    {
        int s = kernel.Length;
        string auto = n.String("auto_pad", "NOTSET");
        var begin = new long[s];
        var end = new long[s];
        switch (auto)
        {
            case "NOTSET":
                long[] pads = Attr(n, "pads", 2 * s, 0);
                for (int d = 0; d < s; d++)
                {
                    begin[d] = pads[d];
                    end[d] = pads[d + s];
                    if (begin[d] < 0 || end[d] < 0) throw n.Invalid("pads are negative");
                }
                break;
            case "VALID":
                break;
            case "SAME_UPPER" or "SAME_LOWER":
                for (int d = 0; d < s; d++)
                {
                    long outSize = (input[d] + stride[d] - 1) / stride[d];
                    long total = Math.Max(0, (outSize - 1) * stride[d] + (kernel[d] - 1) * dilation[d] + 1 - input[d]);
                    begin[d] = auto == "SAME_UPPER" ? total / 2 : total - total / 2;
                    end[d] = total - begin[d];
                }
                break;
            default:
                throw n.Unsupported($"auto_pad '{auto}'");
        }
        return (begin, end);
    }

    private static Tensor To2D(Tensor x, int spatial) => spatial == 1 ? x.Unsqueeze(2) : x;

    private static Tensor From2D(Tensor y, int spatial) => spatial == 1 ? y.Squeeze(2) : y;

    private static long[] As2D(long[] v, int spatial, long pad) => spatial == 1 ? [pad, v[0]] : v;

    private static OnnxValue Conv(OnnxNode n, OnnxValue?[] i, OnnxContext c)
    {
        Tensor x = T(n, i, 0), w = T(n, i, 1);
        Tensor? b = OptionalT(i, 2);
        int s = SpatialRank(n, x);
        if (w.Rank != x.Rank) throw n.Invalid($"weight {w.ShapeString} does not match input {x.ShapeString}");
        long[] kernel = [.. w.Shape[2..].ToArray().Select(k => (long)k)];
        long[] stride = Attr(n, "strides", s, 1), dilation = Attr(n, "dilations", s, 1);
        var (begin, end) = Padding(n, x.Shape[2..].ToArray(), kernel, stride, dilation);
        int group = (int)n.Int("group", 1);
        int cin = x.Shape[1], cout = w.Shape[0];
        if (group < 1 || cin % group != 0 || cout % group != 0 || w.Shape[1] != cin / group)
            throw n.Invalid($"input {x.ShapeString}, weight {w.ShapeString} and group {group} do not agree");
        long[] st = As2D(stride, s, 1), dl = As2D(dilation, s, 1), pb = As2D(begin, s, 0), pe = As2D(end, s, 0);
        Padding2D padding = new((int)pb[0], (int)pe[0], (int)pb[1], (int)pe[1]);
        Tensor x2 = To2D(x, s), w2 = To2D(w, s);
        Tensor y;
        if (group == 1) y = Tensor.Conv2d(x2, w2, b, ((int)st[0], (int)st[1]), padding, ((int)dl[0], (int)dl[1]));
        else
        {
            int cg = cin / group, mg = cout / group;
            var parts = new List<Tensor>(group);
            for (int g = 0; g < group; g++)
            {
                parts.Add(Tensor.Conv2d(x2.Slice(1, g * cg, (g + 1) * cg), w2.Slice(0, g * mg, (g + 1) * mg), b?.Slice(0, g * mg, (g + 1) * mg),
                    ((int)st[0], (int)st[1]), padding, ((int)dl[0], (int)dl[1])));
            }
            y = Tensor.Concat(parts, 1);
        }
        return F(From2D(y, s));
    }

    private static OnnxValue ConvTranspose(OnnxNode n, OnnxValue?[] i, OnnxContext c)
    {
        Tensor x = T(n, i, 0), w = T(n, i, 1);
        Tensor? b = OptionalT(i, 2);
        int s = SpatialRank(n, x);
        if (w.Rank != x.Rank || w.Shape[0] != x.Shape[1]) throw n.Invalid($"weight {w.ShapeString} does not match input {x.ShapeString}");
        int group = (int)n.Int("group", 1);
        if (group != 1) throw n.Unsupported($"group {group}");
        int[] input = x.Shape[2..].ToArray();
        long[] kernel = [.. w.Shape[2..].ToArray().Select(k => (long)k)];
        long[] stride = Attr(n, "strides", s, 1), dilation = Attr(n, "dilations", s, 1), outputPadding = Attr(n, "output_padding", s, 0);
        var begin = new long[s];
        var end = new long[s];
        string auto = n.String("auto_pad", "NOTSET");
        long[]? outputShape = n.Ints("output_shape");
        if (outputShape is not null && outputShape.Length > s) outputShape = outputShape[^s..];
        if (auto is "SAME_UPPER" or "SAME_LOWER") outputShape ??= [.. input.Select((v, d) => v * stride[d])];
        for (int d = 0; d < s; d++)
        {
            long full = stride[d] * (input[d] - 1) + outputPadding[d] + (kernel[d] - 1) * dilation[d] + 1;
            if (outputShape is not null)
            {
                long total = full - outputShape[d];
                bool upper = auto != "SAME_LOWER";
                begin[d] = upper ? total / 2 : total - total / 2;
                end[d] = total - begin[d];
            }
            else if (auto == "NOTSET")
            {
                long[] pads = Attr(n, "pads", 2 * s, 0);
                begin[d] = pads[d];
                end[d] = pads[d + s];
            }
            else if (auto != "VALID") throw n.Unsupported($"auto_pad '{auto}'");
        }
        long[] st = As2D(stride, s, 1), dl = As2D(dilation, s, 1);
        // The full transposed convolution, then the output padding (zeros before the bias) and the crop of the pads.
        Tensor y = Tensor.ConvTranspose2d(To2D(x, s), To2D(w, s), null, ((int)st[0], (int)st[1]), null, null, ((int)dl[0], (int)dl[1]));
        for (int d = 0; d < s; d++)
        {
            int axis = y.Rank - s + d;
            if (outputPadding[d] > 0) y = y.Pad(axis, 0, (int)outputPadding[d]);
            long from = begin[d], to = end[d];
            if (from < 0 || to < 0) y = y.Pad(axis, (int)Math.Max(0, -from), (int)Math.Max(0, -to));
            from = Math.Max(0, from);
            to = Math.Max(0, to);
            if (from != 0 || to != 0) y = y.Slice(axis, (int)from, (int)(y.Shape[axis] - to));
        }
        y = From2D(y, s);
        if (b is not null) y = y + b.Reshape([.. Enumerable.Range(0, y.Rank).Select(d => d == 1 ? b.Size : 1)]);
        return F(y);
    }

    private static OnnxValue?[] Pool(OnnxNode n, OnnxValue?[] i, bool max)
    {
        Tensor x = T(n, i, 0);
        int s = x.Rank - 2;
        if (s < 1) throw n.Invalid($"input {x.ShapeString} has no spatial dimensions");
        if (n.Outputs.Count(o => o.Length > 0) > 1) throw n.Unsupported("the Indices output");
        long[] kernel = n.Ints("kernel_shape") ?? throw n.Invalid("kernel_shape is missing");
        if (kernel.Length != s) throw n.Invalid($"kernel_shape has {kernel.Length} values for {s} spatial dimensions");
        long[] stride = Attr(n, "strides", s, 1), dilation = Attr(n, "dilations", s, 1);
        int[] input = x.Shape[2..].ToArray();
        var (begin, end) = Padding(n, input, kernel, stride, dilation);
        bool ceil = n.Int("ceil_mode", 0) != 0;
        bool countPads = !max && n.Int("count_include_pad", 0) != 0;
        if (countPads)
        {
            // Explicit pads are counted in the average: pad with zeros first.
            for (int d = 0; d < s; d++) x = x.Pad(2 + d, (int)begin[d], (int)end[d]);
            input = x.Shape[2..].ToArray();
            begin = new long[s];
            end = new long[s];
        }
        var extra = new long[s];
        var outSize = new long[s];
        for (int d = 0; d < s; d++)
        {
            long span = input[d] + begin[d] + end[d] - ((kernel[d] - 1) * dilation[d] + 1);
            if (span < 0) throw n.Invalid($"the window is larger than the padded input {x.ShapeString}");
            outSize[d] = ceil ? (span + stride[d] - 1) / stride[d] + 1 : span / stride[d] + 1;
            // A window may not start in the end padding (as PyTorch and the ONNX reference).
            if (ceil && (outSize[d] - 1) * stride[d] >= input[d] + begin[d]) outSize[d]--;
            extra[d] = Math.Max(0, (outSize[d] - 1) * stride[d] + (kernel[d] - 1) * dilation[d] + 1 - (input[d] + begin[d] + end[d]));
        }
        if (s <= 2 && dilation.All(v => v == 1))
        {
            Tensor x2 = To2D(x, s);
            long[] k2 = As2D(kernel, s, 1), st = As2D(stride, s, 1), pb = As2D(begin, s, 0), pe = As2D(end, s, 0), ex = As2D(extra, s, 0);
            Padding2D padding = new((int)pb[0], (int)(pe[0] + ex[0]), (int)pb[1], (int)(pe[1] + ex[1]));
            var kernel2 = ((int)k2[0], (int)k2[1]);
            var stride2 = ((int)st[0], (int)st[1]);
            Tensor y = max ? Tensor.MaxPool2d(x2, kernel2, stride2, padding) : Tensor.AvgPool2d(x2, kernel2, stride2, padding);
            return [F(From2D(y, s))];
        }
        return [F(PoolBySlices(x, kernel, stride, dilation, begin, end, extra, outSize, max))];
    }

    /// <summary>
    /// Pooling of any number of spatial axes and any dilation: one strided slice of the padded input
    /// per kernel offset, combined by maximum or by sum over the positions inside the image.
    /// </summary>
    private static Tensor PoolBySlices(Tensor x, long[] kernel, long[] stride, long[] dilation, long[] begin, long[] end, long[] extra, long[] outSize, bool max)
    {
        int s = kernel.Length;
        Tensor padded = x, inside = Tensor.Ones([1, 1, .. x.Shape[2..]]);
        for (int d = 0; d < s; d++)
        {
            padded = padded.Pad(2 + d, (int)begin[d], (int)(end[d] + extra[d]), max ? float.NegativeInfinity : 0f);
            inside = inside.Pad(2 + d, (int)begin[d], (int)(end[d] + extra[d]));
        }
        Tensor? result = null, count = null;
        var offset = new long[s];
        long windows = kernel.Aggregate(1L, (a, k) => a * k);
        for (long w = 0; w < windows; w++)
        {
            long rest = w;
            for (int d = s - 1; d >= 0; d--)
            {
                offset[d] = rest % kernel[d];
                rest /= kernel[d];
            }
            Tensor part = padded, mask = inside;
            for (int d = 0; d < s; d++)
            {
                int start = (int)(offset[d] * dilation[d]), stop = (int)(start + (outSize[d] - 1) * stride[d] + 1);
                part = part.Slice(2 + d, start, stop, (int)stride[d]);
                mask = mask.Slice(2 + d, start, stop, (int)stride[d]);
            }
            if (max) result = result is null ? part : Tensor.Where(part.Gt(result), part, result);
            else
            {
                result = result is null ? part : result + part;
                count = count is null ? mask : count + mask;
            }
        }
        return max ? result! : Tensor.Div(result!, count!);
    }

    private static OnnxValue?[] LayerNormalization(OnnxNode n, OnnxValue?[] i, OnnxContext c)
    {
        Tensor x = T(n, i, 0), scale = T(n, i, 1);
        Tensor? bias = OptionalT(i, 2);
        int axis = OnnxShapes.Axis(n.Int("axis", -1), x.Rank, n.Label);
        float epsilon = n.Float("epsilon", 1e-5f);
        bool statistics = n.Outputs.Skip(1).Any(o => o.Length > 0);
        if (axis == x.Rank - 1 && scale.Rank == 1 && !statistics)
            return [F(Tensor.LayerNorm(x, scale, bias ?? Tensor.Zeros(scale.Shape[0]), epsilon))];
        int[] axes = [.. Enumerable.Range(axis, x.Rank - axis)];
        Tensor mean = x.Mean(axes, keepDim: true);
        Tensor centred = x - mean;
        Tensor inv = 1f / ((centred * centred).Mean(axes, keepDim: true) + epsilon).Sqrt();
        Tensor y = Tensor.Mul(centred * inv, scale);
        if (bias is not null) y = y + bias;
        return [F(y), F(mean), F(inv)];
    }

    private static OnnxValue Softmax(OnnxNode n, OnnxValue?[] i, OnnxContext c, bool log)
    {
        Tensor x = T(n, i, 0);
        if (c.Opset >= 13)
        {
            int axis = OnnxShapes.Axis(n.Int("axis", -1), x.Rank, n.Label);
            return F(log ? x.LogSoftmax(axis) : x.Softmax(axis));
        }
        // Before opset 13 the input is viewed as a matrix split at the axis.
        int a = OnnxShapes.Axis(n.Int("axis", 1), x.Rank, n.Label);
        int outer = (int)OnnxShapes.Count(x.Shape[..a]), inner = (int)OnnxShapes.Count(x.Shape[a..]);
        Tensor m = x.Reshape(outer, inner);
        return F((log ? m.LogSoftmax(1) : m.Softmax(1)).Reshape(x.Shape.ToArray()));
    }
}
