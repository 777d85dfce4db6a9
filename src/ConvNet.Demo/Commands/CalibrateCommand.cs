using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;

namespace ConvNet.Demo.Commands;

/// <summary>
/// <c>convnet calibrate [--data DIR] [--seeds 1,2,3]</c>: how hard is a Mandarin set? Trains the lecture's model with the
/// lecture's settings once per seed and compares it with a 1-nearest-neighbour classifier on raw 80×80 pixels.
/// The stand-in set is calibrated so that the CNN's mean validation accuracy is 0.70–0.90 and 1-NN is at least 0.15 lower.
/// </summary>
internal static class CalibrateCommand
{
    public static Command Create(CliHost host)
    {
        var data = new Option<string?>("--data") { Description = "A class-folder tree or zip (default: the bundled stand-in set).", HelpName = "DIR|ZIP" };
        var seeds = new Option<string>("--seeds") { Description = "Comma-separated training seeds.", DefaultValueFactory = _ => "1,2,3" };
        var threads = OptionFactory.Int("--threads", "Threads for the kernels.", Environment.ProcessorCount, 1);
        var cmd = new Command("calibrate", "Train the lecture model once per seed and compare with 1-nearest-neighbour on raw pixels (val and test accuracy).")
            { data, seeds, threads };
        cmd.SetAction(pr => host.Execute(pr, ctx =>
        {
            var seedList = ParseSeeds(pr.GetValue(seeds)!);
            return Run(ctx, pr.GetValue(data), seedList, pr.GetValue(threads));
        }));
        return cmd;
    }

    private static int[] ParseSeeds(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var seeds = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out seeds[i]))
                throw new CliException($"--seeds: '{parts[i]}' is not an integer (expected e.g. 1,2,3).");
        return seeds.Length > 0 ? seeds : throw new CliException("--seeds: give at least one seed.");
    }

    public static int Run(CliContext ctx, string? dataPath, int[] seeds, int threads)
    {
        var c = CultureInfo.InvariantCulture;
        string path = dataPath ?? MandarinCache.Ensure(ctx);
        var kind = DataSources.Detect(path);
        var data = DataSources.LoadForTraining(ctx, path, kind, (80, 80, 1), 1337, Ratios.Lecture);
        var test = data.Test ?? throw new CliException($"\"{path}\" gives no test part; calibration needs train, val and test.");
        double nnVal = NearestNeighbour(data.Train, data.Val), nnTest = NearestNeighbour(data.Train, test);
        ctx.WriteLine(string.Create(c, $"1-NN on raw pixels: val {nnVal:F3}  test {nnTest:F3}"));
        var vals = new List<double>();
        var tests = new List<double>();
        foreach (int seed in seeds)
        {
            var clock = Stopwatch.StartNew();
            var model = ModelZoo.Mandarin(classes: data.ClassNames.Count);
            model.Seed = seed;
            model.Threads = threads;
            ModelZoo.Compile(model);
            var stop = new EarlyStopping("val_accuracy", patience: 15, restoreBestWeights: true);
            var history = model.Fit(data.Train, epochs: 100, batchSize: 32, validationData: data.Val, callbacks: [stop], seed: seed,
                cancellationToken: ctx.Cancellation);
            double v = model.Evaluate(data.Val)[1], t = model.Evaluate(test)[1];
            vals.Add(v); tests.Add(t);
            ctx.WriteLine(string.Create(c, $"CNN seed {seed}: {history.Epochs} epochs (best {stop.BestEpoch + 1}), val {v:F3}  test {t:F3}  ({clock.Elapsed.TotalSeconds:F1} s)"));
        }
        double meanVal = vals.Average(), meanTest = tests.Average();
        ctx.WriteLine(string.Create(c, $"CNN mean: val {meanVal:F3}  test {meanTest:F3}"));
        bool inRange = meanVal is >= 0.70 and <= 0.90;
        bool gap = meanVal - nnVal >= 0.15 && meanTest - nnTest >= 0.15;
        ctx.WriteLine($"Target: CNN mean val in [0.70, 0.90]: {(inRange ? "yes" : "no")}; 1-NN at least 0.15 below the CNN on val and test: {(gap ? "yes" : "no")}.");
        return ExitCodes.Success;
    }

    // Fraction of query images whose nearest training image (squared L2 on raw 0–255 pixels) has the same label.
    private static double NearestNeighbour(Dataset train, Dataset query)
    {
        int per = train.X.Length / train.Count, correct = 0;
        for (int i = 0; i < query.Count; i++)
        {
            var q = query.X.Span.Slice(i * per, per);
            float best = float.PositiveInfinity;
            int label = -1;
            for (int j = 0; j < train.Count; j++)
            {
                float d = TensorPrimitives.Distance(q, train.X.Span.Slice(j * per, per));
                if (d < best) { best = d; label = train.Y[j]; }
            }
            if (label == query.Y[i]) correct++;
        }
        return (double)correct / query.Count;
    }
}
