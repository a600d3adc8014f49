using System.Text.Json.Nodes;

namespace Nabla.Optimizers;

/// <summary>A learning rate as a function of the optimizer step (0-based), as Keras's schedules; saved with the optimizer.</summary>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate at <paramref name="step"/>.</summary>
    public abstract float Get(int step);

    /// <summary>The settings that rebuild the schedule: <c>{"type": ..., ...}</c>.</summary>
    public abstract JsonObject GetConfig();

    private static readonly ConfigRegistry<LearningRateSchedule> s_registry = Registry();

    private static ConfigRegistry<LearningRateSchedule> Registry()
    {
        var r = new ConfigRegistry<LearningRateSchedule>("learning-rate schedule");
        r.Register(nameof(StepDecay), c => new StepDecay(c.Float("initial_learning_rate"), c.Int("step_size"), c.Float("gamma", 0.1f)));
        r.Register(nameof(ExponentialDecay), c => new ExponentialDecay(c.Float("initial_learning_rate"), c.Int("decay_steps"), c.Float("decay_rate"), c.Bool("staircase", false)));
        r.Register(nameof(CosineDecay), c => new CosineDecay(c.Float("peak_learning_rate"), c.Int("decay_steps"), c.Int("warmup_steps", 0), c.Float("alpha", 0f)));
        return r;
    }

    /// <summary>Makes schedules of type <typeparamref name="T"/> savable: <paramref name="factory"/> rebuilds one from its config.</summary>
    public static void Register<T>(Func<ConfigReader, T> factory) where T : LearningRateSchedule => s_registry.Register(typeof(T).Name, factory);

    /// <summary>A schedule from a config written by <see cref="GetConfig"/>.</summary>
    public static LearningRateSchedule FromConfig(JsonObject config) => s_registry.Create(config).Value;
}

/// <summary>initial * gamma^floor(step / stepSize): drops by gamma every stepSize steps.</summary>
public sealed class StepDecay(float initialLearningRate, int stepSize, float gamma = 0.1f) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Get(int step) => initialLearningRate * MathF.Pow(gamma, step / Math.Max(stepSize, 1));

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["type"] = nameof(StepDecay), ["initial_learning_rate"] = initialLearningRate, ["step_size"] = stepSize, ["gamma"] = gamma };
}

/// <summary>initial * rate^(step / decaySteps), or with <paramref name="staircase"/> rate^floor(step / decaySteps).</summary>
public sealed class ExponentialDecay(float initialLearningRate, int decaySteps, float decayRate, bool staircase = false) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Get(int step)
    {
        float p = step / (float)Math.Max(decaySteps, 1);
        if (staircase) p = MathF.Floor(p);
        return initialLearningRate * MathF.Pow(decayRate, p);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new()
    {
        ["type"] = nameof(ExponentialDecay),
        ["initial_learning_rate"] = initialLearningRate,
        ["decay_steps"] = decaySteps,
        ["decay_rate"] = decayRate,
        ["staircase"] = staircase,
    };
}

/// <summary>
/// Linear warm-up from 0 to the peak over <paramref name="warmupSteps"/>, then cosine decay to
/// alpha * peak over <paramref name="decaySteps"/>, then constant.
/// </summary>
public sealed class CosineDecay(float peakLearningRate, int decaySteps, int warmupSteps = 0, float alpha = 0f) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Get(int step)
    {
        if (step < warmupSteps) return peakLearningRate * (step + 1) / warmupSteps;
        float t = Math.Min(step - warmupSteps, decaySteps) / (float)Math.Max(decaySteps, 1);
        float cosine = 0.5f * (1f + MathF.Cos(MathF.PI * t));
        return peakLearningRate * ((1f - alpha) * cosine + alpha);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new()
    {
        ["type"] = nameof(CosineDecay),
        ["peak_learning_rate"] = peakLearningRate,
        ["decay_steps"] = decaySteps,
        ["warmup_steps"] = warmupSteps,
        ["alpha"] = alpha,
    };
}
