namespace Nabla.Autograd;

/// <summary>
/// Opt-in detection of the first NaN or infinity in a forward or backward pass, as PyTorch's
/// detect_anomaly: inside <c>using (AnomalyMode.Detect()) { ... }</c>, every recorded op checks
/// its output and every gradient rule its results, and the first non-finite value throws a
/// <see cref="NumericalAnomalyException"/> naming the op, the layer that ran it and the training
/// step. It costs a pass over each tensor, so it is off by default. Per thread.
/// </summary>
public static class AnomalyMode
{
    [ThreadStatic] private static int t_depth;
    [ThreadStatic] private static string? t_layer;
    [ThreadStatic] private static string? t_step;

    /// <summary>True inside a <see cref="Detect"/> scope on this thread.</summary>
    public static bool IsEnabled => t_depth > 0;

    /// <summary>Turns detection on until the returned scope is disposed.</summary>
    public static Scope Detect() => new();

    /// <summary>The layer running now (set by Layer.Forward while detection is on).</summary>
    internal static string? CurrentLayer { get => t_layer; set => t_layer = value; }

    /// <summary>Where training is, e.g. "epoch 2, batch 7" (set by Fit while detection is on).</summary>
    internal static string? CurrentStep { get => t_step; set => t_step = value; }

    internal static void CheckForward(Tensor output, Node node)
    {
        if (FirstNonFinite(output) is { } bad)
            throw new NumericalAnomalyException("forward", node.Name, node.Layer, node.Step, bad, output.ShapeString);
    }

    internal static void CheckBackward(Node node, Tensor?[] grads)
    {
        for (int i = 0; i < grads.Length; i++)
        {
            if (grads[i] is { } g && FirstNonFinite(g) is { } bad)
                throw new NumericalAnomalyException($"backward (gradient of input {i})", node.Name, node.Layer, node.Step, bad, g.ShapeString);
        }
    }

    private static float? FirstNonFinite(Tensor t)
    {
        foreach (float v in t.Data)
        {
            if (!float.IsFinite(v)) return v;
        }
        return null;
    }

    /// <summary>The scope returned by <see cref="Detect"/>.</summary>
    public struct Scope : IDisposable
    {
        private bool _active;

        /// <summary>Turns detection on for this thread.</summary>
        public Scope()
        {
            t_depth++;
            _active = true;
        }

        /// <summary>Turns it off again (once).</summary>
        public void Dispose()
        {
            if (!_active) return;
            _active = false;
            t_depth--;
        }
    }
}

/// <summary>Thrown in <see cref="AnomalyMode"/> at the first NaN or infinity; says where it came from.</summary>
public sealed class NumericalAnomalyException(string phase, string op, string? layer, string? step, float value, string shape)
    : InvalidOperationException($"{(float.IsNaN(value) ? "NaN" : value.ToString(System.Globalization.CultureInfo.InvariantCulture))} in the {phase} of {op}"
        + (layer is null ? "" : $" in layer {layer}") + (step is null ? "" : $" at {step}") + $" (tensor of shape {shape}).")
{
    /// <summary>"forward" or "backward (gradient of input i)".</summary>
    public string Phase { get; } = phase;

    /// <summary>The op's node name, e.g. LogBackward.</summary>
    public string Op { get; } = op;

    /// <summary>The layer that ran the op, if any.</summary>
    public string? Layer { get; } = layer;

    /// <summary>The training step, if inside Fit.</summary>
    public string? Step { get; } = step;
}
