namespace Nabla.IO;

/// <summary>
/// While a model file's architecture is rebuilt, bounds what its configs may allocate, so that
/// a small file whose config was edited (a Dense layer of 300 million units, an input shape of
/// two billion) fails at once with a clear error instead of taking gigabytes or hours. Weights
/// and buffers made by layer constructors and builds are charged against a budget set from the
/// tensors the file holds; tensors made inside a layer's call (the one-sample pass that infers
/// shapes) are not charged, but each must stay under <see cref="MaxActivationFloats"/>. While a
/// budget is open, initializers that cost more than their output (orthogonal) skip their work:
/// the file's values replace the initial ones anyway.
/// </summary>
internal sealed class LoadBudget : IDisposable
{
    /// <summary>The largest tensor one sample's pass may make while a file loads: 64 Mi floats (256 MB).</summary>
    public const long MaxActivationFloats = 64L << 20;

    [ThreadStatic] private static LoadBudget? t_current;

    private readonly LoadBudget? _outer;
    private readonly long _total;
    private long _left;
    private bool _inCall;

    private LoadBudget(long floats)
    {
        _outer = t_current;
        _total = floats;
        _left = floats;
        t_current = this;
    }

    /// <summary>Opens a budget of <paramref name="floats"/> weight values on this thread; a tensor that does not fit is a <see cref="FormatException"/>.</summary>
    public static LoadBudget Open(long floats) => new(floats);

    /// <summary>True while a budget is open on this thread: initializers may skip costly work.</summary>
    public static bool Active => t_current is not null;

    /// <summary>Counts an allocation of <paramref name="length"/> floats; throws when it does not fit.</summary>
    public static void Charge(int length)
    {
        LoadBudget? b = t_current;
        if (b is null) return;
        if (b._inCall)
        {
            if (length > MaxActivationFloats)
                throw new FormatException($"one sample through its architecture needs a tensor of {length:N0} values, more than a model file may ask for ({MaxActivationFloats:N0}); is its input_shape right?");
            return;
        }
        b._left -= length;
        if (b._left < 0)
            throw new FormatException($"its architecture asks for more weights than the file holds ({b._total:N0} values allowed, a tensor of {length:N0} more asked for); was a layer's config edited?");
    }

    /// <summary>Until disposed, allocations on this thread are a layer's call (activations), or, with <paramref name="call"/> false, its build (weights).</summary>
    public static Mode Enter(bool call)
    {
        LoadBudget? b = t_current;
        if (b is null || b._inCall == call) return default;
        b._inCall = call;
        return new Mode(b, !call);
    }

    /// <summary>Restores the mode that was current before <see cref="Enter"/>.</summary>
    public readonly struct Mode(LoadBudget? budget, bool previous) : IDisposable
    {
        /// <inheritdoc/>
        public void Dispose()
        {
            if (budget is not null) budget._inCall = previous;
        }
    }

    /// <summary>Closes the budget.</summary>
    public void Dispose() => t_current = _outer;
}
