using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ConvNet.Data;
using ConvNet.Onnx;
using ScottPlot;

namespace ConvNet.Demo.Commands;

/// <summary>Settings of one <c>convnet transfer</c> run.</summary>
internal sealed record TransferSettings(
    string? Data, string? Base, int Epochs, int HeadEpochs, int FineTuneEpochs, string FineTune, int Seed, int[] SplitSeeds, int InputSize, int ScratchSize, int? Threads, string? Out, bool Flip)
{
    /// <summary>The default run: the committed emoji-objects set, ResNet-18 from the NuGet cache at 128×128, the scratch CNN at 64×64.</summary>
    public static TransferSettings Default { get; } = new(null, null, 40, 100, 3, "last", 1, [1337], 128, 64, null, null, true);
}

/// <summary>
/// <c>convnet transfer</c>: the lecture's last section on a class-folder tree — (1) the lecture's CNN from scratch,
/// (2) the ImageNet ResNet-18 frozen (<c>Trainable = false</c>, applied with <c>training: false</c>) under
/// GlobalAveragePooling2D → Dropout → Dense, (3) the last ResNet stage unfrozen and fine-tuned with Adam(1e-5).
/// The frozen part is run once per image: phase 2 trains the head on the base's features, phase 3 trains stage 4 and the
/// head on stage 3's outputs (<see cref="TransferBase"/>; tests show both give what the whole model gives).
/// </summary>
internal static class TransferCommand
{
    /// <summary>The NuGet package that holds the ImageNet ResNet-18.</summary>
    public const string ResNetPackage = "Microsoft.ML.DnnImageFeaturizer.ResNet18";
    /// <summary>Its version.</summary>
    public const string ResNetVersion = "0.23.1";
    private static readonly double[] SplitRatio = [0.6, 0.2, 0.2];

