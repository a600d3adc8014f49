using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// Reorders the axes of each sample (Keras's Permute): <see cref="Dims"/> lists, for each output
/// axis, the input axis it takes, counting from 1 (the batch axis stays first). (2, 1) turns a
/// spectrogram [N, F, T] into a sequence [N, T, F] for a recurrent layer.
/// </summary>
public sealed class Permute : Layer
{
    /// <summary>Creates the layer from a permutation of 1..rank.</summary>
    public Permute(int[] dims, string? name = null) : base(name)
    {
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Length == 0 || !dims.Order().SequenceEqual(Enumerable.Range(1, dims.Length)))
            throw new ArgumentException($"Permute: dims ({string.Join(", ", dims)}) must be a permutation of 1..{dims.Length}.", nameof(dims));
        Dims = dims;
    }

    /// <summary>For each output axis after the batch, the input axis (from 1) it takes.</summary>
    public int[] Dims { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["dims"] = ConfigReader.Json(Dims) };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Permute FromConfig(ConfigReader c) => new(c.Ints("dims"));

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        if (input.Rank != Dims.Length + 1) throw new ArgumentException($"{Label} permutes {Dims.Length} axes, but got a batch of shape {input.ShapeString}.");
        return input.Permute([0, .. Dims]).Contiguous();
    }
}
