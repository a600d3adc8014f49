using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// Standardises inputs feature by feature along <see cref="Axis"/> (1: the channels of images
/// [N, C, H, W]; -1: the last): (x - mean) / sqrt(variance), with the statistics given or learnt
/// from data by <see cref="Adapt"/> (Keras's Normalization). The statistics are buffers: saved,
/// never trained.
/// </summary>
public sealed class Normalization : Layer
{
    private readonly float[]? _mean, _variance;
    private Tensor? _meanBuffer, _varianceBuffer;

    /// <summary>Creates the layer with known per-feature <paramref name="mean"/> and <paramref name="variance"/>, or none yet (call <see cref="Adapt"/>).</summary>
    public Normalization(int axis = 1, float[]? mean = null, float[]? variance = null, string? name = null) : base(name)
    {
        if ((mean is null) != (variance is null) || mean is not null && mean.Length != variance!.Length)
            throw new ArgumentException("Normalization: give both mean and variance, of one length, or neither (and call Adapt).");
        if (variance is not null && variance.Any(v => !(v >= 0))) throw new ArgumentException("Normalization: variances must be non-negative.", nameof(variance));
        Axis = axis;
        (_mean, _variance) = (mean, variance);
    }

    /// <summary>The feature axis (negative counts from the end).</summary>
    public int Axis { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var json = new JsonObject { ["axis"] = Axis };
        if (_meanBuffer is not null)
        {
            json["mean"] = new JsonArray([.. _meanBuffer.ToArray().Select(v => (JsonNode?)v)]);
            json["variance"] = new JsonArray([.. _varianceBuffer!.ToArray().Select(v => (JsonNode?)v)]);
        }
        return json;
    }

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Normalization FromConfig(ConfigReader c) => new(c.Int("axis", 1), c.Has("mean") ? c.Floats("mean") : null, c.Has("variance") ? c.Floats("variance") : null);

    /// <summary>Learns the mean and variance of every feature from <paramref name="data"/> (a batch of samples, batch first).</summary>
    public void Adapt(Tensor data)
    {
        ArgumentNullException.ThrowIfNull(data);
        int axis = FeatureAxis(data.Rank);
        int[] others = [.. Enumerable.Range(0, data.Rank).Where(d => d != axis)];
        using var noGrad = Tensor.NoGrad();
        float[] mean = data.Mean(others).ToArray(), variance = data.Var(others, correction: 0).ToArray();
        if (!IsBuilt) EnsureBuilt(data.Shape[1..]);
        if (_meanBuffer!.Size != mean.Length) throw new ArgumentException($"{Label}: data {data.ShapeString} has {mean.Length} features along axis {Axis}, the layer {_meanBuffer.Size}.");
        _meanBuffer.CopyFrom(Tensor.FromArray(mean));
        _varianceBuffer!.CopyFrom(Tensor.FromArray(variance));
    }

    private int FeatureAxis(int rank)
    {
        int axis = Axis < 0 ? Axis + rank : Axis;
        if (axis < 1 || axis >= rank) throw new ArgumentException($"{Label}: axis {Axis} is not a feature axis of inputs of rank {rank} (the batch is axis 0).");
        return axis;
    }

    /// <inheritdoc/>
    protected override void Build(ReadOnlySpan<int> inputShape)
    {
        int features = inputShape[FeatureAxis(inputShape.Length + 1) - 1];
        if (_mean is not null && _mean.Length != features)
            throw new ArgumentException($"{Label}: {_mean.Length} means for {features} features along axis {Axis}.");
        _meanBuffer = AddBuffer("mean", _mean is null ? Tensor.Zeros(features) : Tensor.FromArray(_mean));
        _varianceBuffer = AddBuffer("variance", _variance is null ? Tensor.Ones(features) : Tensor.FromArray(_variance));
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        int axis = FeatureAxis(input.Rank);
        int[] shape = [.. Enumerable.Range(0, input.Rank).Select(d => d == axis ? input.Shape[axis] : 1)];
        Tensor scale = (_varianceBuffer! + 1e-7f).Sqrt().Reshape(shape);
        return Tensor.Div(input - _meanBuffer!.Reshape(shape), scale);
    }
}
