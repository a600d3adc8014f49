using Nabla.IO;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Tests.Layers;

/// <summary>
/// Attention layers against PyTorch (scripts/make-attention-fixture.py: nn.MultiheadAttention and
/// nn.TransformerEncoderLayer state dicts, inputs, padding masks and outputs), and learning a task
/// only attention solves.
/// </summary>
public class AttentionLayerTests
{
    private static readonly OrderedDictionary<string, Tensor> Fixture =
        SafeTensors.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "attention_fixture.safetensors"));

    /// <summary>The module's state dict in the fixture (its parameters and buffers, not the inputs, outputs or gradients).</summary>
    private static Dictionary<string, Tensor> StateOf(string name) => Fixture
        .Where(kv => kv.Key.StartsWith(name + ".", StringComparison.Ordinal))
        .Select(kv => (Key: kv.Key[(name.Length + 1)..], kv.Value))
        .Where(kv => !kv.Key.StartsWith("grad.", StringComparison.Ordinal) && !kv.Key.StartsWith("input", StringComparison.Ordinal) && kv.Key is not ("output" or "upstream" or "mask"))
        .ToDictionary(kv => kv.Key, kv => kv.Value);

    /// <summary>PyTorch's key_padding_mask (1 = padding) as Nabla's mask of real steps (1 = real).</summary>
    private static Tensor? RealSteps(string name) => Fixture.TryGetValue(name + ".mask", out var pad) ? pad.Eq(0f) : null;

    private static void Close(string what, Tensor expected, Tensor actual, float tolerance)
    {
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        float[] a = expected.ToArray(), b = actual.ToArray();
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= tolerance * (1 + Math.Abs(a[i])), $"{what} element {i}: PyTorch {a[i]}, Nabla {b[i]}");
    }

    /// <summary>
    /// Loads the fixture's weights into <paramref name="layer"/>, runs <paramref name="run"/> on the
    /// fixture's inputs (as leaves that require grad) in evaluation mode, and compares the output
    /// (1e-5) and the gradients of sum(output * upstream) for every input and parameter (1e-4).
    /// </summary>
    private static void Check(string name, Layer layer, Func<Tensor[], Tensor> run)
    {
        layer.LoadStateDict(StateOf(name));
        layer.Eval();
        var inputs = Enumerable.Range(0, 3).TakeWhile(i => Fixture.ContainsKey($"{name}.input{i}")).Select(i => Fixture[$"{name}.input{i}"].Detach().RequireGrad()).ToArray();
        Tensor y = run(inputs);
        Close(name + " output", Fixture[name + ".output"], y, 1e-5f);
        (y * Fixture[name + ".upstream"]).Sum().Backward();
        for (int i = 0; i < inputs.Length; i++) Close($"{name} input {i} gradient", Fixture[$"{name}.input{i}_grad"], inputs[i].Grad!, 1e-4f);
        int checkedParameters = 0;
        foreach (var (key, p) in layer.NamedParameters())
        {
            Close($"{name} gradient of {key}", Fixture[$"{name}.grad.{key}"], p.Grad!, 1e-4f);
            checkedParameters++;
        }
        Assert.Equal(Fixture.Keys.Count(k => k.StartsWith(name + ".grad.", StringComparison.Ordinal)), checkedParameters);
    }

    [Theory]
    [InlineData("mha", false)]
    [InlineData("mha_padded", false)]
    [InlineData("mha_causal", true)]
    public void Self_attention_matches_pytorch_in_outputs_and_gradients(string name, bool causal)
    {
        var layer = new MultiHeadAttention(8, 2, causal: causal);
        Check(name, layer, x => layer.Forward(x[0], RealSteps(name)));
    }

    [Fact]
    public void Cross_attention_matches_pytorch_in_outputs_and_gradients()
    {
        var layer = new MultiHeadAttention(8, 2);
        Check("mha_cross", layer, x => layer.Forward([x[0], x[1]], [null, RealSteps("mha_cross")]));
    }

    [Theory]
    [InlineData("encoder_post_relu", false, "relu")]
    [InlineData("encoder_pre_gelu", true, "gelu")]
    public void Encoder_layers_match_pytorch_in_outputs_and_gradients(string name, bool normFirst, string activation)
    {
        var layer = new TransformerEncoderLayer(8, 2, feedForward: 16, dropout: 0.1f, activation: activation, normFirst: normFirst);
        Assert.Equal(StateOf(name).Keys.Order(), layer.StateDict().Keys.Order());
        Check(name, layer, x => layer.Forward(x[0], RealSteps(name)));
    }

    [Theory]
    [InlineData("decoder_post_relu", false, "relu")]
    [InlineData("decoder_pre_gelu", true, "gelu")]
    public void Decoder_layers_match_pytorch_in_outputs_and_gradients(string name, bool normFirst, string activation)
    {
        var layer = new TransformerDecoderLayer(8, 2, feedForward: 16, dropout: 0.1f, activation: activation, normFirst: normFirst);
        Assert.Equal(StateOf(name).Keys.Order(), layer.StateDict().Keys.Order());
        Check(name, layer, x => layer.Forward([x[0], x[1]], [null, RealSteps(name)]));
    }

    [Fact]
    public void A_decoder_in_a_functional_model_saves_loads_and_checks_its_gradients()
    {
        Generator.ManualSeed(13);
        var target = new Input("target", 3, 8);
        var source = new Input("source", 5, 8);
        var memory = new TransformerEncoderLayer(8, 2, feedForward: 16, dropout: 0f).Apply(source);
        var decoded = new TransformerDecoderLayer(8, 2, feedForward: 16, dropout: 0f, activation: "gelu", normFirst: true).Apply(target, memory); // smooth, for finite differences
        var model = new Model([target, source], [new Dense(4).Apply(decoded)]);
        var g = new Generator(14);
        Tensor t = Tensor.RandN([2, 3, 8], g), s = Tensor.RandN([2, 5, 8], g);
        string path = Path.Combine(Path.GetTempPath(), $"nabla-{Guid.NewGuid():N}.nabla");
        try
        {
            model.Save(path);
            var loaded = Model.Load(path);
            Assert.Equal(model.Predict([t, s])[0].ToArray(), loaded.Predict([t, s])[0].ToArray());
        }
        finally
        {
            File.Delete(path);
        }
        Tensor tg = t.Detach().RequireGrad();
        var result = Nabla.Autograd.GradCheck.Check(_ => model.Forward([tg, s])[0], [tg, .. model.Parameters().Select(p => p.Value).Take(6)]);
        Assert.True(result.Passed, result.Worst);
        Assert.Contains("[target, memory]", Assert.Throws<ArgumentException>(() => new TransformerDecoderLayer(8, 2).Forward(t)).Message);
    }

    [Fact]
    public void A_transformer_learns_which_of_two_marked_tokens_comes_first()
    {
        // Sequences of 8 random tokens 3..9 with a 1 and a 2 placed at random: label 1 when the 1 comes
        // first. Order between two distant positions: no bag of words can tell, attention with positions can.
        Generator.ManualSeed(11);
        var g = new Generator(12);
        int n = 768, t = 8;
        var ids = new float[n * t];
        var labels = new float[n];
        for (int s = 0; s < n; s++)
        {
            for (int i = 0; i < t; i++) ids[s * t + i] = 3 + g.NextInt(7);
            int a = g.NextInt(t), b = (a + 1 + g.NextInt(t - 1)) % t;
            ids[s * t + a] = 1;
            ids[s * t + b] = 2;
            labels[s] = a < b ? 1f : 0f;
        }
        Tensor x = Tensor.FromArray(ids, n, t), y = Tensor.FromArray(labels, n, 1);
        var input = new Input(t);
        var h = new TokenAndPositionEmbedding(10, t, 16).Apply(input);
        h = new TransformerEncoderLayer(16, 2, feedForward: 32, dropout: 0f, normFirst: true).Apply(h);
        var model = new Model(input, new Dense(1, "sigmoid").Apply(new Flatten().Apply(h)));
        model.Compile("binary_crossentropy", new Adam(3e-3f), "accuracy");
        model.Fit(x.Slice(0, 0, 640), y.Slice(0, 0, 640), epochs: 25, batchSize: 32, verbose: 0);
        var result = model.Evaluate(x.Slice(0, 640), y.Slice(0, 640));
        Assert.True(result["accuracy"] >= 0.9f, $"held-out accuracy {result["accuracy"]}");
    }
}
