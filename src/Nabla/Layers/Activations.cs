namespace Nabla.Layers;

/// <summary>An activation function with its name; strings such as "relu" convert to it.</summary>
public sealed class ActivationFunction
{
    private readonly Func<Tensor, Tensor> _apply;

    /// <summary>Creates a named activation from a tensor function.</summary>
    public ActivationFunction(string name, Func<Tensor, Tensor> apply)
    {
        Name = name;
        _apply = apply;
    }

    /// <summary>The Keras name, e.g. <c>relu</c>.</summary>
    public string Name { get; }

    /// <summary>Applies the function.</summary>
    public Tensor Apply(Tensor x) => _apply(x);

    /// <summary>Looks an activation up by name; see <see cref="Activations.Get"/>.</summary>
    public static implicit operator ActivationFunction(string name) => Activations.Get(name);

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>The activations known by name, as Keras's: usable by value or by string.</summary>
public static class Activations
{
    /// <summary>The identity.</summary>
    public static readonly ActivationFunction Linear = new("linear", x => x);
    /// <summary>max(x, 0).</summary>
    public static readonly ActivationFunction Relu = new("relu", x => x.Relu());
    /// <summary>1 / (1 + e^-x).</summary>
    public static readonly ActivationFunction Sigmoid = new("sigmoid", x => x.Sigmoid());
    /// <summary>tanh(x).</summary>
    public static readonly ActivationFunction Tanh = new("tanh", x => x.Tanh());
    /// <summary>Softmax over the last axis.</summary>
    public static readonly ActivationFunction Softmax = new("softmax", x => x.Softmax(-1));
    /// <summary>Log-softmax over the last axis.</summary>
    public static readonly ActivationFunction LogSoftmax = new("log_softmax", x => x.LogSoftmax(-1));
    /// <summary>Leaky ReLU with slope 0.01 (PyTorch's default; Keras's is 0.3).</summary>
    public static readonly ActivationFunction LeakyRelu = new("leaky_relu", x => x.LeakyRelu(0.01f));
    /// <summary>ELU with alpha 1.</summary>
    public static readonly ActivationFunction Elu = new("elu", x => x.Elu());
    /// <summary>GELU (exact).</summary>
    public static readonly ActivationFunction Gelu = new("gelu", x => x.Gelu());
    /// <summary>SiLU, x * sigmoid(x).</summary>
    public static readonly ActivationFunction Silu = new("silu", x => x.Silu());
    /// <summary>Swish, the same function as SiLU under Keras's other name.</summary>
    public static readonly ActivationFunction Swish = new("swish", x => x.Silu());
    /// <summary>log(1 + e^x).</summary>
    public static readonly ActivationFunction Softplus = new("softplus", x => x.Softplus());

    private static readonly ActivationFunction[] s_all = [Linear, Relu, Sigmoid, Tanh, Softmax, LogSoftmax, LeakyRelu, Elu, Gelu, Silu, Swish, Softplus];

    /// <summary>The activation called <paramref name="name"/> (case-insensitive; null or empty is linear).</summary>
    public static ActivationFunction Get(string? name)
    {
        if (string.IsNullOrEmpty(name)) return Linear;
        foreach (var a in s_all)
        {
            if (string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase)) return a;
        }
        throw new ArgumentException($"Unknown activation '{name}'. Known: {string.Join(", ", s_all.Select(a => a.Name))}.", nameof(name));
    }
}
