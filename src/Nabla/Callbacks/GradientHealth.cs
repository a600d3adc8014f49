using Nabla.Layers;

namespace Nabla.Callbacks;

/// <summary>One measurement of one layer: the gradient norm and the update-to-weight ratio.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Batch">1-based batch within the epoch.</param>
/// <param name="Layer">The layer's display name.</param>
/// <param name="GradientNorm">L2 norm of all the layer's parameter gradients.</param>
/// <param name="UpdateRatio">||weights after - weights before|| / ||weights before|| for the step.</param>
public sealed record GradientSample(int Epoch, int Batch, string Layer, double GradientNorm, double UpdateRatio);

/// <summary>
/// Opt-in gradient-health recording for <c>Fit</c>: every <see cref="Every"/> batches it measures,
/// per layer, the gradient norm and the update-to-weight ratio (healthy training sits near
/// 1e-3), and warns when gradients vanish (the smallest layer norm below
/// <see cref="VanishingRatio"/> of the largest) or explode (a norm above
/// <see cref="ExplodingNorm"/>, or not finite). <see cref="WriteSvg"/> draws the norms over time.
/// </summary>
public sealed class GradientHealth(int every = 10, double vanishingRatio = 1e-4, double explodingNorm = 1e3, TextWriter? warnings = null) : Callback
{
    /// <inheritdoc/>
    public override bool RunsOnEveryRank => false;

    private readonly List<GradientSample> _samples = [];
    private readonly List<string> _warnings = [];
    private readonly HashSet<string> _warned = [];
    private float[][]? _before;
    private int _epoch;

    /// <summary>Measure every this many batches (the first batch of each epoch is always measured).</summary>
    public int Every { get; } = Math.Max(every, 1);

    /// <summary>Vanishing when min/max of the layers' gradient norms falls below this.</summary>
    public double VanishingRatio { get; } = vanishingRatio;

    /// <summary>Exploding when a layer's gradient norm exceeds this.</summary>
    public double ExplodingNorm { get; } = explodingNorm;

    /// <summary>Everything measured, in order.</summary>
    public IReadOnlyList<GradientSample> Samples => _samples;

    /// <summary>The warnings raised (each kind once per layer), also written to the writer given.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    private IEnumerable<(Layer Layer, Parameter[] Parameters)> TrainableLayers() =>
        Model!.Layers.Select(l => (l, l.Parameters().Where(p => p.Trainable).ToArray())).Where(x => x.Item2.Length > 0);

    /// <inheritdoc/>
    public override void OnTrainBegin()
    {
        _samples.Clear();
        _warnings.Clear();
        _warned.Clear();
    }

    /// <inheritdoc/>
    public override void OnEpochBegin(int epoch) => _epoch = epoch;

    private bool Measured(int batch) => batch == 1 || batch % Every == 0;

    /// <inheritdoc/>
    public override void OnBatchBegin(int batch)
    {
        _before = Measured(batch) ? TrainableLayers().SelectMany(x => x.Parameters).Select(p => p.Value.ToArray()).ToArray() : null;
    }

    /// <inheritdoc/>
    public override void OnBatchEnd(int batch, IReadOnlyDictionary<string, float> logs)
    {
        if (_before is null) return;
        int k = 0;
        var norms = new List<(string Layer, double Norm)>();
        foreach (var (layer, parameters) in TrainableLayers())
        {
            double grad = 0, delta = 0, weight = 0;
            foreach (var p in parameters)
            {
                if (p.Grad is { } g) grad += System.Numerics.Tensors.TensorPrimitives.SumOfSquares(g.Data);
                float[] before = _before[k++];
                ReadOnlySpan<float> after = p.Value.Data;
                for (int i = 0; i < before.Length; i++)
                {
                    double d = after[i] - (double)before[i];
                    delta += d * d;
                    weight += (double)before[i] * before[i];
                }
            }
            string name = layer.Name ?? layer.TypeName;
            double norm = Math.Sqrt(grad);
            _samples.Add(new GradientSample(_epoch, batch, name, norm, weight == 0 ? double.NaN : Math.Sqrt(delta / weight)));
            norms.Add((name, norm));
        }
        _before = null;
        Check(norms, batch);
    }

    private void Check(List<(string Layer, double Norm)> norms, int batch)
    {
        if (norms.Count == 0) return;
        var largest = norms.MaxBy(n => n.Norm);
        foreach (var (layer, norm) in norms)
        {
            if (!double.IsFinite(norm) || norm > ExplodingNorm)
                Warn($"exploding:{layer}", $"Exploding gradients at epoch {_epoch}, batch {batch}: layer {layer} has gradient norm {norm:G3} (limit {ExplodingNorm:G3}). Lower the learning rate, clip gradients (ClipNorm) or add normalization.");
            else if (norms.Count > 1 && largest.Norm > 0 && norm / largest.Norm < VanishingRatio)
                Warn($"vanishing:{layer}", $"Vanishing gradients at epoch {_epoch}, batch {batch}: layer {layer} has gradient norm {norm:G3}, {norm / largest.Norm:G2} of the largest ({largest.Layer}, {largest.Norm:G3}). Use ReLU-family activations with He initialization, normalization layers, or a shallower network.");
        }
    }

    private void Warn(string key, string message)
    {
        if (!_warned.Add(key)) return;
        _warnings.Add(message);
        warnings?.WriteLine(message);
    }

    /// <summary>Writes a line chart (SVG) of each layer's gradient norm, log scale, over the measured steps.</summary>
    public void WriteSvg(string path)
    {
        var steps = _samples.Select(s => (s.Epoch, s.Batch)).Distinct().ToList();
        var series = _samples.Select(s => s.Layer).Distinct().Select(layer => new IO.ChartSeries(layer,
            steps.Select(st => _samples.FirstOrDefault(s => s.Layer == layer && (s.Epoch, s.Batch) == st)?.GradientNorm ?? double.NaN).ToList())).ToList();
        IO.SvgChart.Write(path, "Gradient norm per layer", $"measured step (every {Every} batches)", "gradient norm", series, logY: true);
    }
}
