namespace Nabla.Autograd;

/// <summary>
/// User-defined differentiable functions, as PyTorch's autograd.Function: a forward computed
/// with any ops (not recorded) and a hand-written gradient rule. Check the rule with
/// <see cref="GradCheck.Check"/>.
/// </summary>
public static class Function
{
    /// <summary>
    /// Runs <paramref name="forward"/> on <paramref name="inputs"/> and, when any input requires
    /// grad, records a node named <paramref name="name"/> whose rule is <paramref name="backward"/>:
    /// given the inputs and the output's gradient, it returns one gradient per input (or null).
    /// Tensors the rule receives or creates belong to the backward pass: their storage is reused
    /// by later steps once the pass ends, so a rule that wants to keep one keeps a copy of its
    /// values (<c>ToArray()</c>), not the tensor.
    /// </summary>
    public static Tensor Apply(string name, Tensor[] inputs, Func<Tensor[], Tensor> forward, Func<Tensor[], Tensor, Tensor?[]> backward)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(backward);
        Tensor output;
        using (Tensor.NoGrad())
        {
            output = forward(inputs);
        }
        // The result must be a fresh tensor that this node owns, not a view of an input.
        output = output.ContiguousCopy();
        return Tensor.ShouldRecord(inputs) ? output.Record(new CustomBackward(name, inputs, backward)) : output;
    }

    private sealed class CustomBackward(string name, Tensor[] inputs, Func<Tensor[], Tensor, Tensor?[]> rule) : Node(inputs)
    {
        public override string Name => name;

        protected internal override Tensor?[] Backward(Tensor grad)
        {
            var xs = new Tensor[Inputs.Count];
            for (int i = 0; i < xs.Length; i++) xs[i] = Inputs[i];
            Tensor?[] grads = rule(xs, grad);
            if (grads.Length != xs.Length)
                throw new InvalidOperationException($"{name}: the backward rule returned {grads.Length} gradients for {xs.Length} inputs.");
            return grads;
        }
    }
}
