using System.Globalization;
using System.Text;

namespace Nabla;

public sealed partial class Tensor
{
    private const int SummaryThreshold = 1000;
    private const int EdgeItems = 3;

    /// <summary>
    /// The values in nested brackets as PyTorch prints them, with the shape when it is not
    /// obvious and the grad function or requires-grad flag; large tensors are summarised with "...".
    /// </summary>
    public override string ToString()
    {
        var sb = new StringBuilder("tensor(");
        float[] values = ToArray();
        bool summarise = Size > SummaryThreshold;
        bool integral = true;
        float maxAbs = 0f;
        foreach (float v in values)
        {
            if (float.IsFinite(v))
            {
                if (v != MathF.Round(v)) integral = false;
                maxAbs = MathF.Max(maxAbs, MathF.Abs(v));
            }
        }
        bool scientific = maxAbs >= 1e6f || (maxAbs > 0 && maxAbs < 1e-3f);
        string Fmt(float v) => float.IsNaN(v) ? "nan" : float.IsPositiveInfinity(v) ? "inf" : float.IsNegativeInfinity(v) ? "-inf"
            : scientific ? v.ToString("0.0000e+00", CultureInfo.InvariantCulture)
            : integral ? v.ToString("0", CultureInfo.InvariantCulture) + "."
            : v.ToString("0.0000", CultureInfo.InvariantCulture);

        void Write(int dim, int offset, int indent)
        {
            if (Rank == 0) { sb.Append(Fmt(values[0])); return; }
            int n = ShapeArray[dim];
            int stride = 1;
            for (int i = dim + 1; i < Rank; i++) stride *= ShapeArray[i];
            sb.Append('[');
            for (int i = 0; i < n; i++)
            {
                if (summarise && n > 2 * EdgeItems && i == EdgeItems)
                {
                    sb.Append(dim == Rank - 1 ? "..., " : "...,\n" + new string(' ', indent + 1));
                    i = n - EdgeItems;
                }
                if (dim == Rank - 1) sb.Append(Fmt(values[offset + i]));
                else Write(dim + 1, offset + i * stride, indent + 1);
                if (i < n - 1)
                {
                    sb.Append(dim == Rank - 1 ? ", " : "," + new string('\n', Rank - dim - 1) + new string(' ', indent + 1));
                }
            }
            sb.Append(']');
        }

        Write(0, 0, 7);
        if (Size == 0 || summarise) sb.Append(", shape=").Append(ShapeString);
        if (GradFn is not null) sb.Append(", gradFn=").Append(GradFn.Name);
        else if (RequiresGrad) sb.Append(", requiresGrad=true");
        return sb.Append(')').ToString();
    }
}
