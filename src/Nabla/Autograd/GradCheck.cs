using System.Text;

namespace Nabla.Autograd;

/// <summary>The outcome of <see cref="GradCheck.Check"/>: the worst disagreement found and where.</summary>
/// <param name="Passed">True when every element is within tolerance.</param>
/// <param name="MaxAbsError">Largest |analytic - numeric| over all inputs and elements.</param>
/// <param name="Worst">A description of the worst element: input, element, both values.</param>
public sealed record GradCheckResult(bool Passed, double MaxAbsError, string Worst);

/// <summary>
/// Checks the gradients that backward computes against central finite differences.
/// The function's output is projected onto a fixed random tensor (not all ones, which
/// would hide gradients sent to the wrong element), the projection summed in double, and
/// each input element perturbed by ±eps. Use it on your own functions and layers.
/// </summary>
public static class GradCheck
{
    /// <summary>
    /// Compares analytic and numeric gradients of <paramref name="function"/> at
    /// <paramref name="inputs"/> (leaves; they are made to require grad). An element passes
    /// when |analytic - numeric| &lt;= atol + rtol * |numeric|.
    /// </summary>
    /// <param name="function">Maps the inputs to one output tensor of any shape.</param>
    /// <param name="inputs">The points at which to check; not modified on return.</param>
    /// <param name="eps">The finite-difference step.</param>
    /// <param name="atol">Absolute tolerance.</param>
    /// <param name="rtol">Relative tolerance.</param>
    /// <param name="seed">Seed of the random projection.</param>
    public static GradCheckResult Check(Func<Tensor[], Tensor> function, Tensor[] inputs,
        float eps = 1e-3f, double atol = 1e-2, double rtol = 1e-2, ulong seed = 1234)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(inputs);
        foreach (Tensor x in inputs)
        {
            if (!x.IsLeaf) throw new ArgumentException("GradCheck: inputs must be leaf tensors; call Detach() on them first.");
            x.RequiresGrad = true;
            x.Grad = null;
        }

        Tensor output = function(inputs);
        Tensor projection = Tensor.RandN(output.ShapeArray, new Generator(seed));
        (output * projection).Sum().Backward();
        var analytic = new float[inputs.Length][];
        for (int i = 0; i < inputs.Length; i++)
            analytic[i] = inputs[i].Grad is { } g ? g.ToArray() : new float[inputs[i].Size];

        double Project()
        {
            using var scope = Tensor.NoGrad();
            ReadOnlySpan<float> y = function(inputs).Data;
            ReadOnlySpan<float> p = projection.Data;
            if (y.Length != p.Length) throw new InvalidOperationException("GradCheck: the function's output shape changed between calls.");
            double s = 0;
            for (int k = 0; k < y.Length; k++) s += (double)y[k] * p[k];
            return s;
        }

        double maxErr = 0;
        string worst = "none";
        bool passed = true;
        for (int i = 0; i < inputs.Length; i++)
        {
            Tensor x = inputs[i];
            for (int e = 0; e < x.Size; e++)
            {
                int pos = x.StorageIndexOfFlat(e);
                float original = x.Storage[pos];
                x.Storage[pos] = original + eps;
                double plus = Project();
                x.Storage[pos] = original - eps;
                double minus = Project();
                x.Storage[pos] = original;
                double numeric = (plus - minus) / (2.0 * eps);
                double err = Math.Abs(analytic[i][e] - numeric);
                bool ok = err <= atol + rtol * Math.Abs(numeric);
                if (!ok) passed = false;
                if (err > maxErr || (!ok && passed))
                {
                    maxErr = err;
                    worst = new StringBuilder().Append("input ").Append(i).Append(" element ").Append(e)
                        .Append(": analytic ").Append(analytic[i][e]).Append(", numeric ").Append(numeric.ToString("G6")).ToString();
                }
            }
        }
        return new GradCheckResult(passed, maxErr, worst);
    }
}
