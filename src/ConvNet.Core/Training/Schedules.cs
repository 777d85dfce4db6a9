namespace ConvNet;

/// <summary>
/// A learning rate that depends on the optimiser's step count, like Keras' <c>LearningRateSchedule</c>: pass one to an
/// optimiser's constructor instead of a number. The optimiser evaluates it at <see cref="Optimizer.Iterations"/> before
/// each update — 0 for the first update, as Keras evaluates it at <c>optimizer.iterations</c> before incrementing it.
/// Implementations must be pure functions of the step (they may be evaluated more than once per step).
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate for an update made after <paramref name="step"/> completed updates (finite, ≥ 0).</summary>
    public abstract double At(long step);

    private protected static float Positive(float value, string name) =>
        value > 0 && float.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(name, $"{name} must be positive and finite, got {value}.");
}

/// <summary>Keras <c>ExponentialDecay</c>: lr·rate^(step/decaySteps), with the exponent floored when <c>staircase</c>.</summary>
public sealed class ExponentialDecay : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    public ExponentialDecay(float initialLearningRate, long decaySteps, float decayRate, bool staircase = false)
    {
        InitialLearningRate = Positive(initialLearningRate, nameof(initialLearningRate));
        DecaySteps = decaySteps > 0 ? decaySteps : throw new ArgumentOutOfRangeException(nameof(decaySteps), $"decaySteps must be > 0, got {decaySteps}.");
        DecayRate = Positive(decayRate, nameof(decayRate));
        Staircase = staircase;
    }

    /// <summary>The rate at step 0.</summary>
    public float InitialLearningRate { get; }
    /// <summary>Steps per factor of <see cref="DecayRate"/>.</summary>
    public long DecaySteps { get; }
    /// <summary>The factor per <see cref="DecaySteps"/> steps.</summary>
    public float DecayRate { get; }
    /// <summary>Decay in whole periods (integer division of the step).</summary>
    public bool Staircase { get; }

    /// <inheritdoc/>
    public override double At(long step)
    {
        double p = (double)step / DecaySteps;
        if (Staircase) p = Math.Floor(p);
        return InitialLearningRate * Math.Pow(DecayRate, p);
    }
}

/// <summary>
/// Keras 3 <c>CosineDecay</c> with optional linear warm-up. Without <c>warmupTarget</c>:
/// lr·((1 − α)·½(1 + cos(π·min(step, decaySteps)/decaySteps)) + α). With it, the rate first rises linearly from
/// <c>initialLearningRate</c> to <c>warmupTarget</c> over <c>warmupSteps</c>, then decays from <c>warmupTarget</c> the same way
/// over the next <c>decaySteps</c>.
/// </summary>
public sealed class CosineDecay : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    public CosineDecay(float initialLearningRate, long decaySteps, float alpha = 0f, float? warmupTarget = null, long warmupSteps = 0)
    {
        InitialLearningRate = initialLearningRate >= 0 && float.IsFinite(initialLearningRate) ? initialLearningRate
            : throw new ArgumentOutOfRangeException(nameof(initialLearningRate), $"initialLearningRate must be finite and ≥ 0, got {initialLearningRate}.");
        DecaySteps = decaySteps > 0 ? decaySteps : throw new ArgumentOutOfRangeException(nameof(decaySteps), $"decaySteps must be > 0, got {decaySteps}.");
        Alpha = alpha >= 0 && alpha <= 1 ? alpha : throw new ArgumentOutOfRangeException(nameof(alpha), $"alpha must be in [0, 1], got {alpha}.");
        if (warmupTarget is { } w && !(w > 0 && float.IsFinite(w))) throw new ArgumentOutOfRangeException(nameof(warmupTarget), $"warmupTarget must be positive and finite, got {w}.");
        if (warmupSteps < 0 || (warmupTarget is not null && warmupSteps == 0))
            throw new ArgumentOutOfRangeException(nameof(warmupSteps), $"warmupSteps must be ≥ 0, and > 0 with a warmupTarget; got {warmupSteps}.");
        if (initialLearningRate == 0 && warmupTarget is null)
            throw new ArgumentOutOfRangeException(nameof(initialLearningRate), "initialLearningRate 0 without a warmupTarget would never train.");
        WarmupTarget = warmupTarget; WarmupSteps = warmupSteps;
    }

    /// <summary>The rate at step 0.</summary>
    public float InitialLearningRate { get; }
    /// <summary>Steps of the cosine decay.</summary>
    public long DecaySteps { get; }
    /// <summary>The final rate as a fraction of the decay's starting rate.</summary>
    public float Alpha { get; }
    /// <summary>The rate reached at the end of the warm-up (null: no warm-up).</summary>
    public float? WarmupTarget { get; }
    /// <summary>Steps of the linear warm-up.</summary>
    public long WarmupSteps { get; }

    /// <inheritdoc/>
    public override double At(long step)
    {
        double s = Math.Max(step, 0);
        if (WarmupTarget is not { } target)
            return InitialLearningRate * Decayed(Math.Min(s, DecaySteps));
        s = Math.Min(s, DecaySteps + WarmupSteps);
        if (s < WarmupSteps) return (target - (double)InitialLearningRate) * (s / WarmupSteps) + InitialLearningRate;
        return target * Decayed(s - WarmupSteps);
    }

    private double Decayed(double s) => (1 - (double)Alpha) * 0.5 * (1 + Math.Cos(Math.PI * s / DecaySteps)) + Alpha;
}

/// <summary>
/// Keras <c>PiecewiseConstantDecay</c>: <c>values[0]</c> while step ≤ <c>boundaries[0]</c>, <c>values[i]</c> while
/// <c>boundaries[i−1]</c> &lt; step ≤ <c>boundaries[i]</c>, and the last value after the last boundary.
/// </summary>
public sealed class PiecewiseConstantDecay : LearningRateSchedule
{
    private readonly long[] _boundaries;
    private readonly float[] _values;

    /// <summary>Creates the schedule; <paramref name="values"/> has one more element than <paramref name="boundaries"/>, which increase strictly.</summary>
    public PiecewiseConstantDecay(long[] boundaries, float[] values)
    {
        ArgumentNullException.ThrowIfNull(boundaries);
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != boundaries.Length + 1)
            throw new ArgumentException($"values must have one more element than boundaries; got {boundaries.Length} boundaries and {values.Length} values.", nameof(values));
        for (int i = 1; i < boundaries.Length; i++)
            if (boundaries[i] <= boundaries[i - 1]) throw new ArgumentException($"boundaries must increase strictly; boundaries[{i}] = {boundaries[i]} follows {boundaries[i - 1]}.", nameof(boundaries));
        foreach (float v in values) Positive(v, nameof(values));
        _boundaries = boundaries.ToArray();
        _values = values.ToArray();
    }

    /// <summary>The step boundaries.</summary>
    public IReadOnlyList<long> Boundaries => _boundaries;
    /// <summary>The rates of the intervals.</summary>
    public IReadOnlyList<float> Values => _values;

    /// <inheritdoc/>
    public override double At(long step)
    {
        int i = 0;
        while (i < _boundaries.Length && step > _boundaries[i]) i++;
        return _values[i];
    }
}
