using System.Text.Json.Nodes;

namespace Nabla.Optimizers;

/// <summary>
/// The common part of every optimizer: the parameters, the learning rate or its schedule,
/// gradient clipping (by global norm or by value), weight decay, and per-parameter state
/// buffers. Subclasses implement one update over spans. Construct with parameters (PyTorch
/// style) or without, and let <c>Sequential.Compile</c> bind the model's (Keras style).
/// Strings such as "adam" convert to an optimizer with default settings.
/// </summary>
public abstract class Optimizer
{
    private Parameter[] _parameters = [];
    private float[][]?[] _state = [];

    /// <summary>Sets the learning rate and, optionally, the parameters.</summary>
    protected Optimizer(float learningRate, IEnumerable<Parameter>? parameters)
    {
        if (!(learningRate > 0f)) throw new ArgumentOutOfRangeException(nameof(learningRate), $"{GetType().Name}: learning rate must be positive, not {learningRate}.");
        _learningRate = learningRate;
        if (parameters is not null) Bind(parameters);
    }

    /// <summary>Number of state buffers per parameter (Adam: 2, SGD with momentum: 1).</summary>
    protected abstract int StateSlots { get; }

    private float _learningRate;

    /// <summary>
    /// The base learning rate, used when no <see cref="Schedule"/> is set. Setting it while a
    /// schedule is set is an error (the schedule owns the learning rate, as in Keras).
    /// </summary>
    public float LearningRate
    {
        get => _learningRate;
        set
        {
            if (Schedule is not null)
                throw new InvalidOperationException($"{GetType().Name}: the learning rate is set by its schedule ({Schedule.GetType().Name}); remove the schedule before setting LearningRate.");
            if (!(value > 0f)) throw new ArgumentOutOfRangeException(nameof(value), $"{GetType().Name}: learning rate must be positive, not {value}.");
            _learningRate = value;
        }
    }

    /// <summary>A schedule that gives the learning rate from the step number; while set, it owns the learning rate.</summary>
    public LearningRateSchedule? Schedule { get; set; }

    /// <summary>If set, gradients are scaled so their global L2 norm is at most this (PyTorch's clip_grad_norm_).</summary>
    public float? ClipNorm { get; set; }

    /// <summary>If set, each gradient element is clipped to [-value, value].</summary>
    public float? ClipValue { get; set; }

    /// <summary>L2 penalty coefficient (decoupled for AdamW).</summary>
    public float WeightDecay { get; set; }

    /// <summary>Number of steps taken.</summary>
    public int Iterations { get; private set; }

    /// <summary>The global gradient norm measured by the last step, before clipping (measured only when <see cref="ClipNorm"/> is set; NaN otherwise).</summary>
    public float LastGradientNorm { get; private set; }

    /// <summary>Runs at the start of each <see cref="Step"/>: data-parallel Fit completes the gradients' reduction across ranks there, so a custom TrainStep needs no change.</summary>
    internal Action? BeforeStep { get; set; }

    /// <summary>The parameters being optimised.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>The learning rate the next step will use.</summary>
    public float CurrentLearningRate => Schedule?.Get(Iterations) ?? LearningRate;

    /// <summary>Attaches the parameters to optimise, once; state starts empty.</summary>
    public void Bind(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (_parameters.Length > 0) throw new InvalidOperationException($"{GetType().Name} is already bound to {_parameters.Length} parameters.");
        _parameters = parameters.ToArray();
        _state = new float[_parameters.Length][][];
    }

