namespace Nabla;

public sealed partial class Tensor
{
    /// <summary>
    /// Einstein summation over one or two operands, as NumPy's and PyTorch's einsum with an explicit
    /// output (<c>"bhqd,bhkd->bhqk"</c>: attention's scores; <c>"ij->ji"</c>; <c>"ij->i"</c>). Each
    /// letter is an axis: letters of both operands and the output are batch axes, letters of one
    /// operand and the output are kept, letters missing from the output are summed. Two operands
    /// become one batched matrix product (permutes and reshapes around <see cref="MatMul(Tensor)"/>),
    /// so the gradient is the product's.
    /// </summary>
    public static Tensor Einsum(string equation, params Tensor[] operands)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(equation);
        ArgumentNullException.ThrowIfNull(operands);
        string eq = equation.Replace(" ", "", StringComparison.Ordinal);
        int arrow = eq.IndexOf("->", StringComparison.Ordinal);
        if (arrow < 0) throw new ArgumentException($"Einsum: '{equation}' needs an explicit output after '->'.", nameof(equation));
        string[] inputs = eq[..arrow].Split(',');
        string output = eq[(arrow + 2)..];
        if (inputs.Length != operands.Length || inputs.Length is < 1 or > 2)
            throw new ArgumentException($"Einsum: '{equation}' names {inputs.Length} operand(s) but {operands.Length} were given (one or two are supported).", nameof(operands));
        var sizes = new Dictionary<char, int>();
        for (int o = 0; o < inputs.Length; o++)
        {
            string spec = inputs[o];
            if (spec.Length != operands[o].Rank || spec.Distinct().Count() != spec.Length || spec.Any(c => !char.IsLetter(c)))
                throw new ArgumentException($"Einsum: '{spec}' must name each of the {operands[o].Rank} axes of operand {o} ({operands[o].ShapeString}) with a distinct letter.");
            for (int axis = 0; axis < spec.Length; axis++)
            {
                if (sizes.TryGetValue(spec[axis], out int size) && size != operands[o].Shape[axis])
                    throw new ArgumentException($"Einsum: axis '{spec[axis]}' has size {size} in one operand and {operands[o].Shape[axis]} in another.");
                sizes[spec[axis]] = operands[o].Shape[axis];
            }
        }
        if (output.Distinct().Count() != output.Length || output.Any(c => !sizes.ContainsKey(c)))
            throw new ArgumentException($"Einsum: the output '{output}' must name distinct axes of the operands.", nameof(equation));
        if (inputs.Length == 1) return SumAndPermute(operands[0], inputs[0], output);

        string a0 = inputs[0], b0 = inputs[1];
        // Axes summed within one operand alone go first.
        Tensor a = SumAndPermute(operands[0], a0, new string([.. a0.Where(c => output.Contains(c) || b0.Contains(c))]));
        Tensor b = SumAndPermute(operands[1], b0, new string([.. b0.Where(c => output.Contains(c) || a0.Contains(c))]));
        string sa = new([.. a0.Where(c => output.Contains(c) || b0.Contains(c))]), sb = new([.. b0.Where(c => output.Contains(c) || a0.Contains(c))]);
        string batch = new([.. output.Where(c => sa.Contains(c) && sb.Contains(c))]);
        string left = new([.. output.Where(c => sa.Contains(c) && !sb.Contains(c))]);
        string right = new([.. output.Where(c => sb.Contains(c) && !sa.Contains(c))]);
        string contracted = new([.. sa.Where(c => sb.Contains(c) && !output.Contains(c))]);
        int Size(string s) => s.Aggregate(1, (p, c) => p * sizes[c]);
        int batchSize = Size(batch), m = Size(left), n = Size(right), k = Size(contracted);
        Tensor am = SumAndPermute(a, sa, batch + left + contracted).Reshape(batchSize, m, k);
        Tensor bm = SumAndPermute(b, sb, batch + contracted + right).Reshape(batchSize, k, n);
        string produced = batch + left + right;
        Tensor y = am.MatMul(bm).Reshape([.. produced.Select(c => sizes[c])]);
        return SumAndPermute(y, produced, output);
    }

    /// <summary>The operand with axes <paramref name="from"/> summed over those not in <paramref name="to"/> and the rest permuted into its order.</summary>
    private static Tensor SumAndPermute(Tensor x, string from, string to)
    {
        int[] summed = [.. Enumerable.Range(0, from.Length).Where(a => !to.Contains(from[a]))];
        if (summed.Length > 0)
        {
            x = x.Sum(summed);
            from = new string([.. from.Where(to.Contains)]);
        }
        if (from == to) return x;
        return x.Permute([.. to.Select(c => from.IndexOf(c))]);
    }
}
