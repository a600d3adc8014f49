using System.Text.Json.Nodes;
using Nabla.Layers;

namespace Nabla.IO;

/// <summary>
/// Layers to and from JSON configs (Keras's get_config / from_config), all in one place, with
/// no reflection: a layer is its type name, its display name and the constructor arguments
/// that define it. Weights are not part of the config; model files keep them as tensors.
/// </summary>
public static class LayerConfig
{
    /// <summary>The config of <paramref name="layer"/>: {"type": ..., "name": ..., "config": {...}}.</summary>
    public static JsonObject ToJson(Layer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        JsonObject config = layer switch
        {
            Input l => new() { ["shape"] = Ints(l.SampleShape) },
            Dense l => new() { ["units"] = l.Units, ["activation"] = Activation(l, l.Activation), ["use_bias"] = l.UseBias },
            Activation l => new() { ["activation"] = Activation(l, l.Function) },
            Dropout l => new() { ["rate"] = l.Rate },
            Flatten => new(),
            Reshape l => new() { ["target_shape"] = Ints(l.TargetShape) },
            BatchNormalization l => new() { ["momentum"] = l.Momentum, ["epsilon"] = l.Epsilon },
            LayerNormalization l => new() { ["epsilon"] = l.Epsilon },
            Embedding l => new() { ["input_dim"] = l.InputDim, ["output_dim"] = l.OutputDim, ["padding_index"] = l.PaddingIndex },
            Conv2D l => new()
            {
                ["filters"] = l.Filters,
                ["kernel_size"] = Size(l.KernelSize),
                ["strides"] = Size(l.Strides),
                ["padding"] = Padding(l.Padding),
                ["dilation"] = Size(l.Dilation),
                ["activation"] = Activation(l, l.Activation),
                ["use_bias"] = l.UseBias,
            },
            Conv1D l => new()
            {
                ["filters"] = l.Filters,
                ["kernel_size"] = l.KernelSize,
                ["strides"] = l.Strides,
                ["padding"] = Padding(l.Padding),
                ["dilation"] = l.Dilation,
                ["activation"] = Activation(l, l.Activation),
                ["use_bias"] = l.UseBias,
            },
            Conv2DTranspose l => new()
            {
                ["filters"] = l.Filters,
                ["kernel_size"] = Size(l.KernelSize),
                ["strides"] = Size(l.Strides),
                ["padding"] = l.Padding,
                ["activation"] = Activation(l, l.Activation),
                ["use_bias"] = l.UseBias,
            },
            Pooling2D l => new() { ["pool_size"] = Size(l.PoolSize), ["strides"] = Size(l.Strides), ["padding"] = Padding(l.Padding) },
            Pooling1D l => new() { ["pool_size"] = l.PoolSize, ["strides"] = l.Strides, ["padding"] = Padding(l.Padding) },
            GlobalAveragePooling2D or GlobalMaxPooling2D or GlobalAveragePooling1D or GlobalMaxPooling1D => new(),
            UpSampling2D l => new() { ["size"] = Size(l.Size) },
            SimpleRNN l => new() { ["units"] = l.Units, ["activation"] = Activation(l, l.Activation), ["return_sequences"] = l.ReturnSequences },
            LSTM l => new() { ["units"] = l.Units, ["return_sequences"] = l.ReturnSequences },
            GRU l => new() { ["units"] = l.Units, ["return_sequences"] = l.ReturnSequences },
            Bidirectional l => new() { ["layer"] = ToJson(l.Forwards) },
            _ => throw new NotSupportedException($"{layer.TypeName} '{layer.Name}' has no config: layers defined outside Nabla cannot be saved with their architecture (save the weights with SaveWeights instead)."),
        };
        return new JsonObject { ["type"] = layer.GetType().Name, ["name"] = layer.Name, ["config"] = config };
    }

