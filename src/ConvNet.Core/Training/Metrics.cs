namespace ConvNet;

/// <summary>A metric accumulated over batches of predictions (N, classes) and integer labels.</summary>
public abstract class Metric
{
    private double _sum;
    private long _count;

    /// <summary>Name used in logs and <see cref="History"/> (Keras names).</summary>
    public abstract string Name { get; }

    /// <summary>Adds a batch.</summary>
    public void Update(int rows, int classes, ReadOnlySpan<float> predictions, ReadOnlySpan<int> labels)
    {
        for (int r = 0; r < rows; r++)
            _sum += Score(predictions.Slice(r * classes, classes), labels[r]);
        _count += rows;
    }

    /// <summary>Per-sample score in [0, 1].</summary>
    protected abstract double Score(ReadOnlySpan<float> row, int label);

    /// <summary>The mean score since the last <see cref="Reset"/> (0 if empty).</summary>
    public double Result => _count == 0 ? 0 : _sum / _count;

    /// <summary>Clears the state.</summary>
    public void Reset() { _sum = 0; _count = 0; }

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