    public static Command Create(CliHost host)
    {
        var d = TransferSettings.Default;
        var data = new Option<string?>("--data")
        {
            Description = "A folder or zip of class folders (or of train/, val/, test/ class folders, pooled and re-split). " +
                          "Files named <item>-<style>.<ext> (the same item in several styles) are split by item. Default: data/emoji-objects.",
            HelpName = "DIR|ZIP",
        };
        var baseModel = new Option<string?>("--base")
        {
            Description = $"The ImageNet base: ResNet18.onnx (default: from the restored NuGet package {ResNetPackage} {ResNetVersion}).",
            HelpName = "FILE",
        };
        var epochs = OptionFactory.Int("--epochs", "Maximum epochs of the scratch model (early stopping on val_accuracy, patience 8).", d.Epochs, 1);
        var headEpochs = OptionFactory.Int("--head-epochs", "Maximum epochs of the head on the frozen base (early stopping, patience 15).", d.HeadEpochs, 1);
        var ftEpochs = OptionFactory.Int("--fine-tune-epochs", "Maximum epochs of fine-tuning (early stopping, patience 2; the frozen weights are kept " +
                                         "when no epoch beats their val_accuracy).", d.FineTuneEpochs, 0);
        var fineTune = new Option<string>("--fine-tune") { Description = "What to unfreeze: last (ResNet stage 4), all, or none.", DefaultValueFactory = _ => d.FineTune };
        fineTune.AcceptOnlyFromAmong("last", "all", "none");
        var seed = OptionFactory.Seed("--seed", "Seed for weight initialisation, dropout and shuffling.", d.Seed);
        var splitSeed = new Option<int[]>("--split-seed")
        {
            Description = "Seed(s) of the split-folders split (0.6/0.2/0.2 of each class's items). Several (e.g. 1337,1,2): the base runs once, " +
                          "each split gets a folder split-<seed>/ and summary.md gives mean and spread. Default: 1337.",
            HelpName = "S[,S…]",
            DefaultValueFactory = _ => d.SplitSeeds,
            CustomParser = r =>
            {
                var seeds = new List<int>();
                foreach (var part in r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries)))
                    if (int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 0) seeds.Add(v);
                    else r.AddError($"--split-seed takes seeds ≥ 0 separated by commas, got '{part}'.");
                if (seeds.Count == 0) r.AddError("--split-seed needs at least one seed.");
                return seeds.Distinct().ToArray();
            },
        };
        var size = OptionFactory.Int("--input-size", "ResNet-18's input: images are resized to SIZE×SIZE (it was trained at 224).", d.InputSize, 32);
        var scratchSize = OptionFactory.Int("--scratch-size", "The scratch CNN's input size (the emoji are drawn at 64×64).", d.ScratchSize, 8);
        var threads = OptionFactory.OptionalInt("--threads", "Worker threads for the kernels (default: all cores).", 1);
        var noFlip = new Option<bool>("--no-flip") { Description = "Do not add horizontally flipped copies of the training images." };
        var output = new Option<string?>("--out") { Description = "Output folder (default: runs/transfer-<yyyyMMdd-HHmmss>/).", HelpName = "DIR" };
        var cmd = new Command("transfer", "Transfer learning: from scratch vs a frozen ImageNet ResNet-18 vs fine-tuned, with results.json, report.md and plots.");
        foreach (var o in new Option[] { data, baseModel, epochs, headEpochs, ftEpochs, fineTune, seed, splitSeed, size, scratchSize, threads, noFlip, output }) cmd.Options.Add(o);
        cmd.SetAction(pr => host.Execute(pr, ctx => Run(ctx, new TransferSettings(
            pr.GetValue(data), pr.GetValue(baseModel), pr.GetValue(epochs), pr.GetValue(headEpochs), pr.GetValue(ftEpochs), pr.GetValue(fineTune)!, pr.GetValue(seed),
            pr.GetValue(splitSeed) ?? d.SplitSeeds, pr.GetValue(size), pr.GetValue(scratchSize), pr.GetValue(threads), pr.GetValue(output), !pr.GetValue(noFlip)))));
        return cmd;
    }

    public static int Run(CliContext ctx, TransferSettings s)
    {
        var clock = Stopwatch.StartNew();
        string dataPath = s.Data ?? FindEmojiObjects();
        string basePath = s.Base ?? DefaultResNetPath();
        string outDir = s.Out ?? Path.Combine("runs", "transfer-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        if (File.Exists(outDir)) throw new CliException($"The output folder \"{outDir}\" is a file; pass --out DIR.");
        var resnet = TransferBase.Load(basePath, s.Base is null, s.InputSize);   // fail fast, before any image is read
        if (s.Threads is int threads) resnet.Threads = threads;

        // (1) Data: every image once, at ResNet's and at the scratch CNN's size; the split by item for each split seed.
        var all = TransferData.Load(ctx, dataPath, s.InputSize);
        var small = s.ScratchSize == s.InputSize ? all
            : TransferData.Load(new CliContext(TextWriter.Null, TextWriter.Null, false, false, ctx.Cancellation), dataPath, s.ScratchSize);
        var splits = s.SplitSeeds.Select(seed => all.Split(seed)).ToList();
        foreach (var (seed, split) in s.SplitSeeds.Zip(splits))
            ctx.WriteLine($"Split {all.SplitRule} like split-folders (seed {seed}, ratio 0.6/0.2/0.2 of each class's items): " +
                          $"train {split.Train.Length}, val {split.Val.Length}, test {split.Test.Length} files.");
        foreach (var (seed, split) in s.SplitSeeds.Zip(splits))
            if (split.Train.Length == 0 || split.Val.Length == 0 || split.Test.Length == 0)
                throw new CliException($"The split of '{dataPath}' (seed {seed}) leaves an empty part; each class needs at least 5 items for 0.6/0.2/0.2.");
        // Mirrors are needed of every image that some split trains on.
        int[] mirrored = s.Flip ? splits.SelectMany(p => p.Train).Distinct().Order().ToArray() : [];

        // (2) The frozen base, run once per image (and per mirror): stage 3's outputs and stage 4's feature maps.
        var featureClock = Stopwatch.StartNew();
        var (mid, maps) = resnet.Run(all.X);
        var (midFlip, mapsFlip) = mirrored.Length > 0 ? resnet.Run(TransferData.Mirror(all.X.Gather(mirrored))) : (mid, maps);
        ctx.WriteLine($"ResNet-18 ({s.InputSize}×{s.InputSize}) run once per image: {all.Y.Length} images and {mirrored.Length} mirrors in " +
                      $"{ProgressView.FormatTime(featureClock.Elapsed)}; kept stage 3's outputs {resnet.MidShape} and stage 4's feature maps {resnet.FeatureShape}.");
        var smallFlip = mirrored.Length > 0 ? TransferData.Mirror(small.X.Gather(mirrored)) : small.X;
        var mirrorIndex = new Dictionary<int, int>();
        for (int i = 0; i < mirrored.Length; i++) mirrorIndex[mirrored[i]] = i;

        var summary = new List<(int SplitSeed, List<Phase> Phases)>();
        for (int k = 0; k < splits.Count; k++)
        {
            var split = splits[k];
            int splitSeed = s.SplitSeeds[k];
            string dir = splits.Count == 1 ? outDir : Path.Combine(outDir, $"split-{splitSeed}");
            if (splits.Count > 1)
            {
                ctx.WriteLine();
                ctx.WriteLine($"######## Split seed {splitSeed} ########");
            }
            int[] flips = split.Train.Select(i => mirrorIndex.TryGetValue(i, out int m) ? m : -1).Where(m => m >= 0).ToArray();
            Dataset TrainOf(Tensor x, Tensor xFlip) => flips.Length == 0
                ? new Dataset(x.Gather(split.Train), split.Train.Select(i => all.Y[i]).ToArray(), all.ClassNames)
                : new Dataset(TransferData.Concat([x.Gather(split.Train), xFlip.Gather(flips)]),
                    [.. split.Train.Select(i => all.Y[i]), .. flips.Select(m => all.Y[mirrored[m]])], all.ClassNames);
            Dataset Of(Tensor x, int[] idx) => new(x.Gather(idx), idx.Select(i => all.Y[i]).ToArray(), all.ClassNames);
            var phases = RunPhases(ctx, s, resnet, all.ClassNames.Count,
                (TrainOf(small.X, smallFlip), Of(small.X, split.Val), Of(small.X, split.Test)),
                (TrainOf(maps, mapsFlip), Of(maps, split.Val), Of(maps, split.Test)),
                (TrainOf(mid, midFlip), Of(mid, split.Val), Of(mid, split.Test)),
                () => (resnet.Preprocess(TrainOf(all.X, mirrored.Length > 0 ? TransferData.Mirror(all.X.Gather(mirrored)) : all.X)),
                       resnet.Preprocess(Of(all.X, split.Val)), resnet.Preprocess(Of(all.X, split.Test))),
                out var final, out var finalTest);

            // Results of this split.
            double seconds = clock.Elapsed.TotalSeconds;
            Directory.CreateDirectory(dir);
            var test = Of(all.X, split.Test);
            var analysis = Analysis.Of(final.PredictProbabilities(finalTest), test, Of(all.X, split.Train), all.ClassNames);
            File.WriteAllText(Path.Combine(dir, "results.json"), JsonSerializer.Serialize(Results(phases, seconds, all.ClassNames), JsonOptions) + "\n");
            File.WriteAllText(Path.Combine(dir, "report.md"), Report(s, splitSeed, dataPath, all.SplitRule, split, phases, seconds, analysis, test, all.ClassNames));
            TransferPlots.Curves(phases, Path.Combine(dir, "curves.png"));
            Plots.Errors(analysis.Mistakes, s.InputSize, s.InputSize, 3, Path.Combine(dir, "errors.png"), "test");
            TransferPlots.Confusion(analysis.Predicted, test.Y, all.ClassNames, Path.Combine(dir, "confusion.png"), phases[^1].Name);
            ctx.WriteLine();
            ctx.WriteLine($"Split seed {splitSeed}:");
            ctx.Out.Write(Table(phases));
            ctx.WriteLine($"Wrote {Path.GetFullPath(dir)}{Path.DirectorySeparatorChar}: results.json, report.md, curves.png, errors.png, confusion.png");
            summary.Add((splitSeed, phases));
        }
        if (summary.Count > 1)
        {
            string text = Summary(summary, clock.Elapsed.TotalSeconds);
            File.WriteAllText(Path.Combine(outDir, "summary.md"), text);
            ctx.WriteLine();
            ctx.Out.Write(text);
        }
        ctx.WriteLine($"Total time: {ProgressView.FormatTime(clock.Elapsed)}");
        return ExitCodes.Success;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    // The three phases on one split: (scratch images, frozen feature maps, stage 3 outputs, and — for --fine-tune all — images).
    private static List<Phase> RunPhases(CliContext ctx, TransferSettings s, TransferBase resnet, int classes,
        (Dataset Train, Dataset Val, Dataset Test) images, (Dataset Train, Dataset Val, Dataset Test) maps, (Dataset Train, Dataset Val, Dataset Test) mid,
        Func<(Dataset Train, Dataset Val, Dataset Test)> preprocessed, out Model final, out Tensor finalTest)
    {
        var phases = new List<Phase>();
        ctx.WriteLine();
        ctx.WriteLine($"== 1. From scratch: the lecture's CNN on {s.ScratchSize}×{s.ScratchSize}×3 ==");
        var scratch = ModelZoo.Mandarin(s.ScratchSize, s.ScratchSize, 3, classes);
        scratch.Seed = s.Seed;
        if (s.Threads is int t) scratch.Threads = t;
        ModelZoo.Compile(scratch);
        phases.Add(Train(ctx, "scratch", scratch, images, s.Epochs, patience: 8, s.Seed));

        ctx.WriteLine();
        ctx.WriteLine($"== 2. Frozen base: ImageNet ResNet-18 (Trainable = false, training: false) → GlobalAveragePooling2D → Dropout(0.2) → Dense({classes}) ==");
        var head = TransferBase.Head(resnet.FeatureMapShape, classes, s.Seed);
        if (s.Threads is int t2) head.Threads = t2;
        head.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());
        phases.Add(Train(ctx, "frozen (head on features computed once)", head, maps, s.HeadEpochs, patience: 15, s.Seed) with { Name = "frozen" });
        (final, finalTest) = (head, maps.Test.X);
        if (s.FineTune == "none" || s.FineTuneEpochs == 0) return phases;

        ctx.WriteLine();
        Model tuned;
        (Dataset Train, Dataset Val, Dataset Test) data;
        if (s.FineTune == "last")
        {
            ctx.WriteLine("== 3. Fine-tuned: ResNet stage 4 unfrozen (stages 1–3 run once per image), Adam(1e-5) ==");
            (tuned, data) = (resnet.FineTuneLast(head), mid);
        }
        else
        {
            ctx.WriteLine("== 3. Fine-tuned: the whole ResNet-18 unfrozen, Adam(1e-5) ==");
            (tuned, data) = (resnet.FineTuneAll(head), preprocessed());
        }
        if (s.Threads is int t4) tuned.Threads = t4;
        tuned.Compile(new Adam(1e-5f), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());
        var before = tuned.GetWeights();
        double frozenVal = tuned.Evaluate(data.Val)[1];   // the same function as the frozen phase's model
        var phase = Train(ctx, "finetuned", tuned, data, s.FineTuneEpochs, patience: 2, s.Seed);
        if (phase.ValAcc < frozenVal)
        {
            // Like early stopping with the starting point as epoch 0: no fine-tuning epoch beat the frozen model on val.
            tuned.SetWeights(before);
            phase = phase with { BestEpoch = 0, ValAcc = tuned.Evaluate(data.Val)[1], TestAcc = tuned.Evaluate(data.Test)[1] };
            ctx.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"finetuned: no epoch beat the frozen model's val accuracy {frozenVal:0.000}; its weights are kept (test accuracy {phase.TestAcc:0.000})."));
        }
        phases.Add(phase);
        (final, finalTest) = (tuned, data.Test.X);
        return phases;
    }

    private static string Table(IReadOnlyList<Phase> phases)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| phase | val accuracy | test accuracy | epochs run | best epoch | time |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var p in phases)
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {p.Name} | {p.ValAcc:0.000} | {p.TestAcc:0.000} | {p.History.Epochs} | {p.BestEpoch} | {p.Time.TotalSeconds:0.0} s |");
        return sb.ToString();
    }

    /// <summary>Test accuracy per split seed, mean and spread (min–max, population standard deviation).</summary>
    private static string Summary(IReadOnlyList<(int SplitSeed, List<Phase> Phases)> runs, double seconds)
    {
        var ci = CultureInfo.InvariantCulture;
        var names = runs[0].Phases.Select(p => p.Name).ToList();
        var sb = new StringBuilder();
        sb.AppendLine("# Transfer learning over split seeds (test accuracy)");
        sb.AppendLine();
        sb.AppendLine("| split seed | " + string.Join(" | ", names) + " | frozen − scratch |");
        sb.AppendLine("|---:|" + string.Concat(names.Select(_ => "---:|")) + "---:|");
        foreach (var (seed, phases) in runs)
            sb.AppendLine(ci, $"| {seed} | {string.Join(" | ", phases.Select(p => p.TestAcc.ToString("0.000", ci)))} | {100 * (phases[1].TestAcc - phases[0].TestAcc):+0.0;-0.0} |");
        string Stats(IEnumerable<double> v)
        {
            var a = v.ToArray();
            double mean = a.Average(), sd = Math.Sqrt(a.Sum(x => (x - mean) * (x - mean)) / a.Length);
            return string.Create(ci, $"{mean:0.000} ± {sd:0.000} ({a.Min():0.000}–{a.Max():0.000})");
        }
        sb.AppendLine(ci, $"| mean ± sd (min–max) | {string.Join(" | ", names.Select((_, j) => Stats(runs.Select(r => r.Phases[j].TestAcc))))} | " +
                          $"{runs.Average(r => 100 * (r.Phases[1].TestAcc - r.Phases[0].TestAcc)):+0.0;-0.0} |");
        sb.AppendLine();
        sb.AppendLine(ci, $"Total time {seconds:0} s.");
        return sb.ToString();
    }

    /// <summary>One trained phase: its history and the accuracies of its restored best weights.</summary>
    internal sealed record Phase(string Name, History History, int BestEpoch, double ValAcc, double TestAcc, TimeSpan Time);

    private static Phase Train(CliContext ctx, string name, Model model, (Dataset Train, Dataset Val, Dataset Test) data, int epochs, int patience, int seed)
    {
        var (train, val, test) = data;
        var clock = Stopwatch.StartNew();
        var early = new EarlyStopping("val_accuracy", patience: patience, restoreBestWeights: true);
        ctx.WriteLine($"{name}: {model.TrainableParamCount:N0} trainable parameters; up to {epochs} epochs, batch 32, early stopping on val_accuracy (patience {patience}).");
        var view = ProgressView.Create(ctx);
        var history = view.Run(p => model.Fit(train, epochs, 32, val, [early], seed: seed, progress: p, cancellationToken: ctx.Cancellation));
        double valAcc = model.Evaluate(val)[1], testAcc = model.Evaluate(test)[1];
        ctx.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: val accuracy {valAcc:0.000}, test accuracy {testAcc:0.000} (best epoch {early.BestEpoch + 1} of {history.Epochs}, {ProgressView.FormatTime(clock.Elapsed)})"));
        return new Phase(name, history, early.BestEpoch + 1, valAcc, testAcc, clock.Elapsed);
    }

    /// <summary>results.json, with exactly the issue's keys.</summary>
    internal static Dictionary<string, object?> Results(IReadOnlyList<Phase> phases, double seconds, IReadOnlyList<string> classes)
    {
        double? Acc(string phase, bool test) => phases.FirstOrDefault(p => p.Name == phase) is { } p ? Math.Round(test ? p.TestAcc : p.ValAcc, 4) : null;
        return new Dictionary<string, object?>
        {
            ["scratch_test_acc"] = Acc("scratch", true),
            ["frozen_test_acc"] = Acc("frozen", true),
            ["finetuned_test_acc"] = Acc("finetuned", true),
            ["scratch_val_acc"] = Acc("scratch", false),
            ["frozen_val_acc"] = Acc("frozen", false),
            ["finetuned_val_acc"] = Acc("finetuned", false),
            ["seconds"] = Math.Round(seconds, 1),
            ["classes"] = classes,
        };
    }

    private static string Report(TransferSettings s, int splitSeed, string dataPath, string rule, TransferSplit split, IReadOnlyList<Phase> phases,
        double seconds, Analysis analysis, Dataset test, IReadOnlyList<string> classNames)
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("# ConvNet transfer-learning run");
        sb.AppendLine();
        sb.AppendLine(ci, $"- Data: `{dataPath}`, {classNames.Count} classes, split {rule} (split-folders, seed {splitSeed}, 0.6/0.2/0.2): " +
                          $"train {split.Train.Length}, val {split.Val.Length}, test {split.Test.Length} images{(s.Flip ? "; the training images' horizontal mirrors added" : "")}");
        sb.AppendLine(ci, $"- ResNet-18 input {s.InputSize}×{s.InputSize} RGB, scratch CNN input {s.ScratchSize}×{s.ScratchSize} RGB; seed {s.Seed}; fine-tuning: {s.FineTune}");
        sb.AppendLine(ci, $"- Time so far {seconds:0.0} s");
        sb.AppendLine();
        sb.Append(Table(phases));
        sb.AppendLine();
        sb.AppendLine(ci, $"Per-class test accuracy of the {phases[^1].Name} model:");
        sb.AppendLine();
        sb.AppendLine("| class | test images | correct |");
        sb.AppendLine("|---|---:|---:|");
        foreach (var (k, count, right) in analysis.PerClass(test, classNames.Count))
            sb.AppendLine(ci, $"| {classNames[k]} | {count} | {right} |");
        sb.AppendLine();
        sb.AppendLine("![curves](curves.png)");
        sb.AppendLine();
        sb.AppendLine("![errors](errors.png)");
        sb.AppendLine();
        sb.AppendLine("![confusion](confusion.png)");
        return sb.ToString();
    }

    /// <summary>ResNet18.onnx in the NuGet cache (NUGET_PACKAGES, else ~/.nuget/packages).</summary>
    internal static string DefaultResNetPath()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(root, ResNetPackage.ToLowerInvariant(), ResNetVersion, "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
    }

    /// <summary>data/emoji-objects in the current folder or a parent (the repository's committed set).</summary>
    internal static string FindEmojiObjects()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "data", "emoji-objects");
                if (Directory.Exists(candidate)) return candidate;
            }
        throw new CliException("The emoji-objects set (data/emoji-objects) was not found in this folder or its parents; pass --data DIR|ZIP, " +
                               "or regenerate it with scripts/make-emoji-objects.sh.");
    }
}

