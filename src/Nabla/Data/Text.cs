using System.Globalization;
using System.Text;

namespace Nabla.Data;

/// <summary>How text becomes tokens: words or characters, with the rules stated, not implied.</summary>
/// <param name="Characters">Split into characters instead of words.</param>
/// <param name="Lowercase">Lower-case everything first (invariant culture).</param>
/// <param name="KeepPunctuation">Keep punctuation marks as tokens of their own (word mode); otherwise drop them.</param>
public sealed record Tokenizer(bool Characters = false, bool Lowercase = true, bool KeepPunctuation = false)
{
    /// <summary>
    /// The tokens of <paramref name="text"/>. Word mode: a word is a run of letters, digits and
    /// apostrophes inside a word ("don't" is one token); everything else separates words, and
    /// punctuation is dropped or kept as one-character tokens. Character mode: every character
    /// except white space.
    /// </summary>
    public List<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Lowercase) text = text.ToLower(CultureInfo.InvariantCulture);
        var tokens = new List<string>();
        if (Characters)
        {
            foreach (char c in text)
            {
                if (!char.IsWhiteSpace(c)) tokens.Add(c.ToString());
            }
            return tokens;
        }
        var word = new StringBuilder();
        void Flush()
        {
            string w = word.ToString().Trim('\'');
            if (w.Length > 0) tokens.Add(w);
            word.Clear();
        }
        foreach (char c in text)
        {
            if (char.IsLetterOrDigit(c) || (c == '\'' && word.Length > 0)) { word.Append(c); continue; }
            Flush();
            if (KeepPunctuation && char.IsPunctuation(c)) tokens.Add(c.ToString());
        }
        Flush();
        return tokens;
    }
}

/// <summary>
/// Token ids for a model: index 0 is padding, 1 is out-of-vocabulary, then the tokens seen at
/// least <c>minFrequency</c> times in the training texts, most frequent first (ties in ordinal
/// order, so the ids are repeatable). Built from training texts only.
/// </summary>
public sealed class Vocabulary
{
    /// <summary>The padding id (Embedding's paddingIndex).</summary>
    public const int Padding = 0;

    /// <summary>The id of tokens not in the vocabulary.</summary>
    public const int OutOfVocabulary = 1;

    private readonly Dictionary<string, int> _ids;

    private Vocabulary(List<string> tokens)
    {
        Tokens = tokens;
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++) _ids[tokens[i]] = i;
    }

    /// <summary>The tokens by id (0 "&lt;pad&gt;", 1 "&lt;oov&gt;").</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>Size, including the padding and out-of-vocabulary ids (Embedding's inputDim).</summary>
    public int Count => Tokens.Count;

    /// <summary>Builds from tokenised training texts, keeping tokens seen at least <paramref name="minFrequency"/> times, at most <paramref name="maxSize"/> in all.</summary>
    public static Vocabulary Build(IEnumerable<IReadOnlyList<string>> trainingTokens, int minFrequency = 1, int? maxSize = null)
    {
        ArgumentNullException.ThrowIfNull(trainingTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(minFrequency, 1);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in trainingTokens)
        {
            foreach (string t in text) counts[t] = counts.GetValueOrDefault(t) + 1;
        }
        var kept = counts.Where(kv => kv.Value >= minFrequency).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key);
        if (maxSize is int max) kept = kept.Take(Math.Max(max - 2, 0));
        return new Vocabulary(["<pad>", "<oov>", .. kept]);
    }

    /// <summary>The id of a token (<see cref="OutOfVocabulary"/> when unknown).</summary>
    public int Id(string token) => _ids.TryGetValue(token, out int id) && id > OutOfVocabulary ? id : OutOfVocabulary;

    /// <summary>
    /// Ids of each text, padded with <see cref="Padding"/> or truncated to <paramref name="length"/>
    /// (at the end, or at the start when <paramref name="truncateFront"/>, keeping the last tokens),
    /// as a float tensor [texts, length] for an Embedding with paddingIndex 0.
    /// </summary>
    public Tensor Encode(IReadOnlyList<IReadOnlyList<string>> texts, int length, bool truncateFront = false)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        var ids = new float[texts.Count * length];
        for (int i = 0; i < texts.Count; i++)
        {
            var t = texts[i];
            int skip = truncateFront ? Math.Max(t.Count - length, 0) : 0;
            int n = Math.Min(t.Count - skip, length);
            for (int j = 0; j < n; j++) ids[i * length + j] = Id(t[skip + j]);
        }
        return Tensor.FromArray(ids, texts.Count, length);
    }

    /// <summary>The mask of real (1) and padding (0) positions of encoded ids, for recurrent layers.</summary>
    public static Tensor Mask(Tensor ids) => ids.Ne(Padding);
}
