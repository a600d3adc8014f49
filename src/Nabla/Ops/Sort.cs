namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// The values along <paramref name="axis"/> in ascending (or <paramref name="descending"/>) order,
    /// with the positions they came from (float indices), as PyTorch's sort; ties keep their order.
    /// The values' gradient goes back to the positions they came from.
    /// </summary>
    public (Tensor Values, Tensor Indices) Sort(int axis = -1, bool descending = false)
    {
        int ax = Shapes.NormalizeAxis(axis, Rank, "Sort");
        Tensor indices = SortedPositions(ax, ShapeArray[ax], descending);
        return (Gather(ax, indices), indices);
    }

    /// <summary>
    /// The <paramref name="k"/> largest (or, with <paramref name="largest"/> false, smallest) values
    /// along <paramref name="axis"/>, in order, with their positions (PyTorch's topk); sampling the
    /// next token from the top k of a language model's scores starts here.
    /// </summary>
    public (Tensor Values, Tensor Indices) TopK(int k, int axis = -1, bool largest = true)
    {
        int ax = Shapes.NormalizeAxis(axis, Rank, "TopK");
        if (k < 0 || k > ShapeArray[ax]) throw new ArgumentOutOfRangeException(nameof(k), $"TopK: k = {k} is outside [0, {ShapeArray[ax]}] for axis {ax} of {ShapeString}.");
        Tensor indices = SortedPositions(ax, k, descending: largest);
        return (Gather(ax, indices), indices);
    }

    /// <summary>For each line along <paramref name="axis"/>, the positions of its first <paramref name="count"/> values in sorted order (NaN last).</summary>
    private Tensor SortedPositions(int axis, int count, bool descending)
    {
        var (outer, n, inner) = AxisBlocks(axis);
        ReadOnlySpan<float> x = Data;
        int[] shape = (int[])ShapeArray.Clone();
        shape[axis] = count;
        var result = new Tensor(shape);
        var order = new int[n];
        var keys = new float[n];
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < inner; j++)
            {
                for (int i = 0; i < n; i++)
                {
                    order[i] = i;
                    keys[i] = x[(o * n + i) * inner + j];
                }
                // A stable sort: by value, then by position.
                Array.Sort(order, (p, q) =>
                {
                    float a = keys[p], b = keys[q];
                    int c = float.IsNaN(a) || float.IsNaN(b) ? float.IsNaN(a).CompareTo(float.IsNaN(b)) : descending ? b.CompareTo(a) : a.CompareTo(b);
                    return c != 0 ? c : p.CompareTo(q);
                });
                for (int i = 0; i < count; i++) result.Storage[(o * count + i) * inner + j] = order[i];
            }
        }
        return result;
    }

    /// <summary>
    /// The L2 norm over <paramref name="axes"/> (all when null): sqrt(sum(x^2)). Its gradient is
    /// x / norm, and zero where the norm is zero (as PyTorch's linalg.norm), not NaN.
    /// </summary>
    public Tensor Norm(int[]? axes = null, bool keepDim = false)
    {
        Tensor squares = (this * this).Sum(axes, keepDim: true);
        Tensor positive = squares.Gt(0f);
        // sqrt of 1 where the sum is 0 keeps the gradient finite; the mask then zeroes it there.
        Tensor norm = Where(positive, Where(positive, squares, Scalar(1f)).Sqrt(), Scalar(0f));
        if (keepDim) return norm;
        if (axes is null) return norm.Reshape();
        var reduced = new HashSet<int>(axes.Select(a => Shapes.NormalizeAxis(a, Rank, "Norm")));
        return norm.Reshape([.. Enumerable.Range(0, Rank).Where(d => !reduced.Contains(d)).Select(d => ShapeArray[d])]);
    }
}
