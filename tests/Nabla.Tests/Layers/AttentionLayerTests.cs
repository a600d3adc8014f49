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

    private static readonly string[] NotWeights = ["input", "output", "mask", "query"];

    private static Dictionary<string, Tensor> StateOf(string name) => Fixture
        .Where(kv => kv.Key.StartsWith(name + ".", StringComparison.Ordinal) && !NotWeights.Contains(kv.Key[(name.Length + 1)..]))
        .ToDictionary(kv => kv.Key[(name.Length + 1)..], kv => kv.Value);

    /// <summary>PyTorch's key_padding_mask (1 = padding) as Nabla's mask of real steps (1 = real).</summary>
    private static Tensor? RealSteps(string name) => Fixture.TryGetValue(name + ".mask", out var pad) ? pad.Eq(0f) : null;

    private static void Close(string name, Tensor y)
    {
        Tensor expected = Fixture[name + ".output"];
        Assert.Equal(expected.Shape.ToArray(), y.Shape.ToArray());
        float[] a = expected.ToArray(), b = y.ToArray();
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5f * (1 + Math.Abs(a[i])), $"{name} element {i}: PyTorch {a[i]}, Nabla {b[i]}");
    }

    [Theory]
    [InlineData("mha", false)]
    [InlineData("mha_padded", false)]
    [InlineData("mha_causal", true)]
    public void Self_attention_with_pytorchs_weights_gives_pytorchs_outputs(string name, bool causal)
    {
        var layer = new MultiHeadAttention(8, 2, causal: causal);
        layer.LoadStateDict(StateOf(name));
        layer.Eval();
        using (Tensor.NoGrad()) Close(name, layer.Forward(Fixture[name + ".input"], RealSteps(name)));
    }

    [Fact]
    public void Cross_attention_with_pytorchs_weights_gives_pytorchs_outputs()
    {
        var layer = new MultiHeadAttention(8, 2);
        layer.LoadStateDict(StateOf("mha_cross"));
        layer.Eval();
        Tensor x = Fixture["mha_cross.input"];
        using (Tensor.NoGrad()) Close("mha_cross", layer.Forward([Fixture["mha_cross.query"], x], [null, RealSteps("mha_cross")]));
    }

    [Theory]
    [InlineData("encoder_post_relu", false, "relu")]
    [InlineData("encoder_pre_gelu", true, "gelu")]
    public void Encoder_layers_with_pytorchs_weights_give_pytorchs_outputs(string name, bool normFirst, string activation)
    {
        var layer = new TransformerEncoderLayer(8, 2, feedForward: 16, dropout: 0.1f, activation: activation, normFirst: normFirst);
        layer.LoadStateDict(StateOf(name));
        Assert.Equal(StateOf(name).Keys.Order(), layer.StateDict().Keys.Order());
        layer.Eval();
        using (Tensor.NoGrad()) Close(name, layer.Forward(Fixture[name + ".input"], RealSteps(name)));
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
