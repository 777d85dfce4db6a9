using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace ConvNet.Demo.Commands;

/// <summary>Settings of one training run (the defaults are the lecture's).</summary>
internal sealed record TrainSettings(
    string? Data, string? Model, int Epochs, int BatchSize, int Seed, int SplitSeed, double[] Ratio, int? Threads, string? Out, int Patience)
{
    /// <summary>What <c>convnet</c> without arguments runs: the stand-in Mandarin set, 100 epochs, batch 32, patience 15.</summary>
    public static TrainSettings Default { get; } = new(null, null, 100, 32, 1337, 1337, Ratios.Lecture, null, null, 15);
}

/// <summary>The options of <c>train</c> (also accepted by <c>convnet</c> without a command).</summary>
internal sealed class TrainOptions
{
    private readonly Option<string?> _data = new("--data")
    {
        Description = "Training data: a folder of class folders or a zip of them (e.g. the lecture's mandarin.zip; split in memory like " +
                      "split-folders), an already split folder/zip (train/, val/, test/), or a folder with the MNIST IDX files. " +
                      "Default: the bundled stand-in Mandarin set, generated on first use into runs/.cache/.",
        HelpName = "DIR|ZIP",
    };
    private readonly Option<string?> _model = new("--model")
    {
        Description = "Architecture: mandarin (the lecture's CNN, 80×80 grayscale) or lenet5 (LeNet-5, 32×32; MNIST is padded 28→32). " +
                      "Default: lenet5 for MNIST, mandarin otherwise.",
        HelpName = "mandarin|lenet5",
    };
    private readonly Option<int> _epochs = OptionFactory.Int("--epochs", "Maximum number of epochs.", TrainSettings.Default.Epochs, 1);
    private readonly Option<int> _batch = OptionFactory.Int("--batch-size", "Mini-batch size.", TrainSettings.Default.BatchSize, 1);
    private readonly Option<int> _seed = OptionFactory.Seed("--seed", "Seed for weight initialisation and the per-epoch shuffle.");
    private readonly Option<int> _splitSeed = OptionFactory.Seed("--split-seed", "Seed of the in-memory split-folders split (CPython's random.seed).");
    private readonly Option<double[]?> _ratio = OptionFactory.Ratio();
    private readonly Option<int?> _threads = OptionFactory.OptionalInt("--threads", "Worker threads for the kernels (default: all cores).", 1);
    private readonly Option<string?> _out = new("--out")
    {
        Description = "Output folder for model.cnet, classes.txt, history.csv, curves.png, errors.png, confidence.png and report.md " +
                      "(default: runs/<yyyyMMdd-HHmmss>/).",
        HelpName = "DIR",
    };
    private readonly Option<int> _patience = OptionFactory.Int("--patience",
        "Early stopping: epochs without a better val_accuracy before stopping (the best weights are restored).", TrainSettings.Default.Patience, 0);

    public TrainOptions() => _model.AcceptOnlyFromAmong(ModelZoo.TrainableNames);

    /// <summary>Adds every option to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _data, _model, _epochs, _batch, _seed, _splitSeed, _ratio, _threads, _out, _patience })
            command.Options.Add(o);
    }

    /// <summary>The settings given on the command line.</summary>
    public TrainSettings Read(ParseResult pr) => new(
        pr.GetValue(_data), pr.GetValue(_model), pr.GetValue(_epochs), pr.GetValue(_batch), pr.GetValue(_seed), pr.GetValue(_splitSeed),
        pr.GetValue(_ratio) is { Length: > 0 } r ? r : Ratios.Lecture, pr.GetValue(_threads), pr.GetValue(_out), pr.GetValue(_patience));
}

/// <summary><c>convnet train</c>: load and split data, build the model, train with early stopping, evaluate, write the run folder.</summary>
internal static class TrainCommand
{
    public static Command Create(CliHost host)
    {
        var options = new TrainOptions();
        var cmd = new Command("train", "Train a model (the lecture's Mandarin CNN by default) and write a run folder with the model, history, plots and a report.");
        options.AddTo(cmd);
        cmd.SetAction(pr => host.Execute(pr, ctx => Run(ctx, options.Read(pr))));
        return cmd;
    }

    public static int Run(CliContext ctx, TrainSettings s)
    {
        var clock = Stopwatch.StartNew();
        if (s.Out is not null) OutputFolder.Check("--out", s.Out);   // before any work: a bad --out must not cost a training run
        string dataPath;
        DataKind kind;
        if (s.Data is null)
        {
            dataPath = MandarinCache.Ensure(ctx);
            kind = DataKind.ClassFolders;
        }
        else
        {
            dataPath = s.Data;
            kind = DataSources.Detect(dataPath);
            ctx.WriteLine($"Loading \"{dataPath}\" …");
        }
        string modelName = s.Model ?? (kind == DataKind.Mnist ? "lenet5" : "mandarin");
        string outDir = s.Out ?? Path.Combine("runs", DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));

        // (1) Data.
        var input = ModelZoo.InputFor(modelName);
        var data = DataSources.LoadForTraining(ctx, dataPath, kind, input, s.SplitSeed, s.Ratio);
        if (data.ClassNames.Count < 2)
            throw new CliException($"\"{dataPath}\" has only one class ({string.Join(", ", data.ClassNames.Select(n => $"'{n}'"))}); " +
                                   "a classifier needs at least two class folders (every prediction would be that class).");
        var sample = data.Train.X.Shape.SampleDims();
        ctx.WriteLine($"X_train {data.Train.X.Shape}, X_val {data.Val.X.Shape}" + (data.Test is null ? " (no test part)" : $", X_test {data.Test.X.Shape}"));
        if (modelName == "lenet5" && (sample[0] != 32 || sample[1] != 32))
            throw new CliException($"LeNet-5 needs 32×32 images, the data has {sample[0]}×{sample[1]}.");

