using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ConvNet.Demo;

/// <summary>
/// Shows <c>Fit</c>'s progress: a live Spectre.Console panel on a terminal (epoch, batch bar, running loss and
/// metrics, the last epochs' validation metrics, elapsed time), or one plain line per epoch when the output is
/// redirected (CI logs). Callback messages (early stopping) are printed in both modes.
/// </summary>
internal abstract class ProgressView : IProgress<TrainingProgress>
{
    /// <summary>Messages reported by callbacks, in order.</summary>
    public List<string> Messages { get; } = [];

    /// <inheritdoc/>
    public abstract void Report(TrainingProgress value);

    /// <summary>Runs <paramref name="fit"/> while showing progress.</summary>
    public abstract T Run<T>(Func<IProgress<TrainingProgress>, T> fit);

    /// <summary>The view for this context.</summary>
    public static ProgressView Create(CliContext ctx) => ctx.Interactive ? new LiveView(ctx) : new PlainView(ctx);

    /// <summary><c>loss: 0.1234 - accuracy: 0.9500 - …</c></summary>
    public static string FormatLogs(IReadOnlyDictionary<string, double> logs) =>
        string.Join(" - ", logs.Select(kv => $"{ModelZoo.Short(kv.Key)}: {kv.Value.ToString("0.0000", CultureInfo.InvariantCulture)}"));

    /// <summary>1.2s, 1m05s.</summary>
    public static string FormatTime(TimeSpan t) => t.TotalSeconds < 60
        ? t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s"
        : $"{(int)t.TotalMinutes}m{t.Seconds:00}s";

    private sealed class PlainView(CliContext ctx) : ProgressView
    {
        private TimeSpan _last;

        public override void Report(TrainingProgress p)
        {
            switch (p.Kind)
            {
                case ProgressKind.EpochEnd:
                    var took = p.Elapsed - _last;
                    _last = p.Elapsed;
                    ctx.WriteLine($"Epoch {p.Epoch}/{p.Epochs} - {p.Batches} batches - {FormatTime(took)} - {FormatLogs(p.Logs)}");
                    break;
                case ProgressKind.Message when p.Message is not null:
                    Messages.Add(p.Message);
                    ctx.WriteLine(p.Message);
                    break;
            }
        }

        public override T Run<T>(Func<IProgress<TrainingProgress>, T> fit) => fit(this);
    }

    private sealed class LiveView(CliContext ctx) : ProgressView
    {
        private const int ShownEpochs = 8;
        private readonly List<(int Epoch, TimeSpan Took, IReadOnlyDictionary<string, double> Logs)> _epochs = [];
        private readonly Stopwatch _refresh = Stopwatch.StartNew();
        private TrainingProgress? _current;
        private TimeSpan _lastEpochEnd;
        private LiveDisplayContext? _live;
        private string? _bestKey;
        private double _best = double.NegativeInfinity;
        private int _bestEpoch;

        public override void Report(TrainingProgress p)
        {
            switch (p.Kind)
            {
                case ProgressKind.BatchEnd:
                    _current = p;
                    if (_refresh.ElapsedMilliseconds < 100) return;
                    break;
                case ProgressKind.EpochEnd:
                    _current = p;
                    _epochs.Add((p.Epoch, p.Elapsed - _lastEpochEnd, p.Logs));
                    _lastEpochEnd = p.Elapsed;
                    _bestKey ??= p.Logs.ContainsKey("val_accuracy") ? "val_accuracy" : p.Logs.ContainsKey("accuracy") ? "accuracy" : null;
                    if (_bestKey is not null && p.Logs[_bestKey] > _best) { _best = p.Logs[_bestKey]; _bestEpoch = p.Epoch; }
                    break;
                case ProgressKind.Message when p.Message is not null:
                    Messages.Add(p.Message);
                    break;
                default:
                    return;
            }
            _refresh.Restart();
            _live?.UpdateTarget(Render());
        }

        public override T Run<T>(Func<IProgress<TrainingProgress>, T> fit)
        {
            T result = default!;
            ctx.Console.Live(Render()).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).Start(live =>
            {
                _live = live;
                result = fit(this);
                live.UpdateTarget(Render());
            });
            _live = null;
            return result;
        }

        private IRenderable Render()
        {
            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumn(new TableColumn("[bold]Epoch[/]").RightAligned());
            table.AddColumn(new TableColumn("Time").RightAligned());
            var keys = _epochs.Count > 0 ? _epochs[^1].Logs.Keys.ToArray() : (_current?.Logs.Keys.ToArray() ?? ["loss", "accuracy"]);
            foreach (var k in keys) table.AddColumn(new TableColumn(Markup.Escape(ModelZoo.Short(k).Replace("accuracy", "acc", StringComparison.Ordinal))).RightAligned());
            foreach (var (epoch, took, logs) in _epochs.Skip(Math.Max(0, _epochs.Count - ShownEpochs)))
            {
                var cells = new List<string> { epoch == _bestEpoch ? $"[green]{epoch}*[/]" : epoch.ToString(CultureInfo.InvariantCulture), FormatTime(took) };
                cells.AddRange(keys.Select(k => logs.TryGetValue(k, out double v) ? v.ToString("0.0000", CultureInfo.InvariantCulture) : ""));
                table.AddRow(cells.ToArray());
            }
            var rows = new List<IRenderable> { table };
            if (_current is { } c)
            {
                double fraction = c.Batches == 0 ? 0 : (double)c.Batch / c.Batches;
                int width = 30, filled = (int)Math.Round(fraction * width);
                string bar = new string('━', filled) + new string('─', width - filled);
                string running = c.Kind == ProgressKind.BatchEnd ? " - " + Markup.Escape(FormatLogs(c.Logs)) : "";
                rows.Add(new Markup($"Epoch [bold]{c.Epoch}[/]/{c.Epochs}  batch {c.Batch}/{c.Batches} [blue]{bar}[/]{running}"));
                string best = _bestKey is null ? "" : $"  best {Markup.Escape(_bestKey)} {_best.ToString("0.0000", CultureInfo.InvariantCulture)} (epoch {_bestEpoch})";
                rows.Add(new Markup($"[grey]elapsed {FormatTime(c.Elapsed)}{best}[/]"));
            }
            else
            {
                rows.Add(new Markup("[grey]starting…[/]"));
            }
            foreach (var m in Messages) rows.Add(new Markup($"[yellow]{Markup.Escape(m)}[/]"));
            return new Rows(rows);
        }
    }
}
