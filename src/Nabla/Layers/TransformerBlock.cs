using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// What the Transformer encoder and decoder layers share (PyTorch's structure and names): the
/// settings, the feed-forward network (<c>linear1</c>, activation, <c>dropout</c>, <c>linear2</c>),
/// and the residual sub-block with layer normalisation after it (post-norm) or before it (pre-norm).
/// </summary>
public abstract class TransformerBlock : Layer
{
    private Dropout? _feedForwardDropout;

    /// <summary>Checks and keeps the shared settings; subclasses add their modules in PyTorch's order.</summary>
    protected TransformerBlock(int dModel, int feedForward, float dropout, ActivationFunction? activation, bool normFirst, float epsilon, string? name)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dModel, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(feedForward, 1);
        DModel = dModel;
        FeedForward = feedForward;
        Rate = dropout;
        Activation = activation ?? Activations.Relu;
        NormFirst = normFirst;
        Epsilon = epsilon;
    }

    /// <summary>Features per step.</summary>
    public int DModel { get; }

    /// <summary>Width of the feed-forward network.</summary>
    public int FeedForward { get; }

    /// <summary>The dropout rate.</summary>
    public float Rate { get; }

    /// <summary>The feed-forward network's activation.</summary>
    public ActivationFunction Activation { get; }

    /// <summary>Whether normalisation comes before each sub-block (pre-norm).</summary>
    public bool NormFirst { get; }

    /// <summary>Layer normalisation's epsilon.</summary>
    public float Epsilon { get; }

    /// <summary>The feed-forward network's first layer.</summary>
    public Dense Linear1 { get; private set; } = null!;

    /// <summary>The feed-forward network's second layer.</summary>
    public Dense Linear2 { get; private set; } = null!;

    /// <summary>Registers the feed-forward network: <c>linear1</c>, <c>dropout</c>, <c>linear2</c>.</summary>
    protected void AddFeedForward()
    {
        Linear1 = AddModule("linear1", new Dense(FeedForward, inputFeatures: DModel));
        _feedForwardDropout = AddModule("dropout", new Dropout(Rate));
        Linear2 = AddModule("linear2", new Dense(DModel, inputFeatures: FeedForward));
    }

    /// <summary>Registers a layer normalisation over <see cref="DModel"/> features.</summary>
    protected LayerNormalization AddNorm(string name)
    {
        var norm = AddModule(name, new LayerNormalization(Epsilon));
        norm.EnsureBuilt([DModel]);
        return norm;
    }

    /// <summary>Registers a dropout of <see cref="Rate"/>.</summary>
    protected Dropout AddDropout(string name) => AddModule(name, new Dropout(Rate));

    /// <summary>linear2(dropout(activation(linear1(h)))).</summary>
    protected Tensor FeedForwardNet(Tensor h) => Linear2.Forward(_feedForwardDropout!.Forward(Activation.Apply(Linear1.Forward(h))));

    /// <summary>One residual sub-block: x + dropout(f(norm(x))) pre-norm, norm(x + dropout(f(x))) post-norm.</summary>
    protected Tensor Residual(Tensor x, LayerNormalization norm, Dropout dropout, Func<Tensor, Tensor> f)
    {
        ArgumentNullException.ThrowIfNull(norm);
        ArgumentNullException.ThrowIfNull(dropout);
        ArgumentNullException.ThrowIfNull(f);
        return NormFirst ? x + dropout.Forward(f(norm.Forward(x))) : norm.Forward(x + dropout.Forward(f(x)));
    }

    /// <summary>The settings in PyTorch's argument names, with the attention's heads and causality.</summary>
    protected JsonObject BlockConfig(int heads, bool causal) => new()
    {
        ["d_model"] = DModel,
        ["nhead"] = heads,
        ["dim_feedforward"] = FeedForward,
        ["dropout"] = Rate,
        ["activation"] = ConfigReader.Json(this, Activation),
        ["norm_first"] = NormFirst,
        ["layer_norm_eps"] = Epsilon,
        ["causal"] = causal,
    };

    /// <inheritdoc/>
    protected override void Build(ReadOnlySpan<int> inputShape)
    {
        if (inputShape.Length != 2 || inputShape[1] != DModel)
            throw new ArgumentException($"{Label} expects inputs [N, T, {DModel}], but got samples of shape [{string.Join(", ", inputShape.ToArray())}].");
    }
}
