namespace Nabla.Onnx;

internal static partial class OnnxOps
{
    private static void RegisterIndexingOps()
    {
        Add("GatherElements", (n, i, c) =>
        {
            Tensor x = T(n, i, 0);
            OnnxValue index = Required(n, i, 1);
            int axis = OnnxShapes.Axis(n.Int("axis", 0), x.Rank, n.Label);
            return F(x.Gather(axis, Indices(n, index, x.Shape[axis], axis)));
        });
        Add("ScatterElements", (n, i, c) =>
        {
            Tensor x = T(n, i, 0), updates = T(n, i, 2);
            OnnxValue index = Required(n, i, 1);
            int axis = OnnxShapes.Axis(n.Int("axis", 0), x.Rank, n.Label);
            Tensor idx = Indices(n, index, x.Shape[axis], axis);
            string reduction = n.String("reduction", "none");
            if (reduction == "add") return F(x.ScatterAdd(axis, idx, updates));
            if (reduction != "none") throw n.Unsupported($"reduction '{reduction}'");
            // Replacement: positions written to take the update, the others keep x.
            Tensor written = Tensor.ZerosLike(x).ScatterAdd(axis, idx, Tensor.OnesLike(updates)).Gt(0f);
            return F(Tensor.Where(written, Tensor.ZerosLike(x).ScatterAdd(axis, idx, updates), x));
        });
        Add("NegativeLogLikelihoodLoss", (n, i, c) => NegativeLogLikelihood(n, T(n, i, 0), Required(n, i, 1), OptionalT(i, 2)));
        Add("SoftmaxCrossEntropyLoss", (n, i, c) =>
        {
            Tensor logProbabilities = T(n, i, 0).LogSoftmax(1);
            return [NegativeLogLikelihood(n, logProbabilities, Required(n, i, 1), OptionalT(i, 2)), F(logProbabilities)];
        });
        Add("CastLike", (n, i, c) =>
        {
            OnnxValue x = Required(n, i, 0), like = Required(n, i, 1);
            if (!like.IsInteger) return x.Tensor is not null && x.ElementType == OnnxTypes.Float ? x : F(x.AsTensor());
            return OnnxValue.Static([.. x.AsInts().Select(v => like.ElementType == OnnxTypes.Bool ? v != 0 ? 1L : 0L : v)], x.Shape, like.ElementType);
        });
        Add("OneHot", (n, i, c) =>
        {
            OnnxValue indices = Required(n, i, 0);
            int depth = (int)Scalar(Required(n, i, 1));
            Tensor values = T(n, i, 2);
            if (depth < 1 || (long)depth * Math.Max(1, indices.AsInts().Length) > OnnxTensorReader.MaxComputedElements) throw n.Invalid($"depth {depth} is not allowed");
            int rank = indices.Rank + 1;
            int axis = OnnxShapes.Axis(n.Int("axis", -1), rank, n.Label);
            long[] idx = indices.AsInts();
            var hot = new float[idx.Length * depth];
            for (int k = 0; k < idx.Length; k++)
            {
                long v = idx[k] < 0 ? idx[k] + depth : idx[k];
                if (v >= 0 && v < depth) hot[k * depth + v] = 1f;
            }
            Tensor mask = Tensor.FromArray(hot, [.. indices.Shape, depth]);
            if (axis != rank - 1) mask = mask.Permute([.. Enumerable.Range(0, rank).Select(d => d < axis ? d : d == axis ? rank - 1 : d - 1)]).Contiguous();
            Tensor off = values.Select(0, 0), on = values.Select(0, 1);
            return F(Tensor.Where(mask, on.Expand(mask.Shape.ToArray()), off.Expand(mask.Shape.ToArray())));
        });
        Add("DepthToSpace", (n, i, c) =>
        {
            Tensor x = T(n, i, 0);
            int b = (int)n.Int("blocksize", 0);
            if (x.Rank != 4 || b < 1 || x.Shape[1] % (b * b) != 0) throw n.Invalid($"input {x.ShapeString} and blocksize {b} do not agree");
            int batch = x.Shape[0], ch = x.Shape[1] / (b * b), h = x.Shape[2], w = x.Shape[3];
            Tensor y = n.String("mode", "DCR") == "CRD"
                ? x.Reshape(batch, ch, b, b, h, w).Permute(0, 1, 4, 2, 5, 3)
                : x.Reshape(batch, b, b, ch, h, w).Permute(0, 3, 4, 1, 5, 2);
            return F(y.Contiguous().Reshape(batch, ch, h * b, w * b));
        });
        Add("SpaceToDepth", (n, i, c) =>
        {
            Tensor x = T(n, i, 0);
            int b = (int)n.Int("blocksize", 0);
            if (x.Rank != 4 || b < 1 || x.Shape[2] % b != 0 || x.Shape[3] % b != 0) throw n.Invalid($"input {x.ShapeString} and blocksize {b} do not agree");
            int batch = x.Shape[0], ch = x.Shape[1], h = x.Shape[2] / b, w = x.Shape[3] / b;
            return F(x.Reshape(batch, ch, h, b, w, b).Permute(0, 3, 5, 1, 2, 4).Contiguous().Reshape(batch, ch * b * b, h, w));
        });
        Add("Hardmax", (n, i, c) =>
        {
            Tensor x = T(n, i, 0).Detach();
            int[] shape = x.Shape.ToArray();
            int axis;
            if (c.Opset >= 13) axis = OnnxShapes.Axis(n.Int("axis", -1), x.Rank, n.Label);
            else
            {
                int a = OnnxShapes.Axis(n.Int("axis", 1), x.Rank, n.Label);
                x = x.Reshape((int)OnnxShapes.Count(shape.AsSpan(0, a)), (int)OnnxShapes.Count(shape.AsSpan(a)));
                axis = 1;
            }
            Tensor best = x.ArgMax(axis, keepDim: true);
            int[] positions = [.. Enumerable.Range(0, x.Rank).Select(d => d == axis ? x.Shape[axis] : 1)];
            Tensor along = Tensor.Arange(x.Shape[axis]).Reshape(positions);
            return F(along.Eq(best).Reshape(shape));
        });
        // A product of slices keeps the exact gradient, zeros included.
        Reduce("ReduceProd", (t, axes) =>
        {
            foreach (int a in axes)
            {
                Tensor p = t.Shape[a] == 0 ? Tensor.Ones([.. t.Shape[..a], 1, .. t.Shape[(a + 1)..]]) : t.Slice(a, 0, 1);
                for (int k = 1; k < t.Shape[a]; k++) p = Tensor.Mul(p, t.Slice(a, k, k + 1));
                t = p;
            }
            return t;
        });
    }

