using Nabla.Layers;

namespace Nabla.Tests.Layers;

/// <summary>
/// One entry per layer (as Keras's run_layer_test): how to make it, an input shape, the
/// expected output shape and parameter count. The conformance tests run over this table, and
/// a test fails when a Layer class is missing from it.
/// </summary>
public static class LayerCatalog
{
    public sealed record Entry(string Name, Func<Layer> Make, int[] InputShape, int[] OutputShape, int ParameterCount,
        Func<Generator, int[], Tensor>? Input = null, bool Differentiable = true)
    {
        public override string ToString() => Name;

        public Tensor MakeInput(Generator g) => Input?.Invoke(g, InputShape) ?? Tensor.RandN(InputShape, g);
    }

    private static Tensor Ids(Generator g, int[] shape, int vocab)
    {
        var t = Tensor.Zeros(shape);
        for (int i = 0; i < t.Size; i++) t.Storage[i] = g.NextInt(vocab);
        return t;
    }

    public static readonly Entry[] All =
    [
        new("Dense", () => new Dense(5), [3, 4], [3, 5], 4 * 5 + 5),
        new("Dense.relu-nobias", () => new Dense(3, "relu", useBias: false), [2, 6], [2, 3], 18, (g, s) => Tensor.RandN(s, g) + 0.05f),
        new("Dense.sequence", () => new Dense(2, "tanh"), [2, 3, 4], [2, 3, 2], 10),
        new("Activation", () => new Activation("softmax"), [3, 4], [3, 4], 0),
        new("Dropout", () => new Dropout(0.5f), [3, 4], [3, 4], 0),
        new("Flatten", () => new Flatten(), [2, 3, 4], [2, 12], 0),
        new("Reshape", () => new Reshape([4, -1]), [2, 3, 4], [2, 4, 3], 0),
        new("BatchNormalization", () => new BatchNormalization(), [6, 3], [6, 3], 6),
        new("BatchNormalization.images", () => new BatchNormalization(momentum: 0.9f, epsilon: 1e-5f), [2, 3, 2, 2], [2, 3, 2, 2], 6),
        new("LayerNormalization", () => new LayerNormalization(), [3, 5], [3, 5], 10),
        new("Embedding", () => new Embedding(7, 3), [2, 4], [2, 4, 3], 21, (g, s) => Ids(g, s, 7), Differentiable: false),
        new("Embedding.padding", () => new Embedding(5, 2, paddingIndex: 0), [3, 4], [3, 4, 2], 10, (g, s) => Ids(g, s, 5), Differentiable: false),
    ];

    public static IEnumerable<object[]> Cases() => All.Select(e => new object[] { e.Name });

    public static Entry Get(string name) => All.Single(e => e.Name == name);
}
