using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ConvNet;

/// <summary>
/// Keras <c>ModelCheckpoint</c>: saves the model with its atomic writer (<c>Sequential.Save</c>) at the end of every epoch,
/// or with <c>saveBestOnly</c> only when the monitored value improves strictly on the best so far (NaN never improves;
/// a missing key is reported and nothing is saved). The path may contain Keras-style fields filled from the epoch
/// (1-based) and the logs: <c>{epoch}</c>, <c>{epoch:02d}</c>, <c>{val_loss:.4f}</c>. As in Keras, the best value
/// survives from one <c>Fit</c> to the next (a fine-tuning phase only saves when it beats the first phase).
/// </summary>
public sealed partial class ModelCheckpoint : Callback, IMonitoringCallback
{
    private readonly string _filePath;
    private bool _warned;

    /// <summary>Creates the callback.</summary>
    /// <param name="filePath">Where to save; may contain <c>{epoch}</c> and <c>{log_key}</c> fields with <c>:0Nd</c> / <c>:.Nf</c> formats.</param>
    /// <param name="monitor">The log key compared with <c>saveBestOnly</c>.</param>
    /// <param name="saveBestOnly">Save only when <paramref name="monitor"/> improves.</param>
    /// <param name="mode">Direction of improvement (Auto: from the name, as <see cref="EarlyStopping"/>).</param>
    /// <param name="initialValueThreshold">The value to beat before the first save (Keras' <c>initial_value_threshold</c>).</param>
    /// <param name="verbose">Report each save (and each epoch without improvement) through the progress channel.</param>
    public ModelCheckpoint(string filePath, string monitor = "val_loss", bool saveBestOnly = false, MonitorMode mode = MonitorMode.Auto,
        double? initialValueThreshold = null, bool verbose = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(filePath);
        ArgumentException.ThrowIfNullOrEmpty(monitor);
        foreach (Match m in Field().Matches(filePath))
            if (m.Groups[2].Success && !FormatSpec().IsMatch(m.Groups[2].Value))
                throw new ArgumentException($"ModelCheckpoint: unsupported format '{m.Groups[2].Value}' in '{m.Value}'; use e.g. {{epoch:02d}} or {{val_loss:.4f}}.", nameof(filePath));
        _filePath = filePath;
        Monitor = monitor; SaveBestOnly = saveBestOnly; Verbose = verbose;
        Mode = Monitors.Resolve(monitor, mode);
        Best = initialValueThreshold ?? (Mode == MonitorMode.Max ? double.NegativeInfinity : double.PositiveInfinity);
    }

    /// <summary>The path pattern.</summary>
    public string FilePath => _filePath;
    /// <summary>The log key watched.</summary>
    public string Monitor { get; }
    /// <summary>Save only on improvement.</summary>
    public bool SaveBestOnly { get; }
    /// <summary>The resolved direction (Min or Max).</summary>
    public MonitorMode Mode { get; }
    /// <summary>Report saves through the progress channel.</summary>
    public bool Verbose { get; }
    /// <summary>The best monitored value so far (with <c>saveBestOnly</c>).</summary>
    public double Best { get; private set; }
    /// <summary>The last path written, or null.</summary>
    public string? LastSavedPath { get; private set; }

    /// <inheritdoc/>
    public override void OnTrainBegin(ITrainingContext context) => _warned = false;

    /// <inheritdoc/>
    public override void OnEpochEnd(ITrainingContext context, int epoch, IReadOnlyDictionary<string, double> logs)
    {
        var path = FormatPath(epoch, logs);
        if (SaveBestOnly)
        {
            if (!logs.TryGetValue(Monitor, out double current))
            {
                if (!_warned) context.Report($"Can save best model only with {Monitor} available, skipping. Available metrics are: {string.Join(",", logs.Keys)}");
                _warned = true;
                return;
            }
            bool better = Mode == MonitorMode.Max ? current > Best : current < Best;
            if (!better)
            {
                if (Verbose) context.Report($"Epoch {epoch + 1}: {Monitor} did not improve from {Best:F5}");
                return;
            }
            if (Verbose) context.Report($"Epoch {epoch + 1}: {Monitor} improved from {Best:F5} to {current:F5}, saving model to {path}");
            Best = current;
        }
        else if (Verbose) context.Report($"Epoch {epoch + 1}: saving model to {path}");
        context.Save(path);
        LastSavedPath = path;
    }

