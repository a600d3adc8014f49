using Nabla.Autograd;

namespace Nabla.Tests.Ops;

/// <summary>Gradient checks for every op in <see cref="OpCatalog"/>, in several layouts and uses.</summary>
public class OpGradientTests
{
    [Theory]
    [MemberData(nameof(OpCatalog.Cases), MemberType = typeof(OpCatalog))]
    public void Gradient_matches_finite_differences(string name)
    {
        var entry = OpCatalog.Get(name);
        var result = GradCheck.Check(entry.Function, entry.MakeInputs());
        Assert.True(result.Passed, $"{name}: {result.Worst} (max error {result.MaxAbsError:G3})");
    }

    [Theory]
    [MemberData(nameof(OpCatalog.Cases), MemberType = typeof(OpCatalog))]
    public void Gradient_matches_for_non_contiguous_inputs(string name)
    {
        var entry = OpCatalog.Get(name);
        Tensor[] inputs = entry.MakeInputs().Select(NonContiguous).ToArray();
        var result = GradCheck.Check(entry.Function, inputs);
        Assert.True(result.Passed, $"{name}: {result.Worst} (max error {result.MaxAbsError:G3})");
    }

    [Theory]
    [MemberData(nameof(OpCatalog.Cases), MemberType = typeof(OpCatalog))]
    public void Gradient_accumulates_when_inputs_are_used_twice(string name)
    {
        var entry = OpCatalog.Get(name);
        // Each input feeds the op twice (two separate applications) and once more directly,
        // so the backward pass has to add three gradient paths into each leaf.
        Tensor Twice(Tensor[] x)
        {
            Tensor y = entry.Function(x);
            Tensor z = entry.Function(x) * 0.5f + y;
            return z.Sum() + x.Aggregate(Tensor.Scalar(0f), (acc, t) => acc + (t * t).Sum());
        }
        var result = GradCheck.Check(Twice, entry.MakeInputs(11));
        Assert.True(result.Passed, $"{name}: {result.Worst} (max error {result.MaxAbsError:G3})");
    }

    /// <summary>The same values in a non-contiguous layout: a transposed or strided view of a larger tensor.</summary>
    internal static Tensor NonContiguous(Tensor x)
    {
        float[] values = x.ToArray();
        int[] shape = x.Shape.ToArray();
        if (x.Rank >= 2)
        {
            // Store with the last two dimensions swapped, then transpose back: same values, swapped strides.
            int[] swapped = (int[])shape.Clone();
            (swapped[^1], swapped[^2]) = (swapped[^2], swapped[^1]);
            Tensor stored = Tensor.FromArray(values, shape).Transpose(-1, -2).Contiguous();
            Assert.Equal(swapped, stored.Shape.ToArray());
            Tensor view = stored.Transpose(-1, -2);
            Assert.False(view.IsContiguous && shape[^1] > 1 && shape[^2] > 1);
            return view;
        }
        if (x.Rank == 1)
        {
            // Every other element of a tensor twice as long.
            var padded = new float[values.Length * 2];
            for (int i = 0; i < values.Length; i++) padded[2 * i] = values[i];
            return Tensor.FromArray(padded).Slice(0, 0, null, 2);
        }
        return x;
    }
}
