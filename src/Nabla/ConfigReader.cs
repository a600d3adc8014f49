using System.Text.Json.Nodes;
using Nabla.Initializers;
using Nabla.Layers;

namespace Nabla;

/// <summary>
/// Reads the arguments of a layer's or optimizer's config (Keras's from_config): typed getters,
/// with a default for those left out, that remember every key asked for, so that a key nobody
/// asked for (a misspelt argument) can be named afterwards with the list of those accepted.
/// </summary>
public sealed class ConfigReader
{
    private readonly JsonObject _config;
    private readonly List<string> _asked = [];

    /// <summary>Reads <paramref name="config"/>; <paramref name="what"/> names it in errors (e.g. <c>Dense 'dense_1'</c>).</summary>
    public ConfigReader(JsonObject config, string what)
    {
        ArgumentNullException.ThrowIfNull(config);
        _config = config;
        What = what;
    }

    /// <summary>What is being read, for messages.</summary>
    public string What { get; }

    /// <summary>The keys asked for so far, in order: the arguments the type accepts.</summary>
    public IReadOnlyList<string> Asked => _asked;

    /// <summary>Keys present in the config that no getter asked for.</summary>
    public IEnumerable<string> Unread() => _config.Select(kv => kv.Key).Where(k => !_asked.Contains(k));

    /// <summary>True when <paramref name="key"/> is present and not null.</summary>
    public bool Has(string key)
    {
        Ask(key);
        return _config[key] is not null;
    }

    private JsonNode? Ask(string key)
    {
        if (!_asked.Contains(key)) _asked.Add(key);
        return _config[key];
    }

    private readonly List<string> _missing = [];

    /// <summary>Required keys that were asked for and absent (their getters returned placeholders).</summary>
    public IReadOnlyList<string> Missing => _missing;

    // A required key that is absent is noted and stands in as a placeholder, so the factory goes on
    // asking for the rest and the error can list every argument the type takes.
    private JsonNode Required(string key, JsonNode placeholder)
    {
        if (Ask(key) is { } node) return node;
        if (!_missing.Contains(key)) _missing.Add(key);
        return placeholder;
    }

    private T Get<T>(JsonNode node, string key)
    {
        try
        {
            return node.GetValue<T>();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{What}: argument '{key}' should be {Kind<T>()}, not {node.ToJsonString()}.", e);
        }
    }

    private static string Kind<T>() => typeof(T) == typeof(int) ? "an integer" : typeof(T) == typeof(float) ? "a number"
        : typeof(T) == typeof(bool) ? "true or false" : "a string";

    /// <summary>A required integer.</summary>
    public int Int(string key) => Get<int>(Required(key, 1), key);

    /// <summary>An integer, or <paramref name="fallback"/> when absent.</summary>
    public int Int(string key, int fallback) => Ask(key) is { } n ? Get<int>(n, key) : fallback;

    /// <summary>An integer, or null when absent or null.</summary>
    public int? OptionalInt(string key) => Ask(key) is { } n ? Get<int>(n, key) : null;

    /// <summary>A required number.</summary>
    public float Float(string key) => Get<float>(Required(key, 0f), key);

    /// <summary>A number, or <paramref name="fallback"/> when absent.</summary>
    public float Float(string key, float fallback) => Ask(key) is { } n ? Get<float>(n, key) : fallback;

    /// <summary>A number, or null when absent or null.</summary>
    public float? OptionalFloat(string key) => Ask(key) is { } n ? Get<float>(n, key) : null;

    /// <summary>A flag, or <paramref name="fallback"/> when absent.</summary>
    public bool Bool(string key, bool fallback) => Ask(key) is { } n ? Get<bool>(n, key) : fallback;

    /// <summary>A required string.</summary>
    public string String(string key) => Get<string>(Required(key, ""), key);

    /// <summary>A string, or <paramref name="fallback"/> when absent.</summary>
    public string? String(string key, string? fallback) => Ask(key) is { } n ? Get<string>(n, key) : fallback;

    /// <summary>A required list of integers.</summary>
    public int[] Ints(string key) => Required(key, new JsonArray(1)) is JsonArray a ? a.Select(n => n is null ? throw Bad(key, "a list of integers") : Get<int>(n, key)).ToArray() : throw Bad(key, "a list of integers");

    /// <summary>A required list of numbers.</summary>
    public float[] Floats(string key) => Required(key, new JsonArray(1)) is JsonArray a ? a.Select(n => n is null ? throw Bad(key, "a list of numbers") : Get<float>(n, key)).ToArray() : throw Bad(key, "a list of numbers");

