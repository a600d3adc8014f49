using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// A layer of several inputs (Keras's merge layers), used in functional models:
/// <c>new Add().Apply(x, shortcut)</c>. The inputs are checked when the layer is first called;
/// it has no weights of its own.
/// </summary>
public abstract class Merge : Layer
{
    /// <summary>Creates a merge layer with an optional display name.</summary>
    protected Merge(string? name) : base(name)
    {
    }

    /// <summary>The fewest inputs the layer takes (2).</summary>
    protected virtual int MinInputs => 2;

    /// <summary>The most inputs the layer takes.</summary>
    protected virtual int MaxInputs => int.MaxValue;

    /// <summary>Combines the inputs, already checked by <see cref="CheckShapes"/>.</summary>
    protected abstract Tensor Combine(IReadOnlyList<Tensor> inputs);

    /// <summary>Throws unless the inputs' shapes can be combined; by default they must be equal.</summary>
    protected virtual void CheckShapes(IReadOnlyList<Tensor> inputs)
    {
        for (int i = 1; i < inputs.Count; i++)
        {
            if (!Shapes.Equal(inputs[i].Shape, inputs[0].Shape))
                throw new ArgumentException($"{Label} needs inputs of one shape, but got {string.Join(" and ", inputs.Select(t => t.ShapeString))}.");
        }
    }

    /// <inheritdoc/>
    protected sealed override Tensor Call(Tensor input) =>
        throw new ArgumentException($"{Label} merges {MinInputs} or more inputs; call it on a list of them (Apply(a, b) in a functional model).");

    /// <inheritdoc/>
    public sealed override Tensor Forward(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?>? masks = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count < MinInputs || inputs.Count > MaxInputs)
            throw new ArgumentException($"{Label} takes {(MinInputs == MaxInputs ? $"{MinInputs}" : $"at least {MinInputs}")} inputs, got {inputs.Count}.");
        foreach (var t in inputs)
        {
            ArgumentNullException.ThrowIfNull(t);
            if (t.Rank == 0 || t.Shape[0] != inputs[0].Shape[0])
                throw new ArgumentException($"{Label} needs inputs with one batch size, got {string.Join(" and ", inputs.Select(x => x.ShapeString))}.");
        }
        CheckShapes(inputs);
        EnsureBuilt(inputs[0].Shape[1..]);
        return Combine(inputs);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new();
}

/// <summary>The sum of its inputs (a residual connection: <c>new Add().Apply(x, shortcut)</c>).</summary>
public sealed class Add(string? name = null) : Merge(name)
{
    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Add FromConfig(ConfigReader c) => new();

    /// <inheritdoc/>
    protected override Tensor Combine(IReadOnlyList<Tensor> inputs)
    {
        Tensor sum = inputs[0];
        for (int i = 1; i < inputs.Count; i++) sum += inputs[i];
        return sum;
    }
}

/// <summary>The first input minus the second.</summary>
public sealed class Subtract(string? name = null) : Merge(name)
{
    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Subtract FromConfig(ConfigReader c) => new();

    /// <inheritdoc/>
    protected override int MaxInputs => 2;

    /// <inheritdoc/>
    protected override Tensor Combine(IReadOnlyList<Tensor> inputs) => inputs[0] - inputs[1];
}

/// <summary>The elementwise product of its inputs.</summary>
public sealed class Multiply(string? name = null) : Merge(name)
{
    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Multiply FromConfig(ConfigReader c) => new();

    /// <inheritdoc/>
    protected override Tensor Combine(IReadOnlyList<Tensor> inputs)
    {
        Tensor product = inputs[0];
        for (int i = 1; i < inputs.Count; i++) product *= inputs[i];
        return product;
    }
}

/// <summary>The elementwise mean of its inputs.</summary>
public sealed class Average(string? name = null) : Merge(name)
{
    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Average FromConfig(ConfigReader c) => new();

    /// <inheritdoc/>
    protected override Tensor Combine(IReadOnlyList<Tensor> inputs)
    {
        Tensor sum = inputs[0];
        for (int i = 1; i < inputs.Count; i++) sum += inputs[i];
        return sum * (1f / inputs.Count);
    }
}

/// <summary>The elementwise maximum of its inputs (the gradient goes to the larger; to the first on ties).</summary>
public sealed class Maximum(string? name = null) : Merge(name)
{
    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Maximum FromConfig(ConfigReader c) => new();

    /// <inheritdoc/>
    protected override Tensor Combine(IReadOnlyList<Tensor> inputs)
    {
        Tensor max = inputs[0];
        for (int i = 1; i < inputs.Count; i++) max = Tensor.Where(inputs[i].Gt(max), inputs[i], max);
        return max;
    }
}