/// <summary>The images of a transfer run (RGB, 0–255, one size), in load order, with each file's item for the split.</summary>
internal sealed record TransferData(Tensor X, int[] Y, IReadOnlyList<string> ClassNames, string[] Groups, string SplitRule)
{
    /// <summary>Loads a class-folder tree (a split tree is pooled), checks it and finds the items.</summary>
    public static TransferData Load(CliContext ctx, string path, int size)
    {
        var options = DataSources.ImageOptions(size, size, 3);
        var kind = DataSources.Detect(path);
        List<ImageFolderDataset> parts;
        switch (kind)
        {
            case DataKind.Split:
                var (a, b, c) = ImageDatasets.LoadSplit(path, options);
                parts = c is null ? [a, b] : [a, b, c];
                ctx.WriteLine($"'{path}' is already split; its {string.Join(" + ", parts.Select(p => p.Count))} files are pooled and split again by item.");
                break;
            case DataKind.ClassFolders:
                parts = [ImageDatasets.LoadDirectory(path, options)];
                break;
            case DataKind.ClassZip:
                parts = [ImageDatasets.LoadZip(path, options)];
                break;
            default:
                throw new CliException($"'{path}' is not a folder or zip of class folders (transfer needs images in one folder per class).");
        }
        var names = parts[0].ClassNames;
        foreach (var p in parts.Skip(1))
            if (!p.ClassNames.SequenceEqual(names)) throw new CliException($"The parts of '{path}' have different class folders.");
        var x = parts.Count == 1 ? parts[0].X : Concat(parts.Select(p => p.X).ToList());
        var y = parts.SelectMany(p => p.Y).ToArray();
        var paths = parts.SelectMany(p => p.Paths).ToArray();
        ctx.WriteLine($"Found {y.Length} files belonging to {names.Count} classes in '{path}'.");

        var counts = new int[names.Count];
        foreach (int k in y) counts[k]++;
        var small = Enumerable.Range(0, names.Count).Where(k => counts[k] < 2).ToList();
        if (small.Count > 0)
            throw new CliException($"Class folder(s) with fewer than 2 images: {string.Join(", ", small.Select(k => $"'{names[k]}' ({counts[k]})"))}. " +
                                   "Each class needs at least 2 images (one to train on, one to check); add images or remove the folder.");
        int gray = CountGray(x);
        if (gray > 0)
            ctx.WriteLine($"Note: {gray} of {y.Length} images are grayscale (R = G = B everywhere); ResNet-18 expects RGB, so their gray values are used in all three channels.");
        var (groups, rule) = FindGroups(paths);
        return new TransferData(x, y, names, groups, rule);
    }

