using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// Every layer type that can be rebuilt from its config, by name: one line per type, no
/// reflection (so it works under AOT). Model files, JSON model descriptions and the functional
/// graph's serialization all go through it. A layer defined outside Nabla joins with one call
/// to <see cref="Register{T}"/> and then saves and loads with its architecture like a built-in.
/// </summary>
public static class LayerCatalog
{
    private static readonly Lock s_lock = new();
    private static readonly Dictionary<string, Func<ConfigReader, Layer>> s_factories = new(StringComparer.Ordinal);
    private static readonly Dictionary<Type, string> s_names = [];

    static LayerCatalog()
    {
        Add<Input>(Input.FromConfig);
        Add<Dense>(Dense.FromConfig);
        Add<Activation>(Activation.FromConfig);
        Add<Dropout>(Dropout.FromConfig);
        Add<Flatten>(Flatten.FromConfig);
        Add<Reshape>(Reshape.FromConfig);
        Add<Permute>(Permute.FromConfig);
        Add<BatchNormalization>(BatchNormalization.FromConfig);
        Add<LayerNormalization>(LayerNormalization.FromConfig);
        Add<Embedding>(Embedding.FromConfig);
        Add<Conv2D>(Conv2D.FromConfig);
        Add<Conv1D>(Conv1D.FromConfig);
        Add<Conv2DTranspose>(Conv2DTranspose.FromConfig);
        Add<MaxPooling2D>(MaxPooling2D.FromConfig);
        Add<AveragePooling2D>(AveragePooling2D.FromConfig);
        Add<MaxPooling1D>(MaxPooling1D.FromConfig);
        Add<AveragePooling1D>(AveragePooling1D.FromConfig);
        Add<GlobalAveragePooling2D>(GlobalAveragePooling2D.FromConfig);
        Add<GlobalMaxPooling2D>(GlobalMaxPooling2D.FromConfig);
        Add<GlobalAveragePooling1D>(GlobalAveragePooling1D.FromConfig);
        Add<GlobalMaxPooling1D>(GlobalMaxPooling1D.FromConfig);
        Add<UpSampling2D>(UpSampling2D.FromConfig);
        Add<SimpleRNN>(SimpleRNN.FromConfig);
        Add<LSTM>(LSTM.FromConfig);
        Add<GRU>(GRU.FromConfig);
        Add<Bidirectional>(Bidirectional.FromConfig);
        Add<Add>(Layers.Add.FromConfig);
        Add<Subtract>(Subtract.FromConfig);
        Add<Multiply>(Multiply.FromConfig);
        Add<Average>(Average.FromConfig);
        Add<Maximum>(Maximum.FromConfig);
        Add<Concatenate>(Concatenate.FromConfig);
        Add<Dot>(Dot.FromConfig);
        Add<MultiHeadAttention>(MultiHeadAttention.FromConfig);
        Add<TransformerEncoderLayer>(TransformerEncoderLayer.FromConfig);
        Add<TransformerDecoderLayer>(TransformerDecoderLayer.FromConfig);
        Add<PositionalEmbedding>(PositionalEmbedding.FromConfig);
        Add<TokenAndPositionEmbedding>(TokenAndPositionEmbedding.FromConfig);
        Add<Rescaling>(Rescaling.FromConfig);
        Add<Normalization>(Normalization.FromConfig);
        Add<RandomFlip>(RandomFlip.FromConfig);
        Add<RandomTranslation>(RandomTranslation.FromConfig);
        Add<RandomRotation>(RandomRotation.FromConfig);
        Add<RandomZoom>(RandomZoom.FromConfig);
        Add<RandomCrop>(RandomCrop.FromConfig);
        Add<RandomContrast>(RandomContrast.FromConfig);
        Add<Spectrogram>(Spectrogram.FromConfig);
        Add<MelSpectrogram>(MelSpectrogram.FromConfig);
        Add<MFCC>(MFCC.FromConfig);
        Add<FrequencyMasking>(FrequencyMasking.FromConfig);
        Add<TimeMasking>(TimeMasking.FromConfig);
    }

    private static void Add<T>(Func<ConfigReader, T> factory) where T : Layer
    {
        s_factories.Add(typeof(T).Name, factory);
        s_names.Add(typeof(T), typeof(T).Name);
    }

