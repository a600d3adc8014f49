namespace Nabla.Layers;

/// <summary>
/// A building block with named parameters, buffers and child modules, as PyTorch's nn.Module.
/// Parameters are registered explicitly (<see cref="AddParameter"/>), so names such as
/// <c>0.weight</c> come with no reflection. Subclasses implement <see cref="Forward"/>.
/// </summary>
public abstract class Module
{
    private readonly List<KeyValuePair<string, Parameter>> _parameters = [];
    private readonly List<KeyValuePair<string, Tensor>> _buffers = [];
    private readonly List<KeyValuePair<string, Module>> _children = [];

    private bool _training = true;
    [ThreadStatic] private static int t_inferenceDepth;

    /// <summary>
    /// True in training mode (dropout active, batch statistics), false in evaluation mode or
    /// while the current thread is inside <see cref="InferenceScope"/>.
    /// </summary>
    public bool IsTraining => _training && t_inferenceDepth == 0;

    /// <summary>
    /// Until disposed, every module behaves as in evaluation mode on the calling thread only,
    /// without changing any module's own mode, so many threads can predict with one model at once.
    /// </summary>
    public static InferenceModeScope InferenceScope() => new();

    /// <summary>The scope returned by <see cref="InferenceScope"/>.</summary>
    public struct InferenceModeScope : IDisposable
    {
        private bool _active;

        /// <summary>Enters inference mode on this thread.</summary>
        public InferenceModeScope()
        {
            t_inferenceDepth++;
            _active = true;
        }

        /// <summary>Leaves inference mode (once).</summary>
        public void Dispose()
        {
            if (!_active) return;
            _active = false;
            t_inferenceDepth--;
        }
    }

    /// <summary>Computes the module's output for <paramref name="input"/>.</summary>
    public abstract Tensor Forward(Tensor input);

    /// <summary>Registers a parameter under <paramref name="name"/> and returns it.</summary>
    protected Parameter AddParameter(string name, Tensor value, bool trainable = true)
    {
        CheckNewName(name);
        var p = new Parameter(value, trainable);
        _parameters.Add(new(name, p));
        return p;
    }

    /// <summary>Registers a non-trained tensor kept in the state dict (running statistics).</summary>
    protected Tensor AddBuffer(string name, Tensor value)
    {
        CheckNewName(name);
        _buffers.Add(new(name, value));
        return value;
    }

