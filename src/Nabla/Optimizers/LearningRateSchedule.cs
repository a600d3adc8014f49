namespace Nabla.Optimizers;

/// <summary>A learning rate as a function of the optimizer step (0-based), as Keras's schedules.</summary>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate at <paramref name="step"/>.</summary>
    public abstract float Get(int step);
}

/// <summary>initial * gamma^floor(step / stepSize): drops by gamma every stepSize steps.</summary>
public sealed class StepDecay(float initialLearningRate, int stepSize, float gamma = 0.1f) : LearningRateSchedule
{
    /// <inheritdoc/>
    public override float Get(int step) => initialLearningRate * MathF.Pow(gamma, step / Math.Max(stepSize, 1));
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
}
