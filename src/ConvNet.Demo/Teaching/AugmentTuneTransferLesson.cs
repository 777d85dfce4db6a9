using ConvNet.Data.Mandarin;
using ConvNet.Demo.Commands;
using ConvNet.Tuning;

namespace ConvNet.Demo.Teaching;

/// <summary>
/// Lesson 14: augmentation, tuning and transfer learning — the arithmetic behind the augmentation stack, the tuning
/// space and Hyperband's schedule, and ResNet-18's parameter counts; the accuracies measured in the README,
/// docs/tuning.md and docs/walkthroughs/transfer-learning.md quoted as counts out of 57 (or 204) images.
/// </summary>
internal static class AugmentTuneTransferLesson
{
    public const int Size = 80, ValImages = 57, TestImages204 = 204;
    public const double Rotation = 0.03, Zoom = 0.1, Translation = 0.1;

    /// <summary>The figure's character: stand-in sample 'ma'-1 at 80×80 (generator seed 1337).</summary>
    public const string GridLabel = "ma";
    public const int GridSample = 1, GridCopies = 8, GridSeed = 1;

    /// <summary>README "Measured: the lecture model with and without augmentation" (2026-11-28): val and test accuracy of
    /// seeds 1, 2, 3 as counts out of 57.</summary>
    public static readonly (string Model, int[] Val, int[] Test)[] Augmentation =
    [
        ("without augmentation", [49, 47, 44], [46, 45, 41]),
        ("with augmentation", [52, 48, 53], [51, 43, 49]),
    ];

    /// <summary>docs/tuning.md "Measured" (2026-11-28): best trial's val accuracy vs the lecture defaults with the same budget, out of 57.</summary>
    public static readonly (string Run, int Trials, int Best, int Defaults)[] Tuning =
    [
        ("RandomSearch, seed 1337", 12, 39, 41),
        ("RandomSearch, seed 1", 12, 45, 47),
        ("Hyperband, seed 1337", 30, 44, 41),
    ];

    /// <summary>transfer-learning.md "Measured" (2026-11-28): test accuracy on 204 unseen emoji, split seeds 1337 / 1 / 2.</summary>
    public static readonly (int Seed, int Scratch, int Frozen)[] Transfer = [(1337, 70, 88), (1, 71, 105), (2, 76, 110)];

    /// <summary>convnet tune's space (TuneCommand.Build): name, number of values, default.</summary>
    public static readonly (string Name, string Values, int Count, string Default)[] Space =
    [
        ("filters_1", "8, 16, 32", 3, "16"),
        ("filters_2", "16, 32, 64", 3, "32"),
        ("filters_3", "32, 64, 128", 3, "64"),
        ("units", "64, 128, 256", 3, "128"),
        ("dropout", "0, 0.1, ..., 0.5", 6, "0"),
        ("augment", "false, true", 2, "false"),
        ("learning_rate", "1e-4 ... 1e-2, log-uniform", 0, "0.001"),
    ];

    public const int HyperbandEpochs = 15, HyperbandFactor = 3, Classes = 16, FeatureChannels = 512, TransferSize = 128;

    public static long DiscreteConfigurations(IEnumerable<int> counts) => counts.Where(c => c > 0).Aggregate(1L, (a, c) => a * c);

    /// <summary>Trials and epochs trained over Hyperband's brackets (continued trials count only the epochs they add).</summary>
    public static (int Trials, int Epochs) HyperbandTotals(int maxEpochs, int factor)
    {
        int trials = 0, epochs = 0;
        foreach (var b in Hyperband.Schedule(maxEpochs, factor))
            for (int r = 0; r < b.Rounds.Count; r++)
            {
                trials += b.Rounds[r].Trials;
                epochs += b.Rounds[r].Trials * (b.Rounds[r].Epochs - (r == 0 ? 0 : b.Rounds[r - 1].Epochs));
            }
        return (trials, epochs);
    }

    /// <summary>Parameters of ResNet-18's layers whose names start with <paramref name="prefix"/> (all for ""): conv weights,
    /// BatchNorm numbers (4 per channel) and the count with each BatchNorm folded into its conv as a bias.</summary>
    public static (long ConvWeights, long BatchNorm, long Folded) ResNetParams(Model resnet, string prefix)
    {
        long conv = 0, bn = 0, folded = 0;
        foreach (var l in resnet.Layers.Where(l => l.Name.StartsWith(prefix, StringComparison.Ordinal)))
        {
            if (l is Conv2D c) { conv += c.ParamCount; folded += c.ParamCount + c.Filters; }
            if (l is BatchNormalization) bn += l.ParamCount;
        }
        return (conv, bn, folded);
    }

