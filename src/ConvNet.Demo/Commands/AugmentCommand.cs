using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ConvNet.Demo.Commands;

/// <summary>
/// <c>convnet augment --image FILE --out grid.png</c>: a 4×4 grid of 16 augmented versions of one image, for a person to look at.
/// <c>convnet augment --measure</c>: the lecture model on a Mandarin set with and without the augmentation stack, once per
/// training seed (lecture split and settings): val and test accuracy, epochs, time, and the augmentation layers' share of an epoch.
/// </summary>
internal static class AugmentCommand
{
    /// <summary>The augmentation stack used by the preview and the experiment: small rotation (±0.03 turn = ±10.8°), zoom ±10 %,
    /// translation ±10 % — no flips (characters are not mirror-symmetric). Fill mode nearest: the border pixels are paper, so
    /// repeating them adds paper, where Keras's default (reflect) would mirror strokes that touch the border back into view.</summary>
    public static Layer[] Stack() =>
    [
        new RandomRotation(0.03, FillMode.Nearest),
        new RandomZoom(0.1, fillMode: FillMode.Nearest),
        new RandomTranslation(0.1, 0.1, FillMode.Nearest),
    ];

    /// <summary>ModelZoo.Mandarin with <paramref name="augmentation"/> between the Input and the Rescaling.</summary>
    public static Sequential Lecture(Layer[] augmentation, int classes)
    {
        var model = new Sequential(new Input(80, 80, 1));
        foreach (var l in augmentation) model.Add(l);
        foreach (var l in new Layer[]
        {
            new Rescaling(1f / 255),
            new Conv2D(16, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
            new Conv2D(32, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
            new Conv2D(64, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
            new Flatten(), new Dense(128, Activation.Relu), new Dense(classes),
        }) model.Add(l);
        return model;
    }

    public static Command Create(CliHost host)
    {
        var image = new Option<string?>("--image") { Description = "The image to augment (any format the loader reads).", HelpName = "FILE" };
        var output = new Option<string>("--out") { Description = "Where to write the 4×4 grid PNG.", DefaultValueFactory = _ => "augment-grid.png", HelpName = "FILE" };
        var size = OptionFactory.Int("--size", "The image is loaded as size×size grayscale (the model uses 80).", 128, 8);
        var seed = OptionFactory.Seed("--seed", "Seed of the augmentation layers.", 1);
        var measure = new Option<bool>("--measure") { Description = "Run the experiment instead: lecture model with and without augmentation, per seed." };
        var stepShare = new Option<bool>("--step-share") { Description = "Time the augmentation layers against a training step of the augmented lecture model (batch 32, random inputs)." };
        var data = new Option<string?>("--data") { Description = "For --measure: a class-folder tree or zip (default: the bundled stand-in set).", HelpName = "DIR|ZIP" };
        var seeds = new Option<string>("--seeds") { Description = "For --measure: comma-separated training seeds.", DefaultValueFactory = _ => "1,2,3" };
        var epochs = OptionFactory.Int("--epochs", "For --measure: at most this many epochs (early stopping on val_accuracy).", 100, 1);
        var patience = OptionFactory.Int("--patience", "For --measure: early-stopping patience.", 15, 0);
        var threads = OptionFactory.Int("--threads", "Threads for the kernels.", Environment.ProcessorCount, 1);
        var cmd = new Command("augment", "Write a 4×4 grid of 16 augmented versions of an image (--image, --out), or measure augmentation on the lecture model (--measure).")
            { image, output, size, seed, measure, stepShare, data, seeds, epochs, patience, threads };
        cmd.SetAction(pr => host.Execute(pr, ctx =>
        {
            if (pr.GetValue(stepShare)) return StepShare(ctx, pr.GetValue(threads));
            if (pr.GetValue(measure))
                return Measure(ctx, pr.GetValue(data), ParseSeeds(pr.GetValue(seeds)!), pr.GetValue(epochs), pr.GetValue(patience), pr.GetValue(threads));
            string file = pr.GetValue(image) ?? throw new CliException("augment: give --image FILE (or --measure, --step-share).", ExitCodes.Usage);
            return Preview(ctx, file, pr.GetValue(output)!, pr.GetValue(size), pr.GetValue(seed));
        }));
        return cmd;
    }

    private static int[] ParseSeeds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var list = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out list[i]))
                throw new CliException($"--seeds: '{parts[i]}' is not an integer (expected e.g. 1,2,3).", ExitCodes.Usage);
        return list.Length > 0 ? list : throw new CliException("--seeds: give at least one seed.", ExitCodes.Usage);
    }

