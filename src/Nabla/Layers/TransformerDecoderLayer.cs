using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// A Transformer decoder block with PyTorch's nn.TransformerDecoderLayer structure and names (batch
/// first): causal self-attention over the target (<c>self_attn.*</c>), attention from the target to
/// the encoder's output, the memory (<c>multihead_attn.*</c>), and the feed-forward network
/// (<c>linear1</c>, <c>linear2</c>), each with a residual connection and layer normalisation
/// (<c>norm1</c>-<c>norm3</c>) after it, or before it with <see cref="TransformerBlock.NormFirst"/>. Called on
/// [target, memory] ([N, T, d] and [N, S, d]); a mask of real steps on the memory keeps the target
/// off its padding, one on the target keeps self-attention off the target's. Output [N, T, d].
/// </summary>
public sealed class TransformerDecoderLayer : TransformerBlock
{
    private readonly Dropout _dropout1, _dropout2, _dropout3;

    /// <summary>Creates a decoder block (arguments as <see cref="TransformerEncoderLayer"/>; self-attention is causal unless <paramref name="causal"/> is false).</summary>
    public TransformerDecoderLayer(int dModel, int heads, int feedForward = 2048, float dropout = 0.1f, ActivationFunction? activation = null,
        bool normFirst = false, float epsilon = 1e-5f, bool causal = true, string? name = null)
        : base(dModel, feedForward, dropout, activation, normFirst, epsilon, name)
    {
        SelfAttention = AddModule("self_attn", new MultiHeadAttention(dModel, heads, dropout, causal));
        CrossAttention = AddModule("multihead_attn", new MultiHeadAttention(dModel, heads, dropout));
        AddFeedForward();
        Norm1 = AddNorm("norm1");
        Norm2 = AddNorm("norm2");
        Norm3 = AddNorm("norm3");
        _dropout1 = AddDropout("dropout1");
        _dropout2 = AddDropout("dropout2");
        _dropout3 = AddDropout("dropout3");
    }

    /// <summary>The target's self-attention.</summary>
    public MultiHeadAttention SelfAttention { get; }

    /// <summary>The attention from the target to the memory.</summary>
    public MultiHeadAttention CrossAttention { get; }

    /// <summary>The normalisation around self-attention.</summary>
    public LayerNormalization Norm1 { get; }

    /// <summary>The normalisation around cross-attention.</summary>
    public LayerNormalization Norm2 { get; }

    /// <summary>The normalisation around the feed-forward network.</summary>
    public LayerNormalization Norm3 { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => BlockConfig(SelfAttention.Heads, SelfAttention.Causal);

    /// <summary>Rebuilds a layer from its <see cref="GetConfig"/>.</summary>
    public static TransformerDecoderLayer FromConfig(ConfigReader c) => new(c.Int("d_model"), c.Int("nhead"), c.Int("dim_feedforward", 2048),
        c.Float("dropout", 0.1f), c.Activation("activation", "relu"), c.Bool("norm_first", false), c.Float("layer_norm_eps", 1e-5f), c.Bool("causal", true));

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input) =>
        throw new ArgumentException($"{Label} needs the target and the encoder's output: call it on [target, memory] (Apply(target, memory) in a functional model).");

    /// <summary>The target's mask passes on.</summary>
    public override Tensor? ComputeMask(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks)
    {
        ArgumentNullException.ThrowIfNull(masks);
        return masks.Count > 0 ? masks[0] : null;
    }

    /// <summary>The block on [target, memory] with their masks of real steps.</summary>
    public override Tensor Forward(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?>? masks = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count != 2) throw new ArgumentException($"{Label} takes [target, memory], got {inputs.Count} input(s).");
        Tensor x = inputs[0], memory = inputs[1];
        if (x.Rank != 3 || memory.Rank != 3 || x.Shape[0] != memory.Shape[0] || memory.Shape[2] != DModel)
            throw new ArgumentException($"{Label} expects a target [N, T, {DModel}] and a memory [N, S, {DModel}], got {x.ShapeString} and {memory.ShapeString}.");
        EnsureBuilt(x.Shape[1..]);
        Tensor? targetMask = masks is { Count: > 0 } ? masks[0] : null, memoryMask = masks is { Count: > 1 } ? masks[1] : null;
        x = Residual(x, Norm1, _dropout1, h => SelfAttention.Forward(h, targetMask));
        x = Residual(x, Norm2, _dropout2, h => CrossAttention.Forward([h, memory], [null, memoryMask]));
        return Residual(x, Norm3, _dropout3, FeedForwardNet);
    }
}
