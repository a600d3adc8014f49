namespace Nabla.Layers;

/// <summary>
/// Declares the shape of one sample (Keras's Input), so a model is built at once and its
/// summary is known before any data arrives; passes its input through after checking the shape.
/// </summary>
public sealed class Input : Layer
{
    /// <summary>Declares samples of <paramref name="shape"/> (batch dimension excluded).</summary>
    public Input(params int[] shape) : base(null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Any(d => d < 1)) throw new ArgumentException($"Input shape [{string.Join(", ", shape)}] must have positive dimensions.", nameof(shape));
        SampleShape = shape;
        EnsureBuilt(shape);
    }

    /// <summary>One sample's shape.</summary>
    public int[] SampleShape { get; }

    /// <inheritdoc/>
    public override string TypeName => "InputLayer";

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input)
    {
        if (!input.Shape[1..].SequenceEqual(SampleShape))
            throw new ArgumentException($"{Label} expects samples of shape [{string.Join(", ", SampleShape)}], but got a batch of shape {input.ShapeString}.");
        return input;
    }
}
