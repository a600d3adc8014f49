namespace Nabla.Initializers;

/// <summary>
/// Creates a layer's starting weights. Fans follow PyTorch's layouts: a 2-D weight is
/// [out, in]; a convolution kernel [out, in, k...] has fanIn = in * prod(k) and fanOut = out * prod(k).
/// Strings such as "he_normal" convert to the matching initializer.
/// </summary>
public abstract class Initializer
{
    /// <summary>The Keras name, e.g. <c>glorot_uniform</c>.</summary>
    public abstract string Name { get; }

    /// <summary>A new tensor of <paramref name="shape"/> drawn from <paramref name="generator"/>.</summary>
    public abstract Tensor Create(int[] shape, Generator generator);

    /// <summary>(fanIn, fanOut) of a weight shape.</summary>
    public static (int FanIn, int FanOut) Fans(ReadOnlySpan<int> shape)
    {
        if (shape.Length == 0) return (1, 1);
        if (shape.Length == 1) return (shape[0], shape[0]);
        int receptive = 1;
        for (int i = 2; i < shape.Length; i++) receptive *= shape[i];
        return (shape[1] * receptive, shape[0] * receptive);
    }

    /// <summary>Looks an initializer up by its Keras name.</summary>
    public static implicit operator Initializer(string name) => Get(name);

    private static readonly Initializer[] s_named =
    [
        new GlorotUniform(), new GlorotNormal(), new HeUniform(), new HeNormal(), new LeCunUniform(), new LeCunNormal(),
        new Zeros(), new Ones(), new Orthogonal(),
    ];

