namespace ConvNet;

/// <summary>
/// A metric accumulated over batches of predictions (rows, outputs) and their targets, reset per epoch.
/// Most metrics are the mean of per-sample (or per-element) scores; <see cref="Precision"/> and <see cref="Recall"/> are ratios of counts.
/// </summary>
public abstract class Metric
{
    private double _sum;
    private long _count;

    /// <summary>Name used in logs and <see cref="History"/> (Keras names).</summary>
    public abstract string Name { get; }

    /// <summary>The kind of targets this metric takes (class labels unless overridden).</summary>
    public virtual TargetKind TargetKind => TargetKind.Labels;

    /// <summary>Adds a batch.</summary>
    /// <exception cref="ArgumentException">The targets are of the wrong kind or size, or not finite; the message names the metric. Nothing is added.</exception>
    public void Update(int rows, int outputs, ReadOnlySpan<float> predictions, TargetBatch targets)
    {
        if (rows < 0 || outputs <= 0 || predictions.Length != rows * outputs)
            throw new ArgumentException($"Metric '{Name}': {predictions.Length} predictions for {rows} rows of {outputs} outputs.", nameof(predictions));
        TargetChecks.Check(this, TargetKind, rows, outputs, targets, "the batch");
        Accumulate(rows, outputs, predictions, targets);
    }

    /// <summary>Adds a batch with integer labels.</summary>
    public void Update(int rows, int classes, ReadOnlySpan<float> predictions, ReadOnlySpan<int> labels)
        => Update(rows, classes, predictions, TargetBatch.FromLabels(labels));

    /// <summary>Adds a validated batch. Default: <see cref="Score"/> per row with its label.</summary>
    protected virtual void Accumulate(int rows, int outputs, ReadOnlySpan<float> predictions, TargetBatch targets)
    {
        var labels = targets.Labels;
        double sum = 0;
        for (int r = 0; r < rows; r++) sum += Score(predictions.Slice(r * outputs, outputs), labels[r]);
        AddScores(sum, rows);
    }

    /// <summary>Per-sample score in [0, 1] for label metrics (used by the default <see cref="Accumulate"/>).</summary>
    protected virtual double Score(ReadOnlySpan<float> row, int label) =>
        throw new NotSupportedException($"Metric '{Name}' must override Score or Accumulate.");

    /// <summary>Adds <paramref name="count"/> scores whose sum is <paramref name="sum"/> to the running mean.</summary>
    protected void AddScores(double sum, long count) { _sum += sum; _count += count; }

    /// <summary>The value since the last <see cref="Reset"/>: the mean score (0 if empty).</summary>
    public virtual double Result => _count == 0 ? 0 : _sum / _count;

    /// <summary>Clears the state.</summary>
    public virtual void Reset() { _sum = 0; _count = 0; }

    /// <summary>A fresh metric of the same kind (models keep their own copies).</summary>
    public abstract Metric CloneEmpty();
}

/// <summary>Fraction of samples whose arg-max prediction equals the label (Keras <c>"accuracy"</c> for sparse labels).</summary>
public sealed class Accuracy : Metric
{
    /// <inheritdoc/>
    public override string Name => "accuracy";
    /// <inheritdoc/>
    protected override double Score(ReadOnlySpan<float> row, int label) => ArgMax(row) == label ? 1 : 0;
    /// <inheritdoc/>
    public override Metric CloneEmpty() => new Accuracy();

    /// <summary>Index of the first maximum.</summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
        return best;
    }
}

/// <summary>
/// Fraction of samples whose label is among the k highest predictions, like Keras
/// <c>SparseTopKCategoricalAccuracy(k)</c> (ties at the boundary count as inside, as <c>in_top_k</c>).
/// </summary>
public sealed class SparseTopKCategoricalAccuracy : Metric
{
    /// <summary>Creates the metric.</summary>
    public SparseTopKCategoricalAccuracy(int k = 5, string? name = null)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), $"k must be positive, got {k}.");
        K = k;
        Name = name ?? "sparse_top_k_categorical_accuracy";
    }

    /// <summary>How many top predictions count.</summary>
    public int K { get; }
    /// <inheritdoc/>
    public override string Name { get; }
    /// <inheritdoc/>
    protected override double Score(ReadOnlySpan<float> row, int label)
    {
        float v = row[label];
        int greater = 0;
        foreach (float p in row) if (p > v) greater++;
        return greater < K ? 1 : 0;
    }
    /// <inheritdoc/>
    public override Metric CloneEmpty() => new SparseTopKCategoricalAccuracy(K, Name);
}
