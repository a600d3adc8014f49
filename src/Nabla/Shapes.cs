using System.Text;

namespace Nabla;

/// <summary>Shape arithmetic and the messages that name shapes when something does not fit.</summary>
internal static class Shapes
{
    /// <summary>Formats a shape as <c>[2, 3]</c>.</summary>
    public static string Format(ReadOnlySpan<int> shape)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(shape[i]);
        }
        return sb.Append(']').ToString();
    }

    /// <summary>Number of elements of a shape.</summary>
    public static int Size(ReadOnlySpan<int> shape) => Kernels.Strided.Size(shape);

    /// <summary>
    /// Row-major strides of a shape. The array may be shared with other tensors of the same rank and
    /// row length (strides are never written after a tensor is made: ops that change them copy
    /// first), so that a training step's many [N, features] tensors do not each allocate theirs.
    /// </summary>
    public static int[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        switch (shape.Length)
        {
            case 0: return [];
            case 1: return s_unitStride;
            case 2:
                int[][] cache = t_rowStrides ??= new int[RowStrideSlots][];
                int cols = shape[1], slot = cols & (RowStrideSlots - 1);
                int[]? hit = cache[slot];
                if (hit is not null && hit[0] == cols) return hit;
                return cache[slot] = [cols, 1];
            default:
                var strides = new int[shape.Length];
                Kernels.Strided.ContiguousStrides(shape, strides);
                return strides;
        }
    }

    private static readonly int[] s_unitStride = [1];
    private const int RowStrideSlots = 16;
    [ThreadStatic] private static int[][]? t_rowStrides;

    /// <summary>Validates a shape given by a user: every dimension non-negative.</summary>
    public static int[] Check(ReadOnlySpan<int> shape, string op)
    {
        if (shape.Length > Kernels.Strided.MaxRank)
            throw new ArgumentException($"{op}: rank {shape.Length} is more than the {Kernels.Strided.MaxRank} dimensions Nabla supports.");
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"{op}: shape {Format(shape)} has a negative dimension.");
        }
        _ = Size(shape);
        return shape.ToArray();
    }

    /// <summary>Turns a possibly negative axis into 0..rank-1, or throws naming the op.</summary>
    public static int NormalizeAxis(int axis, int rank, string op)
    {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
            throw new ArgumentOutOfRangeException(nameof(axis), $"{op}: axis {axis} is out of range for a tensor of rank {rank}.");
        return a;
    }

    /// <summary>Normalises a list of axes (null means all), sorted ascending, without repeats.</summary>
    public static int[] NormalizeAxes(int[]? axes, int rank, string op)
    {
        if (axes is null)
        {
            var all = new int[rank];
            for (int i = 0; i < rank; i++) all[i] = i;
            return all;
        }
        var result = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++) result[i] = NormalizeAxis(axes[i], rank, op);
        Array.Sort(result);
        for (int i = 1; i < result.Length; i++)
        {
            if (result[i] == result[i - 1]) throw new ArgumentException($"{op}: axis {result[i]} is given twice.");
        }
        return result;
    }

    /// <summary>NumPy broadcasting of two shapes, or an exception naming the op and both shapes.</summary>
    public static int[] Broadcast(ReadOnlySpan<int> a, ReadOnlySpan<int> b, string op)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {Format(a)} and {Format(b)} cannot be broadcast together (dimension {i}: {da} vs {db}).");
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>True when both shapes have the same rank and dimensions.</summary>
    public static bool Equal(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    /// <summary>Shape with the given (sorted) axes removed, or set to 1 when keepDim.</summary>
    public static int[] Reduced(ReadOnlySpan<int> shape, int[] axes, bool keepDim)
    {
        var result = new List<int>(shape.Length);
        for (int i = 0; i < shape.Length; i++)
        {
            if (Array.IndexOf(axes, i) >= 0)
            {
                if (keepDim) result.Add(1);
            }
            else
            {
                result.Add(shape[i]);
            }
        }
        return result.ToArray();
    }
}