    /// <summary>Image indices of train, val and test for one split seed.</summary>
    public TransferSplit Split(int seed)
    {
        var side = SplitByGroup(Y, Groups, ClassNames.Count, seed);
        int[] Pick(int part) => Enumerable.Range(0, Y.Length).Where(i => side[i] == part).ToArray();
        return new TransferSplit(Pick(0), Pick(1), Pick(2));
    }

    /// <summary>
    /// The item of each file. When every file is named <c>&lt;item&gt;-&lt;style&gt;.&lt;ext&gt;</c> and every item has the same set of
    /// (at least two) styles — like the emoji set's <c>1F40A-google.png</c> and <c>1F40A-twitter.png</c> — the styles of one item are one
    /// group and go to the same side of the split; otherwise each file is its own item.
    /// </summary>
    internal static (string[] Groups, string Rule) FindGroups(IReadOnlyList<string> paths)
    {
        var stems = paths.Select(p => Path.GetFileNameWithoutExtension(p.Replace('\\', '/').Split('/', '!')[^1])).ToArray();
        var fileNames = paths.Select(p => p.Replace('\\', '/').Split('/', '!')[^1]).ToArray();
        if (stems.All(st => st.LastIndexOf('-') > 0))
        {
            var items = stems.Select((st, i) => (Dir: Path.GetDirectoryName(paths[i].Replace('!', '/')) ?? "", Item: st[..st.LastIndexOf('-')], Style: st[(st.LastIndexOf('-') + 1)..])).ToArray();
            var styleSets = items.GroupBy(t => (t.Dir, t.Item)).Select(g => string.Join("|", g.Select(t => t.Style).Order(StringComparer.Ordinal))).Distinct().ToList();
            int styles = styleSets.Count == 1 ? styleSets[0].Split('|').Length : 0;
            int itemCount = items.Select(t => (t.Dir, t.Item)).Distinct().Count();
            if (styles >= 2 && itemCount > styles)
                return (items.Select(t => t.Item).ToArray(), $"by item (the {styles} styles {styleSets[0].Replace("|", ", ", StringComparison.Ordinal)} of an item stay together)");
        }
        return (fileNames, "by file");
    }

