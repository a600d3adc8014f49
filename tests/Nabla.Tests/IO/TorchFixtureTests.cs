using Nabla.IO;
using Nabla.Layers;

namespace Nabla.Tests.IO;

/// <summary>
/// State dicts saved by PyTorch (scripts/make-torch-fixture.py, kept as a fixture) load into the
/// equivalent Nabla modules by name and give PyTorch's outputs: the names, layouts and gate
/// orders really are PyTorch's.
/// </summary>
public class TorchFixtureTests
{
    private static readonly OrderedDictionary<string, Tensor> Fixture =
        SafeTensors.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "torch_fixture.safetensors"));

    private static Dictionary<string, Tensor> StateOf(string name) => Fixture
        .Where(kv => kv.Key.StartsWith(name + ".") && kv.Key != name + ".input" && kv.Key != name + ".output")
        .ToDictionary(kv => kv.Key[(name.Length + 1)..], kv => kv.Value);

    private static void Check(string name, Module model, Func<Tensor, Tensor>? run = null)
    {
        Tensor x = Fixture[name + ".input"], expected = Fixture[name + ".output"];
        model.LoadStateDict(StateOf(name));
        model.Eval();
        Tensor y;
        using (Tensor.NoGrad()) y = run is null ? model.Forward(x) : run(x);
        Assert.Equal(expected.Shape.ToArray(), y.Shape.ToArray());
        float[] a = expected.ToArray(), b = y.ToArray();
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5f * (1 + Math.Abs(a[i])), $"{name} element {i}: PyTorch {a[i]}, Nabla {b[i]}");
    }

    [Fact]
    public void Linear_layers() =>
        Check("mlp", new Sequential(new Dense(8, inputFeatures: 4), new Activation("relu"), new Dense(3)));

    [Fact]
    public void Conv_relu_pool_flatten_linear() =>
        Check("cnn", new Sequential(new Conv2D(3, 3, padding: 1, inputShape: [2, 4, 4]), new Activation("relu"), new MaxPooling2D(2), new Flatten(), new Dense(2)));

    [Fact]
    public void Conv1d() => Check("conv1d", new Conv1D(4, 3, strides: 2, padding: new Padding2D(0, 0, 1, 1), inputShape: [3, 7]));

    [Fact]
    public void Conv_transpose2d() => Check("convtranspose", new Conv2DTranspose(3, 3, strides: 2, padding: "same", inputShape: [2, 3, 3]));

    [Fact]
    public void Batch_norm_with_running_statistics()
    {
        var bn = new BatchNormalization(epsilon: 1e-5f);
        bn.EnsureBuilt([3, 2, 2]);
        Check("batchnorm", bn);
        Assert.Equal(7f, bn.StateDict()["num_batches_tracked"].Item());
    }

    [Fact]
    public void Layer_norm()
    {
        var ln = new LayerNormalization(epsilon: 1e-5f);
        ln.EnsureBuilt([6]);
        Check("layernorm", ln);
    }

    [Fact]
    public void Embedding() => Check("embedding", new Embedding(10, 4));

    [Fact]
    public void Lstm_gates_i_f_g_o() => Check("lstm", new LSTM(5, returnSequences: true, inputShape: [6, 3]));

    [Fact]
    public void Conv1d_with_an_integer_padding_pads_the_length_only() => Check("conv1d", new Conv1D(4, 3, strides: 2, padding: 1, inputShape: [3, 7]));

    [Theory]
    [InlineData("bilstm")]
    [InlineData("bigru")]
    public void A_bidirectional_layer_built_on_its_own_loads_pytorchs_reverse_names(string name)
    {
        // Built on its own (no forward pass first), it must have both directions' weights.
        var layer = new Bidirectional(name == "bilstm" ? new LSTM(4, returnSequences: true) : new GRU(3, returnSequences: true));
        layer.EnsureBuilt([5, 3]);
        Assert.Equal(8, layer.StateDict().Count);
        Assert.Contains("weight_hh_l0_reverse", StateOf(name).Keys);
        Check(name, layer);
        // Nabla's own names still load (model files keep them).
        var copy = new Bidirectional(name == "bilstm" ? new LSTM(4, returnSequences: true) : new GRU(3, returnSequences: true));
        copy.EnsureBuilt([5, 3]);
        copy.LoadStateDict(layer.StateDict());
        Assert.Equal(layer.StateDict()["backward_layer.weight_hh_l0"].ToArray(), copy.StateDict()["backward_layer.weight_hh_l0"].ToArray());
    }

    [Fact]
    public void Gru_gates_r_z_n() => Check("gru", new GRU(4, returnSequences: true, inputShape: [6, 3]));
}