    /// <summary>The initializer called <paramref name="name"/> (case-insensitive; xavier_* are aliases of glorot_*).</summary>
    public static Initializer Get(string name)
    {
        string key = name.Replace("xavier", "glorot", StringComparison.OrdinalIgnoreCase);
        foreach (var i in s_named)
        {
            if (string.Equals(i.Name, key, StringComparison.OrdinalIgnoreCase)) return i;
        }
        throw new ArgumentException($"Unknown initializer '{name}'. Known: {string.Join(", ", s_named.Select(i => i.Name))}, or construct Constant, RandomUniform, RandomNormal.", nameof(name));
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>Uniform samples in [-limit, limit).</summary>
    protected static Tensor UniformLimit(int[] shape, double limit, Generator g) => Tensor.Uniform(shape, (float)-limit, (float)limit, g);

    /// <summary>
    /// Normal samples truncated to two standard deviations and rescaled so that the result has
    /// standard deviation <paramref name="std"/>, as Keras's variance-scaling initializers.
    /// </summary>
    protected static Tensor TruncatedNormal(int[] shape, double std, Generator g)
    {
        // A standard normal truncated to [-2, 2] has standard deviation 0.87962566.
        double scale = std / 0.87962566103423978;
        var t = Tensor.Zeros(shape);
        for (int i = 0; i < t.Size; i++)
        {
            double z;
            do z = g.NextNormal(); while (Math.Abs(z) > 2.0);
            t.Storage[i] = (float)(z * scale);
        }
        return t;
    }
}

/// <summary>Glorot (Xavier) uniform: U(-l, l), l = sqrt(6 / (fanIn + fanOut)). Keras's default for Dense.</summary>
public sealed class GlorotUniform : Initializer
{
    /// <inheritdoc/>
    public override string Name => "glorot_uniform";
    /// <inheritdoc/>
    public override Tensor Create(int[] shape, Generator generator)
    {
        var (fi, fo) = Fans(shape);
        return UniformLimit(shape, Math.Sqrt(6.0 / (fi + fo)), generator);
    }
}

/// <summary>Glorot (Xavier) normal: truncated normal with std sqrt(2 / (fanIn + fanOut)).</summary>
public sealed class GlorotNormal : Initializer
{
    /// <inheritdoc/>
    public override string Name => "glorot_normal";
    /// <inheritdoc/>
    public override Tensor Create(int[] shape, Generator generator)
    {
        var (fi, fo) = Fans(shape);
        return TruncatedNormal(shape, Math.Sqrt(2.0 / (fi + fo)), generator);
    }
}

/// <summary>He uniform: U(-l, l), l = sqrt(6 / fanIn); for ReLU networks.</summary>
public sealed class HeUniform : Initializer
{
    /// <inheritdoc/>
    public override string Name => "he_uniform";
    /// <inheritdoc/>
    public override Tensor Create(int[] shape, Generator generator) => UniformLimit(shape, Math.Sqrt(6.0 / Fans(shape).FanIn), generator);
}

/// <summary>He normal: truncated normal with std sqrt(2 / fanIn); for ReLU networks.</summary>
public sealed class HeNormal : Initializer
{
    /// <inheritdoc/>
    public override string Name => "he_normal";
    /// <inheritdoc/>
    public override Tensor Create(int[] shape, Generator generator) => TruncatedNormal(shape, Math.Sqrt(2.0 / Fans(shape).FanIn), generator);
}

/// <summary>LeCun uniform: U(-l, l), l = sqrt(3 / fanIn); for SELU/tanh networks.</summary>
public sealed class LeCunUniform : Initializer
{
    /// <inheritdoc/>
    public override string Name => "lecun_uniform";
    /// <inheritdoc/>
    public override Tensor Create(int[] shape, Generator generator) => UniformLimit(shape, Math.Sqrt(3.0 / Fans(shape).FanIn), generator);
}

/// <summary>LeCun normal: truncated normal with std sqrt(1 / fanIn).</summary>
public sealed class LeCunNormal : Initializer
{
    /// <inheritdoc/>
    public override string Name => "lecun_normal";
    /// <inheritdoc/>
    public override Tensor Create(int[] shape, Generator generator) => TruncatedNormal(shape, Math.Sqrt(1.0 / Fans(shape).FanIn), generator);
}

/// <summary>All zeros. The default for biases.</summary>
public sealed class Zeros : Initializer
{
    /// <inheritdoc/>
    public override string Name => "zeros";
    /// <inheritdoc/>
    public override Tensor Create(int[] shape, Generator generator) => Tensor.Zeros(shape);
}

/// <summary>All ones. The default for normalization scales.</summary>
public sealed class Ones : Initializer
{
    /// <inheritdoc/>
    public override string Name => "ones";
    /// <inheritdoc/>
    public override Tensor Create(int[] shape, Generator generator) => Tensor.Ones(shape);
}

/// <summary>Every element equal to <paramref name="value"/>.</summary>
public sealed class Constant(float value) : Initializer
{
    /// <inheritdoc/>
    public override string Name => "constant";
    /// <summary>The value.</summary>
    public float Value { get; } = value;
    /// <inheritdoc/>
    public override Tensor Create(int[] shape, Generator generator) => Tensor.Full(shape, Value);
}

/// <summary>Uniform samples in [minValue, maxValue).</summary>
public sealed class RandomUniform(float minValue = -0.05f, float maxValue = 0.05f) : Initializer
{
    /// <inheritdoc/>
    public override string Name => "random_uniform";
    /// <inheritdoc/>
    public override Tensor Create(int[] shape, Generator generator) => Tensor.Uniform(shape, minValue, maxValue, generator);
}

/// <summary>Normal samples with the given mean and standard deviation.</summary>
public sealed class RandomNormal(float mean = 0f, float stddev = 0.05f) : Initializer
{
    /// <inheritdoc/>
    public override string Name => "random_normal";
    /// <inheritdoc/>
    public override Tensor Create(int[] shape, Generator generator) => Tensor.Normal(shape, mean, stddev, generator);
}

/// <summary>
/// A (semi-)orthogonal matrix times <paramref name="gain"/>: rows (or columns, whichever are
/// fewer) orthonormal, from Gram-Schmidt on a normal matrix. Higher ranks are flattened to
/// [shape[0], rest]. Good for recurrent weights.
/// </summary>
public sealed class Orthogonal(float gain = 1f) : Initializer
{
    /// <inheritdoc/>
    public override string Name => "orthogonal";

    /// <inheritdoc/>
    public override Tensor Create(int[] shape, Generator generator)
    {
        if (shape.Length < 2) throw new ArgumentException($"Orthogonal: needs a weight of rank 2 or more, got {Shapes.Format(shape)}.");
        // Loading a model file: its values replace these, and Gram-Schmidt is cubic in the size.
        if (IO.LoadBudget.Active) return Tensor.Zeros(shape);
        int rows = shape[0], cols = Shapes.Size(shape) / rows;
        bool transpose = rows > cols;
        int r = transpose ? cols : rows, c = transpose ? rows : cols;
        // r <= c: make r orthonormal vectors of length c.
        var m = new double[r, c];
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < c; j++) m[i, j] = generator.NextNormal();
            for (int pass = 0; pass < 2; pass++)
            {
                for (int k = 0; k < i; k++)
                {
                    double dot = 0;
                    for (int j = 0; j < c; j++) dot += m[i, j] * m[k, j];
                    for (int j = 0; j < c; j++) m[i, j] -= dot * m[k, j];
                }
            }
            double norm = 0;
            for (int j = 0; j < c; j++) norm += m[i, j] * m[i, j];
            norm = Math.Sqrt(norm);
            for (int j = 0; j < c; j++) m[i, j] /= norm;
        }
        var t = Tensor.Zeros(shape);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++) t.Storage[i * cols + j] = (float)(gain * (transpose ? m[j, i] : m[i, j]));
        }
        return t;
    }
}
