using Nabla.Initializers;

namespace Nabla.Layers;

/// <summary>
/// What Conv1D, Conv2D and Conv2DTranspose share: a number of filters, an activation, a weight
/// named <c>weight</c> and an optional bias [filters] named <c>bias</c> (PyTorch's names), and
/// Keras's initializer defaults (glorot_uniform, zeros).
/// </summary>
public abstract class ConvolutionBase : Layer
{
    private readonly Initializer _kernelInitializer, _biasInitializer;

    /// <summary>Checks and keeps the shared settings.</summary>
    protected ConvolutionBase(int filters, ActivationFunction? activation, bool useBias, Initializer? kernelInitializer, Initializer? biasInitializer, string? name)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(filters, 1);
        Filters = filters;
        Activation = activation ?? Activations.Linear;
        UseBias = useBias;
        _kernelInitializer = kernelInitializer ?? new GlorotUniform();
        _biasInitializer = biasInitializer ?? new Zeros();
    }

    /// <summary>Output channels.</summary>
    public int Filters { get; }
    /// <summary>Applied to the output.</summary>
    public ActivationFunction Activation { get; }
    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }
    /// <summary>The filters' weight.</summary>
    public Parameter? Weight { get; private set; }
    /// <summary>Bias [filters].</summary>
    public Parameter? Bias { get; private set; }

    /// <summary>
    /// Adds the weight, initialised with the fans of <paramref name="initShape"/> ([filters, C,
    /// kernel...]) and then laid out by <paramref name="arrange"/> when given, and the bias.
    /// </summary>
    protected void AddWeights(int[] initShape, Func<Tensor, Tensor>? arrange = null)
    {
        Tensor w = _kernelInitializer.Create(initShape, Generator.Default);
        Weight = AddParameter("weight", arrange is null ? w : arrange(w));
        if (UseBias) Bias = AddParameter("bias", _biasInitializer.Create([Filters], Generator.Default));
    }
}