    /// <summary>Loads the image, runs 16 copies through <see cref="Stack"/> in training mode and writes them as a 4×4 grid.</summary>
    public static int Preview(CliContext ctx, string file, string outPath, int size, int seed)
    {
        var pixels = ImageFile.Load(file, size, size, 1, 0);
        const int n = 16, cols = 4, gap = 4;
        var x = new Tensor(n, size, size, 1);
        for (int i = 0; i < n; i++) pixels.CopyTo(x.Span.Slice(i * pixels.Length, pixels.Length));
        Tensor y = x;
        var stack = Stack();
        for (int l = 0; l < stack.Length; l++)
        {
            stack[l].Seed = seed * 31 + l;
            y = stack[l].Forward(y, training: true);
        }
        int side = cols * size + (cols + 1) * gap;
        using var grid = new Image<L8>(side, side, new L8(96));
        for (int i = 0; i < n; i++)
        {
            int ox = gap + (i % cols) * (size + gap), oy = gap + (i / cols) * (size + gap);
            for (int r = 0; r < size; r++)
            for (int c = 0; c < size; c++)
                grid[ox + c, oy + r] = new L8((byte)Math.Clamp(MathF.Round(y.Span[(i * size + r) * size + c]), 0, 255));
        }
        string? dir = Path.GetDirectoryName(Path.GetFullPath(outPath));
        if (dir is not null) Directory.CreateDirectory(dir);
        grid.SaveAsPng(outPath);
        ctx.WriteLine($"Wrote {outPath}: 16 augmented versions of {file} ({size}×{size}; {string.Join(", ", stack.Select(Describe))}; seed {seed}).");
        return ExitCodes.Success;
    }

    private static string Describe(Layer l) => l switch
    {
        RandomRotation r => string.Create(CultureInfo.InvariantCulture, $"RandomRotation({r.Factor.Upper}, {r.FillMode})"),
        RandomZoom z => string.Create(CultureInfo.InvariantCulture, $"RandomZoom({z.HeightFactor.Upper}, {z.FillMode})"),
        RandomTranslation t => string.Create(CultureInfo.InvariantCulture, $"RandomTranslation({t.HeightFactor.Upper}, {t.WidthFactor.Upper}, {t.FillMode})"),
        _ => l.TypeName,
    };

    /// <summary>The experiment: per seed, the lecture model without and with <see cref="Stack"/>; prints one line per run and a table.</summary>
    public static int Measure(CliContext ctx, string? dataPath, int[] seeds, int epochs, int patience, int threads)
    {
        var c = CultureInfo.InvariantCulture;
        string path = dataPath ?? MandarinCache.Ensure(ctx);
        var data = DataSources.LoadForTraining(ctx, path, DataSources.Detect(path), (80, 80, 1), 1337, Ratios.Lecture);
        var test = data.Test ?? throw new CliException($"'{path}' gives no test part; the experiment needs train, val and test.");
        ctx.WriteLine(string.Create(c, $"Lecture model, split 5/7, 1/7, 1/7 (seed 1337), Adam, batch 32, up to {epochs} epochs, EarlyStopping(val_accuracy, patience {patience}, restore best), {threads} thread(s)."));
        ctx.WriteLine($"Augmentation: {string.Join(", ", Stack().Select(Describe))}.");
        var results = new Dictionary<bool, List<(double Val, double Test, int Epochs, int Best, double Seconds, double AugShare)>> { [false] = [], [true] = [] };
        foreach (int seed in seeds)
        foreach (bool augment in new[] { false, true })
        {
            var model = Lecture(augment ? Stack() : [], data.ClassNames.Count);
            model.Seed = seed;
            model.Threads = threads;
            ModelZoo.Compile(model);
            var stop = new EarlyStopping("val_accuracy", patience: patience, restoreBestWeights: true);
            var clock = Stopwatch.StartNew();
            var history = model.Fit(data.Train, epochs: epochs, batchSize: 32, validationData: data.Val, callbacks: [stop], seed: seed,
                cancellationToken: ctx.Cancellation);
            double seconds = clock.Elapsed.TotalSeconds;
            double v = model.Evaluate(data.Val)[1], t = model.Evaluate(test)[1];
            double share = augment ? AugmentationSeconds(model, data.Train) / (seconds / history.Epochs) : 0;
            results[augment].Add((v, t, history.Epochs, stop.BestEpoch + 1, seconds, share));
            ctx.WriteLine(string.Create(c, $"seed {seed} {(augment ? "augmented" : "plain    ")}: {history.Epochs} epochs (best {stop.BestEpoch + 1}), " +
                $"val {v:F3}  test {t:F3}  ({seconds:F1} s, {seconds / history.Epochs:F3} s/epoch{(augment ? $", augmentation {100 * share:F1} % of an epoch" : "")})"));
        }
        ctx.WriteLine();
        ctx.WriteLine("| model | val accuracy per seed | val mean ± sd | test accuracy per seed | test mean ± sd | epochs (best) | s/epoch |");
        ctx.WriteLine("|---|---|---:|---|---:|---|---:|");
        foreach (bool augment in new[] { false, true })
        {
            var r = results[augment];
            ctx.WriteLine(string.Create(c, $"| {(augment ? "with augmentation" : "without")} | {string.Join(" / ", r.Select(q => q.Val.ToString("F3", c)))} | " +
                $"{r.Average(q => q.Val):F3} ± {Sd(r.Select(q => q.Val)):F3} | {string.Join(" / ", r.Select(q => q.Test.ToString("F3", c)))} | " +
                $"{r.Average(q => q.Test):F3} ± {Sd(r.Select(q => q.Test)):F3} | {string.Join(" / ", r.Select(q => $"{q.Epochs} ({q.Best})"))} | " +
                $"{r.Average(q => q.Seconds / q.Epochs):F3} |"));
        }
        var shares = results[true].Select(q => q.AugShare).ToArray();
        ctx.WriteLine(string.Create(c, $"Augmentation layers' forward time per epoch / epoch time: {string.Join(" / ", shares.Select(s => (100 * s).ToString("F1", c)))} % (mean {100 * shares.Average():F1} %)."));
        return ExitCodes.Success;
    }