    /// <summary>0 = train, 1 = val, 2 = test for each file: split-folders' algorithm over each class's distinct items.</summary>
    internal static int[] SplitByGroup(int[] y, string[] groups, int classes, int seed)
    {
        var side = new int[y.Length];
        for (int k = 0; k < classes; k++)
        {
            var members = Enumerable.Range(0, y.Length).Where(i => y[i] == k).ToList();
            var items = members.Select(i => groups[i]).Distinct(StringComparer.Ordinal).ToList();
            var (train, val, _) = SplitFolders.RatioOfFiles(items, seed, 0.6, 0.2, 0.2);
            var trainSet = train.ToHashSet(StringComparer.Ordinal);
            var valSet = val.ToHashSet(StringComparer.Ordinal);
            foreach (int i in members) side[i] = trainSet.Contains(groups[i]) ? 0 : valSet.Contains(groups[i]) ? 1 : 2;
        }
        return side;
    }

    private static int CountGray(Tensor x)
    {
        int n = x.Shape[0], per = x.Length / Math.Max(1, n), gray = 0;
        var d = x.Span;
        for (int i = 0; i < n; i++)
        {
            var img = d.Slice(i * per, per);
            bool isGray = true;
            for (int j = 0; j < per && isGray; j += 3) isGray = img[j] == img[j + 1] && img[j] == img[j + 2];
            if (isGray) gray++;
        }
        return gray;
    }