    /// <summary>
    /// Clears the gradients of every parameter: to null by default, or, with
    /// <paramref name="setToNone"/> false, to zeros in place (no allocation on the next backward).
    /// </summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var p in _parameters) p.Value.ZeroGrad(setToNone);
    }

    /// <summary>Updates every trainable parameter that has a gradient, then counts the step.</summary>
    public void Step()
    {
        if (_parameters.Length == 0) throw new InvalidOperationException($"{GetType().Name}.Step: no parameters; pass them to the constructor or compile a model with this optimizer.");
        BeforeStep?.Invoke();
        float lr = CurrentLearningRate;
        Iterations++;
        LastGradientNorm = ClipNorm is null ? float.NaN : GlobalNorm();
        float scale = ClipNorm is float max && LastGradientNorm > max ? max / (LastGradientNorm + 1e-6f) : 1f;
        using var noGrad = Tensor.NoGrad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            Parameter p = _parameters[i];
            if (!p.Trainable || p.Grad is null) continue;
            Tensor grad = p.Grad;
            if (!grad.IsContiguous || scale != 1f || ClipValue is not null)
            {
                grad = grad.ContiguousCopy();
                Span<float> g = grad.Storage.AsSpan(0, grad.Size);
                if (scale != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(g, scale, g);
                if (ClipValue is float c) System.Numerics.Tensors.TensorPrimitives.Clamp(g, -c, c, g);
            }
            float[][] state = _state[i] ??= CreateState(p.Value.Size);
            Tensor value = p.Value;
            Update(value.Storage.AsSpan(value.Offset, value.Size), grad.Storage.AsSpan(grad.Offset, grad.Size), state, lr, Iterations);
        }
    }

    private float[][] CreateState(int size)
    {
        var slots = new float[StateSlots][];
        for (int s = 0; s < slots.Length; s++) slots[s] = new float[size];
        return slots;
    }

    private float GlobalNorm()
    {
        double sum = 0;
        foreach (var p in _parameters)
        {
            if (!p.Trainable || p.Grad is null) continue;
            ReadOnlySpan<float> g = p.Grad.Data;
            sum += System.Numerics.Tensors.TensorPrimitives.SumOfSquares(g);
        }
        return (float)Math.Sqrt(sum);
    }

    /// <summary>
    /// One update of <paramref name="parameter"/> given its (clipped) gradient, its state
    /// buffers, the learning rate and the 1-based step number.
    /// </summary>
    protected abstract void Update(Span<float> parameter, ReadOnlySpan<float> gradient, float[][] state, float learningRate, int step);

    /// <summary>
    /// The state buffers by parameter index and slot, and the step count: what a checkpoint
    /// needs to resume exactly. Buffers not yet created are empty arrays.
    /// </summary>
    public (int Iterations, float[][][] Buffers) GetState()
    {
        var copy = new float[_state.Length][][];
        for (int i = 0; i < _state.Length; i++)
            copy[i] = _state[i] is { } s ? s.Select(b => (float[])b.Clone()).ToArray() : [];
        return (Iterations, copy);
    }

    /// <summary>Restores what <see cref="GetState"/> returned.</summary>
    public void SetState(int iterations, float[][][] buffers)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        if (buffers.Length != _parameters.Length)
            throw new ArgumentException($"{GetType().Name}.SetState: state for {buffers.Length} parameters, but the optimizer has {_parameters.Length}.");
        for (int i = 0; i < buffers.Length; i++)
        {
            if (buffers[i].Length == 0) { _state[i] = null; continue; }
            if (buffers[i].Length != StateSlots || buffers[i].Any(b => b.Length != _parameters[i].Value.Size))
                throw new ArgumentException($"{GetType().Name}.SetState: state of parameter {i} does not fit its shape {_parameters[i].Value.ShapeString}.");
            _state[i] = buffers[i].Select(b => (float[])b.Clone()).ToArray();
        }
        Iterations = iterations;
    }

    /// <summary>
    /// The settings that rebuild this optimizer (Keras's get_config): its type, learning rate or
    /// schedule, weight decay, clipping and its own hyperparameters; not its state.
    /// </summary>
    public JsonObject GetConfig()
    {
        var c = new JsonObject { ["type"] = GetType().Name, ["learning_rate"] = LearningRate, ["weight_decay"] = WeightDecay };
        WriteConfig(c);
        if (ClipNorm is float cn) c["clip_norm"] = cn;
        if (ClipValue is float cv) c["clip_value"] = cv;
        if (Schedule is not null) c["schedule"] = Schedule.GetConfig();
        return c;
    }

    /// <summary>Adds the subclass's own hyperparameters to its config.</summary>
    protected virtual void WriteConfig(JsonObject config)
    {
    }

    private static readonly ConfigRegistry<Optimizer> s_registry = Registry();

    private static ConfigRegistry<Optimizer> Registry()
    {
        var r = new ConfigRegistry<Optimizer>("optimizer");
        r.Register(nameof(SGD), SGD.FromConfig);
        r.Register(nameof(Adam), Adam.FromConfig);
        r.Register(nameof(AdamW), AdamW.FromConfig);
        r.Register(nameof(RMSProp), RMSProp.FromConfig);
        r.Register(nameof(Adagrad), Adagrad.FromConfig);
        return r;
    }

    /// <summary>Makes optimizers of type <typeparamref name="T"/> savable with a model: <paramref name="factory"/> rebuilds one from its config.</summary>
    public static void Register<T>(Func<ConfigReader, T> factory) where T : Optimizer => s_registry.Register(typeof(T).Name, factory);

    /// <summary>An optimizer (without state) from a config written by <see cref="GetConfig"/>; unknown keys (other than <c>iterations</c>) are ignored.</summary>
    public static Optimizer FromConfig(JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var (o, c) = s_registry.Create(config);
        if (c.OptionalFloat("clip_norm") is float cn) o.ClipNorm = cn;
        if (c.OptionalFloat("clip_value") is float cv) o.ClipValue = cv;
        if (config["schedule"] is JsonObject schedule) o.Schedule = LearningRateSchedule.FromConfig(schedule);
        return o;
    }

    /// <summary>An optimizer with default settings from its Keras name: sgd, adam, adamw, rmsprop, adagrad.</summary>
    public static Optimizer Get(string name) => name.ToLowerInvariant() switch
    {
        "sgd" => new SGD(),
        "adam" => new Adam(),
        "adamw" => new AdamW(),
        "rmsprop" => new RMSProp(),
        "adagrad" => new Adagrad(),
        _ => throw new ArgumentException($"Unknown optimizer '{name}'. Known: sgd, adam, adamw, rmsprop, adagrad.", nameof(name)),
    };

    /// <summary>Looks up an optimizer by name; see <see cref="Get"/>.</summary>
    public static implicit operator Optimizer(string name) => Get(name);
}