    /// <summary>Blocks per stage of the ImageNet ResNet-18 in Microsoft.ML.DnnImageFeaturizer.ResNet18 (three in stage 4).</summary>
    public static readonly int[] MlNetBlocks = [2, 2, 2, 3];

    /// <summary>A conv's weights plus one bias per filter.</summary>
    public static long ConvFolded(int k, int cin, int cout) => (long)k * k * cin * cout + cout;

    /// <summary>Parameters of a ResNet-18-style base with <paramref name="blocks"/> basic blocks per stage (64, 128, 256, 512
    /// channels), BatchNorm folded: the whole base and its stage 4.</summary>
    public static (long Total, long Stage4) FoldedResNet(int[] blocks)
    {
        int[] widths = [64, 128, 256, 512];
        long total = ConvFolded(7, 3, 64), stage = 0;
        for (int s = 0; s < 4; s++)
        {
            int cin = s == 0 ? 64 : widths[s - 1], c = widths[s];
            stage = s == 0 ? 0 : ConvFolded(3, cin, c) + ConvFolded(3, c, c) + ConvFolded(1, cin, c);
            stage += (s == 0 ? blocks[s] : blocks[s] - 1) * 2 * ConvFolded(3, c, c);
            total += stage;
        }
        return (total, stage);
    }

    public static Model ResNet18Base() => Applications.ResNet18(includeTop: false, inputShape: [TransferSize, TransferSize, 3]);

    private static string Images(int d) => Inv.S($"{d:+0;-0} image{(Math.Abs(d) == 1 ? "" : "s")}");

    private static double Mean(int[] k, int n) => k.Average() / n;

    private static double SampleSd(int[] k, int n)
    {
        double m = Mean(k, n);
        return Math.Sqrt(k.Sum(v => (v / (double)n - m) * (v / (double)n - m)) / (k.Length - 1));
    }

