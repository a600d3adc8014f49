namespace Nabla;

/// <summary>A unary kernel over contiguous spans: y = f(x).</summary>
internal delegate void SpanMap(ReadOnlySpan<float> x, Span<float> y);

/// <summary>A backward kernel over contiguous spans: dx = f(saved, g).</summary>
internal delegate void SpanGrad(ReadOnlySpan<float> saved, ReadOnlySpan<float> grad, Span<float> dx);

public sealed partial class Tensor
{
    /// <summary>Applies a unary span kernel to the elements of <paramref name="x"/>; records nothing.</summary>
    internal static Tensor Map(Tensor x, SpanMap kernel)
    {
        var y = ForOverwrite((int[])x.ShapeArray.Clone());
        kernel(x.Data, y.Storage);
        return y;
    }

    /// <summary>Applies a backward span kernel to a saved tensor and the upstream gradient (same shape).</summary>
    internal static Tensor MapGrad(Tensor saved, Tensor grad, SpanGrad kernel)
    {
        var dx = ForOverwrite((int[])saved.ShapeArray.Clone());
        kernel(saved.Data, grad.Data, dx.Storage);
        return dx;
    }
}
