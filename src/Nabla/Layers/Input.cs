using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// Declares the shape of one sample (Keras's Input), so a model is built at once and its
/// summary is known before any data arrives; passes its input through after checking the shape.
/// </summary>
public sealed class Input : Layer
{
    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["shape"] = ConfigReader.Json(SampleShape) };

    /// <summary>Rebuilds a layer from its <see cref="Layer.GetConfig"/>.</summary>
    public static Input FromConfig(ConfigReader c) => new(c.Ints("shape"));

    /// <summary>Declares samples of <paramref name="shape"/> (batch dimension excluded).</summary>
    public Input(params int[] shape) : base(null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Any(d => d < 1)) throw new ArgumentException($"Input shape [{string.Join(", ", shape)}] must have positive dimensions.", nameof(shape));
        SampleShape = shape;
        EnsureBuilt(shape);
    }

    /// <summary>Declares samples of <paramref name="shape"/> under a name (a functional model's input name).</summary>
    public Input(string name, params int[] shape) : this(shape) => Name = name;

    /// <summary>One sample's shape.</summary>
    public int[] SampleShape { get; }

    private SymbolicTensor? _output;

    /// <summary>The symbolic tensor this input feeds into a functional model (see <see cref="Layer.Apply"/>).</summary>
    public SymbolicTensor Output => _output ??= SymbolicTensor.ForInput(this);

    /// <summary>An input used where a symbolic tensor is expected: its <see cref="Output"/>.</summary>
    public static implicit operator SymbolicTensor(Input input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Output;
    }

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
