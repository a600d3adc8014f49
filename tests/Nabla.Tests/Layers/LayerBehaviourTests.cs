using Nabla.Layers;

namespace Nabla.Tests.Layers;

public class LayerBehaviourTests
{
    [Fact]
    public void Dense_computes_x_w_transpose_plus_b_with_pytorch_layout()
    {
        var dense = new Dense(2, inputFeatures: 3);
        Assert.Equal([2, 3], dense.Weight!.Shape.ToArray());
        using (Tensor.NoGrad())
        {
            dense.Weight.Value.CopyFrom(Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3));
            dense.Bias!.Value.CopyFrom(Tensor.FromArray([0.5f, -1f]));
        }
        var y = dense.Forward(Tensor.FromArray([1f, 0f, -1f], 1, 3));
        Assert.Equal([1 - 3 + 0.5f, 4 - 6 - 1f], y.ToArray());
        Assert.Equal(["weight", "bias"], dense.NamedParameters().Select(p => p.Name).ToArray());
    }

    [Fact]
    public void Dense_fed_the_wrong_feature_count_names_layer_and_shapes()
    {
        var model = new Sequential(new Dense(4, inputFeatures: 3), new Dense(1));
        model.Forward(Tensor.Ones(2, 3));
        var ex = Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Ones(2, 5)));
        Assert.Contains("Dense 'dense'", ex.Message);
        Assert.Contains("3 features", ex.Message);
        Assert.Contains("[2, 5]", ex.Message);
    }

    [Fact]
    public void Dropout_drops_the_given_fraction_in_training_and_is_identity_in_evaluation()
    {
        Generator.ManualSeed(1);
        var dropout = new Dropout(0.3f);
        var x = Tensor.Ones(100, 100);
        Tensor y = dropout.Forward(x);
        float[] v = y.ToArray();
        double dropped = v.Count(e => e == 0f) / (double)v.Length;
        Assert.InRange(dropped, 0.28, 0.32);
        Assert.All(v.Where(e => e != 0f), e => Assert.Equal(1f / 0.7f, e, 5));
        Assert.InRange(y.Mean().Item(), 0.97f, 1.03f);
        dropout.Eval();
        Assert.Equal(x.ToArray(), dropout.Forward(x).ToArray());
    }

    [Fact]
    public void BatchNormalization_normalises_in_training_and_uses_running_statistics_in_evaluation()
    {
        var bn = new BatchNormalization(momentum: 0f);
        var x = Tensor.FromArray([1f, 10f, 3f, 20f, 5f, 30f], 3, 2);
        Tensor y = bn.Forward(x);
        // Each column has mean 0 and (population) variance close to 1 after normalising.
        Assert.Equal([0f, 0f], y.Mean(0).ToArray().Select(v => MathF.Round(v, 5)).ToArray());
        Assert.All(y.Var(0, correction: 0).ToArray(), v => Assert.InRange(v, 0.99f, 1f));
        // With momentum 0 the running statistics are this batch's mean and unbiased variance.
        Assert.Equal([3f, 20f], bn.RunningMean!.ToArray());
        Assert.Equal([4f, 100f], bn.RunningVar!.ToArray());
        bn.Eval();
        Tensor e = bn.Forward(Tensor.FromArray([5f, 30f], 1, 2));
        Assert.Equal(2f / MathF.Sqrt(4f + 1e-3f), e[0, 0], 5);
        Assert.Equal(10f / MathF.Sqrt(100f + 1e-3f), e[0, 1], 5);
        Assert.Equal(["weight", "bias", "running_mean", "running_var", "num_batches_tracked"], bn.StateDict().Keys.ToArray());
    }

    [Fact]
    public void LayerNormalization_normalises_each_sample()
    {
        var ln = new LayerNormalization(epsilon: 1e-5f);
        Tensor y = ln.Forward(Tensor.FromArray([1f, 2f, 3f, 4f, 10f, 20f, 30f, 40f], 2, 4));
        Assert.All(y.Mean(1).ToArray(), v => Assert.Equal(0f, v, 5));
        Assert.All(y.Var(1, correction: 0).ToArray(), v => Assert.Equal(1f, v, 3));
    }

    [Fact]
    public void Embedding_looks_up_rows_and_keeps_the_padding_row_at_zero()
    {
        Generator.ManualSeed(2);
        var emb = new Embedding(4, 3, paddingIndex: 0);
        Tensor ids = Tensor.FromArray([0f, 2f, 2f, 3f], 2, 2);
        Tensor y = emb.Forward(ids);
        Assert.Equal([2, 2, 3], y.Shape.ToArray());
        Assert.Equal(new float[3], y.Select(0, 0).Select(0, 0).ToArray());
        Assert.Equal(emb.Weight!.Value.Select(0, 2).ToArray(), y.Select(0, 0).Select(0, 1).ToArray());
        y.Sum().Backward();
        float[] g = emb.Weight.Grad!.ToArray();
        Assert.Equal([0f, 0f, 0f], g[..3]);      // padding row: no gradient
        Assert.Equal([0f, 0f, 0f], g[3..6]);     // id 1 unused
        Assert.Equal([2f, 2f, 2f], g[6..9]);     // id 2 used twice
        Assert.Equal([1f, 1f, 1f], g[9..12]);
        var ex = Assert.Throws<IndexOutOfRangeException>(() => emb.Forward(Tensor.FromArray([4f], 1, 1)));
        Assert.Contains("Embedding", ex.Message);
    }

    [Fact]
    public void Parameters_have_pytorch_names_and_state_dict_checks_names_and_shapes()
    {
        var model = new Sequential(new Dense(4, "relu", inputFeatures: 2), new BatchNormalization(), new Dense(1, "sigmoid"));
        model.Build(2);
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"], model.NamedParameters().Select(p => p.Name).ToArray());
        Assert.Contains("1.running_mean", model.StateDict().Keys);
        var state = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        state.Remove("2.bias");
        var ex = Assert.Throws<ArgumentException>(() => model.LoadStateDict(state));
        Assert.Contains("missing [2.bias]", ex.Message);
        state["2.bias"] = Tensor.Zeros(3);
        var ex2 = Assert.Throws<ArgumentException>(() => model.LoadStateDict(state));
        Assert.Contains("misshaped [2.bias ([3] given, [1] here)]", ex2.Message);
        state["2.bias"] = Tensor.Zeros(1);
        state["extra"] = Tensor.Zeros(1);
        Assert.Contains("unexpected [extra]", Assert.Throws<ArgumentException>(() => model.LoadStateDict(state)).Message);
        model.LoadStateDict(state, strict: false);
    }

    [Fact]
    public void Activations_by_name_and_by_value_agree()
    {
        var x = Tensor.FromArray([-1f, 0.5f, 2f]);
        foreach (string name in new[] { "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "gelu", "silu", "swish", "softplus", "linear" })
        {
            ActivationFunction f = name;
            Assert.Equal(name, f.Name);
            Assert.Equal(x.Shape.ToArray(), f.Apply(x).Shape.ToArray());
        }
        Assert.Equal(x.Relu().ToArray(), Activations.Relu.Apply(x).ToArray());
        Assert.Equal(x.Silu().ToArray(), ((ActivationFunction)"swish").Apply(x).ToArray());
        var ex = Assert.Throws<ArgumentException>(() => { ActivationFunction f = "relu6"; });
        Assert.Contains("relu6", ex.Message);
    }
}