    /// <summary>A new, unbuilt layer from a config written by <see cref="ToJson"/>; errors name the layer and the bad field.</summary>
    public static Layer FromJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        string type = json["type"]?.GetValue<string>() ?? throw new InvalidDataException("A layer config has no \"type\".");
        string? name = json["name"]?.GetValue<string>();
        try
        {
            ModelFile.CheckPrintable(type, "a layer's type");
            if (name is not null) ModelFile.CheckPrintable(name, $"the name of a {type} layer");
        }
        catch (FormatException e)
        {
            throw new InvalidDataException(e.Message + ".", e);
        }
        JsonObject c = json["config"] as JsonObject ?? throw new InvalidDataException($"Layer {type} '{name}' has no \"config\" object.");
        try
        {
            return type switch
            {
                nameof(Input) => new Input(IntArray(c, "shape")) { Name = name },
                nameof(Dense) => new Dense(Int(c, "units"), Act(c), Bool(c, "use_bias"), name: name),
                nameof(Layers.Activation) => new Activation(Act(c), name),
                nameof(Dropout) => new Dropout(Float(c, "rate"), name),
                nameof(Flatten) => new Flatten(name),
                nameof(Reshape) => new Reshape(IntArray(c, "target_shape"), name),
                nameof(BatchNormalization) => new BatchNormalization(Float(c, "momentum"), Float(c, "epsilon"), name),
                nameof(LayerNormalization) => new LayerNormalization(Float(c, "epsilon"), name),
                nameof(Embedding) => new Embedding(Int(c, "input_dim"), Int(c, "output_dim"), c["padding_index"]?.GetValue<int>(), name: name),
                nameof(Conv2D) => new Conv2D(Int(c, "filters"), Size(c, "kernel_size"), Size(c, "strides"), Padding(c), Size(c, "dilation"), Act(c), Bool(c, "use_bias"), name: name),
                nameof(Conv1D) => new Conv1D(Int(c, "filters"), Int(c, "kernel_size"), Int(c, "strides"), Padding(c), Int(c, "dilation"), Act(c), Bool(c, "use_bias"), name: name),
                nameof(Conv2DTranspose) => new Conv2DTranspose(Int(c, "filters"), Size(c, "kernel_size"), Size(c, "strides"), String(c, "padding"), Act(c), Bool(c, "use_bias"), name: name),
                nameof(MaxPooling2D) => new MaxPooling2D(Size(c, "pool_size"), Size(c, "strides"), Padding(c), name),
                nameof(AveragePooling2D) => new AveragePooling2D(Size(c, "pool_size"), Size(c, "strides"), Padding(c), name),
                nameof(MaxPooling1D) => new MaxPooling1D(Int(c, "pool_size"), Int(c, "strides"), Padding(c), name),
                nameof(AveragePooling1D) => new AveragePooling1D(Int(c, "pool_size"), Int(c, "strides"), Padding(c), name),
                nameof(GlobalAveragePooling2D) => new GlobalAveragePooling2D(name),
                nameof(GlobalMaxPooling2D) => new GlobalMaxPooling2D(name),
                nameof(GlobalAveragePooling1D) => new GlobalAveragePooling1D(name),
                nameof(GlobalMaxPooling1D) => new GlobalMaxPooling1D(name),
                nameof(UpSampling2D) => new UpSampling2D(Size(c, "size"), name),
                nameof(SimpleRNN) => new SimpleRNN(Int(c, "units"), Act(c), Bool(c, "return_sequences"), name: name),
                nameof(LSTM) => new LSTM(Int(c, "units"), Bool(c, "return_sequences"), name: name),
                nameof(GRU) => new GRU(Int(c, "units"), Bool(c, "return_sequences"), name: name),
                nameof(Bidirectional) => new Bidirectional(FromJson(c["layer"] as JsonObject ?? throw Missing("layer")) as RecurrentLayer
                    ?? throw new InvalidDataException("Bidirectional wraps a layer that is not recurrent."), name),
                _ => throw new InvalidDataException($"Unknown layer type '{type}'."),
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or KeyNotFoundException or ArgumentException)
        {
            throw new InvalidDataException($"Layer {type} '{name}' has a bad config: {e.Message}", e);
        }

        InvalidDataException Missing(string field) => new($"Layer {type} '{name}': config field \"{field}\" is missing.");
        JsonNode Field(JsonObject o, string f) => o[f] ?? throw Missing(f);
        int Int(JsonObject o, string f) => Field(o, f).GetValue<int>();
        float Float(JsonObject o, string f) => Field(o, f).GetValue<float>();
        bool Bool(JsonObject o, string f) => Field(o, f).GetValue<bool>();
        string String(JsonObject o, string f) => Field(o, f).GetValue<string>();
        int[] IntArray(JsonObject o, string f) => (Field(o, f) as JsonArray ?? throw Missing(f)).Select(n => n!.GetValue<int>()).ToArray();
        Size2 Size(JsonObject o, string f) { int[] a = IntArray(o, f); return a.Length == 2 ? new Size2(a[0], a[1]) : throw Missing(f); }
        ActivationFunction Act(JsonObject o) => Activations.Get(String(o, "activation"));
        ConvPadding Padding(JsonObject o) => Field(o, "padding") switch
        {
            JsonArray a when a.Count == 4 => new Padding2D(a[0]!.GetValue<int>(), a[1]!.GetValue<int>(), a[2]!.GetValue<int>(), a[3]!.GetValue<int>()),
            JsonValue v => (ConvPadding)v.GetValue<string>(),
            _ => throw Missing("padding"),
        };
    }

    private static JsonArray Ints(IEnumerable<int> values) => new(values.Select(v => (JsonNode?)v).ToArray());

    private static JsonArray Size(Size2 s) => Ints([s.H, s.W]);

    private static JsonNode Padding(ConvPadding p) => p.Mode is string mode ? JsonValue.Create(mode) : Ints([p.Explicit.Top, p.Explicit.Bottom, p.Explicit.Left, p.Explicit.Right]);

    private static string Activation(Layer layer, ActivationFunction f)
    {
        // Only activations known by name can be rebuilt from a file.
        try
        {
            return Activations.Get(f.Name) == f ? f.Name : throw new ArgumentException(f.Name);
        }
        catch (ArgumentException)
        {
            throw new NotSupportedException($"{layer.TypeName} '{layer.Name}' uses the custom activation '{f.Name}', which cannot be saved by name; use a built-in activation or save the weights only.");
        }
    }
}
