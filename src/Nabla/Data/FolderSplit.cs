namespace Nabla.Data;

/// <summary>Seeded, stratified splits of labelled files (image and audio folders).</summary>
public static class FolderSplit
{
    /// <summary>
    /// Positions of <paramref name="labels"/> split into the remaining ones and a held fraction of each
    /// label (rounded), shuffled per label by <paramref name="seed"/>; both lists in ascending order.
    /// </summary>
    public static (int[] Remaining, int[] Held) Stratified(IReadOnlyList<int> labels, double fraction, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (!(fraction > 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), $"fraction must be in (0, 1), not {fraction}.");
        var g = new Generator(seed);
        var remaining = new List<int>();
        var held = new List<int>();
        foreach (var group in Enumerable.Range(0, labels.Count).GroupBy(i => labels[i]).OrderBy(gr => gr.Key))
        {
            int[] members = [.. group];
            g.Shuffle(members);
            int take = (int)Math.Round(members.Length * fraction);
            held.AddRange(members[..take]);
            remaining.AddRange(members[take..]);
        }
        return ([.. remaining.Order()], [.. held.Order()]);
    }
}
