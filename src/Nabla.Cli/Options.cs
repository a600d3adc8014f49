namespace Nabla.Cli;

/// <summary>Command-line arguments split into positional values, valued options and flags.</summary>
internal sealed class Options
{
    public List<string> Positional { get; } = [];
    public Dictionary<string, string> Values { get; } = [];
    public HashSet<string> Flags { get; } = [];

    /// <summary>Parses <paramref name="args"/>; unknown options are errors naming them.</summary>
    public static Options Parse(string[] args, string[] valued, string[] flags)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (valued.Contains(a))
            {
                if (i + 1 >= args.Length) throw new ArgumentException($"option {a} needs a value.");
                o.Values[a] = args[++i];
            }
            else if (flags.Contains(a))
            {
                o.Flags.Add(a);
            }
            else if (a.StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unknown option '{a}'. Known: {string.Join(", ", valued.Concat(flags))}.");
            }
            else
            {
                o.Positional.Add(a);
            }
        }
        return o;
    }

    /// <summary>An integer option, or null when absent; a clear error when not a non-negative integer.</summary>
    public int? Int(string name)
    {
        if (!Values.TryGetValue(name, out string? v)) return null;
        return int.TryParse(v, out int n) && n >= 0 ? n : throw new ArgumentException($"option {name} needs a non-negative integer, not '{v}'.");
    }
}
