using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConvNet.Tuning;
using ScottPlot;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ConvNet.Demo.Commands;

/// <summary>
/// <c>convnet tune</c>: Keras Tuner over the lecture model's space (filters of each conv block, dense units, dropout, learning rate,
/// augmentation on/off). Trials are recorded under <c>OUT/search/</c> (re-running the same command resumes), and the command writes
/// <c>trials.csv</c>, <c>results.json</c>, <c>scores.png</c> and <c>summary.txt</c>. The lecture's defaults are then trained with the
/// same budget and seed for comparison, and both are evaluated once on the test part, which plays no part in the choice.
/// </summary>
internal static class TuneCommand
{
    public static Command Create(CliHost host)
    {
        var data = new Option<string?>("--data")
        {
            Description = "A class-folder tree or zip (e.g. mandarin.zip), or an already split folder. Default: the bundled stand-in Mandarin set.",
            HelpName = "DIR|ZIP",
        };
        var tuner = new Option<string>("--tuner") { Description = "random (RandomSearch) or hyperband (Hyperband, factor 3, max epochs = --epochs).", DefaultValueFactory = _ => "random" };
        tuner.AcceptOnlyFromAmong("random", "hyperband");
        var maxTrials = OptionFactory.Int("--max-trials", "At most this many trials (Hyperband: a cap on its schedule).", 12, 1);
        var epochs = OptionFactory.Int("--epochs", "Epochs per trial (Hyperband: the most epochs of one model). The score is the best epoch's val_accuracy.", 10, 1);
        var seed = OptionFactory.Seed("--seed", "Seed of the sampling and of every trial's weights and shuffle.");
        var threads = OptionFactory.OptionalInt("--threads", "Worker threads for the kernels (default: all cores).", 1);
        var output = new Option<string?>("--out") { Description = "Output folder (default: runs/tune-<yyyyMMdd-HHmmss>/). An existing search there is resumed.", HelpName = "DIR" };
        var cmd = new Command("tune", "Search the lecture model's hyper-parameters (Keras Tuner's RandomSearch or Hyperband) and compare the best with the defaults.")
            { data, tuner, maxTrials, epochs, seed, threads, output };
        cmd.SetAction(pr => host.Execute(pr, ctx => Run(ctx, pr.GetValue(data), pr.GetValue(tuner)!, pr.GetValue(maxTrials), pr.GetValue(epochs),
            pr.GetValue(seed), pr.GetValue(threads), pr.GetValue(output))));
        return cmd;
    }