    /// <summary>Medians over 30 interleaved repetitions, batch 32 of random 0–255 80×80 inputs: a training step of the lecture
    /// model without and with <see cref="Stack"/>, and the stack's training-mode forward alone (plus the naive warp twin, 1 thread).</summary>
    public static int StepShare(CliContext ctx, int threads)
    {
        var c = CultureInfo.InvariantCulture;
        var rng = new Rng(1);
        var x = new Tensor(32, 80, 80, 1);
        for (int i = 0; i < x.Length; i++) x.Span[i] = rng.Uniform(0, 255);
        var y = new int[32];
        for (int i = 0; i < y.Length; i++) y[i] = rng.NextInt(57);
        var plain = Lecture([], 57);
        var augmented = Lecture(Stack(), 57);
        foreach (var m in new[] { plain, augmented }) { m.Seed = 1; m.Threads = threads; ModelZoo.Compile(m); }
        var layers = augmented.Layers.OfType<RandomPreprocessingLayer>().ToArray();
        var transforms = new float[6 * 32];
        for (int i = 0; i < 32; i++) { transforms[6 * i] = 0.98f; transforms[6 * i + 1] = -0.1f; transforms[6 * i + 2] = 4f; transforms[6 * i + 3] = 0.1f; transforms[6 * i + 4] = 0.98f; transforms[6 * i + 5] = -3f; }
        var scratch = new float[x.Length];
        const int reps = 30;
        double[] tPlain = new double[reps], tAug = new double[reps], tStack = new double[reps], tNaive = new double[reps];
        for (int r = -3; r < reps; r++)
        {
            var sw = Stopwatch.StartNew();
            plain.TrainOnBatch(x, y);
            double a = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            augmented.TrainOnBatch(x, y);
            double b = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            var t = x;
            foreach (var l in layers) t = l.Forward(t, training: true);
            double s3 = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            for (int k = 0; k < 3; k++) Kernels.AffineWarpReference.Forward(x.Span, scratch, 32, 80, 80, 1, transforms, Interpolation.Bilinear, FillMode.Nearest, 0f);
            double n = sw.Elapsed.TotalMilliseconds;
            if (r < 0) continue;
            tPlain[r] = a; tAug[r] = b; tStack[r] = s3; tNaive[r] = n;
        }
        static double Median(double[] v) { var s = (double[])v.Clone(); Array.Sort(s); return s[s.Length / 2]; }
        double mp = Median(tPlain), ma = Median(tAug), ms = Median(tStack), mn = Median(tNaive);
        ctx.WriteLine(string.Create(c, $"Batch 32, 80×80×1, {threads} thread(s), medians of {reps} interleaved repetitions:"));
        ctx.WriteLine(string.Create(c, $"  training step, lecture model:                 {mp:F2} ms"));
        ctx.WriteLine(string.Create(c, $"  training step, with the augmentation stack:   {ma:F2} ms"));
        ctx.WriteLine(string.Create(c, $"  the stack's forward alone (3 warps):          {ms:F2} ms = {100 * ms / ma:F1} % of the augmented step"));
        ctx.WriteLine(string.Create(c, $"  3 warps with the naive twin (1 thread):       {mn:F2} ms"));
        return ExitCodes.Success;
    }

    // Sample standard deviation (n − 1); 0 for one value.
    private static double Sd(IEnumerable<double> values)
    {
        var v = values.ToArray();
        if (v.Length < 2) return 0;
        double m = v.Average();
        return Math.Sqrt(v.Sum(q => (q - m) * (q - m)) / (v.Length - 1));
    }

    // Seconds the model's augmentation layers take, in training mode, for one epoch of batches of 32 (median of 5 epochs).
    private static double AugmentationSeconds(Sequential model, Dataset train)
    {
        var layers = model.Layers.OfType<RandomPreprocessingLayer>().ToArray();
        var batches = new List<Tensor>();
        for (int s = 0; s < train.Count; s += 32)
            batches.Add(train.X.Gather(Enumerable.Range(s, Math.Min(32, train.Count - s)).ToArray()));
        var times = new double[5];
        for (int e = 0; e < times.Length; e++)
        {
            var clock = Stopwatch.StartNew();
            foreach (var b in batches)
            {
                var y = b;
                foreach (var l in layers) y = l.Forward(y, training: true);
            }
            times[e] = clock.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return times[times.Length / 2];
    }
}
