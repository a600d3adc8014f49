namespace Nabla.Layers;

/// <summary>A 2-D size (kernel, pool, stride or dilation); an int means the same in both dimensions.</summary>
/// <param name="H">Height.</param>
/// <param name="W">Width.</param>
public readonly record struct Size2(int H, int W)
{
    /// <summary>The same size in both dimensions.</summary>
    public static implicit operator Size2(int s) => new(s, s);

    /// <summary>From (height, width).</summary>
    public static implicit operator Size2((int H, int W) s) => new(s.H, s.W);

    /// <summary>As a tuple, for the tensor ops.</summary>
    public (int H, int W) Tuple => (H, W);

    /// <inheritdoc/>
    public override string ToString() => $"{H}x{W}";
}

/// <summary>
/// How a convolution or pooling pads its input: "valid" (none), "same" (TensorFlow's rule: the
/// output has ceil(size / stride) positions, the extra padding going to the bottom and right),
/// or explicit sizes.
/// </summary>
public readonly record struct ConvPadding
{
    private readonly string? _mode;
    private readonly Padding2D _explicit;

    private ConvPadding(string? mode, Padding2D padding)
    {
        _mode = mode;
        _explicit = padding;
    }

    /// <summary>"valid" or "same", or null for explicit sizes.</summary>
    public string? Mode => _mode;

    /// <summary>The explicit sizes (when <see cref="Mode"/> is null).</summary>
    public Padding2D Explicit => _explicit;

    /// <summary>"valid", "same" (case-insensitive).</summary>
    public static implicit operator ConvPadding(string mode)
    {
        string m = mode.ToLowerInvariant();
        if (m is not ("valid" or "same")) throw new ArgumentException($"Padding must be \"valid\", \"same\" or explicit sizes, not \"{mode}\".", nameof(mode));
        return new ConvPadding(m, default);
    }

    /// <summary>The same explicit padding on every side.</summary>
    public static implicit operator ConvPadding(int p) => new(null, p);

    /// <summary>Explicit padding per side.</summary>
    public static implicit operator ConvPadding(Padding2D p) => new(null, p);

    /// <summary>The padding for an input of <paramref name="h"/> x <paramref name="w"/> and the given window.</summary>
    public Padding2D Resolve(int h, int w, Size2 kernel, Size2 stride, Size2 dilation)
    {
        if (_mode != "same") return _mode == "valid" ? default : _explicit;
        static (int Before, int After) Same(int size, int k, int s, int d)
        {
            int outSize = (size + s - 1) / s;
            int total = Math.Max((outSize - 1) * s + (k - 1) * d + 1 - size, 0);
            return (total / 2, total - total / 2);
        }
        var (top, bottom) = Same(h, kernel.H, stride.H, dilation.H);
        var (left, right) = Same(w, kernel.W, stride.W, dilation.W);
        return new Padding2D(top, bottom, left, right);
    }

    /// <inheritdoc/>
    public override string ToString() => _mode ?? _explicit.ToString();
}