    /// <summary>Registers a child module under <paramref name="name"/> and returns it.</summary>
    protected T AddModule<T>(string name, T module) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        CheckNewName(name);
        _children.Add(new(name, module));
        module.Train(_training);
        return module;
    }

    private void CheckNewName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.Contains('.')) throw new ArgumentException($"Name '{name}' cannot contain '.'; dots separate module names.", nameof(name));
        if (_parameters.Any(p => p.Key == name) || _buffers.Any(b => b.Key == name) || _children.Any(c => c.Key == name))
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'.", nameof(name));
    }

    /// <summary>The direct children, in registration order.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren() => _children.Select(c => (c.Key, c.Value));

    /// <summary>Every parameter of this module and its descendants with its dotted name, in registration order.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters()
    {
        foreach (var p in _parameters) yield return (p.Key, p.Value);
        foreach (var c in _children)
        {
            foreach (var (name, p) in c.Value.NamedParameters()) yield return ($"{c.Key}.{name}", p);
        }
    }

    /// <summary>Every parameter, in the order of <see cref="NamedParameters"/>.</summary>
    public IEnumerable<Parameter> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Every buffer of this module and its descendants with its dotted name.</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers()
    {
        foreach (var b in _buffers) yield return (b.Key, b.Value);
        foreach (var c in _children)
        {
            foreach (var (name, b) in c.Value.NamedBuffers()) yield return ($"{c.Key}.{name}", b);
        }
    }

    /// <summary>Sets training mode on this module and its descendants.</summary>
    public void Train(bool training = true)
    {
        _training = training;
        foreach (var c in _children) c.Value.Train(training);
    }

    /// <summary>Sets evaluation mode (as <c>Train(false)</c>).</summary>
    public void Eval() => Train(false);

    /// <summary>Clears the gradients of every parameter.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.Value.ZeroGrad();
    }

    /// <summary>
    /// Parameters and buffers by dotted name (PyTorch's state_dict), in registration order.
    /// The tensors are the live values, not copies.
    /// </summary>
    public OrderedDictionary<string, Tensor> StateDict()
    {
        var state = new OrderedDictionary<string, Tensor>();
        foreach (var (name, p) in NamedParameters()) state.Add(name, p.Value);
        foreach (var (name, b) in NamedBuffers()) state.Add(name, b);
        return state;
    }

    /// <summary>
    /// Copies values into the parameters and buffers by name and reports what matched. With
    /// <paramref name="strict"/> (PyTorch's default), a missing, unexpected or misshaped name is an
    /// error that lists every one; without it they are skipped and listed in the report (Hugging
    /// Face's loading of a checkpoint into a model with a new head). <paramref name="rename"/> maps
    /// each name of <paramref name="state"/> to this module's name for it (null drops the entry;
    /// see <see cref="IO.StateDictNames"/>). Nothing is changed unless the load succeeds.
    /// </summary>
    public StateDictReport LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true, Func<string, string?>? rename = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        var own = StateDict();
        if (rename is not null) state = Rename(state, rename);
        state = ResolveAliases(state, own);
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var misshaped = own.Where(kv => state.TryGetValue(kv.Key, out var source) && !Shapes.Equal(source.Shape, kv.Value.Shape))
            .Select(kv => $"{kv.Key} ({state[kv.Key].ShapeString} given, {kv.Value.ShapeString} here)").ToList();
        if (strict && (missing.Count > 0 || unexpected.Count > 0 || misshaped.Count > 0))
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add($"missing [{string.Join(", ", missing)}]");
            if (unexpected.Count > 0) parts.Add($"unexpected [{string.Join(", ", unexpected)}]");
            if (misshaped.Count > 0) parts.Add($"misshaped [{string.Join(", ", misshaped)}]");
            throw new ArgumentException($"LoadStateDict into {GetType().Name}: {string.Join(", ", parts)}.");
        }
        var loaded = new List<string>();
        using var noGrad = Tensor.NoGrad();
        foreach (var (name, target) in own)
        {
            if (!state.TryGetValue(name, out var source) || !Shapes.Equal(source.Shape, target.Shape)) continue;
            target.CopyFrom(source);
            loaded.Add(name);
        }
        return new StateDictReport(loaded, missing, unexpected, misshaped);
    }

    private static Dictionary<string, Tensor> Rename(IReadOnlyDictionary<string, Tensor> state, Func<string, string?> rename)
    {
        var renamed = new Dictionary<string, Tensor>();
        foreach (var (key, value) in state)
        {
            if (rename(key) is not { } name) continue;
            if (!renamed.TryAdd(name, value)) throw new ArgumentException($"LoadStateDict: two entries are renamed to '{name}' (one of them '{key}').");
        }
        return renamed;
    }

    /// <summary>
    /// Other names by which this module's own state entries are known elsewhere, as (alias, name)
    /// pairs relative to this module: <see cref="LoadStateDict"/> accepts either. Bidirectional
    /// layers give PyTorch's <c>weight_ih_l0_reverse</c> names this way.
    /// </summary>
    protected virtual IEnumerable<(string Alias, string Name)> StateDictAliases() => [];

    private IEnumerable<(string Alias, string Name)> AllStateDictAliases()
    {
        foreach (var a in StateDictAliases()) yield return a;
        foreach (var c in _children)
        {
            foreach (var (alias, name) in c.Value.AllStateDictAliases()) yield return ($"{c.Key}.{alias}", $"{c.Key}.{name}");
        }
    }

    /// <summary>The state with every aliased name that is not one of this module's own names renamed to the name it stands for.</summary>
    private IReadOnlyDictionary<string, Tensor> ResolveAliases(IReadOnlyDictionary<string, Tensor> state, OrderedDictionary<string, Tensor> own)
    {
        var aliases = new Dictionary<string, string>();
        foreach (var (alias, name) in AllStateDictAliases()) aliases.TryAdd(alias, name);
        if (aliases.Count == 0 || state.Keys.All(own.ContainsKey)) return state;
        var renamed = new Dictionary<string, Tensor>();
        foreach (var (key, value) in state)
        {
            string name = !own.ContainsKey(key) && aliases.TryGetValue(key, out string? target) ? target : key;
            if (!renamed.TryAdd(name, value))
                throw new ArgumentException($"LoadStateDict into {GetType().Name}: '{name}' is given twice, under its own name and under an alias.");
        }
        return renamed;
    }

    /// <summary>Number of scalar parameters (trainable and not).</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.Value.Size);
}

/// <summary>What <see cref="Module.LoadStateDict"/> matched: names loaded, and the module's names
/// the state lacked, the state's names the module lacks, and names whose shapes differ (skipped).</summary>
/// <param name="Loaded">The module's entries that received values.</param>
/// <param name="Missing">The module's entries the state did not hold (kept as they were).</param>
/// <param name="Unexpected">The state's entries the module has no place for (ignored).</param>
/// <param name="Misshaped">Entries whose shapes differ, with both shapes (skipped).</param>
public sealed record StateDictReport(IReadOnlyList<string> Loaded, IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected, IReadOnlyList<string> Misshaped)
{
    /// <summary>True when every entry matched both ways.</summary>
    public bool IsComplete => Missing.Count == 0 && Unexpected.Count == 0 && Misshaped.Count == 0;

    /// <summary>One line per kind, for a log: <c>loaded 12; missing [head.weight]; ...</c>.</summary>
    public override string ToString() =>
        $"loaded {Loaded.Count}; missing [{string.Join(", ", Missing)}]; unexpected [{string.Join(", ", Unexpected)}]; misshaped [{string.Join(", ", Misshaped)}]";
}
