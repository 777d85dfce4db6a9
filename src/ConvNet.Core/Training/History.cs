namespace ConvNet;

/// <summary>Per-epoch logs of <see cref="Model.Fit(Dataset, int, int, Dataset?, IEnumerable{Callback}?, bool, int, IProgress{TrainingProgress}?, CancellationToken, int?)"/>: <c>loss</c>, metrics, and their <c>val_</c> variants.</summary>
public sealed class History
{
    private readonly Dictionary<string, List<double>> _values = [];
    private readonly List<string> _keys = [];

    /// <summary>Metric names in the order Keras reports them.</summary>
    public IReadOnlyList<string> Keys => _keys;

    /// <summary>Values of one key, one per completed epoch.</summary>
    public IReadOnlyList<double> this[string key] => _values.TryGetValue(key, out var v) ? v
        : throw new KeyNotFoundException($"History has no '{key}'; it has: {string.Join(", ", _keys)}.");

    /// <summary>Number of completed epochs.</summary>
    public int Epochs => _keys.Count == 0 ? 0 : _values[_keys[0]].Count;

    /// <summary>True if the key was logged.</summary>
    public bool Contains(string key) => _values.ContainsKey(key);

    internal void Add(IReadOnlyDictionary<string, double> logs, IEnumerable<string> order)
    {
        foreach (var k in order)
        {
            if (!_values.TryGetValue(k, out var list)) { _values[k] = list = []; _keys.Add(k); }
            list.Add(logs[k]);
        }
    }

    /// <summary>CSV with a header <c>epoch,loss,…</c> and one row per epoch (1-based epochs).</summary>
    public string ToCsv()
    {
        var sb = new System.Text.StringBuilder("epoch");
        foreach (var k in _keys) sb.Append(',').Append(k);
        sb.Append('\n');
        for (int e = 0; e < Epochs; e++)
        {
            sb.Append(e + 1);
            foreach (var k in _keys) sb.Append(',').Append(_values[k][e].ToString("R", System.Globalization.CultureInfo.InvariantCulture));
            sb.Append('\n');
        }
        return sb.ToString();
    }
}

/// <summary>What <see cref="TrainingProgress"/> reports.</summary>
public enum ProgressKind
{
    /// <summary>A training batch finished (running averages in <see cref="TrainingProgress.Logs"/>).</summary>
    BatchEnd,
    /// <summary>An epoch finished, including validation.</summary>
    EpochEnd,
    /// <summary>A message from a callback (e.g. early stopping).</summary>
    Message,
}

/// <summary>Progress of <c>Fit</c>: 1-based epoch and batch, running logs, elapsed time, or a message.</summary>
public sealed record TrainingProgress(ProgressKind Kind, int Epoch, int Epochs, int Batch, int Batches,
    IReadOnlyDictionary<string, double> Logs, TimeSpan Elapsed, string? Message = null)
{
    /// <summary>A Keras-style line: <c>Epoch 3/10 - batch 9/9 - 4.2s - loss: 0.4321 - accuracy: 0.8750 - val_loss: …</c>, or the message.</summary>
    public override string ToString()
    {
        if (Kind == ProgressKind.Message) return $"Epoch {Epoch}/{Epochs}: {Message}";
        var sb = new System.Text.StringBuilder();
        sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"Epoch {Epoch}/{Epochs} - batch {Batch}/{Batches} - {Elapsed.TotalSeconds:F1}s");
        foreach (var (k, v) in Logs) sb.Append(System.Globalization.CultureInfo.InvariantCulture, $" - {k}: {v:F4}");
        return sb.ToString();
    }
}