    /// <summary>
    /// ONNX's NegativeLogLikelihoodLoss over input [N, C, d...] and class targets [N, d...]: minus the
    /// target's entry, times its class weight; targets equal to ignore_index count for nothing, and
    /// the mean divides by the weights of the targets counted.
    /// </summary>
    private static OnnxValue NegativeLogLikelihood(OnnxNode n, Tensor input, OnnxValue target, Tensor? weight)
    {
        if (input.Rank < 2) throw n.Invalid($"input {input.ShapeString} must be [N, C, ...]");
        int classes = input.Shape[1];
        long[] raw = target.AsInts();
        long? ignore = n.Has("ignore_index") ? n.Int("ignore_index", 0) : null;
        var index = new float[raw.Length];
        var keep = new float[raw.Length];
        for (int k = 0; k < raw.Length; k++)
        {
            if (raw[k] == ignore) continue;
            if (raw[k] < 0 || raw[k] >= classes) throw n.Invalid($"target {raw[k]} is not a class of {classes}");
            index[k] = raw[k];
            keep[k] = 1f;
        }
        int[] targetShape = target.Shape;
        Tensor idx = Tensor.FromArray(index, targetShape);
        Tensor picked = input.Gather(1, idx.Unsqueeze(1)).Squeeze(1);
        Tensor w = Tensor.FromArray(keep, targetShape);
        if (weight is not null) w = Tensor.Mul(w, weight.IndexSelect(0, idx));
        Tensor loss = Tensor.Mul(picked, w).Neg();
        return n.String("reduction", "mean") switch
        {
            "none" => F(loss),
            "sum" => F(loss.Sum()),
            "mean" => F(Tensor.Div(loss.Sum(), w.Sum())),
            string r => throw n.Unsupported($"reduction '{r}'"),
        };
    }

    /// <summary>Integer indices (negative ones counted from the end) as a float tensor, each checked against <paramref name="dim"/>.</summary>
    private static Tensor Indices(OnnxNode n, OnnxValue index, int dim, int axis)
    {
        long[] raw = index.AsInts();
        var idx = new float[raw.Length];
        for (int k = 0; k < raw.Length; k++)
        {
            long v = raw[k] < 0 ? raw[k] + dim : raw[k];
            if (v < 0 || v >= dim) throw n.Invalid($"index {raw[k]} is out of range for axis {axis} of size {dim}");
            idx[k] = v;
        }
        return Tensor.FromArray(idx, index.Shape);
    }
}
