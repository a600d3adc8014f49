using System.Text.Json.Nodes;
using Nabla.Kernels;

namespace Nabla.Optimizers;

/// <summary>Stochastic gradient descent, with optional momentum and Nesterov momentum (PyTorch's formulas).</summary>
public sealed class SGD : Optimizer
{
    /// <summary>Creates SGD (lr 0.01 as Keras).</summary>
    public SGD(float learningRate = 0.01f, float momentum = 0f, bool nesterov = false, float weightDecay = 0f, IEnumerable<Parameter>? parameters = null)
        : base(learningRate, parameters)
    {
        if (!(momentum >= 0f)) throw new ArgumentOutOfRangeException(nameof(momentum), $"SGD momentum must be >= 0, not {momentum}.");
        if (nesterov && momentum == 0f) throw new ArgumentException("SGD: Nesterov momentum needs a momentum above 0.", nameof(nesterov));
        Momentum = momentum;
        Nesterov = nesterov;
        WeightDecay = weightDecay;
    }

    /// <summary>Momentum factor.</summary>
    public float Momentum { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    protected override void WriteConfig(JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config["momentum"] = Momentum;
        config["nesterov"] = Nesterov;
    }

    /// <summary>Rebuilds an optimizer from its <see cref="Optimizer.GetConfig"/> (state aside).</summary>
    public static SGD FromConfig(ConfigReader c) => new(c.Float("learning_rate", 0.01f), c.Float("momentum", 0f), c.Bool("nesterov", false), c.Float("weight_decay", 0f));

    /// <inheritdoc/>
    protected override int StateSlots => Momentum == 0f ? 0 : 1;

    /// <inheritdoc/>
    protected override void Update(Span<float> parameter, ReadOnlySpan<float> gradient, float[][] state, float learningRate, int step) =>
        OptimizerUpdates.Sgd(parameter, gradient, Momentum == 0f ? default : state[0], learningRate, Momentum, Nesterov, WeightDecay, firstStep: step == 1);
}

/// <summary>Adam (Kingma and Ba), with bias correction; weight decay as an L2 term in the gradient.</summary>
public class Adam : Optimizer
{
    /// <summary>Creates Adam (lr 0.001, betas 0.9 / 0.999, epsilon 1e-8 as PyTorch).</summary>
    public Adam(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f, IEnumerable<Parameter>? parameters = null)
        : base(learningRate, parameters)
    {
        if (!(beta1 >= 0f && beta1 < 1f)) throw new ArgumentOutOfRangeException(nameof(beta1), $"Adam beta1 must be in [0, 1), not {beta1}.");
        if (!(beta2 >= 0f && beta2 < 1f)) throw new ArgumentOutOfRangeException(nameof(beta2), $"Adam beta2 must be in [0, 1), not {beta2}.");
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
    }

    /// <summary>Decay of the first-moment average.</summary>
    public float Beta1 { get; }

    /// <summary>Decay of the second-moment average.</summary>
    public float Beta2 { get; }

    /// <summary>Added to the denominator.</summary>
    public float Epsilon { get; }

    /// <summary>Whether weight decay is decoupled from the gradient (AdamW).</summary>
    protected virtual bool Decoupled => false;

    /// <inheritdoc/>
    protected override void WriteConfig(JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config["beta1"] = Beta1;
        config["beta2"] = Beta2;
        config["epsilon"] = Epsilon;
    }

    /// <summary>Rebuilds an optimizer from its <see cref="Optimizer.GetConfig"/> (state aside).</summary>
    public static Adam FromConfig(ConfigReader c) => new(c.Float("learning_rate", 1e-3f), c.Float("beta1", 0.9f), c.Float("beta2", 0.999f), c.Float("epsilon", 1e-8f), c.Float("weight_decay", 0f));

    /// <inheritdoc/>
    protected override int StateSlots => 2;

