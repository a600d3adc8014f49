using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Tests.Models;

/// <summary>The causal language model: cached generation is the uncached one, it learns text, and its sampling rules do what they say.</summary>
public class CausalLanguageModelTests
{
    [Fact]
    public void Generation_with_the_key_value_cache_gives_the_tokens_and_logits_of_rerunning_the_whole_text()
    {
        Generator.ManualSeed(1);
        var model = new CausalLanguageModel(vocabulary: 13, maxLength: 12, dim: 16, heads: 2, layers: 2, dropout: 0.1f);
        int[] prompt = [3, 7, 1, 12];
        int[] cached = model.Generate(prompt, 8);
        int[] rerun = model.Generate(prompt, 8, useCache: false);
        Assert.Equal(rerun, cached);
        Assert.Equal(8, cached.Length);

        // The cache's logits for a new step are the full run's at that position.
        int[] text = [.. prompt, .. cached.Take(3)];
        Tensor full;
        using (Module.InferenceScope())
        using (Tensor.NoGrad())
        {
            full = model.Forward([Tensor.FromArray([.. text.Select(t => (float)t)], 1, text.Length)])[0];
            var caches = model.Blocks.Select(_ => new KeyValueCache()).ToArray();
            Tensor x = model.Embedding.Embed(Tensor.FromArray([.. prompt.Select(t => (float)t)], 1, prompt.Length), 0);
            for (int b = 0; b < caches.Length; b++) x = model.Blocks[b].Step(x, caches[b]);
            for (int i = prompt.Length; i < text.Length; i++)
            {
                x = model.Embedding.Embed(Tensor.FromArray([(float)text[i]], 1, 1), i);
                for (int b = 0; b < caches.Length; b++) x = model.Blocks[b].Step(x, caches[b]);
                float[] step = model.Head.Forward(model.Norm.Forward(x)).ToArray();
                float[] whole = full.Slice(1, i, i + 1).ToArray();
                for (int k = 0; k < step.Length; k++) Assert.Equal(whole[k], step[k], 4);
            }
            Assert.Equal(text.Length, caches[0].Length);
        }
        // The context has room for 12 tokens fed: generation stops there.
        Assert.Equal(12 - prompt.Length + 1, model.Generate(prompt, 100).Length);
    }

    [Fact]
    public void A_small_model_learns_a_sentence_and_writes_its_continuation()
    {
        const string text = "the quick brown fox jumps over the lazy dog. ";
        string alphabet = new([.. text.Distinct().Order()]);
        int[] Encode(string s) => [.. s.Select(c => alphabet.IndexOf(c))];
        string Decode(IEnumerable<int> ids) => new([.. ids.Select(i => alphabet[i])]);
        string repeated = string.Concat(Enumerable.Repeat(text, 4));
        const int window = 20;
        int n = text.Length;
        var x = new float[n * window];
        var y = new float[n * window];
        for (int s = 0; s < n; s++)
        {
            for (int i = 0; i < window; i++)
            {
                x[s * window + i] = alphabet.IndexOf(repeated[s + i]);
                y[s * window + i] = alphabet.IndexOf(repeated[s + i + 1]);
            }
        }
        Generator.ManualSeed(2);
        var model = new CausalLanguageModel(alphabet.Length, window, dim: 32, heads: 2, layers: 2, dropout: 0f);
        model.Compile(new Nabla.Losses.SparseCategoricalCrossEntropy(fromLogits: true), new Adam(3e-3f), "accuracy");
        var history = model.Fit(Tensor.FromArray(x, n, window), Tensor.FromArray(y, n, window), epochs: 60, batchSize: 9, verbose: 0);
        Assert.True(history["accuracy"][^1] > 0.95f, $"next-character accuracy {history["accuracy"][^1]}");
        // Five characters of prompt and fifteen written fill the twenty positions the model was trained on.
        string written = Decode(model.Generate(Encode("the q"), 15));
        Assert.Equal("uick brown fox ", written);
        Assert.Equal("uick brown fox ju"[..16], Decode(model.Generate(Encode("the q"), 100))); // the context is full after 16
        // Sampling at a low temperature from a confident model writes the same.
        Assert.Equal(written, Decode(model.Generate(Encode("the q"), 15, temperature: 0.05f, topK: 3, generator: new Generator(3))));
    }

    [Fact]
    public void Sampling_follows_the_softmax_and_top_k_and_top_p_cut_the_tail()
    {
        float[] logits = [0f, MathF.Log(2f), MathF.Log(3f)]; // probabilities 1/6, 2/6, 3/6
        var g = new Generator(4);
        var counts = new int[3];
        const int draws = 30_000;
        for (int i = 0; i < draws; i++) counts[CausalLanguageModel.Choose(logits, 1f, null, null, g)]++;
        for (int k = 0; k < 3; k++) Assert.InRange(counts[k] / (double)draws, (k + 1) / 6.0 - 0.012, (k + 1) / 6.0 + 0.012);
        Assert.Equal(2, CausalLanguageModel.Choose(logits, 0f, null, null, g));
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(2, CausalLanguageModel.Choose(logits, 1f, 1, null, g));
            Assert.NotEqual(0, CausalLanguageModel.Choose(logits, 1f, 2, null, g));
            Assert.Equal(2, CausalLanguageModel.Choose(logits, 1f, null, 0.5f, g));
            Assert.NotEqual(0, CausalLanguageModel.Choose(logits, 1f, null, 0.8f, g));
        }
        // A high temperature flattens the distribution toward uniform.
        Array.Clear(counts);
        for (int i = 0; i < draws; i++) counts[CausalLanguageModel.Choose(logits, 100f, null, null, g)]++;
        Assert.All(counts, c => Assert.InRange(c / (double)draws, 0.3, 0.37));
        var model = new CausalLanguageModel(5, 4, 8, 2, 1);
        Assert.Throws<ArgumentException>(() => model.Generate([7], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Generate([1], 1, topP: 0f));
    }
}
