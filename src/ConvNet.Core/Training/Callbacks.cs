namespace ConvNet;

/// <summary>Hooks into <c>Fit</c>, like Keras callbacks. Epochs are 0-based here, as in Keras.</summary>
public abstract class Callback
{
    /// <summary>Called before the first epoch.</summary>
    public virtual void OnTrainBegin(ITrainingContext context) { }
    /// <summary>Called after each epoch (after validation) with that epoch's logs.</summary>
    public virtual void OnEpochEnd(ITrainingContext context, int epoch, IReadOnlyDictionary<string, double> logs) { }
    /// <summary>Called after the last epoch.</summary>
    public virtual void OnTrainEnd(ITrainingContext context) { }
}

/// <summary>What a callback may see and do during training.</summary>
public interface ITrainingContext
{
    /// <summary>Set to true to stop after the current epoch.</summary>
    bool StopTraining { get; set; }
    /// <summary>Names of the metrics the model logs (without <c>val_</c>).</summary>
    IReadOnlyList<string> MetricNames { get; }
    /// <summary>A copy of every parameter value, in model order.</summary>
    float[][] GetWeights();
    /// <summary>Restores values from <see cref="GetWeights"/>.</summary>
    void SetWeights(float[][] weights);
    /// <summary>Sends a message through the progress channel (the library never writes to the console).</summary>
    void Report(string message);
    /// <summary>The compiled optimiser (null if none); <see cref="ReduceLROnPlateau"/> changes its learning rate.</summary>
    Optimizer? Optimizer => null;
    /// <summary>Saves the model atomically (architecture and weights), as <see cref="ModelCheckpoint"/> needs.</summary>
    /// <exception cref="NotSupportedException">The context cannot save (the default).</exception>
    void Save(string path) => throw new NotSupportedException($"This training context ({GetType().Name}) cannot save the model.");
}

/// <summary>Direction of improvement for <see cref="EarlyStopping"/>, <see cref="ModelCheckpoint"/> and <see cref="ReduceLROnPlateau"/>.</summary>
public enum MonitorMode
{
    /// <summary>From the name: accuracy-like metrics, AUC, precision and recall are maximised; losses and errors minimised.</summary>
    Auto,
    /// <summary>Lower is better.</summary>
    Min,
    /// <summary>Higher is better.</summary>
    Max,
}

/// <summary>Shared rules of the callbacks that watch a log value.</summary>
internal static class Monitors
{
    /// <summary>
    /// Auto mode from the name (without <c>val_</c>): accuracy-like names (containing "acc"), AUC, precision and recall are
    /// maximised, everything else (losses, errors) minimised — Keras' metric directions for the metrics ConvNet has.
    /// </summary>
    public static MonitorMode Resolve(string monitor, MonitorMode mode)
    {
        if (mode != MonitorMode.Auto) return mode;
        var name = monitor.StartsWith("val_", StringComparison.Ordinal) ? monitor[4..] : monitor;
        return name.Contains("acc", StringComparison.OrdinalIgnoreCase) || name.EndsWith("auc", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("precision", StringComparison.OrdinalIgnoreCase) || name.StartsWith("recall", StringComparison.OrdinalIgnoreCase)
            ? MonitorMode.Max : MonitorMode.Min;
    }

    /// <summary>The warning Keras gives when the monitored key is absent.</summary>
    public static string NotAvailable(string who, string monitor, IReadOnlyDictionary<string, double> logs) =>
        $"{who} conditioned on metric '{monitor}' which is not available. Available metrics are: {string.Join(",", logs.Keys)}";
}

/// <summary>
/// Stops training when a monitored value stops improving — Keras 3 semantics exactly:
/// improvement is strict (<c>current − minDelta &gt; best</c> for Max, <c>current + minDelta &lt; best</c> for Min);
/// <c>wait</c> counts epochs since the last improvement and resets on one; training stops when
/// <c>wait ≥ patience</c> (never after the first epoch); with <c>restoreBestWeights</c> the best epoch's
/// weights are restored at the end of training even if it did not stop early.
/// </summary>
public sealed class EarlyStopping : Callback, IMonitoringCallback
{
    private double _best;
    private float[][]? _bestWeights;
    private bool _warned;

    /// <summary>Creates the callback.</summary>
    public EarlyStopping(string monitor = "val_loss", int patience = 0, double minDelta = 0, MonitorMode mode = MonitorMode.Auto, bool restoreBestWeights = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(monitor);
        if (patience < 0) throw new ArgumentOutOfRangeException(nameof(patience), $"patience must be ≥ 0, got {patience}.");
        Monitor = monitor; Patience = patience; MinDelta = Math.Abs(minDelta); RestoreBestWeights = restoreBestWeights;
        Mode = Monitors.Resolve(monitor, mode);
    }

    /// <summary>The log key watched, e.g. <c>val_accuracy</c>.</summary>
    public string Monitor { get; }
    /// <summary>Epochs without improvement before stopping.</summary>
    public int Patience { get; }
    /// <summary>Minimum change that counts as an improvement.</summary>
    public double MinDelta { get; }
    /// <summary>The resolved direction (Min or Max).</summary>
    public MonitorMode Mode { get; }
    /// <summary>Restore the best epoch's weights at the end of training.</summary>
    public bool RestoreBestWeights { get; }
    /// <summary>Epochs since the last improvement.</summary>
    public int Wait { get; private set; }
    /// <summary>0-based epoch at which training was stopped (0 = did not stop).</summary>
    public int StoppedEpoch { get; private set; }
    /// <summary>0-based best epoch.</summary>
    public int BestEpoch { get; private set; }
    /// <summary>Best monitored value so far.</summary>
    public double Best => _best;

    /// <inheritdoc/>
    public override void OnTrainBegin(ITrainingContext context)
    {
        Wait = 0; StoppedEpoch = 0; BestEpoch = 0; _bestWeights = null; _warned = false;
        _best = Mode == MonitorMode.Max ? double.NegativeInfinity : double.PositiveInfinity;
    }

    private bool IsImprovement(double current, double reference) =>
        Mode == MonitorMode.Max ? current - MinDelta > reference : current + MinDelta < reference;

    /// <inheritdoc/>
    public override void OnEpochEnd(ITrainingContext context, int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if (!logs.TryGetValue(Monitor, out double current))
        {
            if (!_warned)
                context.Report(Monitors.NotAvailable("Early stopping", Monitor, logs));
            _warned = true;
            return;
        }
        if (RestoreBestWeights && _bestWeights is null) _bestWeights = context.GetWeights();
        Wait++;
        if (IsImprovement(current, _best))
        {
            _best = current;
            BestEpoch = epoch;
            if (RestoreBestWeights) _bestWeights = context.GetWeights();
            Wait = 0;
            return;
        }
        if (Wait >= Patience && epoch > 0)
        {
            StoppedEpoch = epoch;
            context.StopTraining = true;
        }
    }

    /// <inheritdoc/>
    public override void OnTrainEnd(ITrainingContext context)
    {
        if (StoppedEpoch > 0) context.Report($"Epoch {StoppedEpoch + 1}: early stopping");
        if (RestoreBestWeights && _bestWeights is not null)
        {
            context.Report($"Restoring model weights from the end of the best epoch: {BestEpoch + 1}.");
            context.SetWeights(_bestWeights);
        }
    }
}

/// <summary>A callback that watches one log entry; <c>Fit</c> checks the name before the first epoch.</summary>
internal interface IMonitoringCallback
{
    /// <summary>The watched log name, e.g. <c>val_accuracy</c>.</summary>
    string Monitor { get; }
}
