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

    /// <summary>An integer option of at least <paramref name="min"/>, or null when absent; a clear error otherwise.</summary>
    public int? Int(string name, int min)
    {
        int? n = Int(name);
        return n is int v && v < min ? throw new ArgumentException($"option {name} needs an integer of at least {min}, not '{Values[name]}'.") : n;
    }

    /// <summary>
    /// A finite number option, or <paramref name="fallback"/> when absent; a clear error when it is not
    /// a number or is outside (<paramref name="above"/>, <paramref name="below"/>), or [above, below)
    /// with <paramref name="includeAbove"/>.
    /// </summary>
    public float Float(string name, float fallback, float above, float below, bool includeAbove = false)
    {
        if (!Values.TryGetValue(name, out string? v)) return fallback;
        string range = $"{(includeAbove ? "[" : "(")}{above.ToString(System.Globalization.CultureInfo.InvariantCulture)}, {(float.IsPositiveInfinity(below) ? "infinity" : below.ToString(System.Globalization.CultureInfo.InvariantCulture))})";
        if (!float.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out float f) || !float.IsFinite(f))
            throw new ArgumentException($"option {name} needs a finite number in {range}, not '{v}'.");
        if (!((includeAbove ? f >= above : f > above) && f < below))
            throw new ArgumentException($"option {name} must be in {range}, not {v}.");
        return f;
    }

    /// <summary>An integer option, or null when absent; a clear error when not a non-negative integer.</summary>
    public int? Int(string name)
    {
        if (!Values.TryGetValue(name, out string? v)) return null;
        return int.TryParse(v, out int n) && n >= 0 ? n : throw new ArgumentException($"option {name} needs a non-negative integer, not '{v}'.");
    }
}