    /// <summary>
    /// The lecture's model as a function of the space; the defaults are the lecture's settings (16/32/64 filters, 128 units,
    /// no dropout, Adam at 1e-3, no augmentation).
    /// </summary>
    public static Sequential Build(HyperParameters hp, int height, int width, int channels, int classes, int? threads)
    {
        int f1 = hp.Choice("filters_1", [8, 16, 32], 16);
        int f2 = hp.Choice("filters_2", [16, 32, 64], 32);
        int f3 = hp.Choice("filters_3", [32, 64, 128], 64);
        int units = hp.Choice("units", [64, 128, 256], 128);
        double dropout = hp.Float("dropout", 0.0, 0.5, step: 0.1);
        double lr = hp.Float("learning_rate", 1e-4, 1e-2, sampling: Sampling.Log, defaultValue: 1e-3);
        bool augment = hp.Boolean("augment");
        var model = new Sequential(new Input(height, width, channels));
        if (augment) foreach (var l in AugmentCommand.Stack()) model.Add(l);
        foreach (var l in new Layer[]
        {
            new Rescaling(1f / 255),
            new Conv2D(f1, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
            new Conv2D(f2, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
            new Conv2D(f3, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
            new Flatten(), new Dense(units, Activation.Relu),
        }) model.Add(l);
        if (dropout > 1e-9) model.Add(new Dropout((float)dropout));
        model.Add(new Dense(classes));
        if (threads is int t) model.Threads = t;
        model.Compile(new Adam((float)lr), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy(), new SparseTopKCategoricalAccuracy(5));
        return model;
    }

    public static int Run(CliContext ctx, string? dataPath, string tunerName, int maxTrials, int epochs, int seed, int? threads, string? outDir)
    {
        var c = CultureInfo.InvariantCulture;
        var clock = Stopwatch.StartNew();
        string path = dataPath ?? MandarinCache.Ensure(ctx);
        var data = DataSources.LoadForTraining(ctx, path, DataSources.Detect(path), (80, 80, 1), 1337, Ratios.Lecture);
        var sample = data.Train.X.Shape.SampleDims();
        int classes = data.ClassNames.Count;
        outDir ??= Path.Combine("runs", "tune-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", c));
        Directory.CreateDirectory(outDir);
        Model BuildModel(HyperParameters hp) => Build(hp, sample[0], sample[1], sample[2], classes, threads);

        Tuner tuner = tunerName == "hyperband"
            ? new Hyperband(BuildModel, "val_accuracy", maxEpochs: epochs, factor: 3, maxTrials: maxTrials, seed: seed, directory: outDir, projectName: "search")
            : new RandomSearch(BuildModel, "val_accuracy", maxTrials: maxTrials, seed: seed, directory: outDir, projectName: "search");
        ctx.WriteLine($"Search space ({tuner.SearchSpace.Space.Count} hyper-parameters; the defaults are the lecture's):");
        foreach (var p in tuner.SearchSpace.Space) ctx.WriteLine($"  {p}");
        int resumed = tuner.Trials.Count(t => t.Status != TrialStatus.Running);
        string budget = tunerName == "hyperband"
            ? $"Hyperband, max {epochs} epochs, factor 3, at most {maxTrials} trials"
            : $"RandomSearch, {maxTrials} trials of {epochs} epochs";
        ctx.WriteLine($"{budget}, seed {seed}, batch 32, objective val_accuracy (best epoch); records in {Path.GetFullPath(tuner.ProjectDirectory)}" +
                      (resumed > 0 ? $" — resuming after {resumed} recorded trial(s)." : "."));

        // (1) The search.
        var view = new TuneView(ctx, tuner.Objective);
        view.Run(p => tuner.Search(data.Train, data.Val, epochs, batchSize: 32, progress: p, cancellationToken: ctx.Cancellation));
        var searchTime = clock.Elapsed;
        ctx.WriteLine();
        ctx.Out.Write(tuner.ResultsSummary(3));
        var bestTrial = tuner.GetBestTrials(1).FirstOrDefault() ?? throw new CliException("Every trial failed; see trials.csv for the messages.");

        // (2) The lecture's defaults with the same budget and seed (a trial's first execution: weight and shuffle seed = --seed).
        ctx.WriteLine();
        ctx.WriteLine($"Training the lecture's defaults for {epochs} epochs with seed {seed} (the same budget as one trial)…");
        var defaults = BuildModel(tuner.SearchSpace.Copy());
        defaults.Seed = seed;
        var stop = new EarlyStopping("val_accuracy", patience: epochs, restoreBestWeights: true);
        defaults.Fit(data.Train, epochs, 32, data.Val, [stop], seed: seed, cancellationToken: ctx.Cancellation);
        var best = tuner.GetBestModels(1)[0];

        // (3) Evaluation: val (the objective) and test (reported, never used to choose).
        var rows = new List<(string Name, double Val, double? Test)>
        {
            ("lecture defaults", defaults.Evaluate(data.Val)[1], data.Test is null ? null : defaults.Evaluate(data.Test)[1]),
            ($"best trial {bestTrial.TrialId}", best.Evaluate(data.Val)[1], data.Test is null ? null : best.Evaluate(data.Test)[1]),
        };
        ctx.WriteLine();
        ctx.WriteLine("| configuration | val accuracy | test accuracy |");
        ctx.WriteLine("|---|---:|---:|");
        foreach (var (name, val, test) in rows) ctx.WriteLine(string.Create(c, $"| {name} | {val:F3} | {(test is double t ? t.ToString("F3", c) : "—")} |"));
        ctx.WriteLine($"Best hyper-parameters: {bestTrial.HyperParameters}");

        // (4) Files.
        File.WriteAllText(Path.Combine(outDir, "trials.csv"), TrialsCsv(tuner));
        File.WriteAllText(Path.Combine(outDir, "summary.txt"), tuner.ResultsSummary(10));
        File.WriteAllText(Path.Combine(outDir, "results.json"), ResultsJson(tuner, bestTrial, rows, tunerName, maxTrials, epochs, seed, path, searchTime, clock.Elapsed));
        int status = ExitCodes.Success;
        try { ScorePlot(tuner, rows[0].Val, Path.Combine(outDir, "scores.png")); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            ctx.Err.WriteLine($"convnet: error: could not draw scores.png: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            status = ExitCodes.Failure;
        }
        ctx.WriteLine();
        ctx.WriteLine($"Wrote {Path.GetFullPath(outDir)}{Path.DirectorySeparatorChar}: trials.csv, results.json, scores.png, summary.txt, search/");
        ctx.WriteLine($"Search time: {ProgressView.FormatTime(searchTime)}; total time: {ProgressView.FormatTime(clock.Elapsed)}");
        return status;
    }

    private static string TrialsCsv(Tuner tuner)
    {
        var names = tuner.SearchSpace.Space.Select(p => p.Name).ToList();
        foreach (var t in tuner.Trials)
            foreach (var k in t.HyperParameters.Values.Keys)
                if (!names.Contains(k)) names.Add(k);
        var sb = new StringBuilder("trial_id,status,score,best_epoch,epochs,seconds," + string.Join(",", names) + ",message\n");
        foreach (var t in tuner.Trials)
        {
            var v = t.HyperParameters.Values;
            sb.Append(t.TrialId).Append(',').Append(t.Status.ToString().ToUpperInvariant()).Append(',')
              .Append(t.Score is double s ? s.ToString("R", CultureInfo.InvariantCulture) : "").Append(',')
              .Append(t.BestEpoch).Append(',').Append(t.Epochs).Append(',')
              .Append(t.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture));
            foreach (var n in names) sb.Append(',').Append(v.TryGetValue(n, out var x) ? Csv(x is double d ? d.ToString("R", CultureInfo.InvariantCulture) : HyperParametersText(x)) : "");
            sb.Append(',').Append(Csv(t.Message ?? "")).Append('\n');
        }
        return sb.ToString();
    }

    private static string HyperParametersText(object v) => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "";

    private static string Csv(string s) => s.IndexOfAny([',', '"', '\n']) < 0 ? s : "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string ResultsJson(Tuner tuner, Trial best, List<(string Name, double Val, double? Test)> rows, string tunerName, int maxTrials, int epochs,
        int seed, string data, TimeSpan searchTime, TimeSpan total)
    {
        var hp = new JsonObject();
        foreach (var (k, v) in best.HyperParameters.Values)
            hp[k] = v switch { int i => i, double d => d, bool b => b, _ => Convert.ToString(v, CultureInfo.InvariantCulture) };
        var o = new JsonObject
        {
            ["tuner"] = tunerName,
            ["objective"] = tuner.Objective.Name,
            ["direction"] = tuner.Objective.Direction.ToString().ToLowerInvariant(),
            ["max_trials"] = maxTrials,
            ["epochs"] = epochs,
            ["seed"] = seed,
            ["data"] = data,
            ["trials"] = tuner.Trials.Count,
            ["completed"] = tuner.Trials.Count(t => t.Status == TrialStatus.Completed),
            ["failed"] = tuner.Trials.Count(t => t.Status == TrialStatus.Failed),
            ["best_trial"] = best.TrialId,
            ["best_score"] = best.Score,
            ["best_epoch"] = best.BestEpoch,
            ["best_hyperparameters"] = hp,
            ["best_val_accuracy"] = rows[1].Val,
            ["best_test_accuracy"] = rows[1].Test,
            ["defaults_val_accuracy"] = rows[0].Val,
            ["defaults_test_accuracy"] = rows[0].Test,
            ["search_seconds"] = Math.Round(searchTime.TotalSeconds, 1),
            ["total_seconds"] = Math.Round(total.TotalSeconds, 1),
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>Score per trial (failed trials as red crosses at 0), the running best, and the defaults' val accuracy.</summary>
    private static void ScorePlot(Tuner tuner, double defaultsVal, string path)
    {
        var plot = new Plot();
        var trials = tuner.Trials;
        var done = trials.Select((t, i) => (t, i)).Where(x => x.t.Score is not null).ToArray();
        var scores = plot.Add.ScatterPoints(done.Select(x => (double)x.i).ToArray(), done.Select(x => x.t.Score!.Value).ToArray());
        scores.LegendText = "trial's best val_accuracy";
        scores.MarkerSize = 8;
        scores.Color = Colors.C0;
        var failed = trials.Select((t, i) => (t, i)).Where(x => x.t.Status == TrialStatus.Failed).ToArray();
        if (failed.Length > 0)
        {
            var f = plot.Add.ScatterPoints(failed.Select(x => (double)x.i).ToArray(), failed.Select(_ => 0.0).ToArray());
            f.LegendText = "failed";
            f.MarkerShape = MarkerShape.Cross;
            f.Color = Colors.Red;
        }
        if (done.Length > 0)
        {
            double running = double.NegativeInfinity;
            var xs = new List<double>(); var ys = new List<double>();
            foreach (var (t, i) in done) { running = Math.Max(running, t.Score!.Value); xs.Add(i); ys.Add(running); }
            var line = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray());
            line.LegendText = "best so far";
            line.Color = Colors.C1;
            line.LineWidth = 2;
            line.ConnectStyle = ConnectStyle.StepHorizontal;
        }
        var h = plot.Add.HorizontalLine(defaultsVal);
        h.LinePattern = LinePattern.Dashed;
        h.Color = Colors.Gray;
        h.LegendText = "lecture defaults, same budget";
        plot.Title("Score per trial");
        plot.XLabel("trial");
        plot.YLabel("val_accuracy");
        plot.Axes.SetLimitsY(-0.02, 1.02);
        plot.Axes.SetLimitsX(-0.5, Math.Max(1, trials.Count) - 0.5);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(Edge.Right);
        plot.SavePng(path, 900, 450);
    }

    /// <summary>Live progress: a table of finished trials and the current trial's epoch and batch on a terminal; plain lines otherwise.</summary>
    private sealed class TuneView(CliContext ctx, Objective objective) : IProgress<TuningProgress>
    {
        private readonly List<(Trial Trial, int Number)> _done = [];
        private readonly Stopwatch _refresh = Stopwatch.StartNew();
        private TuningProgress? _current;
        private LiveDisplayContext? _live;
        private double? _best;
        private TimeSpan _lastEpochEnd;

        public void Run(Action<IProgress<TuningProgress>> search)
        {
            if (!ctx.Interactive) { search(this); return; }
            ctx.Console.Live(Render()).AutoClear(false).Overflow(VerticalOverflow.Ellipsis).Start(live =>
            {
                _live = live;
                search(this);
                live.UpdateTarget(Render());
            });
            _live = null;
        }

        public void Report(TuningProgress p)
        {
            var c = CultureInfo.InvariantCulture;
            switch (p.Kind)
            {
                case TuningProgressKind.TrialBegin:
                    if (!ctx.Interactive) ctx.WriteLine($"Trial {p.TrialNumber}{Of(p)} ({p.Trial.TrialId}): {p.Trial.HyperParameters}");
                    break;
                case TuningProgressKind.Training when p.Training is { } t:
                    if (!ctx.Interactive && t.Kind == ProgressKind.EpochEnd)
                    {
                        if (t.Epoch == 1) _lastEpochEnd = TimeSpan.Zero;
                        ctx.WriteLine($"  epoch {t.Epoch}/{t.Epochs} - {ProgressView.FormatTime(t.Elapsed - _lastEpochEnd)} - {ProgressView.FormatLogs(t.Logs)}");
                        _lastEpochEnd = t.Elapsed;
                    }
                    if (t.Kind == ProgressKind.BatchEnd && _refresh.ElapsedMilliseconds < 100) { _current = p; return; }
                    break;
                case TuningProgressKind.TrialEnd:
                    _done.Add((p.Trial, p.TrialNumber));
                    if (p.Trial.Score is double s && (_best is null || objective.IsBetter(s, _best.Value))) _best = s;
                    if (!ctx.Interactive)
                        ctx.WriteLine(p.Trial.Status == TrialStatus.Completed
                            ? string.Create(c, $"  → {objective.Name} {p.Trial.Score:F4} at epoch {p.Trial.BestEpoch} ({ProgressView.FormatTime(p.Trial.Duration)}); best so far {_best:F4}")
                            : $"  → failed: {p.Trial.Message}");
                    break;
            }
            _current = p;
            _refresh.Restart();
            _live?.UpdateTarget(Render());
        }

        private static string Of(TuningProgress p) => p.MaxTrials is int m ? "/" + m.ToString(CultureInfo.InvariantCulture) : "";

        private IRenderable Render()
        {
            var c = CultureInfo.InvariantCulture;
            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumn(new TableColumn("[bold]Trial[/]").RightAligned());
            table.AddColumn(new TableColumn(Markup.Escape(objective.Name)).RightAligned());
            table.AddColumn(new TableColumn("Epoch").RightAligned());
            table.AddColumn(new TableColumn("Time").RightAligned());
            table.AddColumn(new TableColumn("Hyper-parameters"));
            foreach (var (t, n) in _done.Skip(Math.Max(0, _done.Count - 12)))
            {
                bool isBest = t.Score is double s && s == _best;
                string score = t.Status == TrialStatus.Completed ? t.Score!.Value.ToString("0.0000", c) : "[red]failed[/]";
                table.AddRow(isBest ? $"[green]{n}*[/]" : n.ToString(c), score, t.BestEpoch.ToString(c), ProgressView.FormatTime(t.Duration),
                    Markup.Escape(t.Status == TrialStatus.Completed ? t.HyperParameters.ToString() : t.Message ?? ""));
            }
            var rows = new List<IRenderable> { table };
            if (_current is { } p)
            {
                rows.Add(new Markup($"Trial [bold]{p.TrialNumber}[/]{Of(p)}: {Markup.Escape(p.Trial.HyperParameters.ToString())}"));
                if (p.Training is { } t)
                {
                    double fraction = t.Batches == 0 ? 0 : (double)t.Batch / t.Batches;
                    int width = 30, filled = (int)Math.Round(fraction * width);
                    string bar = new string('━', filled) + new string('─', width - filled);
                    rows.Add(new Markup($"Epoch [bold]{t.Epoch}[/]/{t.Epochs}  batch {t.Batch}/{t.Batches} [blue]{bar}[/] - {Markup.Escape(ProgressView.FormatLogs(t.Logs))}"));
                }
            }
            else rows.Add(new Markup("[grey]starting…[/]"));
            if (_best is double b) rows.Add(new Markup($"[grey]best {Markup.Escape(objective.Name)} so far {b.ToString("0.0000", c)}[/]"));
            return new Rows(rows);
        }
    }
}