    /// <summary>A 2-D size: one integer for both dimensions or [height, width]; <paramref name="fallback"/> when absent.</summary>
    public Size2 Size(string key, Size2? fallback = null)
    {
        JsonNode? n = fallback is null ? Required(key, 1) : Ask(key);
        if (n is null) return fallback!.Value;
        if (n is JsonValue) return Get<int>(n, key);
        int[] a = Ints(key);
        return a.Length == 2 ? new Size2(a[0], a[1]) : throw Bad(key, "an integer or [height, width]");
    }

    /// <summary>Padding: "valid", "same", one integer or [top, bottom, left, right]; <paramref name="fallback"/> when absent.</summary>
    public ConvPadding Padding(string key, ConvPadding fallback) => Ask(key) switch
    {
        null => fallback,
        JsonArray a when a.Count == 4 => new Padding2D(Get<int>(a[0]!, key), Get<int>(a[1]!, key), Get<int>(a[2]!, key), Get<int>(a[3]!, key)),
        JsonValue v when v.TryGetValue(out int p) => p,
        JsonValue v => Get<string>(v, key),
        _ => throw Bad(key, "\"valid\", \"same\" or [top, bottom, left, right]"),
    };

    /// <summary>An activation by name; <paramref name="fallback"/> when absent.</summary>
    public ActivationFunction Activation(string key, string fallback = "linear") => Activations.Get(String(key, fallback));

    /// <summary>An initializer by name, or null when absent.</summary>
    public Initializer? Initializer(string key) => String(key, null) is string name ? Initializers.Initializer.Get(name) : null;

    /// <summary>A nested layer config, read through <see cref="LayerCatalog"/>.</summary>
    public Layer Layer(string key) => Ask(key) is JsonObject o ? LayerCatalog.FromJson(o) : throw new MissingArgumentException(key, $"{What}: argument '{key}' should be a layer config object");

    private InvalidDataException Bad(string key, string expected) => new($"{What}: argument '{key}' should be {expected}.");

    /// <summary>JSON for a list of integers.</summary>
    public static JsonArray Json(IEnumerable<int> values) => new(values.Select(v => (JsonNode?)v).ToArray());

    /// <summary>JSON for a 2-D size, [height, width].</summary>
    public static JsonArray Json(Size2 s) => Json([s.H, s.W]);

    /// <summary>JSON for padding: its mode, or [top, bottom, left, right].</summary>
    public static JsonNode Json(ConvPadding p) => p.Mode is string mode ? JsonValue.Create(mode) : Json([p.Explicit.Top, p.Explicit.Bottom, p.Explicit.Left, p.Explicit.Right]);

    /// <summary>The name of <paramref name="f"/>, or an error when it is a custom activation that cannot be rebuilt by name.</summary>
    public static string Json(Layer layer, ActivationFunction f)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(f);
        try
        {
            if (Activations.Get(f.Name) == f) return f.Name;
        }
        catch (ArgumentException)
        {
        }
        throw new NotSupportedException($"{layer.TypeName} '{layer.Name}' uses the custom activation '{f.Name}', which cannot be saved by name; use a built-in activation or save the weights only.");
    }
}

/// <summary>
/// Types rebuilt from their configs by a "type" name, each registered explicitly (no reflection,
/// so AOT-safe): the optimizers and the learning-rate schedules. (Layers have their own,
/// <see cref="Layers.LayerCatalog"/>, which also names layers and checks every argument.)
/// </summary>
/// <typeparam name="T">The base type.</typeparam>
/// <param name="kind">What the entries are, for messages ("optimizer").</param>
public sealed class ConfigRegistry<T>(string kind) where T : class
{
    private readonly Dictionary<string, Func<ConfigReader, T>> _factories = new(StringComparer.Ordinal);

    /// <summary>Files <paramref name="factory"/> under <paramref name="type"/> (replacing one of that name).</summary>
    public void Register(string type, Func<ConfigReader, T> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(type);
        ArgumentNullException.ThrowIfNull(factory);
        lock (_factories) _factories[type] = factory;
    }

    /// <summary>A new object from <paramref name="config"/>, whose "type" names its factory; the config's reader is returned for further fields.</summary>
    public (T Value, ConfigReader Reader) Create(JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        string type = config["type"] is JsonValue t && t.TryGetValue(out string? s) ? s : throw new FormatException($"the {kind} has no type");
        Func<ConfigReader, T>? factory;
        lock (_factories) _factories.TryGetValue(type, out factory);
        if (factory is null) throw new FormatException($"unknown {kind} type '{IO.ModelFile.CheckPrintable(type, $"the {kind} type")}'");
        var reader = new ConfigReader(config, $"{kind} {type}");
        T value = factory(reader);
        if (reader.Missing.Count > 0) throw new FormatException($"{kind} {type}: missing argument '{reader.Missing[0]}'");
        return (value, reader);
    }
}

/// <summary>A required argument absent from a config.</summary>
public sealed class MissingArgumentException(string key, string message) : FormatException(message)
{
    /// <summary>The missing key.</summary>
    public string Key { get; } = key;
}
