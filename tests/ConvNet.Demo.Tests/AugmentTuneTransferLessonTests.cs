using System.Globalization;
using ConvNet.Demo.Commands;
using ConvNet.Demo.Teaching;
using ConvNet.Tuning;
using L = ConvNet.Demo.Teaching.AugmentTuneTransferLesson;

namespace ConvNet.Demo.Tests;

/// <summary>
/// Walkthrough page 14: the numbers it computes are recomputed here (augmentation arithmetic, convnet tune's space,
/// Hyperband's totals, ResNet-18's parameter counts against the model `convnet transfer` loads), the measurements it
/// quotes are the ones the README and docs report, and its figures show what the augmentation layers produce.
/// </summary>
public sealed class AugmentTuneTransferLessonTests
{
    private static readonly string Text = Lessons.Render(14);
    private static string Doc(params string[] path) => File.ReadAllText(Path.Combine([WalkthroughFigureTests.RepoRoot(), .. path]));
    private static string F3(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);

    [Fact]
    public void Augmentation_parameters_in_pixels_and_degrees()
    {
        Assert.Contains($"±{(0.03 * 360).ToString("0.0", CultureInfo.InvariantCulture)} degrees", Text);
        Assert.Equal(10.5, 2 * 39.5 * Math.Sqrt(2) * Math.Sin(10.8 / 2 * Math.PI / 180), 1);
        Assert.Contains("moves up to 10.5 px", Text);
        Assert.Contains($"drawn {(80 / 1.1).ToString("0.0", CultureInfo.InvariantCulture)} to {(80 / 0.9).ToString("0.0", CultureInfo.InvariantCulture)} px wide", Text);
        Assert.Contains("±8 px in each direction", Text);
        // The stack is the one `convnet augment` and `convnet tune` use.
        var stack = AugmentCommand.Stack();
        Assert.Equal(["RandomRotation", "RandomZoom", "RandomTranslation"], stack.Select(l => l.TypeName));
    }

    [Fact]
    public void Quoted_accuracies_are_the_README_and_docs_measurements_as_counts()
    {
        string readme = Doc("README.md"), tuning = Doc("docs", "tuning.md"), transfer = Doc("docs", "walkthroughs", "transfer-learning.md");
        string Seeds(int[] k, int n) => string.Join(" / ", k.Select(v => F3(v / (double)n)));
        foreach (var (_, val, test) in L.Augmentation)
        {
            Assert.Contains(Seeds(val, 57), readme);
            Assert.Contains(Seeds(test, 57), readme);
        }
        Assert.Contains("0.819 ± 0.044", readme);
        Assert.Contains("0.819 ± 0.044", Text);
        Assert.Contains("**0.836 ± 0.073**", readme);
        Assert.Contains("0.836 ± 0.073", Text);
        foreach (var (_, _, best, defaults) in L.Tuning)
        {
            Assert.Contains($"**{F3(best / 57.0)}**", tuning);
            Assert.Contains(F3(defaults / 57.0), tuning);
        }
        foreach (var (seed, scratch, frozen) in L.Transfer)
        {
            string row = transfer.Split('\n').First(l => l.StartsWith($"| {seed} | 0.", StringComparison.Ordinal) && l.Contains("**", StringComparison.Ordinal));
            Assert.Contains($"**{F3(scratch / 204.0)}**", row);
            Assert.Contains($"**{F3(frozen / 204.0)}**", row);
        }
        // Training seed 1 over split seeds 1337 / 1 / 2, as in transfer-learning.md's second table.
        Assert.Contains($"| 1 | {string.Join(" / ", L.Transfer.Select(t => F3(t.Scratch / 204.0)))} | {string.Join(" / ", L.Transfer.Select(t => F3(t.Frozen / 204.0)))} |", transfer);
        Assert.Contains($"{string.Join(" / ", L.Transfer.Select(t => F3(t.Scratch / 204.0)))}", readme);
        Assert.Contains($"{string.Join(" / ", L.Transfer.Select(t => F3(t.Frozen / 204.0)))}", readme);
        Assert.Contains("**+14.1 points**", readme);
        Assert.Contains("mean gain +14.1 points", Text);
    }

    [Fact]
    public void The_tuning_space_is_convnet_tunes_and_Hyperband_trains_30_trials_for_166_epochs()
    {
        var hp = new HyperParameters();
        TuneCommand.Build(hp, 80, 80, 1, 57, threads: 1);
        Assert.Equal(L.Space.Select(s => s.Name).Order(), hp.Space.Select(p => p.Name).Order());
        // Declaring an entry again with other values throws: these are exactly the command's values.
        int[][] filters = [[8, 16, 32], [16, 32, 64], [32, 64, 128]];
        for (int i = 0; i < 3; i++) hp.Choice($"filters_{i + 1}", filters[i], filters[i][1]);
        hp.Choice("units", [64, 128, 256], 128);
        hp.Float("dropout", 0.0, 0.5, step: 0.1);
        hp.Boolean("augment");
        Assert.Throws<ArgumentException>(() => hp.Choice("units", [64, 128], 128));
        int dropoutValues = (int)Math.Round((0.5 - 0.0) / 0.1) + 1;
        Assert.Equal([3, 3, 3, 3, dropoutValues, 2], L.Space.Where(s => s.Count > 0).Select(s => s.Count));
        Assert.Equal(3 * 3 * 3 * 3 * 6 * 2, L.DiscreteConfigurations(L.Space.Select(s => s.Count)));
        Assert.Contains("= 972 (× 10 learning rates in a GridSearch = 9,720)", Text);
        foreach (var p in hp.Space)
            Assert.Contains($"default {L.Space.Single(s => s.Name == p.Name).Default})", p.ToString(), StringComparison.OrdinalIgnoreCase);

        Assert.Equal((30, 166), L.HyperbandTotals(15, 3));
        Assert.Contains("| 30 | 166 |", Doc("docs", "tuning.md"));
        // R = 27: brackets of 27, 12, 6, 4 starting trials (docs/tuning.md's formula), 70 trials, 375 epochs.
        Assert.Equal([27, 12, 6, 4], Hyperband.Schedule(27, 3).Select(b => b.Rounds[0].Trials));
        Assert.Equal((70, 375), L.HyperbandTotals(27, 3));
    }

