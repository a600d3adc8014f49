using System.Text.Json.Nodes;
using Nabla.Initializers;

namespace Nabla.Layers;

/// <summary>
/// Maps integer ids in [0, inputDim) to vectors of size outputDim: input [N, ...] of ids gives
/// [N, ..., outputDim]. Weight [inputDim, outputDim] named <c>weight</c>, as PyTorch's Embedding.
/// The row of <see cref="PaddingIndex"/>, if set, starts at zero, stays zero (it gets no gradient)
/// and embeds padding as zeros.
/// </summary>
public sealed class Embedding : Layer
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["input_dim"] = InputDim, ["output_dim"] = OutputDim, ["padding_index"] = PaddingIndex };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Embedding FromConfig(ConfigReader c) => new(c.Int("input_dim"), c.Int("output_dim"), c.OptionalInt("padding_index"));

    /// <summary>Creates an embedding of <paramref name="inputDim"/> ids into <paramref name="outputDim"/> dimensions.</summary>
    /// <param name="inputDim">Vocabulary size.</param>
    /// <param name="outputDim">Vector size.</param>
    /// <param name="paddingIndex">An id whose vector is fixed at zero.</param>
    /// <param name="initializer">Keras's default: uniform in [-0.05, 0.05).</param>
    /// <param name="inputLength">Sequence length of the input [N, inputLength], to fix the model's input shape at once.</param>
    /// <param name="name">Display name.</param>
    public Embedding(int inputDim, int outputDim, int? paddingIndex = null, Initializer? initializer = null, int? inputLength = null, string? name = null) : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputDim, 1);
        if (paddingIndex is int p && (p < 0 || p >= inputDim))
            throw new ArgumentOutOfRangeException(nameof(paddingIndex), $"Embedding padding index {p} is outside [0, {inputDim}).");
        InputDim = inputDim;
        OutputDim = outputDim;
        PaddingIndex = paddingIndex;
        // The table does not depend on the input's shape, so it exists from the start.
        Tensor w = (initializer ?? new RandomUniform(-0.05f, 0.05f)).Create([InputDim, OutputDim], Generator.Default);
        if (PaddingIndex is int pad) w.Storage.AsSpan(pad * OutputDim, OutputDim).Clear();
        Weight = AddParameter("weight", w);
        if (inputLength is int length) EnsureBuilt([length]);
    }

    /// <summary>Vocabulary size.</summary>
    public int InputDim { get; }

    /// <summary>Vector size.</summary>
    public int OutputDim { get; }

    /// <summary>The id embedded as zeros, if any.</summary>
    public int? PaddingIndex { get; }

    /// <summary>The table [inputDim, outputDim].</summary>
    public Parameter Weight { get; }

    /// <summary>With a padding id, the mask of the real (non-padding) ids [N, T] for the next (recurrent) layer; otherwise none.</summary>
    public override Tensor? ComputeMask(Tensor input, Tensor? mask) => PaddingIndex is int pad ? input.Ne(pad) : null;

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        Tensor ids = input;
        Tensor vectors;
        try
        {
            vectors = Weight.Value.IndexSelect(0, ids);
        }
        catch (IndexOutOfRangeException e)
        {
            throw new IndexOutOfRangeException($"{Label} with {InputDim} ids got input {input.ShapeString} with an id outside [0, {InputDim}): {e.Message}", e);
        }
        if (PaddingIndex is int p)
        {
            // Multiplying by the mask stops gradient flowing into the padding row.
            vectors *= ids.Ne(p).Unsqueeze(-1);
        }
        return vectors;
    }
}
