namespace Nabla.Distributed;

/// <summary>
/// The part of a global batch this rank works on during a data-parallel training step: rows
/// [Offset, Offset + Count) of a batch of GlobalCount rows. Random masks drawn per sample (dropout)
/// consult it so that each rank draws the whole batch's numbers and keeps its own rows: masks, and
/// the generator's state afterwards, are then the same for any number of ranks.
/// </summary>
public static class BatchShard
{
    [ThreadStatic] private static (int Offset, int Count, int GlobalCount)? t_current;

    /// <summary>The shard of the running step on this thread, if any.</summary>
    public static (int Offset, int Count, int GlobalCount)? Current => t_current;

    /// <summary>Marks this thread's step as working on rows [offset, offset + count) of a batch of <paramref name="globalCount"/> rows, until disposed.</summary>
    public static Scope Enter(int offset, int count, int globalCount)
    {
        if (offset < 0 || count < 0 || offset + (long)count > globalCount)
            throw new ArgumentOutOfRangeException(nameof(offset), $"BatchShard: rows [{offset}, {offset + (long)count}) do not lie within a batch of {globalCount}.");
        var previous = t_current;
        t_current = (offset, count, globalCount);
        return new Scope(previous);
    }

    /// <summary>
    /// For a random draw of one number per element over a tensor of <paramref name="rows"/> rows
    /// (its first axis) and <paramref name="rowSize"/> elements per row: how many numbers to draw
    /// and discard before this shard's rows and after them. (0, 0) outside a shard, or when the
    /// tensor's rows are not the shard's.
    /// </summary>
    public static (long Before, long After) Skips(int rows, long rowSize)
    {
        if (t_current is not { } s || rows != s.Count) return (0, 0);
        return (s.Offset * rowSize, (long)(s.GlobalCount - s.Offset - s.Count) * rowSize);
    }

    /// <summary>
    /// <paramref name="perRow"/> uniform numbers in [0, 1) for each of <paramref name="rows"/> rows
    /// from <paramref name="generator"/>, drawn as for the whole global batch (per-sample
    /// augmentation draws its changes this way).
    /// </summary>
    public static float[] DrawRows(Generator generator, int rows, int perRow)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var (before, after) = Skips(rows, perRow);
        generator.Skip(before);
        var values = new float[rows * perRow];
        for (int i = 0; i < values.Length; i++) values[i] = generator.NextFloat();
        generator.Skip(after);
        return values;
    }

    /// <summary>Restores the previous shard when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly (int, int, int)? _previous;

        internal Scope((int, int, int)? previous) => _previous = previous;

        /// <inheritdoc/>
        public void Dispose() => t_current = _previous;
    }
}
