namespace ConvNet;

/// <summary>
/// Keras <c>BinaryAccuracy</c> on float 0/1 targets: the fraction of elements where (prediction &gt; threshold) equals the
/// target (targets are compared exactly with 0 and 1, as in Keras). Keras compares <em>probabilities</em> with the threshold.
/// For a model that outputs logits (<c>BinaryCrossentropy(fromLogits: true)</c>) pass <c>threshold: 0</c>: σ(z) &gt; 0.5
/// exactly when z &gt; 0. The default 0.5 applied to logits counts a sample as positive only when σ(z) &gt; 0.62 — the same
/// silent skew Keras has when its default is used with logits.
/// </summary>
public sealed class BinaryAccuracy(float threshold = 0.5f, string? name = null) : Metric
{
    /// <summary>Predictions strictly above it count as 1.</summary>
    public float Threshold { get; } = float.IsFinite(threshold) ? threshold : throw new ArgumentOutOfRangeException(nameof(threshold), $"threshold must be finite, got {threshold}.");
    /// <inheritdoc/>
    public override string Name { get; } = name ?? "binary_accuracy";
    /// <inheritdoc/>
    public override TargetKind TargetKind => TargetKind.Values;

    /// <inheritdoc/>
    protected override void Accumulate(int rows, int outputs, ReadOnlySpan<float> predictions, TargetBatch targets)
    {
        var y = targets.Values;
        long hits = 0;
        for (int i = 0; i < predictions.Length; i++) if ((predictions[i] > Threshold ? 1f : 0f) == y[i]) hits++;
        AddScores(hits, predictions.Length);
    }
    /// <inheritdoc/>
    public override Metric CloneEmpty() => new BinaryAccuracy(Threshold, Name);
}

/// <summary>
/// Keras <c>metrics.MeanAbsoluteError</c> (log name <c>mean_absolute_error</c>): the mean of |y − p| over all elements seen.
/// (Named with a suffix because <see cref="ConvNet.MeanAbsoluteError"/> is the loss; C# cannot hold both under one name.)
/// </summary>
public sealed class MeanAbsoluteErrorMetric(string? name = null) : Metric
{
    /// <inheritdoc/>
    public override string Name { get; } = name ?? "mean_absolute_error";
    /// <inheritdoc/>
    public override TargetKind TargetKind => TargetKind.Values;
    /// <inheritdoc/>
    protected override void Accumulate(int rows, int outputs, ReadOnlySpan<float> predictions, TargetBatch targets)
    {
        var y = targets.Values;
        double sum = 0;
        for (int i = 0; i < predictions.Length; i++) sum += Math.Abs((double)predictions[i] - y[i]);
        AddScores(sum, predictions.Length);
    }
    /// <inheritdoc/>
    public override Metric CloneEmpty() => new MeanAbsoluteErrorMetric(Name);
}

/// <summary>
/// Keras <c>metrics.MeanSquaredError</c> (log name <c>mean_squared_error</c>): the mean of (y − p)² over all elements seen.
/// (Named with a suffix because <see cref="ConvNet.MeanSquaredError"/> is the loss.)
/// </summary>
public sealed class MeanSquaredErrorMetric(string? name = null) : Metric
{
    /// <inheritdoc/>
    public override string Name { get; } = name ?? "mean_squared_error";
    /// <inheritdoc/>
    public override TargetKind TargetKind => TargetKind.Values;
    /// <inheritdoc/>
    protected override void Accumulate(int rows, int outputs, ReadOnlySpan<float> predictions, TargetBatch targets)
    {
        var y = targets.Values;
        double sum = 0;
        for (int i = 0; i < predictions.Length; i++) { double e = (double)predictions[i] - y[i]; sum += e * e; }
        AddScores(sum, predictions.Length);
    }
    /// <inheritdoc/>
    public override Metric CloneEmpty() => new MeanSquaredErrorMetric(Name);
}

/// <summary>
/// Base of <see cref="Precision"/> and <see cref="Recall"/>: counts over all elements, as Keras'
/// confusion-matrix metrics with one threshold — predicted positive when p &gt; threshold, actually positive when y ≠ 0.
/// As with <see cref="BinaryAccuracy"/>, the threshold applies to probabilities; use 0 for logits.
/// </summary>
public abstract class ConfusionMetric : Metric
{
    private long _tp, _fp, _fn;

    /// <summary>Creates the metric.</summary>
    private protected ConfusionMetric(float threshold) =>
        Threshold = float.IsFinite(threshold) ? threshold : throw new ArgumentOutOfRangeException(nameof(threshold), $"threshold must be finite, got {threshold}.");

    /// <summary>Predictions strictly above it count as positive.</summary>
    public float Threshold { get; }
    /// <summary>True positives since the last reset.</summary>
    public long TruePositives => _tp;
    /// <summary>False positives since the last reset.</summary>
    public long FalsePositives => _fp;
    /// <summary>False negatives since the last reset.</summary>
    public long FalseNegatives => _fn;
    /// <inheritdoc/>
    public override TargetKind TargetKind => TargetKind.Values;

    /// <inheritdoc/>
    protected override void Accumulate(int rows, int outputs, ReadOnlySpan<float> predictions, TargetBatch targets)
    {
        var y = targets.Values;
        for (int i = 0; i < predictions.Length; i++)
        {
            bool predicted = predictions[i] > Threshold, actual = y[i] != 0;
            if (predicted && actual) _tp++;
            else if (predicted) _fp++;
            else if (actual) _fn++;
        }
    }

    /// <summary>a / (a + b), 0 when both are 0 (Keras' divide_no_nan).</summary>
    private protected static double Ratio(long a, long b) => a + b == 0 ? 0 : (double)a / (a + b);

    /// <inheritdoc/>
    public override void Reset() { base.Reset(); _tp = _fp = _fn = 0; }
}

/// <summary>Keras <c>Precision</c>: TP / (TP + FP) over all elements seen (0 when nothing was predicted positive).</summary>
public sealed class Precision(float threshold = 0.5f, string? name = null) : ConfusionMetric(threshold)
{
    /// <inheritdoc/>
    public override string Name { get; } = name ?? "precision";
    /// <inheritdoc/>
    public override double Result => Ratio(TruePositives, FalsePositives);
    /// <inheritdoc/>
    public override Metric CloneEmpty() => new Precision(Threshold, Name);
}

/// <summary>Keras <c>Recall</c>: TP / (TP + FN) over all elements seen (0 when there were no positives).</summary>
public sealed class Recall(float threshold = 0.5f, string? name = null) : ConfusionMetric(threshold)
{
    /// <inheritdoc/>
    public override string Name { get; } = name ?? "recall";
    /// <inheritdoc/>
    public override double Result => Ratio(TruePositives, FalseNegatives);
    /// <inheritdoc/>
    public override Metric CloneEmpty() => new Recall(Threshold, Name);
}