    public static Tensor Concat(IReadOnlyList<Tensor> parts)
    {
        var dims = parts[0].Shape.ToArray();
        dims[0] = parts.Sum(p => p.Shape[0]);
        var result = new Tensor(dims);
        int offset = 0;
        foreach (var p in parts)
        {
            p.Span.CopyTo(result.Span.Slice(offset));
            offset += p.Length;
        }
        return result;
    }

    /// <summary>Horizontal mirrors of (N, H, W, C) images (label-preserving for objects).</summary>
    public static Tensor Mirror(Tensor images)
    {
        int n = images.Shape[0], h = images.Shape[1], w = images.Shape[2], c = images.Shape[3], per = h * w * c;
        var x = new Tensor(n, h, w, c);
        var src = images.Span;
        var dst = x.Span;
        for (int i = 0; i < n; i++)
            for (int r = 0; r < h; r++)
                for (int col = 0; col < w; col++)
                    src.Slice(i * per + (r * w + col) * c, c).CopyTo(dst.Slice(i * per + (r * w + (w - 1 - col)) * c, c));
        return x;
    }
}

/// <summary>Indices of one split's parts.</summary>
internal sealed record TransferSplit(int[] Train, int[] Val, int[] Test);

/// <summary>
/// The ImageNet ResNet-18 (ONNX import, BatchNormalization folded into the convolutions) without its final average pool
/// (Keras' <c>include_top=False</c>), rebuilt for any input size and cut in two: <see cref="Stem"/> (stem and stages 1–3)
/// and <see cref="Stage4"/> (stage 4: the 512-channel feature map). Each call of <see cref="FineTuneLast"/> or
/// <see cref="FineTuneAll"/> gets fresh copies with the ImageNet weights.
/// </summary>
internal sealed class TransferBase
{
    private readonly SymbolicTensor _input, _cut, _output;
    private readonly MeanImagePreprocessing? _prep;
    private readonly float[] _channelMean = new float[3];
    private int? _threads;

    private TransferBase(SymbolicTensor input, SymbolicTensor cut, SymbolicTensor output, MeanImagePreprocessing? prep, int size)
    {
        (_input, _cut, _output, _prep, Size) = (input, cut, output, prep, size);
        if (prep is not null)
        {
            var m = prep.Mean.Span;
            for (int i = 0; i < m.Length; i++) _channelMean[i % 3] += m[i] / (m.Length / 3);
        }
        Stem = NewStem();
        Stage4 = NewStage4();   // uses Stem's output shape
    }

    /// <summary>Stem and stages 1–3: preprocessed (size, size, 3) images → stage 3's output.</summary>
    public Model Stem { get; }

    /// <summary>Stage 4: stage 3's output → the (h, w, 512) feature map.</summary>
    public Model Stage4 { get; }

    /// <summary>The input size.</summary>
    public int Size { get; }

    /// <summary>Worker threads of every model built here.</summary>
    public int Threads
    {
        set { _threads = value; Stem.Threads = value; Stage4.Threads = value; }
    }

    public int[] FeatureMapShape => [.. Stage4.OutputShape];
    public string MidShape => "(" + string.Join(", ", Stem.OutputShape) + ")";
    public string FeatureShape => "(" + string.Join(", ", Stage4.OutputShape) + ")";

