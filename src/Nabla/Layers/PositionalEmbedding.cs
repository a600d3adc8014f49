using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// Adds a learned vector per position to a sequence [N, T, dim] (T at most <see cref="MaxLength"/>):
/// how a Transformer, which sees its steps as a set, learns their order. Weight <c>weight</c>
/// [maxLength, dim], initialised as Keras's (uniform in [-0.05, 0.05)). A mask passes on.
/// </summary>
public sealed class PositionalEmbedding : Layer
{
    /// <summary>Positions up to <paramref name="maxLength"/> of <paramref name="dim"/> features.</summary>
    public PositionalEmbedding(int maxLength, int dim, string? name = null) : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        MaxLength = maxLength;
        Dim = dim;
        Weight = AddParameter("weight", new Initializers.RandomUniform(-0.05f, 0.05f).Create([maxLength, dim], Generator.Default));
    }

    /// <summary>The longest sequence.</summary>
    public int MaxLength { get; }

    /// <summary>Features per step.</summary>
    public int Dim { get; }

    /// <summary>The position vectors [maxLength, dim].</summary>
    public Parameter Weight { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["max_length"] = MaxLength, ["dim"] = Dim };

    /// <summary>Rebuilds a layer from its <see cref="GetConfig"/>.</summary>
    public static PositionalEmbedding FromConfig(ConfigReader c) => new(c.Int("max_length"), c.Int("dim"));

    /// <inheritdoc/>
    public override Tensor? ComputeMask(Tensor input, Tensor? mask) => mask;

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        if (input.Rank != 3 || input.Shape[2] != Dim || input.Shape[1] > MaxLength)
            throw new ArgumentException($"{Label} expects inputs [N, T <= {MaxLength}, {Dim}], but got {input.ShapeString}.");
        return input + Weight.Value.Slice(0, 0, input.Shape[1]);
    }
}
