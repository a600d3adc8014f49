using Nabla.Text;

namespace Nabla.Tests.Text;

/// <summary>Subword tokens: a byte-pair encoding learnt from a corpus, and GPT-2's.</summary>
public class SubwordTokenizerTests
{
    private static readonly string[] Corpus =
    [
        "the cat sat on the mat", "the dog sat on the log", "a cat and a dog", "the cat saw the dog on the mat",
        "lower lowest newer newest wider widest", "the lowest newer mat",
    ];

    [Fact]
    public void A_trained_bpe_merges_frequent_pieces_and_round_trips_text()
    {
        var tokenizer = SubwordTokenizer.TrainBpe(Corpus, vocabularySize: 60);
        Assert.True(tokenizer.VocabularySize <= 60);
        // "the" is the corpus's most frequent word: one token once merged.
        Assert.Single(tokenizer.Encode("the"));
        Assert.True(tokenizer.Encode("the cat sat on the mat").Length <= 6, "frequent words should be whole tokens");
        foreach (string text in new[] { "the cat sat on the mat", "newest lower dog", "a mat" })
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)).Trim());
        // A word never seen is spelt in pieces it has; a character never seen is the unknown token.
        Assert.True(tokenizer.Encode("slowest").Length > 1);
        Assert.Contains(0, tokenizer.Encode("z"));
        // Training is deterministic.
        Assert.Equal(tokenizer.Encode("the lowest wider cat"), SubwordTokenizer.TrainBpe(Corpus, vocabularySize: 60).Encode("the lowest wider cat"));
        Assert.Throws<ArgumentOutOfRangeException>(() => SubwordTokenizer.TrainBpe(Corpus, vocabularySize: 5));
        Assert.Throws<ArgumentException>(() => SubwordTokenizer.TrainBpe(["   "], 10));
    }

    [Fact]
    public void Gpt2_gives_its_published_ids_and_any_text_round_trips()
    {
        var gpt2 = SubwordTokenizer.Gpt2();
        Assert.Equal([15496, 995], gpt2.Encode("Hello world"));
        Assert.Equal(50_257, gpt2.VocabularySize);
        foreach (string text in new[] { "The quick brown fox.", "naïve café — 東京 🙂", "  spaces\tand\nlines " })
            Assert.Equal(text, gpt2.Decode(gpt2.Encode(text)));
    }
}