    /// <summary>Loads ResNet18.onnx (and ResNetPreprocess.onnx beside it, when present) with clear errors for wrong or missing files.</summary>
    public static TransferBase Load(string path, bool isDefault, int size)
    {
        if (!File.Exists(path))
            throw new CliException(isDefault
                ? $"The ImageNet ResNet-18 was not found at '{path}'. Restore the NuGet package {TransferCommand.ResNetPackage} {TransferCommand.ResNetVersion} " +
                  "(e.g. `dotnet restore tests/ConvNet.Demo.Tests`, which downloads it into the NuGet cache), or pass --base FILE."
                : $"The base model '{path}' does not exist (expected ResNet18.onnx from the NuGet package {TransferCommand.ResNetPackage} {TransferCommand.ResNetVersion}).");
        using (var f = File.OpenRead(path))
        {
            var head = new byte[5];   // a ConvNet model file starts with "\x89CNET"
            int read = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            if (path.EndsWith(".cnet", StringComparison.OrdinalIgnoreCase) || (read == 5 && head.AsSpan(1).SequenceEqual("CNET"u8)))
                throw new CliException($"'{path}' is a ConvNet model file (from `convnet train`), not an ImageNet base: transfer expects ResNet18.onnx " +
                                       $"from the NuGet package {TransferCommand.ResNetPackage} {TransferCommand.ResNetVersion} (omit --base to use the restored package).");
        }
        Model imported;
        try
        {
            imported = OnnxImporter.Load(path, foldBatchNorm: true);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            throw new CliException($"'{path}' is not a usable ImageNet base (expected ResNet18.onnx from {TransferCommand.ResNetPackage}): {e.Message.Split('\n')[0]}");
        }
        string prepPath = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(path)))!, "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        var prep = File.Exists(prepPath) ? MeanImagePreprocessing.Load(prepPath) : null;
        return Build(imported, prep, size);
    }

    /// <summary>Finds the cut before stage 4 and the feature map before the final pool of <paramref name="imported"/>.</summary>
    public static TransferBase Build(Model imported, MeanImagePreprocessing? prep, int size)
    {
        var output = imported.OutputTensor ?? throw new CliException("The base model has no graph.");
        if (output.Layer is AveragePooling2D or GlobalAveragePooling2D) output = output.InboundTensors[0];   // include_top=False
        var all = Topological(output);
        // Stage 4 starts where the first 512-filter 1×1 convolution (the projection shortcut) reads its input.
        var cut = all.FirstOrDefault(t => t.Layer is Conv2D { Filters: 512, KernelSize: (1, 1) })?.InboundTensors[0]
                  ?? throw new CliException("The base model is not a ResNet-18 (no 512-filter projection shortcut found): transfer expects ResNet18.onnx.");
        return new TransferBase(imported.InputTensor!, cut, output, prep, size);
    }

    /// <summary>A fresh copy of the stem and stages 1–3 with the ImageNet weights.</summary>
    public Model NewStem()
    {
        var inputs = new Input(Size, Size, 3);
        var (outputs, copies) = CloneGraph(_cut, _input, inputs);
        return WithWeights(new Model(inputs, outputs, name: "resnet18_stages1to3"), copies);
    }

    /// <summary>A fresh copy of stage 4 with the ImageNet weights.</summary>
    public Model NewStage4()
    {
        var inputs = new Input([.. Stem.OutputShape]);
        var (outputs, copies) = CloneGraph(_output, _cut, inputs);
        return WithWeights(new Model(inputs, outputs, name: "resnet18_stage4"), copies);
    }

    // The Model constructor initialises its layers' weights, so the ImageNet weights are copied after it.
    private Model WithWeights(Model model, List<(Layer Old, Layer New)> copies)
    {
        foreach (var (old, fresh) in copies)
            for (int i = 0; i < old.Parameters.Count; i++) old.Parameters[i].Value.Span.CopyTo(fresh.Parameters[i].Value.Span);
        if (_threads is int t) model.Threads = t;
        return model;
    }

    private static (SymbolicTensor Output, List<(Layer Old, Layer New)> Copies) CloneGraph(SymbolicTensor to, SymbolicTensor from, SymbolicTensor newFrom)
    {
        var copies = new List<(Layer Old, Layer New)>();
        return (Clone(to, new Dictionary<SymbolicTensor, SymbolicTensor> { [from] = newFrom }, copies), copies);
    }

    private static List<SymbolicTensor> Topological(SymbolicTensor output)
    {
        var order = new List<SymbolicTensor>();
        var seen = new HashSet<SymbolicTensor>();
        void Visit(SymbolicTensor t)
        {
            if (!seen.Add(t)) return;
            foreach (var i in t.InboundTensors) Visit(i);
            order.Add(t);
        }
        Visit(output);
        return order;
    }

    // A copy of the layers between the mapped tensors and t: fresh layers with the same configuration.
    private static SymbolicTensor Clone(SymbolicTensor t, Dictionary<SymbolicTensor, SymbolicTensor> map, List<(Layer, Layer)> copies)
    {
        if (map.TryGetValue(t, out var done)) return done;
        var inputs = t.InboundTensors.Select(i => Clone(i, map, copies)).ToArray();
        var old = t.Layer;
        Layer fresh = old switch
        {
            Conv2D c => new Conv2D(c.Filters, c.KernelSize, c.Strides, c.Padding, c.Activation, c.UseBias, c.Name),
            ZeroPadding2D z => new ZeroPadding2D(z.Padding, z.Name),
            MaxPooling2D => new MaxPooling2D(3, 2, name: old.Name),   // ResNet's stem pool (the tests compare the copy with ONNX Runtime)
            ReLU => new ReLU(old.Name),
            Add => new Add(old.Name),
            _ => throw new CliException($"The base model has a {old.GetType().Name} layer ('{old.Name}') that transfer cannot rebuild: it expects ResNet18.onnx."),
        };
        var result = inputs.Length == 1 ? fresh.Apply(inputs[0]) : fresh.Apply(inputs);
        copies.Add((old, fresh));
        map[t] = result;
        return result;
    }

    /// <summary>0–255 RGB images → what ResNet18.onnx expects: BGR minus the mean image (at 224) or its per-channel mean (other sizes).</summary>
    public Tensor Preprocess(Tensor images)
    {
        if (_prep is not null && Size == _prep.Mean.Shape[0] && Size == _prep.Mean.Shape[1]) return _prep.Apply(images);
        var y = new Tensor(images.Shape);
        var x = images.Span;
        var o = y.Span;
        for (int i = 0; i < x.Length; i += 3)
            for (int k = 0; k < 3; k++) o[i + k] = x[i + 2 - k] - _channelMean[k];
        return y;
    }

    public Dataset Preprocess(Dataset d) => new(Preprocess(d.X), d.Y, d.ClassNames);

    /// <summary>Stage 3's outputs and stage 4's feature maps of <paramref name="images"/> (0–255 RGB).</summary>
    public (Tensor Mid, Tensor Maps) Run(Tensor images)
    {
        var mid = Stem.Predict(Preprocess(images));
        return (mid, Stage4.Predict(mid));
    }

    /// <summary>Per-image averages of (N, h, w, C) feature maps: (N, C), what ResNet18.onnx's final pool gives.</summary>
    public static float[] Pool(Tensor maps)
    {
        int n = maps.Shape[0], c = maps.Shape[maps.Shape.Rank - 1], hw = maps.Length / n / c;
        var o = new float[n * c];
        var d = maps.Span;
        for (int i = 0; i < n; i++)
            for (int p = 0; p < hw; p++)
                for (int k = 0; k < c; k++) o[i * c + k] += d[(i * hw + p) * c + k] / hw;
        return o;
    }

    /// <summary>The lecture's head on the base's feature map: GlobalAveragePooling2D → Dropout(0.2) → Dense(classes).</summary>
    public static Model Head(int[] featureMapShape, int classes, int seed)
    {
        var inputs = new Input(featureMapShape);
        var x = new GlobalAveragePooling2D().Apply(inputs);
        x = new Dropout(0.2f, seed).Apply(x);
        return new Model(inputs, new Dense(classes).Apply(x), name: "head") { Seed = seed };
    }

    /// <summary>The lecture's whole frozen model on preprocessed images: base (Trainable = false, applied with training: false) → head.</summary>
    public Model Frozen(Model head)
    {
        var (stem, stage4) = (NewStem(), NewStage4());
        stem.Trainable = false;
        stage4.Trainable = false;
        var inputs = new Input(Size, Size, 3);
        var maps = stage4.Apply(stem.Apply(inputs, training: false), training: false);
        return new Model(inputs, head.Apply(maps), name: "frozen_resnet18");
    }

    /// <summary>A fresh stage 4, unfrozen, under the trained head, on stage 3's outputs (computed once).</summary>
    public Model FineTuneLast(Model head)
    {
        var stage4 = NewStage4();
        var inputs = new Input([.. Stem.OutputShape]);
        var m = new Model(inputs, head.Apply(stage4.Apply(inputs, training: false)), name: "finetuned_stage4");
        if (_threads is int t) m.Threads = t;
        return m;
    }

    /// <summary>A fresh whole base, unfrozen, under the trained head, on preprocessed images.</summary>
    public Model FineTuneAll(Model head)
    {
        var (stem, stage4) = (NewStem(), NewStage4());
        var inputs = new Input(Size, Size, 3);
        var m = new Model(inputs, head.Apply(stage4.Apply(stem.Apply(inputs, training: false), training: false)), name: "finetuned_all");
        if (_threads is int t) m.Threads = t;
        return m;
    }
}