    /// <summary>
    /// Makes layers of type <typeparamref name="T"/> savable: <paramref name="factory"/> rebuilds one
    /// (unbuilt) from the arguments its <see cref="Layer.GetConfig"/> wrote. The type is filed under
    /// its class name, or <paramref name="typeName"/>; registering the same type again is allowed,
    /// another type under a name already taken is an error.
    /// </summary>
    public static void Register<T>(Func<ConfigReader, T> factory, string? typeName = null) where T : Layer
    {
        ArgumentNullException.ThrowIfNull(factory);
        string name = typeName ?? typeof(T).Name;
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        lock (s_lock)
        {
            if (s_names.TryGetValue(typeof(T), out string? existing) && existing != name)
                throw new ArgumentException($"LayerCatalog: {typeof(T).FullName} is already registered as '{existing}'.", nameof(typeName));
            if (s_factories.ContainsKey(name) && !(s_names.TryGetValue(typeof(T), out string? same) && same == name))
                throw new ArgumentException($"LayerCatalog: the name '{name}' is taken by another layer type; register {typeof(T).FullName} under another typeName.", nameof(typeName));
            s_factories[name] = factory;
            s_names[typeof(T)] = name;
        }
    }

    /// <summary>The registered type names.</summary>
    public static IReadOnlyList<string> TypeNames
    {
        get
        {
            lock (s_lock) return [.. s_factories.Keys];
        }
    }

    /// <summary>The name <paramref name="layer"/>'s type is registered under, or null.</summary>
    public static string? TypeNameOf(Layer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        lock (s_lock) return s_names.GetValueOrDefault(layer.GetType());
    }

    /// <summary>
    /// The layer as JSON: <c>{"type": ..., "name": ..., "config": {...}}</c> (the weights are not
    /// part of it). A layer whose type is not registered is an error that says how to register it.
    /// </summary>
    public static JsonObject ToJson(Layer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        string type = TypeNameOf(layer) ?? throw new NotSupportedException(
            $"{layer.TypeName} '{layer.Name}' cannot be saved with its architecture: its type {layer.GetType().FullName} is not in the layer catalog. " +
            $"Override GetConfig and register it once with LayerCatalog.Register<{layer.GetType().Name}>(c => ...), or save the weights only (SaveWeights).");
        var json = new JsonObject { ["type"] = type, ["name"] = layer.Name, ["config"] = layer.GetConfig() };
        if (!layer.Trainable) json["trainable"] = false;
        return json;
    }

    /// <summary>A new, unbuilt layer from JSON written by <see cref="ToJson"/>; errors name the layer and the bad field.</summary>
    public static Layer FromJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        string type = json["type"] is JsonValue t && t.TryGetValue(out string? s) ? s : throw new InvalidDataException("A layer config has no \"type\".");
        string? name = json["name"] is JsonValue n && n.TryGetValue(out string? nm) ? nm : json["name"] is null ? null : throw new InvalidDataException($"Layer {type}: \"name\" is not a string.");
        JsonObject config = json["config"] as JsonObject ?? throw new InvalidDataException($"Layer {type} '{name}' has no \"config\" object.");
        Layer layer = Create(type, name, config, $"Layer {type} '{name}'");
        if (json["trainable"] is JsonValue tr && tr.TryGetValue(out bool trainable)) layer.Trainable = trainable;
        return layer;
    }

    /// <summary>
    /// A new layer of the registered <paramref name="type"/> from its arguments; <paramref name="where"/>
    /// starts every error message. An argument the type does not take is an error listing those it does.
    /// </summary>
    public static Layer Create(string type, string? name, JsonObject config, string where)
    {
        ArgumentNullException.ThrowIfNull(config);
        try
        {
            IO.ModelFile.CheckPrintable(type, "a layer's type");
            if (name is not null) IO.ModelFile.CheckPrintable(name, $"the name of a {type} layer");
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"{where}: {e.Message}.", e);
        }
        Func<ConfigReader, Layer>? factory;
        lock (s_lock) s_factories.TryGetValue(type, out factory);
        if (factory is null) throw new InvalidDataException($"{where}: unknown layer type; known: {string.Join(", ", TypeNames)}.");
        var reader = new ConfigReader(config, where);
        Layer layer;
        try
        {
            layer = factory(reader);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or KeyNotFoundException or ArgumentException or InvalidDataException)
        {
            CheckUnread(reader, type, where);
            if (reader.Missing.Count > 0) throw new InvalidDataException($"{where}: missing argument '{reader.Missing[0]}'.", e);
            throw new InvalidDataException(e.Message.StartsWith(where, StringComparison.Ordinal) ? e.Message : $"{where}: {e.Message}", e);
        }
        CheckUnread(reader, type, where);
        if (reader.Missing.Count > 0) throw new InvalidDataException($"{where}: missing argument '{reader.Missing[0]}'.");
        layer.Name = name;
        return layer;
    }

    private static void CheckUnread(ConfigReader reader, string type, string where)
    {
        string? unknown = reader.Unread().FirstOrDefault();
        if (unknown is not null)
            throw new InvalidDataException($"{where}: unknown argument '{unknown}'; {type} takes {string.Join(", ", reader.Asked.Append("name"))}.");
    }
}