    /// <summary>Fills the path's fields for a 0-based <paramref name="epoch"/>.</summary>
    internal string FormatPath(int epoch, IReadOnlyDictionary<string, double> logs) => Field().Replace(_filePath, m =>
    {
        var key = m.Groups[1].Value;
        var spec = m.Groups[2].Success ? m.Groups[2].Value : "";
        double value = key == "epoch" ? epoch + 1
            : logs.TryGetValue(key, out var v) ? v
            : throw new InvalidOperationException($"ModelCheckpoint: the path '{_filePath}' uses '{{{key}}}' but the logs only have epoch, {string.Join(", ", logs.Keys)}.");
        if (spec.Length == 0) return key == "epoch" ? (epoch + 1).ToString(CultureInfo.InvariantCulture) : value.ToString("R", CultureInfo.InvariantCulture);
        var f = FormatSpec().Match(spec);
        if (f.Groups["kind"].Success)
            return value.ToString((f.Groups["kind"].Value == "e" ? "e" : "F") + f.Groups["prec"].Value, CultureInfo.InvariantCulture);
        int width = f.Groups["width"].Value.Length > 0 ? int.Parse(f.Groups["width"].Value, CultureInfo.InvariantCulture) : 0;
        var text = ((long)value).ToString(CultureInfo.InvariantCulture);
        return f.Groups["zero"].Value == "0" ? ((long)value).ToString("D" + width, CultureInfo.InvariantCulture) : text.PadLeft(width);
    });

    [GeneratedRegex(@"\{(\w+)(?::([^}]*))?\}")]
    private static partial Regex Field();

    // Python format specs ConvNet understands: 0Nd / Nd / d (integers), .Nf, .Ne
    [GeneratedRegex(@"^(?:(?<zero>0?)(?<width>\d*)d|\.(?<prec>\d+)(?<kind>[fe]))$")]
    private static partial Regex FormatSpec();
}

/// <summary>
/// Keras <c>ReduceLROnPlateau</c> with its defaults: when the monitored value has not improved by more than
/// <c>minDelta</c> for <c>patience</c> epochs, the optimiser's learning rate is multiplied by <c>factor</c> (not below
/// <c>minLr</c>), then <c>cooldown</c> epochs pass before counting again. Improvement: current &lt; best − minDelta (Min)
/// or current &gt; best + minDelta (Max). The optimiser must have a numeric learning rate, not a schedule (as in Keras).
/// </summary>
public sealed class ReduceLROnPlateau : Callback, IMonitoringCallback
{
    private bool _warned;

    /// <summary>Creates the callback (Keras defaults).</summary>
    public ReduceLROnPlateau(string monitor = "val_loss", double factor = 0.1, int patience = 10, MonitorMode mode = MonitorMode.Auto,
        double minDelta = 1e-4, int cooldown = 0, double minLr = 0, bool verbose = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(monitor);
        if (!(factor > 0 && factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), $"ReduceLROnPlateau needs a factor in (0, 1), got {factor}.");
        if (patience < 0) throw new ArgumentOutOfRangeException(nameof(patience), $"patience must be ≥ 0, got {patience}.");
        if (cooldown < 0) throw new ArgumentOutOfRangeException(nameof(cooldown), $"cooldown must be ≥ 0, got {cooldown}.");
        if (!(minLr >= 0) || !double.IsFinite(minLr)) throw new ArgumentOutOfRangeException(nameof(minLr), $"minLr must be finite and ≥ 0, got {minLr}.");
        Monitor = monitor; Factor = factor; Patience = patience; MinDelta = Math.Abs(minDelta); Cooldown = cooldown; MinLr = minLr; Verbose = verbose;
        Mode = Monitors.Resolve(monitor, mode);
    }