/// <summary>The transfer run's figures.</summary>
internal static class TransferPlots
{
    /// <summary>Train and val accuracy per epoch of each phase, side by side.</summary>
    public static void Curves(IReadOnlyList<TransferCommand.Phase> phases, string path)
    {
        var plots = phases.Select(p =>
        {
            var plot = new Plot();
            double[] xs = Enumerable.Range(1, p.History.Epochs).Select(e => (double)e).ToArray();
            foreach (var (key, label, color) in new[] { ("accuracy", "train", Colors.C0), ("val_accuracy", "val", Colors.C1) })
            {
                if (!p.History.Contains(key)) continue;
                var line = plot.Add.Scatter(xs, p.History[key].ToArray());
                line.LegendText = label;
                line.Color = color;
                line.LineWidth = 2;
                line.MarkerSize = p.History.Epochs <= 30 ? 5 : 0;
            }
            var v = plot.Add.VerticalLine(p.BestEpoch);
            v.LinePattern = LinePattern.Dashed;
            v.Color = Colors.Gray;
            plot.Title(string.Create(CultureInfo.InvariantCulture, $"{p.Name}: test {p.TestAcc:0.000}"));
            plot.XLabel("epoch");
            plot.YLabel("accuracy");
            plot.Axes.SetLimitsY(-0.02, 1.02);
            if (p.History.Epochs <= 1) plot.Axes.SetLimitsX(0.5, 1.5);
            plot.ShowLegend(Alignment.LowerRight);
            return plot;
        }).ToArray();
        var multi = new Multiplot(plots[0]);
        foreach (var p in plots.Skip(1)) multi.AddPlot(p);
        multi.Layout = new ScottPlot.MultiplotLayouts.Grid(1, plots.Length);
        multi.SavePng(path, 450 * plots.Length, 420);
    }

    /// <summary>The test confusion matrix (rows: true class, columns: predicted), counts in the cells.</summary>
    public static void Confusion(int[] predicted, int[] truth, IReadOnlyList<string> names, string path, string phase)
    {
        int k = names.Count;
        var m = new double[k, k];
        for (int i = 0; i < truth.Length; i++) m[truth[i], predicted[i]]++;
        var rows = new double[k, k];   // a heatmap draws its first row at the top; row r of the plot (y = r) is rows[k − 1 − r]
        for (int r = 0; r < k; r++)
            for (int c = 0; c < k; c++) rows[k - 1 - r, c] = m[r, c];
        var plot = new Plot();
        var hm = plot.Add.Heatmap(rows);
        hm.Colormap = new ScottPlot.Colormaps.Viridis();
        for (int r = 0; r < k; r++)
            for (int c = 0; c < k; c++)
                if (m[r, c] > 0)
                {
                    var label = plot.Add.Text(((int)m[r, c]).ToString(CultureInfo.InvariantCulture), c, r);
                    label.LabelAlignment = Alignment.MiddleCenter;
                    label.LabelFontColor = Colors.White;
                    label.LabelFontSize = 11;
                }
        double[] ticks = Enumerable.Range(0, k).Select(i => (double)i).ToArray();
        // Columns by number (the rows' labels give each number's class): long names do not fit under the columns.
        plot.Axes.Bottom.SetTicks(ticks, [.. ticks.Select(t => t.ToString(CultureInfo.InvariantCulture))]);
        plot.Axes.Left.SetTicks(ticks, [.. names.Select((n, i) => $"{n} ({i})")]);
        plot.XLabel("predicted class (number)");
        plot.Title($"Test confusion ({phase}): rows true, columns predicted");
        plot.SavePng(path, Math.Max(560, 60 + 50 * k + 150), 60 + 50 * k + 150);
    }
}
