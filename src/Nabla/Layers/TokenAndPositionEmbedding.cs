using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// Token ids [N, T] to vectors [N, T, dim]: a token embedding (<c>token.weight</c>) plus a learned
/// position embedding (<c>position.weight</c>), the input of a Transformer (Keras-hub's
/// TokenAndPositionEmbedding). With a padding id, padded steps are masked for the attention after it.
/// </summary>
public sealed class TokenAndPositionEmbedding : Layer
{
    /// <summary>A vocabulary of <paramref name="vocabulary"/> ids, sequences up to <paramref name="maxLength"/>, vectors of <paramref name="dim"/>.</summary>
    public TokenAndPositionEmbedding(int vocabulary, int maxLength, int dim, int? paddingIndex = null, string? name = null) : base(name)
    {
        Token = AddModule("token", new Embedding(vocabulary, dim, paddingIndex));
        Position = AddModule("position", new PositionalEmbedding(maxLength, dim));
    }

    /// <summary>The token embedding.</summary>
    public Embedding Token { get; }

    /// <summary>The position embedding.</summary>
    public PositionalEmbedding Position { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new()
    {
        ["vocabulary"] = Token.InputDim,
        ["max_length"] = Position.MaxLength,
        ["dim"] = Position.Dim,
        ["padding_index"] = Token.PaddingIndex,
    };

    /// <summary>Rebuilds a layer from its <see cref="GetConfig"/>.</summary>
    public static TokenAndPositionEmbedding FromConfig(ConfigReader c) =>
        new(c.Int("vocabulary"), c.Int("max_length"), c.Int("dim"), c.OptionalInt("padding_index"));

    /// <inheritdoc/>
    public override Tensor? ComputeMask(Tensor input, Tensor? mask) => Token.ComputeMask(input, mask);

    /// <summary>Embeds ids [N, t] standing at positions <paramref name="start"/> .. start + t - 1 (the new steps of generated text).</summary>
    public Tensor Embed(Tensor ids, int start)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Rank != 2 || start < 0 || start + ids.Shape[1] > Position.MaxLength)
            throw new ArgumentException($"{Label}: ids {ids.ShapeString} at position {start} do not fit {Position.MaxLength} positions.");
        return Token.Forward(ids) + Position.Weight.Value.Slice(0, start, start + ids.Shape[1]);
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        if (input.Rank != 2) throw new ArgumentException($"{Label} expects token ids [N, T], but got {input.ShapeString}.");
        return Position.Forward(Token.Forward(input));
    }
}
