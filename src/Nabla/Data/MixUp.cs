namespace Nabla.Data;

/// <summary>
/// MixUp (Zhang et al., 2018) and CutMix (Yun et al., 2019) over a dataset of images [N, C, H, W]
/// and class labels: each batch is paired with a shuffled copy of itself; MixUp blends the two
/// images by lambda ~ Beta(alpha, alpha), CutMix pastes a box of the partner whose area is
/// 1 - lambda; the targets become the same blend of the two one-hot labels. Train with
/// <c>CategoricalCrossEntropy(fromLogits: true)</c> (soft targets); validate on the plain dataset.
/// Seeded: the same seed gives the same batches.
/// </summary>
public sealed class MixUp : IDataset
{
    private readonly IDataset _inner;
    private readonly Generator _generator;

    /// <summary>Wraps <paramref name="inner"/> (labels in [0, <paramref name="classes"/>)); <paramref name="cutMix"/> pastes boxes instead of blending.</summary>
    public MixUp(IDataset inner, int classes, float alpha = 0.2f, bool cutMix = false, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (classes < 2) throw new ArgumentOutOfRangeException(nameof(classes), $"MixUp needs at least 2 classes, not {classes}.");
        if (!(alpha > 0 && float.IsFinite(alpha))) throw new ArgumentOutOfRangeException(nameof(alpha), $"MixUp: alpha must be positive, not {alpha}.");
        (_inner, Classes, Alpha, CutMix, _generator) = (inner, classes, alpha, cutMix, new Generator(seed));
    }

    /// <summary>The number of classes (the width of the targets).</summary>
    public int Classes { get; }

    /// <summary>The Beta distribution's parameter: small values keep most samples close to one of the pair.</summary>
    public float Alpha { get; }

    /// <summary>True for CutMix (boxes), false for MixUp (blends).</summary>
    public bool CutMix { get; }

    /// <inheritdoc/>
    public int Count => _inner.Count;

    /// <inheritdoc/>
    public DataBatch Batch(ReadOnlySpan<int> indices)
    {
        DataBatch batch = _inner.Batch(indices);
        Tensor x = batch.Inputs[0], labels = batch.Targets[0];
        int n = x.Shape[0];
        if (x.Rank != 4 && CutMix) throw new ArgumentException($"CutMix needs images [N, C, H, W], got {x.ShapeString}.");
        var partner = new int[n];
        for (int i = 0; i < n; i++) partner[i] = i;
        _generator.Shuffle(partner);
        float lambda = (float)Beta(Alpha, Alpha);
        Tensor partnerX = x.IndexSelect(0, Tensor.FromArray([.. partner.Select(p => (float)p)]));
        Tensor mixed;
        if (!CutMix) mixed = x * lambda + partnerX * (1 - lambda);
        else
        {
            int h = x.Shape[2], w = x.Shape[3];
            float side = MathF.Sqrt(1 - lambda);
            int bh = (int)(h * side), bw = (int)(w * side);
            int cy = _generator.NextInt(h), cx = _generator.NextInt(w);
            int top = Math.Clamp(cy - bh / 2, 0, h), bottom = Math.Clamp(cy + bh / 2, 0, h);
            int left = Math.Clamp(cx - bw / 2, 0, w), right = Math.Clamp(cx + bw / 2, 0, w);
            var box = new float[h * w];
            for (int r = top; r < bottom; r++) box.AsSpan(r * w + left, right - left).Fill(1f);
            Tensor mask = Tensor.FromArray(box, 1, 1, h, w);
            mixed = x * (1f - mask) + partnerX * mask;
            // The label weight is the area actually kept after clipping to the image.
            lambda = 1f - (float)(bottom - top) * (right - left) / (h * w);
        }
        float[] y = labels.ToArray();
        var targets = new float[n * Classes];
        for (int i = 0; i < n; i++)
        {
            int a = Label(y[i]), b = Label(y[partner[i]]);
            targets[i * Classes + a] += lambda;
            targets[i * Classes + b] += 1 - lambda;
        }
        return new DataBatch([mixed], [Tensor.FromArray(targets, n, Classes)]);
    }

    private int Label(float value)
    {
        int label = (int)value;
        if (label != value || label < 0 || label >= Classes) throw new ArgumentException($"MixUp: label {value} is not a class in [0, {Classes}).");
        return label;
    }

    /// <summary>Beta(a, b) from two Gamma draws.</summary>
    private double Beta(double a, double b)
    {
        double x = Gamma(a), y = Gamma(b);
        return x + y == 0 ? 0.5 : x / (x + y);
    }

    /// <summary>Gamma(shape, 1) by Marsaglia and Tsang's method (shape below 1 through the boost U^(1/shape)).</summary>
    private double Gamma(double shape)
    {
        if (shape < 1) return Gamma(shape + 1) * Math.Pow(1.0 - _generator.NextDouble(), 1.0 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double z = _generator.NextNormal(), v = 1 + c * z;
            if (v <= 0) continue;
            v = v * v * v;
            double u = 1.0 - _generator.NextDouble();
            if (Math.Log(u) < 0.5 * z * z + d - d * v + d * Math.Log(v)) return d * v;
        }
    }
}
