using Nabla.Layers;

namespace Nabla.Tests.Layers;

/// <summary>
/// One entry per layer (as Keras's run_layer_test): how to make it, an input shape, the
/// expected output shape and parameter count. The conformance tests run over this table, and
/// a test fails when a Layer class is missing from it.
/// </summary>
public static class LayerCases
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

    private static Tensor DistinctValues(Generator g, int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        var values = Enumerable.Range(0, n).Select(i => -2f + 4f * (float)(i * 0.6180339887 % 1.0)).ToArray();
        return Tensor.FromArray(values, shape);
    }

    public static readonly Entry[] All =
    [
        new("Dense", () => new Dense(5), [3, 4], [3, 5], 4 * 5 + 5),
        new("Dense.relu-nobias", () => new Dense(3, "relu", useBias: false), [2, 6], [2, 3], 18, (g, s) => Tensor.RandN(s, g) + 0.05f),
        new("Dense.sequence", () => new Dense(2, "tanh"), [2, 3, 4], [2, 3, 2], 10),
        new("Input", () => new Input(3, 4), [2, 3, 4], [2, 3, 4], 0),
        new("Activation", () => new Activation("softmax"), [3, 4], [3, 4], 0),
        new("Dropout", () => new Dropout(0.5f), [3, 4], [3, 4], 0),
        new("Permute", () => new Permute([2, 1]), [2, 3, 4], [2, 4, 3], 0),
        new("Rescaling", () => new Rescaling(1f / 255, -0.5f), [2, 3], [2, 3], 0),
        new("Normalization", () => new Normalization(1, [0.5f, -1f], [4f, 0.25f]), [2, 2, 3, 3], [2, 2, 3, 3], 0),
        new("RandomFlip", () => new RandomFlip(seed: 1), [2, 1, 4, 5], [2, 1, 4, 5], 0),
        new("RandomTranslation", () => new RandomTranslation(0.2f, 0.2f, seed: 2), [2, 2, 5, 5], [2, 2, 5, 5], 0),
        new("RandomRotation", () => new RandomRotation(0.1f, seed: 3), [2, 1, 5, 5], [2, 1, 5, 5], 0),
        new("RandomZoom", () => new RandomZoom(0.2f, seed: 4), [2, 1, 5, 5], [2, 1, 5, 5], 0),
        new("RandomCrop", () => new RandomCrop(3, 4, seed: 5), [2, 1, 5, 6], [2, 1, 3, 4], 0),
        new("RandomContrast", () => new RandomContrast(0.3f, seed: 6), [2, 3, 4, 4], [2, 3, 4, 4], 0),
        new("Spectrogram", () => new Spectrogram(nFft: 8, hopLength: 4), [2, 20], [2, 5, 6], 0),
        new("MelSpectrogram", () => new MelSpectrogram(sampleRate: 800, nFft: 16, hopLength: 4, nMels: 4), [2, 1, 24], [2, 1, 4, 7], 0),
        new("MelSpectrogram.decibels", () => new MelSpectrogram(sampleRate: 800, nFft: 16, hopLength: 8, nMels: 3, fMin: 50, decibels: true), [2, 24], [2, 3, 4], 0),
        new("MFCC", () => new MFCC(sampleRate: 800, nMfcc: 3, nFft: 16, hopLength: 8, nMels: 5), [2, 24], [2, 3, 4], 0),
        new("FrequencyMasking", () => new FrequencyMasking(2, seed: 1), [2, 5, 6], [2, 5, 6], 0),
        new("TimeMasking", () => new TimeMasking(3, seed: 2), [2, 1, 5, 6], [2, 1, 5, 6], 0),
        new("Flatten", () => new Flatten(), [2, 3, 4], [2, 12], 0),
        new("Reshape", () => new Reshape([4, -1]), [2, 3, 4], [2, 4, 3], 0),
        new("BatchNormalization", () => new BatchNormalization(), [6, 3], [6, 3], 6),
        new("BatchNormalization.images", () => new BatchNormalization(momentum: 0.9f, epsilon: 1e-5f), [2, 3, 2, 2], [2, 3, 2, 2], 6),
        new("LayerNormalization", () => new LayerNormalization(), [3, 5], [3, 5], 10),
        new("Embedding", () => new Embedding(7, 3), [2, 4], [2, 4, 3], 21, (g, s) => Ids(g, s, 7), Differentiable: false),
        new("Conv2D", () => new Conv2D(3, 3), [2, 2, 5, 5], [2, 3, 3, 3], 3 * 2 * 9 + 3),
        new("Conv2D.same-stride-relu", () => new Conv2D(2, (3, 2), strides: 2, padding: "same", activation: "relu"), [2, 3, 5, 4], [2, 2, 3, 2], 2 * 3 * 6 + 2,
            (g, s) => Tensor.RandN(s, g) + 0.1f),
        new("Conv2D.dilated-nobias", () => new Conv2D(2, 2, dilation: 2, useBias: false), [1, 2, 5, 5], [1, 2, 3, 3], 16),
        new("Conv2DTranspose", () => new Conv2DTranspose(2, 3, strides: 2, padding: "same"), [2, 3, 4, 4], [2, 2, 8, 8], 3 * 2 * 9 + 2),
        new("Conv2DTranspose.valid", () => new Conv2DTranspose(2, (2, 3), activation: "tanh"), [1, 2, 3, 3], [1, 2, 4, 5], 2 * 2 * 6 + 2),
        new("Conv1D", () => new Conv1D(4, 3, padding: "same"), [2, 3, 6], [2, 4, 6], 4 * 3 * 3 + 4),
        new("MaxPooling2D", () => new MaxPooling2D(2), [2, 2, 4, 5], [2, 2, 2, 2], 0, DistinctValues),
        new("MaxPooling2D.same", () => new MaxPooling2D(3, strides: 2, padding: "same"), [1, 2, 5, 5], [1, 2, 3, 3], 0, DistinctValues),
        new("AveragePooling2D", () => new AveragePooling2D(2, padding: "same"), [2, 2, 5, 4], [2, 2, 3, 2], 0),
        new("MaxPooling1D", () => new MaxPooling1D(2), [2, 3, 6], [2, 3, 3], 0, DistinctValues),
        new("AveragePooling1D", () => new AveragePooling1D(3, strides: 1), [2, 3, 6], [2, 3, 4], 0),
        new("GlobalAveragePooling2D", () => new GlobalAveragePooling2D(), [2, 3, 4, 4], [2, 3], 0),
        new("GlobalMaxPooling2D", () => new GlobalMaxPooling2D(), [2, 3, 4, 4], [2, 3], 0, DistinctValues),
        new("GlobalAveragePooling1D", () => new GlobalAveragePooling1D(), [2, 3, 5], [2, 3], 0),
        new("GlobalMaxPooling1D", () => new GlobalMaxPooling1D(), [2, 3, 5], [2, 3], 0, DistinctValues),
        new("UpSampling2D", () => new UpSampling2D((2, 3)), [2, 2, 2, 3], [2, 2, 4, 9], 0),
        new("SimpleRNN", () => new SimpleRNN(4), [2, 3, 3], [2, 4], 4 * 3 + 4 * 4 + 8),
        new("LSTM", () => new LSTM(3), [2, 4, 2], [2, 3], 12 * 2 + 12 * 3 + 24),
        new("LSTM.sequences", () => new LSTM(2, returnSequences: true), [2, 3, 3], [2, 3, 2], 8 * 3 + 8 * 2 + 16),
        new("GRU", () => new GRU(3), [2, 4, 2], [2, 3], 9 * 2 + 9 * 3 + 18),
        new("GRU.sequences", () => new GRU(2, returnSequences: true), [2, 3, 3], [2, 3, 2], 6 * 3 + 6 * 2 + 12),
        new("Bidirectional", () => new Bidirectional(new LSTM(2, returnSequences: true)), [2, 3, 2], [2, 3, 4], 2 * (8 * 2 + 8 * 2 + 16)),
        new("Embedding.padding", () => new Embedding(5, 2, paddingIndex: 0), [3, 4], [3, 4, 2], 10, (g, s) => Ids(g, s, 5), Differentiable: false),
        new("MultiHeadAttention", () => new MultiHeadAttention(8, 2), [2, 4, 8], [2, 4, 8], 3 * 8 * 8 + 3 * 8 + 8 * 8 + 8),
        new("MultiHeadAttention.causal", () => new MultiHeadAttention(6, 3, causal: true), [2, 3, 6], [2, 3, 6], 3 * 6 * 6 + 3 * 6 + 6 * 6 + 6),
        new("TransformerEncoderLayer", () => new TransformerEncoderLayer(8, 2, feedForward: 16, dropout: 0f), [2, 3, 8], [2, 3, 8], 288 + 144 + 136 + 32),
        new("TransformerEncoderLayer.pre-norm-gelu", () => new TransformerEncoderLayer(4, 1, feedForward: 8, dropout: 0f, activation: "gelu", normFirst: true, causal: true),
            [2, 3, 4], [2, 3, 4], (3 * 16 + 12 + 16 + 4) + (4 * 8 + 8) + (8 * 4 + 4) + 16),
        new("PositionalEmbedding", () => new PositionalEmbedding(5, 4), [2, 3, 4], [2, 3, 4], 20),
        new("TokenAndPositionEmbedding", () => new TokenAndPositionEmbedding(7, 5, 4, paddingIndex: 0), [2, 3], [2, 3, 4], 28 + 20, (g, s) => Ids(g, s, 7), Differentiable: false),
    ];

    public static IEnumerable<object[]> Cases() => All.Select(e => new object[] { e.Name });

    public static Entry Get(string name) => All.Single(e => e.Name == name);
}
