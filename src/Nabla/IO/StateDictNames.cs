using System.Text.RegularExpressions;

namespace Nabla.IO;

/// <summary>
/// Name-mapping rules for loading checkpoints made elsewhere into a Nabla model, passed to
/// <see cref="Layers.Module.LoadStateDict"/> or <see cref="Checkpoint.LoadInto"/>: each rule is a
/// regular expression and its replacement (.NET syntax, <c>$1</c> for groups), applied in order
/// to every name; a name whose replacement is empty is dropped.
/// <code>var rename = StateDictNames.Rules((@"^model\.encoder\.", "0."), (@"^model\.head\.", "1."), (@"^lm_head\.", ""));</code>
/// </summary>
public static class StateDictNames
{
    /// <summary>A renaming function from (pattern, replacement) rules applied in order.</summary>
    public static Func<string, string?> Rules(params (string Pattern, string Replacement)[] rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var compiled = rules.Select(r => (new Regex(r.Pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), r.Replacement)).ToArray();
        return name =>
        {
            foreach (var (regex, replacement) in compiled) name = regex.Replace(name, replacement);
            return name.Length == 0 ? null : name;
        };
    }

    /// <summary>Removes <paramref name="prefix"/> from the names that start with it (Hugging Face's <c>model.</c>).</summary>
    public static Func<string, string?> StripPrefix(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        return name => name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : name;
    }
}
