namespace Nabla.Autograd;

/// <summary>
/// Storage for the gradients a backward pass creates, reused by the next step instead of being
/// allocated afresh (which on a CNN costs more in collections and page faults than the GEMMs).
/// While <see cref="Engine.Backward"/> runs on a thread, every tensor storage allocated on that
/// thread is noted; when the pass ends (and the graph is not retained), the noted arrays that no
/// leaf's <see cref="Tensor.Grad"/> holds are returned here. Nothing else can reference them:
/// backward runs without recording, leaf gradients are copies, and non-leaf gradients are not
/// exposed. New tensors take arrays of exactly their size from here, cleared to zero, so a
/// tensor's storage never changes length or content contract.
/// </summary>
internal static class GradientPool
{
    /// <summary>Arrays shorter than this are not worth pooling.</summary>
    private const int MinLength = 1024;

    /// <summary>At most this many floats are kept in all (256 MB), and a few arrays per size.</summary>
    private const long MaxFloats = 64L << 20;
    private const int MaxPerSize = 6;

    private static readonly object s_gate = new();
    private static readonly Dictionary<int, Stack<float[]>> s_free = [];
    private static long s_floats;

    [ThreadStatic] private static HashSet<float[]>? t_noted;

    // The set each pass notes into, kept per thread and cleared, so a training step allocates none.
    [ThreadStatic] private static HashSet<float[]>? t_spare;

    /// <summary>A zeroed array of exactly <paramref name="length"/> floats, pooled when one is free.</summary>
    public static float[] Rent(int length)
    {
        float[]? array = null;
        if (length >= MinLength)
        {
            lock (s_gate)
            {
                if (s_free.TryGetValue(length, out var stack) && stack.Count > 0)
                {
                    array = stack.Pop();
                    s_floats -= length;
                }
            }
            if (array is not null) Array.Clear(array);
        }
        array ??= new float[length];
        if (length >= MinLength) t_noted?.Add(array);
        return array;
    }

    /// <summary>Starts noting this thread's allocations; false when a pass on this thread already does (a nested backward).</summary>
    public static bool BeginPass()
    {
        if (t_noted is not null) return false;
        t_noted = t_spare ?? new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        t_spare = null;
        return true;
    }

    /// <summary>Stops noting; with <paramref name="recycle"/>, returns the noted arrays except the gradients of the leaves among <paramref name="pass"/>.</summary>
    public static void EndPass(bool recycle, List<Tensor> pass)
    {
        HashSet<float[]>? noted = t_noted;
        t_noted = null;
        if (noted is null) return;
        if (recycle && noted.Count > 0) Recycle(noted, pass);
        noted.Clear();
        t_spare = noted;
    }

    private static void Recycle(HashSet<float[]> noted, List<Tensor> pass)
    {
        foreach (Tensor t in pass)
        {
            if (t.IsLeaf && t.Grad is { } kept) noted.Remove(kept.Storage);
        }
        lock (s_gate)
        {
            foreach (float[] array in noted)
            {
                if (s_floats + array.Length > MaxFloats) continue;
                if (!s_free.TryGetValue(array.Length, out var stack)) s_free[array.Length] = stack = new Stack<float[]>();
                if (stack.Count >= MaxPerSize) continue;
                stack.Push(array);
                s_floats += array.Length;
            }
        }
    }
}
