using System.Text.Json.Nodes;
using Nabla.Initializers;

namespace Nabla.Layers;

/// <summary>
/// Normalises each channel (axis 1, channels-first as PyTorch: [N, C] or [N, C, ...]) with the
/// batch's mean and variance in training, and with running averages in evaluation, then scales
/// and shifts: <c>y = (x - mean) / sqrt(var + epsilon) * weight + bias</c>. Running averages follow
/// Keras's momentum: <c>running = momentum * running + (1 - momentum) * batch</c>. Names and
/// buffers as PyTorch's BatchNorm: weight, bias, running_mean, running_var, num_batches_tracked.
/// </summary>
public sealed class BatchNormalization : Layer
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["momentum"] = Momentum, ["epsilon"] = Epsilon };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static BatchNormalization FromConfig(ConfigReader c) => new(c.Float("momentum", 0.99f), c.Float("epsilon", 1e-3f));

    /// <summary>Creates a batch-normalization layer.</summary>
    /// <param name="momentum">Weight of the old running value (Keras's default 0.99; PyTorch's momentum 0.1 is 0.9 here).</param>
    /// <param name="epsilon">Added to the variance (Keras's default 1e-3; PyTorch's is 1e-5).</param>
    /// <param name="name">Display name.</param>
    public BatchNormalization(float momentum = 0.99f, float epsilon = 1e-3f, string? name = null) : base(name)
    {
        if (!(momentum >= 0f && momentum <= 1f)) throw new ArgumentOutOfRangeException(nameof(momentum), $"BatchNormalization momentum must be in [0, 1], not {momentum}.");
        if (!(epsilon > 0f)) throw new ArgumentOutOfRangeException(nameof(epsilon), $"BatchNormalization epsilon must be positive, not {epsilon}.");
        Momentum = momentum;
        Epsilon = epsilon;
    }

    /// <summary>Weight of the old value in the running averages.</summary>
    public float Momentum { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public float Epsilon { get; }

    /// <summary>Scale per channel (gamma).</summary>
    public Parameter? Weight { get; private set; }

    /// <summary>Shift per channel (beta).</summary>
    public Parameter? Bias { get; private set; }

    /// <summary>Running mean per channel.</summary>
    public Tensor? RunningMean { get; private set; }

    /// <summary>Running (unbiased) variance per channel.</summary>
    public Tensor? RunningVar { get; private set; }

    private Tensor? _batchesTracked;

    /// <inheritdoc/>
    protected override void Build(ReadOnlySpan<int> inputShape)
    {
        if (inputShape.Length == 0) throw new ArgumentException($"{Label} needs inputs [N, C] or [N, C, ...], got shape [batch].");
        int c = inputShape[0];
        Weight = AddParameter("weight", new Ones().Create([c], Generator.Default));
        Bias = AddParameter("bias", new Zeros().Create([c], Generator.Default));
        RunningMean = AddBuffer("running_mean", Tensor.Zeros(c));
        RunningVar = AddBuffer("running_var", Tensor.Ones(c));
        _batchesTracked = AddBuffer("num_batches_tracked", Tensor.Scalar(0f));
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        int c = Weight!.Shape[0];
        if (input.Rank < 2 || input.Shape[1] != c)
            throw new ArgumentException($"{Label} was built for {c} channels on axis 1, but got input of shape {input.ShapeString}.");
        int[] bshape = [1, c, .. Enumerable.Repeat(1, input.Rank - 2)];
        Tensor mean, variance;
        if (IsTraining)
        {
            int count = input.Size / c;
            if (count < 2) throw new ArgumentException($"{Label} needs more than one value per channel in training, got input of shape {input.ShapeString}.");
            (Tensor output, Tensor batchMean, Tensor batchVariance) = Tensor.BatchNorm(input, Weight.Value, Bias!.Value, Epsilon);
            using (Tensor.NoGrad())
            {
                Tensor unbiased = batchVariance * (count / (float)(count - 1));
                RunningMean!.CopyFrom(RunningMean * Momentum + batchMean * (1f - Momentum));
                RunningVar!.CopyFrom(RunningVar * Momentum + unbiased * (1f - Momentum));
                _batchesTracked!.AddInPlace(Tensor.Scalar(1f));
            }
            return output;
        }
        else
        {
            mean = RunningMean!.Reshape(bshape);
            variance = RunningVar!.Reshape(bshape);
        }
        Tensor normalized = (input - mean) / (variance + Epsilon).Sqrt();
        return normalized * Weight.Value.Reshape(bshape) + Bias!.Value.Reshape(bshape);
    }
}
