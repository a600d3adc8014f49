namespace Nabla.Onnx;

internal static partial class OnnxOps
{
    private static void RegisterShapeOps()
    {
        Add("Shape", (n, i, c) =>
        {
            int[] shape = Required(n, i, 0).Shape;
            int rank = shape.Length;
            int start = (int)Math.Clamp(Normalize(n.Int("start", 0), rank), 0, rank);
            int end = (int)Math.Clamp(Normalize(n.Int("end", rank), rank), 0, rank);
            return OnnxValue.Vector([.. shape[start..Math.Max(start, end)].Select(d => (long)d)]);
        });
        Add("Size", (n, i, c) => OnnxValue.Scalar(OnnxShapes.Count(Required(n, i, 0).Shape)));
        Add("Constant", (n, i, c) => Constant(n));
        Add("ConstantOfShape", (n, i, c) =>
        {
            int[] shape = ToInts(Ints(n, i, 0), n, "dimension");
            if (shape.Any(d => d < 0) || OnnxShapes.Count(shape) > OnnxTensorReader.MaxComputedElements) throw n.Invalid($"shape {OnnxShapes.Format(shape)} is not allowed");
            OnnxValue value = n.TensorAttribute("value") is { } t ? OnnxTensorReader.Read(t, n.Label) : OnnxValue.Float(Tensor.Zeros(1));
            if (value.Ints is { } ints) return OnnxValue.Static(Enumerable.Repeat(ints.Length > 0 ? ints[0] : 0, (int)OnnxShapes.Count(shape)).ToArray(), shape, value.ElementType);
            return F(Tensor.Full(shape, value.Tensor!.ToArray()[0]));
        });
        Add("Range", (n, i, c) =>
        {
            OnnxValue start = Required(n, i, 0), limit = Required(n, i, 1), delta = Required(n, i, 2);
            if (start.IsInteger && start.Ints is not null && limit.Ints is not null && delta.Ints is not null)
            {
                long s = start.Ints[0], l = limit.Ints[0], d = delta.Ints[0];
                if (d == 0) throw n.Invalid("delta is 0");
                long count = Math.Max(0, (long)Math.Ceiling((double)(l - s) / d));
                if (count > OnnxTensorReader.MaxComputedElements) throw n.Invalid($"it would make {count} elements");
                var r = new long[count];
                for (long k = 0; k < count; k++) r[k] = s + k * d;
                return OnnxValue.Static(r, [(int)count], start.ElementType);
            }
            float fs = Scalar(start), fl = Scalar(limit), fd = Scalar(delta);
            if (fd == 0) throw n.Invalid("delta is 0");
            double steps = Math.Ceiling((fl - fs) / (double)fd);
            if (!(steps <= OnnxTensorReader.MaxComputedElements)) throw n.Invalid($"it would make {steps} elements");
            int cnt = (int)Math.Max(0, steps);
            var f = new float[cnt];
            for (int k = 0; k < cnt; k++) f[k] = fs + k * fd;
            return F(Tensor.FromArray(f, cnt));
        });

        Add("Reshape", (n, i, c) =>
        {
            OnnxValue x = Required(n, i, 0);
            long[] target = c.Opset < 5 ? n.Ints("shape") ?? throw n.Invalid("attribute 'shape' is missing") : Ints(n, i, 1);
            bool allowZero = n.Int("allowzero", 0) != 0;
            var shape = new int[target.Length];
            int infer = -1;
            long known = 1;
            for (int d = 0; d < shape.Length; d++)
            {
                long v = target[d];
                if (v == 0 && !allowZero)
                {
                    if (d >= x.Rank) throw n.Invalid($"target dimension {d} copies the input's, but the input {OnnxShapes.Format(x.Shape)} has rank {x.Rank}");
                    v = x.Shape[d];
                }
                if (v == -1)
                {
                    if (infer >= 0) throw n.Invalid("the target shape has more than one -1");
                    infer = d;
                    continue;
                }
                if (v < 0 || v > int.MaxValue) throw n.Invalid($"target dimension {v} is not allowed");
                shape[d] = (int)v;
                known *= v;
            }
            long total = OnnxShapes.Count(x.Shape);
            if (infer >= 0)
            {
                if (known == 0 || total % known != 0) throw n.Invalid($"cannot reshape {OnnxShapes.Format(x.Shape)} to [{string.Join(", ", target)}]");
                shape[infer] = (int)(total / known);
            }
            if (OnnxShapes.Count(shape) != total) throw n.Invalid($"cannot reshape {OnnxShapes.Format(x.Shape)} ({total} elements) to {OnnxShapes.Format(shape)}");
            return Move(x, t => t.Reshape(shape));
        });
        Add("Flatten", (n, i, c) =>
        {
            OnnxValue x = Required(n, i, 0);
            int axis = (int)Normalize(n.Int("axis", 1), x.Rank);
            if (axis < 0 || axis > x.Rank) throw n.Invalid($"axis {n.Int("axis", 1)} is out of range for rank {x.Rank}");
            int outer = (int)OnnxShapes.Count(x.Shape.AsSpan(0, axis)), inner = (int)OnnxShapes.Count(x.Shape.AsSpan(axis));
            return Move(x, t => t.Reshape(outer, inner));
        });
        Add("Transpose", (n, i, c) =>
        {
            OnnxValue x = Required(n, i, 0);
            int[] perm = n.Ints("perm") is { } p ? ToInts(p, n, "axis") : [.. Enumerable.Range(0, x.Rank).Reverse()];
            if (perm.Length != x.Rank || perm.Order().Where((v, k) => v != k).Any()) throw n.Invalid($"perm [{string.Join(", ", perm)}] is not a permutation of {x.Rank} axes");
            return Move(x, t => t.Permute(perm).Contiguous());
        });
        Add("Squeeze", (n, i, c) =>
        {
            OnnxValue x = Required(n, i, 0);
            long[]? axes = c.Opset < 13 ? n.Ints("axes") : OptionalInts(i, 1);
            var drop = new HashSet<int>(axes is null ? Enumerable.Range(0, x.Rank).Where(d => x.Shape[d] == 1) : axes.Select(a => OnnxShapes.Axis(a, x.Rank, n.Label)));
            foreach (int d in drop)
            {
                if (x.Shape[d] != 1) throw n.Invalid($"axis {d} of {OnnxShapes.Format(x.Shape)} is not 1");
            }
            int[] shape = [.. x.Shape.Where((_, d) => !drop.Contains(d))];
            return Move(x, t => t.Reshape(shape));
        });
        Add("Unsqueeze", (n, i, c) =>
        {
            OnnxValue x = Required(n, i, 0);
            long[] axes = (c.Opset < 13 ? n.Ints("axes") : OptionalInts(i, 1)) ?? throw n.Invalid("axes are missing");
            int rank = x.Rank + axes.Length;
            var added = new HashSet<int>();
            foreach (long a in axes)
            {
                if (!added.Add(OnnxShapes.Axis(a, rank, n.Label))) throw n.Invalid($"axis {a} is given twice");
            }
            var shape = new int[rank];
            for (int d = 0, s = 0; d < rank; d++) shape[d] = added.Contains(d) ? 1 : x.Shape[s++];
            return Move(x, t => t.Reshape(shape));
        });
        Add("Concat", (n, i, c) =>
        {
            var parts = i.Where(v => v is not null).Select(v => v!).ToList();
            if (parts.Count == 0) throw n.Invalid("it has no inputs");
            int axis = OnnxShapes.Axis(n.Int("axis", 0), parts[0].Rank, n.Label);
            foreach (var p in parts)
            {
                if (p.Rank != parts[0].Rank) throw n.Invalid($"inputs of ranks {parts[0].Rank} and {p.Rank} cannot be joined");
            }
            var kept = parts.Where(p => p.Shape[axis] > 0).ToList();
            if (kept.Count == 0) kept = [parts[0]];
            return MoveMany(kept, ts => ts.Count == 1 ? ts[0] : Tensor.Concat(ts, axis));
        });
        Add("Split", Split);
        Add("Slice", (n, i, c) =>
        {
            OnnxValue x = Required(n, i, 0);
            long[] starts, ends;
            long[]? axes, steps = null;
            if (c.Opset < 10)
            {
                starts = n.Ints("starts") ?? throw n.Invalid("starts are missing");
                ends = n.Ints("ends") ?? throw n.Invalid("ends are missing");
                axes = n.Ints("axes");
            }
            else
            {
                starts = Ints(n, i, 1);
                ends = Ints(n, i, 2);
                axes = OptionalInts(i, 3);
                steps = OptionalInts(i, 4);
            }
            axes ??= [.. Enumerable.Range(0, starts.Length).Select(a => (long)a)];
            if (ends.Length != starts.Length || axes.Length != starts.Length || steps is not null && steps.Length != starts.Length)
                throw n.Invalid("starts, ends, axes and steps differ in length");
            return Move(x, t =>
            {
                for (int k = 0; k < starts.Length; k++)
                {
                    int axis = OnnxShapes.Axis(axes[k], t.Rank, n.Label);
                    long step = steps?[k] ?? 1;
                    if (step == 0) throw n.Invalid("a step is 0");
                    t = SliceAxis(t, axis, starts[k], ends[k], step);
                }
                return t;
            });
        });
        Add("Gather", (n, i, c) =>
        {
            OnnxValue x = Required(n, i, 0), index = Required(n, i, 1);
            int axis = OnnxShapes.Axis(n.Int("axis", 0), x.Rank, n.Label);
            Tensor indices = Indices(n, index, x.Shape[axis], axis);
            if (index.Rank == 0)
            {
                // A scalar index removes the axis.
                Tensor one = indices.Reshape(1);
                return Move(x, t => t.IndexSelect(axis, one).Reshape([.. t.Shape[..axis], .. t.Shape[(axis + 1)..]]));
            }
            return Move(x, t => t.IndexSelect(axis, indices));
        });
        Add("Expand", (n, i, c) =>
        {
            OnnxValue x = Required(n, i, 0);
            int[] target = ToInts(Ints(n, i, 1), n, "dimension");
            int[] shape = OnnxShapes.Broadcast(x.Shape, target, n.Label);
            if (OnnxShapes.Count(shape) > OnnxTensorReader.MaxComputedElements) throw n.Invalid($"shape {OnnxShapes.Format(shape)} is too large");
            return Move(x, t => t.Reshape([.. Enumerable.Repeat(1, shape.Length - t.Rank), .. t.Shape]).Expand(shape).Contiguous());
        });
        Add("Tile", (n, i, c) =>
        {
            OnnxValue x = Required(n, i, 0);
            long[] repeats = Ints(n, i, 1);
            if (repeats.Length != x.Rank) throw n.Invalid($"{repeats.Length} repeats for rank {x.Rank}");
            return Move(x, t =>
            {
                for (int d = 0; d < repeats.Length; d++)
                {
                    if (repeats[d] < 0 || repeats[d] * t.Shape[d] > OnnxTensorReader.MaxComputedElements) throw n.Invalid($"repeat {repeats[d]} is not allowed");
                    if (repeats[d] != 1) t = Tensor.Concat(Enumerable.Repeat(t, (int)repeats[d]).ToList(), d);
                }
                return t;
            });
        });
        Add("Pad", Pad);

        Reduce("ReduceSum", (t, axes) => t.Sum(axes, true));
        Reduce("ReduceMean", (t, axes) => t.Mean(axes, true));
        Reduce("ReduceMax", (t, axes) => t.Max(axes, true));
        Reduce("ReduceMin", (t, axes) => t.Min(axes, true));
        Reduce("ReduceSumSquare", (t, axes) => Tensor.Mul(t, t).Sum(axes, true));
        Reduce("ReduceL1", (t, axes) => t.Abs().Sum(axes, true));
        Reduce("ReduceL2", (t, axes) => Tensor.Mul(t, t).Sum(axes, true).Sqrt());
        Reduce("ReduceLogSum", (t, axes) => t.Sum(axes, true).Log());
        Reduce("ReduceLogSumExp", (t, axes) =>
        {
            Tensor m = t.Detach().Max(axes, true);
            return (t - m).Exp().Sum(axes, true).Log() + m;
        });
        Arg("ArgMax", max: true);
        Arg("ArgMin", max: false);
        Add("MatMul", (n, i, c) => F(Tensor.MatMul(T(n, i, 0), T(n, i, 1))));
        Add("Gemm", (n, i, c) =>
        {
            Tensor a = T(n, i, 0), b = T(n, i, 1);
            if (a.Rank != 2 || b.Rank != 2) throw n.Invalid($"A {a.ShapeString} and B {b.ShapeString} must be matrices");
            if (n.Int("transA", 0) != 0) a = a.Transpose(0, 1);
            if (n.Int("transB", 0) != 0) b = b.Transpose(0, 1);
            float alpha = n.Float("alpha", 1f), beta = n.Float("beta", 1f);
            Tensor y = Tensor.MatMul(a, b);
            if (alpha != 1f) y = y * alpha;
            if (OptionalT(i, 2) is { } bias) y = y + (beta == 1f ? bias : bias * beta);
            return F(y);
        });
        Add("Einsum", (n, i, c) =>
        {
            string equation = n.String("equation", "").Replace(" ", "", StringComparison.Ordinal);
            if (!equation.Contains("->", StringComparison.Ordinal)) throw n.Unsupported("an equation without an explicit output ('->')");
            if (equation.Contains("...", StringComparison.Ordinal)) throw n.Unsupported("an equation with an ellipsis");
            return F(Tensor.Einsum(equation, [.. i.Select((_, k) => T(n, i, k))]));
        });
    }

