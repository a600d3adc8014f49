namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(params int[] shape) => new(Shapes.Check(shape, "Zeros"));

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(params int[] shape) => Full(shape, 1f);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(int[] shape, float value)
    {
        var t = new Tensor(Shapes.Check(shape, "Full"));
        t.Storage.AsSpan().Fill(value);
        return t;
    }

    /// <summary>A rank-0 tensor holding <paramref name="value"/>.</summary>
    public static Tensor Scalar(float value) => new([value], []);

    /// <summary>A tensor of zeros with the shape of <paramref name="like"/>.</summary>
    public static Tensor ZerosLike(Tensor like) => new((int[])like.ShapeArray.Clone());

    /// <summary>A tensor of ones with the shape of <paramref name="like"/>.</summary>
    public static Tensor OnesLike(Tensor like) => Full(like.ShapeArray, 1f);

    /// <summary>Values start, start + step, ... below end (above end for a negative step), as a 1-D tensor.</summary>
    public static Tensor Arange(float start, float end, float step = 1f)
    {
        if (step == 0 || float.IsNaN(step)) throw new ArgumentException("Arange: step must be non-zero.", nameof(step));
        double count = Math.Ceiling((end - (double)start) / step);
        int n = count <= 0 ? 0 : checked((int)count);
        var t = new Tensor([n]);
        for (int i = 0; i < n; i++) t.Storage[i] = (float)(start + (double)i * step);
        return t;
    }

    /// <summary>Values 0, 1, ..., end - 1, as a 1-D tensor.</summary>
    public static Tensor Arange(int end) => Arange(0, end);

    /// <summary><paramref name="steps"/> evenly spaced values from start to end inclusive, as a 1-D tensor.</summary>
    public static Tensor Linspace(float start, float end, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        var t = new Tensor([steps]);
        for (int i = 0; i < steps; i++)
            t.Storage[i] = steps == 1 ? start : (float)(start + (end - (double)start) * i / (steps - 1));
        return t;
    }

    /// <summary>
    /// A tensor of the given shape holding a copy of <paramref name="data"/> in row-major order.
    /// With no shape, a 1-D tensor of the data's length.
    /// </summary>
    public static Tensor FromArray(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        int[] s = shape.Length == 0 ? [data.Length] : Shapes.Check(shape, "FromArray");
        if (Shapes.Size(s) != data.Length)
            throw new ArgumentException($"FromArray: {data.Length} values do not fill shape {Shapes.Format(s)} ({Shapes.Size(s)} elements).");
        return new Tensor((float[])data.Clone(), s);
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/> in row-major order.</summary>
    public static Tensor FromSpan(ReadOnlySpan<float> data, params int[] shape)
    {
        int[] s = shape.Length == 0 ? [data.Length] : Shapes.Check(shape, "FromSpan");
        if (Shapes.Size(s) != data.Length)
            throw new ArgumentException($"FromSpan: {data.Length} values do not fill shape {Shapes.Format(s)} ({Shapes.Size(s)} elements).");
        return new Tensor(data.ToArray(), s);
    }

    /// <summary>A 2-D tensor from a rectangular array.</summary>
    public static Tensor FromArray(float[,] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        int rows = data.GetLength(0), cols = data.GetLength(1);
        var t = new Tensor([rows, cols]);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++) t.Storage[i * cols + j] = data[i, j];
        }
        return t;
    }

    /// <summary>Uniform samples in [0, 1).</summary>
    public static Tensor Rand(int[] shape, Generator? generator = null) => Uniform(shape, 0f, 1f, generator);

    /// <summary>Standard normal samples.</summary>
    public static Tensor RandN(int[] shape, Generator? generator = null) => Normal(shape, 0f, 1f, generator);

    /// <summary>Uniform samples in [low, high).</summary>
    public static Tensor Uniform(int[] shape, float low, float high, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        var t = new Tensor(Shapes.Check(shape, "Uniform"));
        for (int i = 0; i < t.Size; i++) t.Storage[i] = (float)(low + (high - (double)low) * g.NextDouble());
        return t;
    }

    /// <summary>Normal samples with the given mean and standard deviation.</summary>
    public static Tensor Normal(int[] shape, float mean, float std, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        var t = new Tensor(Shapes.Check(shape, "Normal"));
        for (int i = 0; i < t.Size; i++) t.Storage[i] = (float)(mean + std * g.NextNormal());
        return t;
    }

    /// <summary>A contiguous copy that does not share storage and is not connected to the graph.</summary>
    public Tensor Clone() => ContiguousCopy();
}