    /// <summary>The log key watched.</summary>
    public string Monitor { get; }
    /// <summary>The factor applied to the learning rate.</summary>
    public double Factor { get; }
    /// <summary>Epochs without improvement before reducing.</summary>
    public int Patience { get; }
    /// <summary>The resolved direction (Min or Max).</summary>
    public MonitorMode Mode { get; }
    /// <summary>Minimum change that counts as an improvement.</summary>
    public double MinDelta { get; }
    /// <summary>Epochs to wait after a reduction before counting again.</summary>
    public int Cooldown { get; }
    /// <summary>Lower bound of the learning rate.</summary>
    public double MinLr { get; }
    /// <summary>Report each reduction through the progress channel.</summary>
    public bool Verbose { get; }
    /// <summary>Epochs since the last improvement (outside cooldown).</summary>
    public int Wait { get; private set; }
    /// <summary>Cooldown epochs left.</summary>
    public int CooldownCounter { get; private set; }
    /// <summary>Best monitored value in this <c>Fit</c>.</summary>
    public double Best { get; private set; }

    /// <inheritdoc/>
    public override void OnTrainBegin(ITrainingContext context)
    {
        var opt = context.Optimizer ?? throw new InvalidOperationException("ReduceLROnPlateau needs a compiled optimizer.");
        if (opt.Schedule is not null)
            throw new InvalidOperationException($"ReduceLROnPlateau cannot change the learning rate of an optimizer created with a schedule ({opt.Schedule.GetType().Name}); give it a number.");
        Wait = 0; CooldownCounter = 0; _warned = false;
        Best = Mode == MonitorMode.Max ? double.NegativeInfinity : double.PositiveInfinity;
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(ITrainingContext context, int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if (!logs.TryGetValue(Monitor, out double current))
        {
            if (!_warned) context.Report(Monitors.NotAvailable("Learning rate reduction", Monitor, logs));
            _warned = true;
            return;
        }
        if (CooldownCounter > 0) { CooldownCounter--; Wait = 0; }
        bool better = Mode == MonitorMode.Max ? current > Best + MinDelta : current < Best - MinDelta;
        if (better) { Best = current; Wait = 0; return; }
        if (CooldownCounter > 0) return;
        if (++Wait < Patience) return;
        var opt = context.Optimizer!;
        float old = opt.LearningRate;
        if (old > (float)MinLr)
        {
            float next = (float)Math.Max(old * Factor, MinLr);
            if (next > 0)
            {
                opt.LearningRate = next;
                if (Verbose) context.Report($"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {next.ToString("R", CultureInfo.InvariantCulture)}.");
            }
            CooldownCounter = Cooldown;
            Wait = 0;
        }
    }
}

/// <summary>
/// Keras <c>CSVLogger</c>: one row per epoch with the epoch (0-based, as Keras writes it) and the logs in sorted key order;
/// if the first epoch's logs have no <c>val_</c> keys, <c>val_</c> columns are added and filled with <c>NA</c>, as Keras
/// does. Values are written round-trip (<c>nan</c>/<c>inf</c> as Python writes them); lines end with <c>\n</c>.
/// The file is truncated at the start of <c>Fit</c> unless <c>append</c>; each row is appended and the file closed
/// again, so it is complete after every epoch even if training later fails.
/// </summary>
public sealed class CSVLogger : Callback
{
    private List<string>? _keys;
    private bool _writeHeader;

    /// <summary>Creates the callback.</summary>
    public CSVLogger(string fileName, char separator = ',', bool append = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        FileName = fileName; Separator = separator; Append = append;
    }

    /// <summary>The CSV file.</summary>
    public string FileName { get; }
    /// <summary>The column separator.</summary>
    public char Separator { get; }
    /// <summary>Append to an existing file instead of overwriting it.</summary>
    public bool Append { get; }