        // (2) Model.
        var model = ModelZoo.Create(modelName, sample, data.ClassNames.Count);
        model.Seed = s.Seed;
        if (s.Threads is int t) model.Threads = t;
        ctx.WriteLine();
        ctx.Out.Write(model.Summary());
        ctx.WriteLine();
        ModelZoo.Compile(model);

        // (3) Training.
        var early = new EarlyStopping(monitor: "val_accuracy", patience: s.Patience, restoreBestWeights: true);
        ctx.WriteLine($"Training for up to {s.Epochs} epochs: batch size {s.BatchSize}, seed {s.Seed}, {model.Threads} thread(s), " +
                      $"Adam, early stopping on val_accuracy (patience {s.Patience}, best weights restored).");
        var view = ProgressView.Create(ctx);
        var history = view.Run(p => model.Fit(data.Train, s.Epochs, s.BatchSize, data.Val, [early], seed: s.Seed, progress: p, cancellationToken: ctx.Cancellation));
        int bestEpoch = early.BestEpoch + 1;
        var trainTime = clock.Elapsed;
        ctx.WriteLine($"Trained {history.Epochs} epoch(s) in {ProgressView.FormatTime(trainTime)}; best val_accuracy {early.Best:0.0000} at epoch {bestEpoch}.");

        // (4) Evaluation and the lecture's single prediction.
        ctx.WriteLine();
        ctx.WriteLine($"Evaluation [{string.Join(", ", model.EvaluateNames.Select(ModelZoo.Short))}]:");
        var results = new List<(string Name, double[] Values)>
        {
            ("train", model.Evaluate(data.Train, s.BatchSize)),
            ("val", model.Evaluate(data.Val, s.BatchSize)),
        };
        if (data.Test is not null) results.Add(("test", model.Evaluate(data.Test, s.BatchSize)));
        foreach (var (name, values) in results) ctx.WriteLine($"  {name,-5} {Keras(values)}");

        var (evalSet, evalName) = data.Test is not null ? (data.Test, "test") : (data.Val, "val");
        int index = Math.Min(17, evalSet.Count - 1);
        var one = model.PredictProbabilities(evalSet.X.Gather([index]));
        int guess = Accuracy.ArgMax(one.Span);
        string guessName = data.ClassNames[guess], trueName = data.ClassNames[evalSet.Y[index]];
        string single = $"Prediction for {evalName} image #{index} (x.Gather([{index}])): '{MandarinCache.Describe(guessName)}' " +
                        $"with probability {one.Span[guess]:0.0000}; true class '{MandarinCache.Describe(trueName)}'.";
        ctx.WriteLine();
        ctx.WriteLine(single);

        // (5) Run folder.
        Directory.CreateDirectory(outDir);
        string modelPath = Path.Combine(outDir, "model.cnet");
        model.Save(modelPath);
        new ModelSidecar(data.ClassNames, data.Padding).Write(outDir);
        File.WriteAllText(Path.Combine(outDir, "history.csv"), history.ToCsv());

        var probs = model.PredictProbabilities(evalSet.X, s.BatchSize);
        var analysis = Analysis.Of(probs, evalSet, data.Train, data.ClassNames);
        var (h, w, c) = (sample[0], sample[1], sample[2]);
        var plotErrors = new List<string>();
        void Try(string file, Action draw)
        {
            try { draw(); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                plotErrors.Add(file);
                ctx.Err.WriteLine($"convnet: error: could not draw {file}: {e.GetType().Name}: {e.Message.Split('\n')[0]}");
                if (ctx.Verbose) ctx.Err.WriteLine(e);
            }
        }
        Try("curves.png", () => Plots.Curves(history, Path.Combine(outDir, "curves.png"), history.Epochs > 0 ? bestEpoch : null));
        Try("errors.png", () => Plots.Errors(analysis.Mistakes, h, w, c, Path.Combine(outDir, "errors.png"), evalName));
        Try("confidence.png", () => Plots.Confidence(analysis.Confidence, analysis.Correct, Path.Combine(outDir, "confidence.png"), evalName));
        var report = new RunReport(dataPath, kind, modelName, model.CountParams(), s, history, early, bestEpoch,
            model.EvaluateNames.Select(ModelZoo.Short).ToArray(), results, single, analysis, evalName, trainTime, data.ClassNames);
        File.WriteAllText(Path.Combine(outDir, "report.md"), report.ToMarkdown());

        // (6) Done.
        ctx.WriteLine();
        ctx.WriteLine($"Wrote {Path.GetFullPath(outDir)}{Path.DirectorySeparatorChar}: model.cnet, classes.txt, history.csv, curves.png, errors.png, confidence.png, report.md");
        ctx.WriteLine($"Total time: {ProgressView.FormatTime(clock.Elapsed)}");
        return plotErrors.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    /// <summary>Keras' evaluate() list: <c>[0.0009612, 1.0, 1.0]</c>.</summary>
    public static string Keras(IEnumerable<double> values) =>
        "[" + string.Join(", ", values.Select(v => v == Math.Floor(v) ? v.ToString("0.0", CultureInfo.InvariantCulture) : v.ToString("G4", CultureInfo.InvariantCulture))) + "]";
}