/// <summary>
/// Joins its inputs along <see cref="Axis"/> (Keras's numbering: the batch is axis 0; -1, the
/// default, is the last); every other dimension must agree.
/// </summary>
public sealed class Concatenate : Merge
{
    /// <summary>Concatenates along <paramref name="axis"/> (not the batch axis).</summary>
    public Concatenate(int axis = -1, string? name = null) : base(name)
    {
        if (axis == 0) throw new ArgumentOutOfRangeException(nameof(axis), "Concatenate cannot join along the batch axis 0.");
        Axis = axis;
    }

    /// <summary>The axis joined along, counting the batch as 0.</summary>
    public int Axis { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["axis"] = Axis };

    /// <summary>Rebuilds a layer from its <see cref="GetConfig"/>.</summary>
    public static Concatenate FromConfig(ConfigReader c) => new(c.Int("axis", -1));

    private int ResolvedAxis(int rank) => Axis < 0 ? Axis + rank : Axis;

    /// <inheritdoc/>
    protected override void CheckShapes(IReadOnlyList<Tensor> inputs)
    {
        int rank = inputs[0].Rank, axis = ResolvedAxis(rank);
        bool ok = axis >= 1 && axis < rank;
        foreach (var t in inputs)
        {
            if (t.Rank != rank) { ok = false; break; }
            for (int d = 0; d < rank; d++) ok &= d == axis || t.Shape[d] == inputs[0].Shape[d];
        }
        if (!ok)
            throw new ArgumentException($"{Label} joins along axis {Axis}, so every other dimension must agree, but got {string.Join(" and ", inputs.Select(t => t.ShapeString))}.");
    }

    /// <inheritdoc/>
    protected override Tensor Combine(IReadOnlyList<Tensor> inputs) => Tensor.Concat(inputs, ResolvedAxis(inputs[0].Rank));
}

/// <summary>
/// The dot product of two inputs along <see cref="Axes"/> (Keras's numbering, batch = 0): for
/// [N, d] and [N, d] with axes 1 the result is [N, 1]; for [N, a, d] and [N, b, d] with axes 2,
/// [N, a, b]. With <see cref="Normalize"/> the inputs are first scaled to unit L2 norm along
/// those axes, so the result is the cosine similarity (as in a two-tower recommender).
/// </summary>
public sealed class Dot : Merge
{
    /// <summary>Dots along <paramref name="axes"/> of both inputs (1 or 2, or negative from the end).</summary>
    public Dot(int axes = -1, bool normalize = false, string? name = null) : base(name)
    {
        if (axes == 0) throw new ArgumentOutOfRangeException(nameof(axes), "Dot cannot contract the batch axis 0.");
        Axes = axes;
        Normalize = normalize;
    }

    /// <summary>The contracted axis of both inputs, counting the batch as 0.</summary>
    public int Axes { get; }

    /// <summary>Whether the inputs are L2-normalised first (cosine similarity).</summary>
    public bool Normalize { get; }

    /// <inheritdoc/>
    protected override int MaxInputs => 2;

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["axes"] = Axes, ["normalize"] = Normalize };

    /// <summary>Rebuilds a layer from its <see cref="GetConfig"/>.</summary>
    public static Dot FromConfig(ConfigReader c) => new(c.Int("axes", -1), c.Bool("normalize", false));

    /// <inheritdoc/>
    protected override void CheckShapes(IReadOnlyList<Tensor> inputs)
    {
        Tensor a = inputs[0], b = inputs[1];
        bool ok = a.Rank == b.Rank && a.Rank is 2 or 3;
        if (ok)
        {
            int axis = Axes < 0 ? Axes + a.Rank : Axes;
            ok = axis >= 1 && axis < a.Rank && a.Shape[axis] == b.Shape[axis];
        }
        if (!ok)
            throw new ArgumentException($"{Label} contracts axis {Axes} of two inputs [N, d] or [N, t, d] of the same rank and size on that axis, but got {a.ShapeString} and {b.ShapeString}.");
    }

    /// <inheritdoc/>
    protected override Tensor Combine(IReadOnlyList<Tensor> inputs)
    {
        Tensor a = inputs[0], b = inputs[1];
        int axis = Axes < 0 ? Axes + a.Rank : Axes;
        if (Normalize)
        {
            a /= (a * a).Sum(axis, keepDim: true).Clamp(min: 1e-12f).Sqrt();
            b /= (b * b).Sum(axis, keepDim: true).Clamp(min: 1e-12f).Sqrt();
        }
        if (a.Rank == 2) return (a * b).Sum(1, keepDim: true);
        // [N, t, d] . [N, u, d] over d gives [N, t, u]; over t, [N, d, e].
        return axis == 2 ? a.MatMul(b.Transpose(1, 2)) : a.Transpose(1, 2).MatMul(b);
    }
}