    private static long Normalize(long axis, int rank) => axis < 0 ? axis + rank : axis;

    /// <summary>Applies a data-movement op to a value; static integers move as their positions, so every value is exact.</summary>
    private static OnnxValue Move(OnnxValue x, Func<Tensor, Tensor> op) => MoveMany([x], ts => op(ts[0]));

    private static OnnxValue MoveMany(IReadOnlyList<OnnxValue> xs, Func<IReadOnlyList<Tensor>, Tensor> op)
    {
        if (xs.All(v => v.Ints is not null))
        {
            var data = new List<long>();
            var positions = new List<Tensor>();
            foreach (var v in xs)
            {
                var p = new float[v.Ints!.Length];
                for (int k = 0; k < p.Length; k++) p[k] = data.Count + k;
                data.AddRange(v.Ints);
                positions.Add(Tensor.FromArray(p, v.Shape));
            }
            if (data.Count > 1 << 24) throw new NotSupportedException("Static integer data of more than 2^24 elements.");
            Tensor moved = op(positions);
            float[] pos = moved.ToArray();
            var r = new long[pos.Length];
            for (int k = 0; k < r.Length; k++) r[k] = data[(int)pos[k]];
            return OnnxValue.Static(r, moved.Shape.ToArray(), xs[0].ElementType);
        }
        Tensor result = op([.. xs.Select(v => v.AsTensor())]);
        return xs[0].ElementType == OnnxTypes.Float ? F(result) : OnnxValue.Typed(result, xs[0].ElementType);
    }

