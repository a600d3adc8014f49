using Nabla.Autograd;
using Nabla.Layers;

namespace Nabla.Tests.Layers;

public class LayerConformanceTests
{
    [Theory]
    [MemberData(nameof(LayerCases.Cases), MemberType = typeof(LayerCases))]
    public void Output_shape_and_parameter_count_are_as_documented(string name)
    {
        var entry = LayerCases.Get(name);
        Generator.ManualSeed(1);
        Layer layer = entry.Make();
        Tensor y = layer.Forward(entry.MakeInput(new Generator(2)));
        Assert.Equal(entry.OutputShape, y.Shape.ToArray());
        Assert.Equal(entry.ParameterCount, layer.ParameterCount());
    }

    [Theory]
    [MemberData(nameof(LayerCases.Cases), MemberType = typeof(LayerCases))]
    public void Gradients_of_input_and_parameters_match_finite_differences(string name)
    {
        var entry = LayerCases.Get(name);
        Generator.ManualSeed(3);
        Layer layer = entry.Make();
        Tensor x = entry.MakeInput(new Generator(4));
        layer.Forward(x);
        if (layer is Dropout or RandomImageLayer or SpectrogramMasking) layer.Eval(); // random per call; check the evaluation path (ImageAugmentationTests checks the warps' gradients)
        var parameters = layer.Parameters().Select(p => p.Value).ToList();
        // Perturb parameters away from their initial symmetric values (ones, zeros) so every path matters.
        using (Tensor.NoGrad())
        {
            foreach (var p in parameters) p.AddInPlace(Tensor.RandN(p.Shape.ToArray(), new Generator(5)) * 0.3f);
        }
        Tensor[] inputs = entry.Differentiable ? [x, .. parameters] : [.. parameters];
        if (inputs.Length == 0) inputs = [x];
        var result = GradCheck.Check(_ => layer.Forward(x), inputs);
        Assert.True(result.Passed, $"{name}: {result.Worst} (max error {result.MaxAbsError:G3})");
    }

    [Theory]
    [MemberData(nameof(LayerCases.Cases), MemberType = typeof(LayerCases))]
    public void State_dict_round_trips_through_a_fresh_layer(string name)
    {
        var entry = LayerCases.Get(name);
        Generator.ManualSeed(6);
        Layer a = entry.Make();
        Tensor x = entry.MakeInput(new Generator(7));
        a.Forward(x);
        a.Eval();
        Generator.ManualSeed(8);
        Layer b = entry.Make();
        b.Forward(x);
        b.Eval();
        b.LoadStateDict(a.StateDict());
        Assert.Equal(a.Forward(x).ToArray(), b.Forward(x).ToArray());
    }

    [Theory]
    [MemberData(nameof(LayerCases.Cases), MemberType = typeof(LayerCases))]
    public void Saves_and_loads_with_its_architecture(string name)
    {
        var entry = LayerCases.Get(name);
        Generator.ManualSeed(9);
        var model = new Sequential(entry.Make());
        Tensor x = entry.MakeInput(new Generator(10));
        model.Build(x.Shape[1..].ToArray());
        using (Tensor.NoGrad())
        {
            foreach (var p in model.Parameters()) p.Value.AddInPlace(Tensor.RandN(p.Shape.ToArray(), new Generator(11)) * 0.1f);
        }
        string path = Path.Combine(Path.GetTempPath(), $"nabla-{Guid.NewGuid():N}.nabla");
        try
        {
            model.Save(path);
            Sequential loaded = Sequential.Load(path);
            Assert.Equal(model.Layers[0].GetType(), loaded.Layers[0].GetType());
            Assert.Equal(model.Layers[0].Name, loaded.Layers[0].Name);
            Assert.Equal(model.Predict(x).ToArray(), loaded.Predict(x).ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Every_layer_type_is_in_the_catalog()
    {
        var layerTypes = typeof(Layer).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(Layer)) && !t.IsAbstract && t.IsPublic && !t.IsSubclassOf(typeof(Merge)) && t != typeof(TransformerDecoderLayer)) // several inputs: FunctionalModelTests, AttentionLayerTests
            .Select(t => t.Name).ToHashSet();
        var covered = LayerCases.All.Select(e => e.Name.Split('.')[0]).ToHashSet();
        Assert.Empty(layerTypes.Except(covered));
    }
}
