using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// A Transformer encoder block with PyTorch's nn.TransformerEncoderLayer structure and names
/// (batch first): self-attention (<c>self_attn.*</c>), then a feed-forward network
/// (<c>linear1</c>, activation, <c>linear2</c>), each with dropout, a residual connection and layer
/// normalisation (<c>norm1</c>, <c>norm2</c>) after it (post-norm, PyTorch's default) or, with
/// <see cref="TransformerBlock.NormFirst"/>, before it (pre-norm, which trains deeper stacks more easily). A mask of
/// real steps (from an Embedding with a padding id) keeps attention off the padding and passes on.
/// Input and output [N, T, dModel].
/// </summary>
public sealed class TransformerEncoderLayer : TransformerBlock
{
    private readonly Dropout _dropout1, _dropout2;

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
        bool normFirst = false, float epsilon = 1e-5f, bool causal = false, string? name = null)
        : base(dModel, feedForward, dropout, activation, normFirst, epsilon, name)
    {
        SelfAttention = AddModule("self_attn", new MultiHeadAttention(dModel, heads, dropout, causal));
        AddFeedForward();
        Norm1 = AddNorm("norm1");
        Norm2 = AddNorm("norm2");
        _dropout1 = AddDropout("dropout1");
        _dropout2 = AddDropout("dropout2");
    }

    /// <summary>The self-attention.</summary>
    public MultiHeadAttention SelfAttention { get; }

    /// <summary>The normalisation around attention.</summary>
    public LayerNormalization Norm1 { get; }

    /// <summary>The normalisation around the feed-forward network.</summary>
    public LayerNormalization Norm2 { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => BlockConfig(SelfAttention.Heads, SelfAttention.Causal);

    /// <summary>Rebuilds a layer from its <see cref="GetConfig"/>.</summary>
    public static TransformerEncoderLayer FromConfig(ConfigReader c) => new(c.Int("d_model"), c.Int("nhead"), c.Int("dim_feedforward", 2048),
        c.Float("dropout", 0.1f), c.Activation("activation", "relu"), c.Bool("norm_first", false), c.Float("layer_norm_eps", 1e-5f), c.Bool("causal", false));

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input) => Run(input, h => SelfAttention.Forward(h, null));

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, Tensor mask) => Run(input, h => SelfAttention.Forward(h, mask));

    /// <summary>The time axis is kept: the mask of real steps passes on.</summary>
    public override Tensor? ComputeMask(Tensor input, Tensor? mask) => mask;

    /// <summary>The block on new steps x [N, t, dModel] with its attention over the steps in <paramref name="cache"/> as well (text generation).</summary>
    public Tensor Step(Tensor x, KeyValueCache cache)
    {
        ArgumentNullException.ThrowIfNull(x);
        EnsureBuilt(x.Shape[1..]);
        return Run(x, h => SelfAttention.Step(h, cache));
    }

    private Tensor Run(Tensor x, Func<Tensor, Tensor> attention) =>
        Residual(Residual(x, Norm1, _dropout1, attention), Norm2, _dropout2, FeedForwardNet);
}