    public static void Write(Page p)
    {
        p.Line("1. Augmentation: convnet augment's stack on the 80×80 input (Keras 3's layers)");
        p.Line();
        double half = (Size - 1) / 2.0 * Math.Sqrt(2), move = 2 * half * Math.Sin(Rotation * Math.PI);
        p.Line($"    {"RandomRotation(" + Inv.S($"{Rotation}") + ")",-30} angle up to ±{Rotation} turn = ±{Rotation * 360:0.0} degrees;");
        p.Line($"    {"",-30} a corner pixel ({half:0.0} px from the centre) moves up to {move:0.0} px");
        p.Line($"    {"RandomZoom(" + Inv.S($"{Zoom}") + ")",-30} zoom 1 ± {Zoom}: an 80-pixel-wide character is drawn {Size / (1 + Zoom):0.0} to {Size / (1 - Zoom):0.0} px wide");
        p.Line($"    {"RandomTranslation(" + Inv.S($"{Translation}, {Translation}") + ")",-30} shift up to ±{Translation} × 80 = ±{Translation * Size:0} px in each direction");
        p.Line($"    {"no RandomFlip",-30} a mirrored character is another character (or none)");
        p.Line();
        p.Line("Measured in the README (2026-11-28, seeds 1 / 2 / 3, out of 57 images; mean ± sample sd):");
        p.Line();
        foreach (var (model, val, test) in Augmentation)
            p.Line($"    {model,-22} val {string.Join(" / ", val.Select(k => Inv.S($"{k}/57")))} = {Mean(val, ValImages):0.000} ± {SampleSd(val, ValImages):0.000}" +
                   $"   test {string.Join(" / ", test.Select(k => Inv.S($"{k}/57")))} = {Mean(test, ValImages):0.000} ± {SampleSd(test, ValImages):0.000}");
        var (w, a) = (Augmentation[0], Augmentation[1]);
        p.Line($"    val gain per seed: {string.Join(", ", a.Val.Zip(w.Val, (x, y) => Images(x - y)))}; " +
               $"test: {string.Join(", ", a.Test.Zip(w.Test, (x, y) => Images(x - y)))}");
        p.Line();
        p.Line("2. Tuning: convnet tune's space");
        p.Line();
        foreach (var (name, values, count, def) in Space)
            p.Line($"    {name,-14} {values,-28} {(count > 0 ? count.ToString(System.Globalization.CultureInfo.InvariantCulture) : "continuous"),10}   default {def}");
        long discrete = DiscreteConfigurations(Space.Select(s => s.Count));
        p.Line($"    discrete configurations: {string.Join(" × ", Space.Where(s => s.Count > 0).Select(s => s.Count))} = {discrete}" +
               $" (× 10 learning rates in a GridSearch = {Page.Thousands(discrete * 10)})");
        p.Line($"    12 random trials see {12.0 / discrete:0.0%} of the discrete grid");
        p.Line();
        p.Line($"Hyperband, R = {HyperbandEpochs} epochs, factor {HyperbandFactor} (trials × epochs trained to, per round):");
        foreach (var b in Hyperband.Schedule(HyperbandEpochs, HyperbandFactor))
            p.Line($"    bracket {b.Number}: {string.Join(" -> ", b.Rounds.Select(r => Inv.S($"{r.Trials} × {r.Epochs}")))}");
        var (trials, epochs) = HyperbandTotals(HyperbandEpochs, HyperbandFactor);
        p.Line($"    {trials} trials, {epochs} epochs trained (RandomSearch: 12 trials × 15 = 180)");
        p.Line();
        p.Line("Measured in docs/tuning.md (2026-11-28, val accuracy out of 57):");
        foreach (var (run, n, best, defaults) in Tuning)
            p.Line($"    {run,-24} {n,2} trials   best {best}/57 = {best / (double)ValImages:0.000}   defaults {defaults}/57 = {defaults / (double)ValImages:0.000}   {best - defaults:+0;-0} images");
        p.Line();
        p.Line($"3. Transfer: ResNet-18 without its top at {TransferSize}×{TransferSize}×3, each BatchNorm folded into its conv's bias");
        p.Line();
        long head = FeatureChannels * Classes + Classes;
        p.Line($"    {"",-26} {"torchvision/Keras (2-2-2-2)",28} {"convnet transfer's file (2-2-2-3)",34}");
        var (tv, ml) = (FoldedResNet([2, 2, 2, 2]), FoldedResNet(MlNetBlocks));
        p.Line($"    {"stem and stages 1-3",-26} {Page.Thousands(tv.Total - tv.Stage4),28} {Page.Thousands(ml.Total - ml.Stage4),34}");
        p.Line($"    {"stage 4 (512 channels)",-26} {Page.Thousands(tv.Stage4),28} {Page.Thousands(ml.Stage4),34}");
        p.Line($"    {"whole base",-26} {Page.Thousands(tv.Total),28} {Page.Thousands(ml.Total),34}");
        var resnet = ResNet18Base();
        var all = ResNetParams(resnet, "");
        p.Line($"    (Applications.ResNet18 keeps the BatchNorms: {Page.Thousands(all.ConvWeights)} conv weights + {Page.Thousands(all.BatchNorm)} BatchNorm numbers;");
        p.Line($"    folded, each BatchNorm becomes one bias per channel: {Page.Thousands(all.Folded)})");
        int side = (int)resnet.OutputShape[0];
        p.Line($"    feature map {side}×{side}×{resnet.OutputShape[2]} ({TransferSize}/32 = {TransferSize / 32}) -> GlobalAveragePooling2D -> Dropout(0.2) -> Dense({Classes})");
        p.Line($"    head: {FeatureChannels}·{Classes} + {Classes} = {Page.Thousands(head)} parameters");
        p.Line($"    convnet transfer's frozen phase trains {Page.Thousands(head)} of {Page.Thousands(ml.Total + head)} ({(double)head / (ml.Total + head):0.00%}); " +
               $"fine-tuning stage 4 trains {Page.Thousands(ml.Stage4 + head)}");
        p.Line($"    the base's arithmetic at 224 instead of 128: (224/128)² = {224.0 * 224 / (128.0 * 128):0.00} times");
        p.Line();
        p.Line("Measured in transfer-learning.md (2026-11-28, test accuracy on 204 unseen emoji):");
        foreach (var (seed, scratch, frozen) in Transfer)
            p.Line($"    split {seed,-5} scratch {scratch}/204 = {scratch / 204.0:0.000}   frozen {frozen}/204 = {frozen / 204.0:0.000}   {frozen - scratch:+0} images = {100.0 * (frozen - scratch) / TestImages204:+0.0} points");
        p.Line($"    mean gain {100.0 * Transfer.Average(t => t.Frozen - t.Scratch) / TestImages204:+0.0} points");
        p.Line();
        p.Line("Exercises (answers computed by the same code):");
        foreach (var (q, ans) in Exercises()) p.Line($"    {q,-66} {ans}");
    }

    /// <summary>The page's exercises and answers.</summary>
    public static IEnumerable<(string Question, string Answer)> Exercises()
    {
        yield return ("1. largest shift of RandomTranslation(0.1, 0.1) on 128×128, px", Inv.S($"{0.1 * 128:0.0}"));
        yield return ("2. angle range of RandomRotation(0.05), degrees", Inv.S($"±{0.05 * 360:0}"));
        yield return ("3. discrete configurations with dropout in {0, 0.25, 0.5}", Inv.S($"{DiscreteConfigurations(Space.Select(s => s.Name == "dropout" ? 3 : s.Count))}"));
        var (t27, e27) = HyperbandTotals(27, 3);
        yield return ("4. Hyperband trials and epochs for R = 27, factor 3", Inv.S($"{t27} trials, {e27} epochs"));
        yield return ("5. head parameters for 57 classes on ResNet-18's 512 features", Page.Thousands(FeatureChannels * 57 + 57));
    }

    /// <summary>The figure's input: the stand-in character, 0–255.</summary>
    public static float[] GridOriginal() =>
        [.. MandarinGenerator.RenderSampleBytes(GridLabel, GridSample, MandarinGenerator.DefaultSeed, Size).Select(b => (float)b)];

    /// <summary>The 8 augmented copies: the stack of <see cref="AugmentCommand.Stack"/> in training mode, layer seeds 1, 2, 3.</summary>
    public static Tensor GridAugmented()
    {
        var one = GridOriginal();
        var batch = new float[GridCopies * one.Length];
        for (int i = 0; i < GridCopies; i++) one.CopyTo(batch, i * one.Length);
        var x = new Tensor(batch, GridCopies, Size, Size, 1);
        var layers = AugmentCommand.Stack();
        for (int i = 0; i < layers.Length; i++)
        {
            layers[i].Seed = GridSeed + i;
            layers[i].Build([Size, Size, 1]);
            x = layers[i].Forward(x, training: true).Clone();
        }
        return x;
    }

    public static IEnumerable<Figure> Figures()
    {
        var grid = new Figure("14-augment-grid", "'ma' (80×80) and 8 draws: rotation up to 10.8 deg, zoom 0.9 to 1.1, shift up to 8 px");
        var aug = GridAugmented();
        var tiles = new List<(string Title, float[] Pixels)> { ("original", GridOriginal()) };
        for (int i = 0; i < GridCopies; i++) tiles.Add((Inv.S($"draw {i + 1}"), aug.Span.Slice(i * Size * Size, Size * Size).ToArray()));
        for (int t = 0; t < tiles.Count; t++)
        {
            if (t > 0 && t % 3 == 0) grid.NewRow();
            var v = new double[Size, Size];
            for (int r = 0; r < Size; r++)
                for (int c = 0; c < Size; c++) v[r, c] = tiles[t].Pixels[r * Size + c];
            grid.Place(new GridPanel { Title = tiles[t].Title, Cell = 2, Values = v, ShowNumbers = false, GridLines = false, Colour = x => Palette.Gray(x, 0, 255) });
        }
        yield return grid;

        var bars = new Figure("14-augmentation-accuracy", "Val accuracy out of 57, seeds 1/2/3: without (left) and with augmentation");
        var runs = Augmentation.SelectMany(m => m.Val).ToArray();
        bars.Place(new BarChart
        {
            Title = "val accuracy, 0 to 1",
            Values = [.. runs.Select(k => k / (double)ValImages)],
            Scale = v => v,
            BarWidth = 40,
            Height = 200,
            Intervals = [.. runs.Select(k => ErrorAnalysisLesson.Wilson(k, ValImages))],
            Label = i => Inv.S($"{runs[i]}/57"),
        });
        yield return bars;
    }
}