    /// <inheritdoc/>
    protected override void Update(Span<float> parameter, ReadOnlySpan<float> gradient, float[][] state, float learningRate, int step) =>
        OptimizerUpdates.Adam(parameter, gradient, state[0], state[1], learningRate, Beta1, Beta2, Epsilon, WeightDecay, Decoupled, step);
}

/// <summary>AdamW (Loshchilov and Hutter): Adam with decoupled weight decay, p *= 1 - lr * wd each step (default wd 0.01).</summary>
public sealed class AdamW(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0.01f, IEnumerable<Parameter>? parameters = null)
    : Adam(learningRate, beta1, beta2, epsilon, weightDecay, parameters)
{
    /// <inheritdoc/>
    protected override bool Decoupled => true;

    /// <summary>Rebuilds an optimizer from its <see cref="Optimizer.GetConfig"/> (state aside).</summary>
    public static new AdamW FromConfig(ConfigReader c) => new(c.Float("learning_rate", 1e-3f), c.Float("beta1", 0.9f), c.Float("beta2", 0.999f), c.Float("epsilon", 1e-8f), c.Float("weight_decay", 0.01f));
}

/// <summary>RMSProp: divides the gradient by a running root mean square (PyTorch's formulas; rho is PyTorch's alpha).</summary>
public sealed class RMSProp : Optimizer
{
    /// <summary>Creates RMSProp (lr 0.001 and rho 0.9 as Keras; epsilon 1e-7).</summary>
    public RMSProp(float learningRate = 1e-3f, float rho = 0.9f, float epsilon = 1e-7f, float momentum = 0f, float weightDecay = 0f, IEnumerable<Parameter>? parameters = null)
        : base(learningRate, parameters)
    {
        if (!(rho >= 0f && rho < 1f)) throw new ArgumentOutOfRangeException(nameof(rho), $"RMSProp rho must be in [0, 1), not {rho}.");
        Rho = rho;
        Epsilon = epsilon;
        Momentum = momentum;
        WeightDecay = weightDecay;
    }

    /// <summary>Decay of the running mean square.</summary>
    public float Rho { get; }

    /// <summary>Added to the denominator.</summary>
    public float Epsilon { get; }

    /// <summary>Momentum factor.</summary>
    public float Momentum { get; }

    /// <inheritdoc/>
    protected override void WriteConfig(JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config["rho"] = Rho;
        config["epsilon"] = Epsilon;
        config["momentum"] = Momentum;
    }

    /// <summary>Rebuilds an optimizer from its <see cref="Optimizer.GetConfig"/> (state aside).</summary>
    public static RMSProp FromConfig(ConfigReader c) => new(c.Float("learning_rate", 1e-3f), c.Float("rho", 0.9f), c.Float("epsilon", 1e-7f), c.Float("momentum", 0f), c.Float("weight_decay", 0f));

    /// <inheritdoc/>
    protected override int StateSlots => 2;

    /// <inheritdoc/>
    protected override void Update(Span<float> parameter, ReadOnlySpan<float> gradient, float[][] state, float learningRate, int step) =>
        OptimizerUpdates.RmsProp(parameter, gradient, state[0], state[1], learningRate, Rho, Epsilon, Momentum, WeightDecay);
}

/// <summary>Adagrad: divides by the root of the sum of all squared gradients so far.</summary>
public sealed class Adagrad : Optimizer
{
    /// <summary>Creates Adagrad (lr 0.01, epsilon 1e-10 as PyTorch).</summary>
    public Adagrad(float learningRate = 0.01f, float epsilon = 1e-10f, float weightDecay = 0f, IEnumerable<Parameter>? parameters = null)
        : base(learningRate, parameters)
    {
        Epsilon = epsilon;
        WeightDecay = weightDecay;
    }

    /// <summary>Added to the denominator.</summary>
    public float Epsilon { get; }

    /// <inheritdoc/>
    protected override void WriteConfig(JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config["epsilon"] = Epsilon;
    }

    /// <summary>Rebuilds an optimizer from its <see cref="Optimizer.GetConfig"/> (state aside).</summary>
    public static Adagrad FromConfig(ConfigReader c) => new(c.Float("learning_rate", 0.01f), c.Float("epsilon", 1e-10f), c.Float("weight_decay", 0f));

    /// <inheritdoc/>
    protected override int StateSlots => 1;

    /// <inheritdoc/>
    protected override void Update(Span<float> parameter, ReadOnlySpan<float> gradient, float[][] state, float learningRate, int step) =>
        OptimizerUpdates.Adagrad(parameter, gradient, state[0], learningRate, Epsilon, WeightDecay);
}
