using Nabla.Data;

namespace Nabla.Tests.Data;

public class TextTests
{
    [Fact]
    public void Word_tokens_follow_the_stated_rules()
    {
        var words = new Tokenizer();
        Assert.Equal(["don't", "panic", "it's", "42"], words.Tokenize("Don't PANIC, it's 42!"));
        Assert.Equal(["don't", "panic", ",", "it's", "42", "!"], new Tokenizer(KeepPunctuation: true).Tokenize("Don't PANIC, it's 42!"));
        Assert.Equal(["Hi", "there"], new Tokenizer(Lowercase: false).Tokenize("Hi  there"));
        Assert.Equal(["a", "b", "!"], new Tokenizer(Characters: true).Tokenize("a b!"));
        Assert.Empty(words.Tokenize("  ... "));
    }

    [Fact]
    public void Vocabulary_ids_pad_truncate_and_mask()
    {
        var tok = new Tokenizer();
        var train = new[] { "the cat sat", "the dog sat", "the cat ran" }.Select(t => (IReadOnlyList<string>)tok.Tokenize(t)).ToList();
        var vocab = Vocabulary.Build(train, minFrequency: 2);
        // the (3), cat (2), sat (2); dog and ran are rarer than the minimum.
        Assert.Equal(["<pad>", "<oov>", "the", "cat", "sat"], vocab.Tokens);
        Assert.Equal(Vocabulary.OutOfVocabulary, vocab.Id("dog"));
        Assert.Equal(Vocabulary.OutOfVocabulary, vocab.Id("<pad>"));
        Tensor ids = vocab.Encode([tok.Tokenize("the cat ran away"), tok.Tokenize("sat")], length: 3);
        Assert.Equal([2f, 3f, 1f, 4f, 0f, 0f], ids.ToArray());
        Assert.Equal([3f, 1f, 1f], vocab.Encode([tok.Tokenize("the cat ran away")], length: 3, truncateFront: true).ToArray());
        Assert.Equal([1f, 1f, 1f, 1f, 0f, 0f], Vocabulary.Mask(ids).ToArray());
        Assert.Equal(3, Vocabulary.Build(train, maxSize: 3).Count);
    }
}
