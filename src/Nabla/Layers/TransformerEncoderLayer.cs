using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// A Transformer encoder block with PyTorch's nn.TransformerEncoderLayer structure and names
/// (batch first): self-attention (<c>self_attn.*</c>), then a feed-forward network
/// (<c>linear1</c>, activation, <c>linear2</c>), each with dropout, a residual connection and layer
/// normalisation (<c>norm1</c>, <c>norm2</c>) after it (post-norm, PyTorch's default) or, with
/// <see cref="NormFirst"/>, before it (pre-norm, which trains deeper stacks more easily). A mask of
/// real steps (from an Embedding with a padding id) keeps attention off the padding and passes on.
/// Input and output [N, T, dModel].
/// </summary>
public sealed class TransformerEncoderLayer : Layer
{
    private readonly Dropout _dropout, _dropout1, _dropout2;

    /// <summary>Creates an encoder block.</summary>
    /// <param name="dModel">Features per step (d_model).</param>
    /// <param name="heads">Attention heads (nhead).</param>
    /// <param name="feedForward">Width of the feed-forward network (dim_feedforward; PyTorch's default 2048).</param>
    /// <param name="dropout">Dropout after attention, inside and after the feed-forward network, and on the attention weights.</param>
    /// <param name="activation">The feed-forward network's activation: relu (PyTorch's default) or gelu.</param>
    /// <param name="normFirst">Layer normalisation before each sub-block instead of after (norm_first).</param>
    /// <param name="epsilon">Layer normalisation's epsilon (layer_norm_eps, 1e-5).</param>
    /// <param name="causal">Each position attends only to itself and earlier ones (a language model).</param>
    /// <param name="name">Display name.</param>
    public TransformerEncoderLayer(int dModel, int heads, int feedForward = 2048, float dropout = 0.1f, ActivationFunction? activation = null,
        bool normFirst = false, float epsilon = 1e-5f, bool causal = false, string? name = null) : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(feedForward, 1);
        DModel = dModel;
        FeedForward = feedForward;
        Rate = dropout;
        Activation = activation ?? Activations.Relu;
        NormFirst = normFirst;
        Epsilon = epsilon;
        SelfAttention = AddModule("self_attn", new MultiHeadAttention(dModel, heads, dropout, causal));
        Linear1 = AddModule("linear1", new Dense(feedForward, inputFeatures: dModel));
        _dropout = AddModule("dropout", new Dropout(dropout));
        Linear2 = AddModule("linear2", new Dense(dModel, inputFeatures: feedForward));
        Norm1 = AddModule("norm1", new LayerNormalization(epsilon));
        Norm2 = AddModule("norm2", new LayerNormalization(epsilon));
        _dropout1 = AddModule("dropout1", new Dropout(dropout));
        _dropout2 = AddModule("dropout2", new Dropout(dropout));
        Norm1.EnsureBuilt([dModel]);
        Norm2.EnsureBuilt([dModel]);
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

    /// <summary>The self-attention.</summary>
    public MultiHeadAttention SelfAttention { get; }

    /// <summary>The feed-forward network's first layer.</summary>
    public Dense Linear1 { get; }

    /// <summary>The feed-forward network's second layer.</summary>
    public Dense Linear2 { get; }

    /// <summary>The normalisation around attention.</summary>
    public LayerNormalization Norm1 { get; }

    /// <summary>The normalisation around the feed-forward network.</summary>
    public LayerNormalization Norm2 { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new()
    {
        ["d_model"] = DModel,
        ["nhead"] = SelfAttention.Heads,
        ["dim_feedforward"] = FeedForward,
        ["dropout"] = Rate,
        ["activation"] = ConfigReader.Json(this, Activation),
        ["norm_first"] = NormFirst,
        ["layer_norm_eps"] = Epsilon,
        ["causal"] = SelfAttention.Causal,
    };

    /// <summary>Rebuilds a layer from its <see cref="GetConfig"/>.</summary>
    public static TransformerEncoderLayer FromConfig(ConfigReader c) => new(c.Int("d_model"), c.Int("nhead"), c.Int("dim_feedforward", 2048),
        c.Float("dropout", 0.1f), c.Activation("activation", "relu"), c.Bool("norm_first", false), c.Float("layer_norm_eps", 1e-5f), c.Bool("causal", false));

    /// <inheritdoc/>
    protected override void Build(ReadOnlySpan<int> inputShape)
    {
        if (inputShape.Length != 2 || inputShape[1] != DModel)
            throw new ArgumentException($"{Label} expects inputs [N, T, {DModel}], but got samples of shape [{string.Join(", ", inputShape.ToArray())}].");
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input) => Block(input, null);

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, Tensor mask) => Block(input, mask);

    /// <summary>The time axis is kept: the mask of real steps passes on.</summary>
    public override Tensor? ComputeMask(Tensor input, Tensor? mask) => mask;

    private Tensor Block(Tensor x, Tensor? mask) => Run(x, h => SelfAttention.Forward(h, mask));

    /// <summary>The block on new steps x [N, t, dModel] with its attention over the steps in <paramref name="cache"/> as well (text generation).</summary>
    public Tensor Step(Tensor x, KeyValueCache cache)
    {
        ArgumentNullException.ThrowIfNull(x);
        EnsureBuilt(x.Shape[1..]);
        return Run(x, h => SelfAttention.Step(h, cache));
    }

    private Tensor Run(Tensor x, Func<Tensor, Tensor> attention)
    {
        Tensor FeedForwardNet(Tensor h) => Linear2.Forward(_dropout.Forward(Activation.Apply(Linear1.Forward(h))));
        if (NormFirst)
        {
            x = x + _dropout1.Forward(attention(Norm1.Forward(x)));
            return x + _dropout2.Forward(FeedForwardNet(Norm2.Forward(x)));
        }
        x = Norm1.Forward(x + _dropout1.Forward(attention(x)));
        return Norm2.Forward(x + _dropout2.Forward(FeedForwardNet(x)));
    }
}