    /// <inheritdoc/>
    public override void OnTrainBegin(ITrainingContext context)
    {
        _keys = null;
        if (Append && File.Exists(FileName))
        {
            using var reader = new StreamReader(FileName);
            _writeHeader = string.IsNullOrEmpty(reader.ReadLine());
        }
        else
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(FileName));
            if (dir is not null) Directory.CreateDirectory(dir);
            File.WriteAllText(FileName, "");
            _writeHeader = true;
        }
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(ITrainingContext context, int epoch, IReadOnlyDictionary<string, double> logs)
    {
        var sb = new StringBuilder();
        if (_keys is null)
        {
            _keys = logs.Keys.Order(StringComparer.Ordinal).ToList();
            if (!_keys.Any(k => k.StartsWith("val_", StringComparison.Ordinal))) _keys.AddRange(_keys.Select(k => "val_" + k).ToList());
        }
        if (_writeHeader)
        {
            sb.Append("epoch");
            foreach (var k in _keys) sb.Append(Separator).Append(k);
            sb.Append('\n');
            _writeHeader = false;
        }
        sb.Append(epoch.ToString(CultureInfo.InvariantCulture));
        foreach (var k in _keys) sb.Append(Separator).Append(logs.TryGetValue(k, out var v) ? Format(v) : "NA");
        sb.Append('\n');
        File.AppendAllText(FileName, sb.ToString());
    }

    /// <summary>A double as Python's <c>repr</c> writes it for ordinary values: round-trip, <c>nan</c>, <c>inf</c>, <c>1.0</c> for integers.</summary>
    internal static string Format(double v)
    {
        if (double.IsNaN(v)) return "nan";
        if (double.IsInfinity(v)) return v > 0 ? "inf" : "-inf";
        var s = v.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');
        return s.Contains('.') || s.Contains('e') ? s : s + ".0";
    }
}

/// <summary>
/// Keras <c>TerminateOnNaN</c>, adapted to ConvNet's guarantee that a batch whose loss is NaN or infinite is never applied.
/// Without this callback <c>Fit</c> throws a <see cref="TrainingException"/> for such a batch. With it, <c>Fit</c> instead
/// ends normally after that batch: the batch is not applied, the epoch's logs cover the batches before it (the loss is
/// NaN if there were none), validation and the other callbacks run as usual (e.g. <see cref="EarlyStopping"/> can still
/// restore its best weights), and the returned History ends with that epoch. It also stops training after an epoch whose
/// <c>loss</c> or <c>val_loss</c> is NaN or infinite.
/// </summary>
public sealed class TerminateOnNaN : Callback
{
    /// <summary>0-based epoch in which training was terminated, or −1.</summary>
    public int TerminatedEpoch { get; private set; } = -1;
    /// <summary>0-based batch whose loss was not finite, or −1 (also −1 when an epoch log triggered it).</summary>
    public int TerminatedBatch { get; private set; } = -1;

    /// <inheritdoc/>
    public override void OnTrainBegin(ITrainingContext context) { TerminatedEpoch = -1; TerminatedBatch = -1; }

    /// <summary>Called by the training loop when a batch's loss is not finite (the batch was not applied).</summary>
    internal void OnInvalidLoss(ITrainingContext context, int epoch, int batch, string detail)
    {
        TerminatedEpoch = epoch; TerminatedBatch = batch;
        context.StopTraining = true;
        context.Report($"Epoch {epoch + 1}, batch {batch + 1}: invalid loss, terminating training. {detail}");
    }

    /// <inheritdoc/>
    public override void OnEpochEnd(ITrainingContext context, int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if (TerminatedEpoch >= 0) return;
        foreach (var key in (ReadOnlySpan<string>)["loss", "val_loss"])
            if (logs.TryGetValue(key, out var v) && !double.IsFinite(v))
            {
                TerminatedEpoch = epoch;
                context.StopTraining = true;
                context.Report($"Epoch {epoch + 1}: invalid {key} ({v.ToString(CultureInfo.InvariantCulture)}), terminating training.");
                return;
            }
    }
}