    /// <summary>NumPy slicing of one axis: start and end clamped, any non-zero step.</summary>
    private static Tensor SliceAxis(Tensor t, int axis, long start, long end, long step)
    {
        long dim = t.Shape[axis];
        if (start < 0) start += dim;
        if (end < 0) end += dim;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, dim);
            end = Math.Clamp(end, 0, dim);
            if (end <= start) return t.Slice(axis, 0, 0);
            if (start == 0 && end == dim && step == 1) return t;
            return t.Slice(axis, (int)start, (int)end, (int)Math.Min(step, dim));
        }
        start = Math.Clamp(start, -1, dim - 1);
        end = Math.Clamp(end, -1, dim - 1);
        var idx = new List<float>();
        for (long k = start; k > end; k += step) idx.Add(k);
        return t.IndexSelect(axis, Tensor.FromArray([.. idx], idx.Count));
    }

    private static OnnxValue?[] Split(OnnxNode n, OnnxValue?[] i, OnnxContext c)
    {
        OnnxValue x = Required(n, i, 0);
        int axis = OnnxShapes.Axis(n.Int("axis", 0), x.Rank, n.Label);
        int dim = x.Shape[axis], outputs = n.Outputs.Count;
        long[]? sizes = c.Opset < 13 ? n.Ints("split") : OptionalInts(i, 1);
        if (sizes is null)
        {
            int parts = n.Has("num_outputs") ? (int)n.Int("num_outputs", outputs) : outputs;
            int each = (dim + parts - 1) / Math.Max(parts, 1);
            sizes = [.. Enumerable.Range(0, parts).Select(k => (long)Math.Max(0, Math.Min(each, dim - k * each)))];
        }
        if (sizes.Sum() != dim || sizes.Length != outputs) throw n.Invalid($"split sizes [{string.Join(", ", sizes)}] do not divide axis {axis} of size {dim} into {outputs} outputs");
        var results = new OnnxValue?[outputs];
        int at = 0;
        for (int k = 0; k < outputs; k++)
        {
            int from = at, size = (int)sizes[k];
            results[k] = Move(x, t => t.Slice(axis, from, from + size));
            at += size;
        }
        return results;
    }

    private static OnnxValue Pad(OnnxNode n, OnnxValue?[] i, OnnxContext c)
    {
        OnnxValue xv = Required(n, i, 0);
        string mode = n.String("mode", "constant");
        long[] pads;
        float value;
        long[]? axes = null;
        if (c.Opset < 11)
        {
            pads = n.Ints("pads") ?? n.Ints("paddings") ?? throw n.Invalid("pads are missing");
            value = n.Float("value", 0f);
        }
        else
        {
            pads = Ints(n, i, 1);
            value = i.Length > 2 && i[2] is { } v ? Scalar(v) : 0f;
            axes = OptionalInts(i, 3);
        }
        int rank = xv.Rank;
        int[] axisList = axes is null ? [.. Enumerable.Range(0, rank)] : [.. axes.Select(a => OnnxShapes.Axis(a, rank, n.Label))];
        if (pads.Length != 2 * axisList.Length) throw n.Invalid($"{pads.Length} pads for {axisList.Length} axes");
        if (mode is not ("constant" or "reflect" or "edge")) throw n.Unsupported($"mode '{mode}'");
        return Move(xv, t =>
        {
            for (int k = 0; k < axisList.Length; k++)
            {
                int axis = axisList[k];
                long before = pads[k], after = pads[k + axisList.Length];
                if (before == 0 && after == 0) continue;
                int dim = t.Shape[axis];
                if (before < 0 || after < 0)
                {
                    t = t.Slice(axis, (int)Math.Max(0, -before), (int)Math.Max(dim - Math.Max(0, -after), Math.Max(0, -before)));
                    before = Math.Max(0, before);
                    after = Math.Max(0, after);
                    dim = t.Shape[axis];
                }
                if (before + after > OnnxTensorReader.MaxComputedElements) throw n.Invalid("pads are too large");
                if (mode == "constant")
                {
                    t = t.Pad(axis, (int)before, (int)after, value);
                    continue;
                }
                if (dim == 0 || mode == "reflect" && (dim < 2 || before >= dim || after >= dim)) throw n.Invalid($"cannot {mode}-pad an axis of size {dim} by ({before}, {after})");
                var idx = new float[dim + before + after];
                for (long p = -before; p < dim + after; p++)
                {
                    long s = p;
                    if (mode == "edge") s = Math.Clamp(p, 0, dim - 1);
                    else if (p < 0) s = -p;
                    else if (p >= dim) s = 2 * (dim - 1) - p;
                    idx[p + before] = s;
                }
                t = t.IndexSelect(axis, Tensor.FromArray(idx, idx.Length));
            }
            return t;
        });
    }

    private static void Reduce(string name, Func<Tensor, int[], Tensor> reduce) => Add(name, (n, i, c) =>
    {
        Tensor x = T(n, i, 0);
        bool axesAsInput = name == "ReduceSum" ? c.Opset >= 13 : c.Opset >= 18;
        long[]? axes = axesAsInput ? OptionalInts(i, 1) : n.Ints("axes");
        bool keep = n.Int("keepdims", 1) != 0;
        if (axes is null || axes.Length == 0)
        {
            if (n.Int("noop_with_empty_axes", 0) != 0) return F(x);
            axes = [.. Enumerable.Range(0, x.Rank).Select(a => (long)a)];
        }
        int[] ax = [.. axes.Select(a => OnnxShapes.Axis(a, x.Rank, n.Label)).Distinct().Order()];
        Tensor y = x.Rank == 0 ? x : reduce(x, ax);
        if (!keep) y = y.Reshape([.. y.Shape.ToArray().Where((_, d) => !ax.Contains(d))]);
        return F(y);
    });

    private static void Arg(string name, bool max) => Add(name, (n, i, c) =>
    {
        Tensor x = T(n, i, 0).Detach();
        int axis = OnnxShapes.Axis(n.Int("axis", 0), x.Rank, n.Label);
        bool keep = n.Int("keepdims", 1) != 0;
        Tensor r;
        if (n.Int("select_last_index", 0) != 0)
        {
            int dim = x.Shape[axis];
            Tensor flipped = SliceAxis(x, axis, dim - 1, long.MinValue, -1);
            Tensor idx = max ? flipped.ArgMax(axis, keep) : flipped.ArgMin(axis, keep);
            r = (idx * -1f) + (dim - 1);
        }
        else r = max ? x.ArgMax(axis, keep) : x.ArgMin(axis, keep);
        return OnnxValue.Static([.. r.ToArray().Select(v => (long)v)], r.Shape.ToArray());
    });

    private static OnnxValue Constant(OnnxNode n)
    {
        if (n.TensorAttribute("value") is { } t) return OnnxTensorReader.Read(t, n.Label);
        if (n.Has("value_float")) return F(Tensor.Scalar(n.Float("value_float", 0)));
        if (n.Floats("value_floats") is { } fs) return F(Tensor.FromArray(fs, fs.Length));
        if (n.Has("value_int")) return OnnxValue.Scalar(n.Int("value_int", 0));
        if (n.Ints("value_ints") is { } ints) return OnnxValue.Vector(ints);
        throw n.Unsupported("a Constant without a tensor, float or int value");
    }
}
