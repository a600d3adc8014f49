namespace Nabla.Autograd;

/// <summary>
/// Storage for the gradients a backward pass creates and for the activations of a training step,
/// reused by the next step instead of being allocated afresh (which on a CNN costs more in
/// collections and page faults than the GEMMs).
/// While <see cref="Engine.Backward"/> runs on a thread, every tensor storage allocated on that
/// thread is noted; when the pass ends (and the graph is not retained), the noted arrays that no
/// leaf's <see cref="Tensor.Grad"/> holds are returned here. Nothing else can reference them:
/// backward runs without recording, leaf gradients are copies, and non-leaf gradients are not
/// exposed. New tensors take arrays of exactly their size from here, cleared to zero, so a
/// tensor's storage never changes length or content contract.
/// <para>Activations are returned only inside a <see cref="StepScope"/>: while one is open on a
/// thread, storage rented there is noted, and the storage of every tensor that a recorded op made
/// afresh (its owner, not a view or a leaf) goes back when the scope ends.</para>
/// </summary>
internal static class StoragePool
{
    /// <summary>Arrays shorter than this are not worth pooling.</summary>
    private const int MinLength = 128;

    /// <summary>At most this many floats are kept in all (256 MB).</summary>
    private const long MaxFloats = 64L << 20;

    /// <summary>
    /// At most this many arrays of one length. A Transformer step holds dozens of activations and
    /// gradients of one shape ([batch, steps, width]); a cap of 16 dropped most of them, and
    /// transformer-train allocated 57 MB a step (two gen-2 collections in three steps) instead of 10.
    /// </summary>
    private const int MaxPerSize = 256;

    private static readonly object s_gate = new();
    private static readonly Dictionary<int, Stack<float[]>> s_free = [];
    private static long s_floats;

    [ThreadStatic] private static HashSet<float[]>? t_noted;

    // The set each pass notes into, kept per thread and cleared, so a training step allocates none.
    [ThreadStatic] private static HashSet<float[]>? t_spare;

    // While a step scope is open on this thread: storage rented in it, and of that, the storage
    // owned by tensors recorded in it (returned when the scope ends). Kept per thread and cleared.
    [ThreadStatic] private static HashSet<float[]>? t_stepRented;
    [ThreadStatic] private static HashSet<float[]>? t_stepRecorded;
    [ThreadStatic] private static bool t_inStep;

    /// <summary>An array of exactly <paramref name="length"/> floats, pooled when one is free; zeroed unless <paramref name="clear"/> is false (then a pooled one keeps stale values).</summary>
    public static float[] Rent(int length, bool clear = true)
    {
        IO.LoadBudget.Charge(length);
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
            if (array is not null && clear) Array.Clear(array);
        }
        array ??= new float[length];
        if (length >= MinLength)
        {
            t_noted?.Add(array);
            if (t_inStep) t_stepRented!.Add(array);
        }
        return array;
    }

    /// <summary>Opens a step scope on this thread; false when one is already open (the outer one returns the storage).</summary>
    internal static bool BeginStep()
    {
        if (t_inStep) return false;
        t_stepRented ??= new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        t_stepRecorded ??= new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        t_inStep = true;
        return true;
    }

    /// <summary>Notes that <paramref name="t"/>, just recorded by an op, is the owner of storage rented in this step.</summary>
    internal static void NoteRecorded(Tensor t)
    {
        // Backward passes record nothing; a pass that did (with gradients of gradients) would
        // give its storage back at its own end, so it is left to that.
        if (!t.OwnsStorage || t.Storage.Length < MinLength || !t_inStep || t_noted is not null) return;
        if (t_stepRented!.Contains(t.Storage)) t_stepRecorded!.Add(t.Storage);
    }

    /// <summary>Closes this thread's step scope, returning the storage of the tensors recorded in it.</summary>
    internal static void EndStep()
    {
        if (!t_inStep) return;
        t_inStep = false;
        HashSet<float[]> recorded = t_stepRecorded!;
        if (recorded.Count > 0) Return(recorded);
        recorded.Clear();
        t_stepRented!.Clear();
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
        Return(noted);
    }

    private static void Return(HashSet<float[]> arrays)
    {
        lock (s_gate)
        {
            foreach (float[] array in arrays)
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
