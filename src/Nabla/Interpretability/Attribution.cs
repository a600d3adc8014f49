using Nabla.Layers;

namespace Nabla.Interpretability;

/// <summary>
/// Why did the model decide that? Attributions of a model's output to its input features:
/// saliency (the input gradient), integrated gradients (which add up to the change in output
/// from a baseline), and permutation importance for tabular models. The model runs in
/// inference mode (no dropout, running statistics) and its parameters are not changed.
/// </summary>
public static class Attribution
{
    /// <summary>
    /// The scalar explained for each sample: output column <paramref name="targets"/>[i] of sample i
    /// (for [N, C] outputs), or the single output (for [N] or [N, 1]). Null targets pick each
    /// sample's highest output.
    /// </summary>
    private static Tensor Explained(Module model, Tensor input, int[]? targets, out int[] used)
    {
        Tensor output = model.Forward(input);
        int n = input.Shape[0];
        if (output.Size == n)
        {
            used = new int[n];
            return output.Reshape(n);
        }
        if (output.Rank != 2) throw new ArgumentException($"Attribution: the model's output must be [N], [N, 1] or [N, classes], got {output.ShapeString}.");
        int classes = output.Shape[1];
        if (targets is null)
        {
            using var noGrad = Tensor.NoGrad();
            used = output.ArgMax(1).ToArray().Select(v => (int)v).ToArray();
        }
        else
        {
            if (targets.Length != n) throw new ArgumentException($"Attribution: {targets.Length} targets for {n} samples.");
            foreach (int t in targets)
            {
                if (t < 0 || t >= classes) throw new ArgumentOutOfRangeException(nameof(targets), $"Attribution: target {t} is outside [0, {classes}).");
            }
            used = targets;
        }
        return output.Gather(1, Tensor.FromArray(used.Select(t => (float)t).ToArray(), n, 1)).Reshape(n);
    }

    private static Tensor InputGradient(Module model, Tensor input, int[]? targets, out Tensor explained, out int[] used)
    {
        Tensor x = input.Detach().Clone().RequireGrad();
        // Backward also reaches the parameters; put their gradients back as they were.
        Parameter[] parameters = [.. model.Parameters()];
        Tensor?[] saved = [.. parameters.Select(p => p.Grad)];
        foreach (var p in parameters) p.Value.Grad = null;
        using var inference = Module.InferenceScope();
        explained = Explained(model, x, targets, out used);
        explained.Sum().Backward();
        for (int i = 0; i < parameters.Length; i++) parameters[i].Value.Grad = saved[i];
        return x.Grad ?? Tensor.ZerosLike(x);
    }

    /// <summary>
    /// Saliency: d output / d input for each sample (absolute values when <paramref name="absolute"/>),
    /// of the input's shape. <paramref name="targets"/> picks the class explained per sample (default:
    /// the predicted one).
    /// </summary>
    public static Tensor Saliency(Module model, Tensor input, int[]? targets = null, bool absolute = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        Tensor grad = InputGradient(model, input, targets, out _, out _);
        return absolute ? grad.Abs() : grad;
    }

    /// <summary>
    /// Integrated gradients (Sundararajan et al., 2017): (x - baseline) times the average gradient
    /// along the straight path from <paramref name="baseline"/> (default zeros) to x, by the midpoint
    /// rule with <paramref name="steps"/> points. Per sample, the attributions sum to
    /// F(x) - F(baseline) up to the integration error (the completeness property).
    /// </summary>
    public static Tensor IntegratedGradients(Module model, Tensor input, int[]? targets = null, Tensor? baseline = null, int steps = 64)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        Tensor x = input.Detach();
        Tensor b = baseline?.Detach() ?? Tensor.ZerosLike(x);
        if (!Shapes.Equal(b.Shape, x.Shape)) throw new ArgumentException($"IntegratedGradients: baseline {b.ShapeString} must have the input's shape {x.ShapeString}.");
        // Fix the explained class from the real input, so every point on the path explains the same output.
        int[] used;
        using (Tensor.NoGrad())
        using (Module.InferenceScope())
        {
            Explained(model, x, targets, out used);
        }
        Tensor delta = x - b;
        Tensor total = Tensor.ZerosLike(x);
        for (int k = 0; k < steps; k++)
        {
            float alpha = (k + 0.5f) / steps;
            Tensor point;
            using (Tensor.NoGrad()) point = b + delta * alpha;
            total += InputGradient(model, point, used, out _, out _);
        }
        using (Tensor.NoGrad()) return total * delta / steps;
    }

    /// <summary>
    /// Permutation feature importance for a compiled model on tabular data x [N, features]: for
    /// each feature, the mean increase of the loss (from <c>Evaluate</c>) when that column is
    /// shuffled, over <paramref name="repeats"/> shuffles from <paramref name="seed"/>. Larger means the
    /// model relies on the feature more; near zero means it ignores it.
    /// </summary>
    public static float[] PermutationImportance(Sequential model, Tensor x, Tensor y, int repeats = 5, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 2) throw new ArgumentException($"PermutationImportance needs tabular inputs [N, features], got {x.ShapeString}.");
        int n = x.Shape[0], features = x.Shape[1];
        float baseLoss = model.Evaluate(x, y, batchSize: 1024)["loss"];
        var g = new Generator(seed);
        float[] data = x.ToArray();
        var importance = new float[features];
        var order = new int[n];
        for (int j = 0; j < features; j++)
        {
            double sum = 0;
            for (int r = 0; r < repeats; r++)
            {
                for (int i = 0; i < n; i++) order[i] = i;
                g.Shuffle(order);
                float[] shuffled = (float[])data.Clone();
                for (int i = 0; i < n; i++) shuffled[i * features + j] = data[order[i] * features + j];
                sum += model.Evaluate(Tensor.FromArray(shuffled, n, features), y, batchSize: 1024)["loss"] - baseLoss;
            }
            importance[j] = (float)(sum / repeats);
        }
        return importance;
    }
}