    [Fact]
    public void ResNet18_counts_match_the_base_and_head_that_convnet_transfer_trains()
    {
        var resnet = L.ResNet18Base();
        var all = L.ResNetParams(resnet, "");
        var stage4 = L.ResNetParams(resnet, "conv5_");
        Assert.Equal(resnet.CountParams(), all.ConvWeights + all.BatchNorm);
        // Stage 4 by hand: 3·3·256·512 + 3·3·512·512 + 1·1·256·512 + 2·3·3·512·512, five BatchNorms of 4·512.
        Assert.Equal(3 * 3 * 256 * 512 + 3 * 3 * 512 * 512 + 256 * 512 + 2 * 3 * 3 * 512 * 512, stage4.ConvWeights);
        Assert.Equal(5 * 4 * 512, stage4.BatchNorm);

        // Folded by the lesson's arithmetic: torchvision's 2-2-2-2 blocks give Applications.ResNet18's convs plus a bias per filter.
        Assert.Equal((all.Folded, stage4.Folded), L.FoldedResNet([2, 2, 2, 2]));

        // The ImageNet ResNet-18 that `convnet transfer` imports (BatchNorm folded into conv biases) at 128×128: 2-2-2-3 blocks.
        var transfer = TransferBase.Load(TransferCommand.DefaultResNetPath(), isDefault: true, size: 128);
        var (total, last) = L.FoldedResNet(L.MlNetBlocks);
        Assert.Equal(last, transfer.Stage4.CountParams());
        Assert.Equal(total, transfer.Stem.CountParams() + transfer.Stage4.CountParams());
        Assert.Equal(3 * 2 + 1, transfer.Stage4.Layers.Count(l => l is Conv2D));
        Assert.Equal([4, 4, 512], transfer.FeatureMapShape);
        var head = TransferBase.Head(transfer.FeatureMapShape, classes: 16, seed: 1);
        Assert.Equal(512 * 16 + 16, head.TrainableParamCount);
        Assert.Contains(FormattableString.Invariant($"fine-tuning stage 4 trains {last + 8208:N0}"), Text);
        Assert.Contains(FormattableString.Invariant($"frozen phase trains 8,208 of {total + 8208:N0}"), Text);
        Assert.Contains(FormattableString.Invariant($"stage 4, {last / 1e6:0.0} M weights"), Doc("docs", "walkthroughs", "transfer-learning.md"));
    }

    [Fact]
    public void The_augment_grid_shows_the_character_and_what_the_layers_make_of_it()
    {
        var grid = (Figure)Lessons.Figures(14)[0];
        Assert.Equal(9, grid.Panels.Count);
        var original = L.GridOriginal();
        Assert.Equal(original.Select(v => (double)v), grid.Panels[0].Values.Cast<double>());

        // The same layers, built here with the same arguments and seeds, in training mode.
        var x = new Tensor([.. Enumerable.Repeat(original, 8).SelectMany(a => a)], 8, 80, 80, 1);
        Layer[] layers = [new RandomRotation(0.03, FillMode.Nearest), new RandomZoom(0.1, fillMode: FillMode.Nearest), new RandomTranslation(0.1, 0.1, FillMode.Nearest)];
        for (int i = 0; i < layers.Length; i++)
        {
            layers[i].Seed = 1 + i;
            layers[i].Build([80, 80, 1]);
            x = layers[i].Forward(x, training: true).Clone();
        }
        int changed = 0;
        for (int t = 0; t < 8; t++)
        {
            var tile = grid.Panels[t + 1].Values.Cast<double>().ToArray();
            Assert.Equal(x.Span.Slice(t * 6400, 6400).ToArray().Select(v => (double)v), tile);
            if (!tile.SequenceEqual(original.Select(v => (double)v))) changed++;
            // Nearest fill keeps paper at the border: the corners stay light.
            Assert.True(tile[0] > 150 && tile[^1] > 150, $"draw {t + 1}: corners {tile[0]}, {tile[^1]}");
        }
        Assert.Equal(8, changed);

        var bars = ((Figure)Lessons.Figures(14)[1]).Charts.Single();
        Assert.Equal(L.Augmentation.SelectMany(a => a.Val).Select(k => k / 57.0), bars.Values);
    }
}
