using System.Text.Json;
using ConvNet.Data;
using ConvNet.Demo.Commands;
using ConvNet.Onnx.Tests;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit.Abstractions;

namespace ConvNet.Demo.Tests;

/// <summary><c>convnet transfer</c>: the emoji set's split, the recipe on a tiny set, the frozen base against ONNX Runtime, bad input.</summary>
public class TransferTests(ITestOutputHelper output)
{
    private static readonly string[] Parts = ["train", "val", "test"];

    /// <summary>(path, class, part) of every committed emoji file.</summary>
    private static List<(string Path, string Class, int Part)> CommittedFiles()
    {
        string root = TransferCommand.FindEmojiObjects();
        var files = new List<(string, string, int)>();
        for (int part = 0; part < 3; part++)
            foreach (var dir in Directory.GetDirectories(Path.Combine(root, Parts[part])))
                foreach (var f in Directory.GetFiles(dir, "*.png"))
                    files.Add((f, Path.GetFileName(dir), part));
        return files;
    }

    /// <summary>A tiny class-folder set: <paramref name="items"/> emoji (both styles) of the first <paramref name="classes"/> classes.</summary>
    private static void CopyTinySet(string target, int classes = 3, int items = 5)
    {
        foreach (var cls in CommittedFiles().GroupBy(f => f.Class).OrderBy(g => g.Key, StringComparer.Ordinal).Take(classes))
        {
            Directory.CreateDirectory(Path.Combine(target, cls.Key));
            var stems = cls.Select(f => Path.GetFileName(f.Path)[..Path.GetFileName(f.Path).LastIndexOf('-')]).Distinct().Order(StringComparer.Ordinal).Take(items).ToHashSet();
            foreach (var f in cls.Where(f => stems.Contains(Path.GetFileName(f.Path)[..Path.GetFileName(f.Path).LastIndexOf('-')])))
                File.Copy(f.Path, Path.Combine(target, cls.Key, Path.GetFileName(f.Path)));
        }
    }

    [Fact]
    public void The_committed_set_has_16_classes_and_both_styles_of_an_emoji_on_the_same_side()
    {
        var files = CommittedFiles();
        Assert.Equal(932, files.Count);
        Assert.Equal(16, files.Select(f => f.Class).Distinct().Count());
        var sides = files.GroupBy(f => Path.GetFileName(f.Path)[..Path.GetFileName(f.Path).LastIndexOf('-')]).ToList();
        Assert.Equal(466, sides.Count);
        Assert.All(sides, g => Assert.Equal(["google", "twitter"], g.Select(f => Path.GetFileNameWithoutExtension(f.Path).Split('-')[^1]).Order()));
        Assert.All(sides, g => Assert.Single(g.Select(f => f.Part).Distinct()));
    }

    [Fact]
    public void Splitting_the_pooled_set_by_item_with_seed_1337_gives_the_committed_split()
    {
        var files = CommittedFiles();
        var classNames = files.Select(f => f.Class).Distinct().Order(StringComparer.Ordinal).ToList();
        var (groups, rule) = TransferData.FindGroups(files.Select(f => f.Path).ToList());
        Assert.StartsWith("by item", rule);
        var y = files.Select(f => classNames.IndexOf(f.Class)).ToArray();
        var side = TransferData.SplitByGroup(y, groups, classNames.Count, 1337);
        Assert.Equal(files.Select(f => f.Part), side);
        // Another seed gives another split, still by item.
        var other = TransferData.SplitByGroup(y, groups, classNames.Count, 1);
        Assert.NotEqual(side, other);
        Assert.All(Enumerable.Range(0, files.Count).GroupBy(i => groups[i]), g => Assert.Single(g.Select(i => other[i]).Distinct()));
    }

    [Fact]
    public void Ordinary_file_names_are_split_file_by_file()
    {
        string[] paths = ["cats/photo-1.jpg", "cats/photo-2.jpg", "cats/photo-3.jpg", "dogs/IMG_0001.jpg", "dogs/IMG_0002.jpg"];
        var (groups, rule) = TransferData.FindGroups(paths);
        Assert.Equal("by file", rule);
        Assert.Equal(paths.Length, groups.Distinct().Count());
    }

    [Fact]
    public void The_recipe_runs_on_a_tiny_set_and_writes_results_json_report_and_plots()
    {
        using var tmp = new TempDir();
        CopyTinySet(tmp["data"]);
        // One grayscale image: converted for the RGB base, and said.
        var some = Directory.GetFiles(tmp["data"], "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        using (var img = Image.Load<Rgb24>(some))
        {
            using var gray = img.CloneAs<L8>();
            gray.SaveAsPng(some);
        }
        var r = CliRunner.Run("transfer", "--data", tmp["data"], "--input-size", "32", "--scratch-size", "16", "--epochs", "2", "--head-epochs", "2",
            "--fine-tune-epochs", "1", "--seed", "3", "--out", tmp["run"]);
        output.WriteLine(r.ToString());
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("grayscale", r.Out);
        Assert.Contains("Split by item", r.Out);
        Assert.Contains("mirrors", r.Out);
        using var json = JsonDocument.Parse(File.ReadAllText(tmp["run/results.json"]));
        Assert.Equal(["scratch_test_acc", "frozen_test_acc", "finetuned_test_acc", "scratch_val_acc", "frozen_val_acc", "finetuned_val_acc", "seconds", "classes"],
            json.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(3, json.RootElement.GetProperty("classes").GetArrayLength());
        foreach (var key in new[] { "scratch_test_acc", "frozen_test_acc", "finetuned_test_acc" })
            Assert.InRange(json.RootElement.GetProperty(key).GetDouble(), 0, 1);
        foreach (var f in new[] { "report.md", "curves.png", "errors.png", "confusion.png" }) Assert.True(File.Exists(tmp["run/" + f]), f);
        Assert.Contains("| frozen |", File.ReadAllText(tmp["run/report.md"]));
    }

    [Fact]
    public void Features_computed_once_give_what_the_frozen_base_inside_the_model_gives()
    {
        var resnet = TransferBase.Load(TransferCommand.DefaultResNetPath(), isDefault: true, size: 64);
        var images = EmojiImages(64, 4);
        var head = TransferBase.Head(resnet.FeatureMapShape, classes: 5, seed: 7);
        var (_, maps) = resnet.Run(images);
        var cached = head.Predict(maps);                                        // what phase 2 trains on: feature maps computed once
        var frozen = resnet.Frozen(head);                                       // the lecture's model: base (frozen, training: false) → head
        Assert.Equal(512 * 5 + 5, frozen.TrainableParamCount);
        var whole = frozen.Predict(resnet.Preprocess(images));
        var (rel, abs) = Ort.Diff(whole.Span, cached.Span);
        output.WriteLine($"frozen model vs cached feature maps + head: max abs {abs:E2}, rel {rel:E2}");
        Assert.True(rel <= 1e-6, $"rel {rel:E2}");

        // Fine-tuning stage 4 on cached stage-3 outputs starts from the same function.
        var (mid, _) = resnet.Run(images);
        var sameHead = TransferBase.Head(resnet.FeatureMapShape, classes: 5, seed: 8);   // a layer is applied once: a copy of the head
        sameHead.SetWeights(head.GetWeights());
        var tuned = resnet.FineTuneLast(sameHead);
        Assert.True(tuned.TrainableParamCount > 8_000_000, $"{tuned.TrainableParamCount}");   // stage 4 (13.1M: three blocks in this file) and the head
        var (rel2, _) = Ort.Diff(tuned.Predict(mid).Span, cached.Span);
        Assert.True(rel2 <= 1e-6, $"rel {rel2:E2}");
    }

    [Fact]
    public void The_rebuilt_and_cut_base_gives_ONNX_Runtimes_features_on_emoji_at_224()
    {
        string path = TransferCommand.DefaultResNetPath();
        var resnet = TransferBase.Load(path, isDefault: true, size: 224);
        var images = EmojiImages(224, 3);
        var x = resnet.Preprocess(images);
        var (_, maps) = resnet.Run(images);
        Assert.Equal([3, 7, 7, 512], maps.Shape.ToArray());
        var ours = TransferBase.Pool(maps);                                     // the head's GlobalAveragePooling2D = the file's final pool
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions { IntraOpNumThreads = 2 };
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path, options);
        double worst = 0;
        for (int i = 0; i < 3; i++)
        {
            var sample = x.Span.Slice(i * 224 * 224 * 3, 224 * 224 * 3);
            var (ort, dims) = Ort.Run(session, TestData.NhwcToNchw(sample, 1, 224, 224, 3), [1, 3, 224, 224]);
            Assert.Equal([1, 512, 1, 1], dims);
            var (rel, abs) = Ort.Diff(ours.AsSpan(i * 512, 512), ort);
            output.WriteLine($"emoji {i}: max |ConvNet − ORT| {abs:E3}, relative {rel:E3}");
            worst = Math.Max(worst, rel);
        }
        Assert.True(worst <= 1e-4, $"max rel {worst:E2}");
    }

    /// <summary>The first <paramref name="n"/> committed test emoji (sorted), RGB at size×size.</summary>
    private static Tensor EmojiImages(int size, int n)
    {
        var files = CommittedFiles().Where(f => f.Part == 2).Select(f => f.Path).Order(StringComparer.Ordinal).Take(n).ToList();
        var options = new ImageLoadOptions { ImageSize = (size, size), ColorMode = ColorMode.Rgb };
        var t = new Tensor(n, size, size, 3);
        for (int i = 0; i < n; i++) ImageDatasets.LoadImage(files[i], options).Span.CopyTo(t.Span.Slice(i * size * size * 3));
        return t;
    }

    [Fact]
    public void A_class_folder_with_one_image_is_refused_by_name()
    {
        using var tmp = new TempDir();
        CopyTinySet(tmp["data"], classes: 2);
        Directory.CreateDirectory(tmp["data/lonely"]);
        File.Copy(Directory.GetFiles(tmp["data"], "*.png", SearchOption.AllDirectories)[0], tmp["data/lonely/only-one.png"]);
        var r = CliRunner.Run("transfer", "--data", tmp["data"], "--input-size", "32", "--out", tmp["run"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("fewer than 2 images: 'lonely' (1)", r.Err);
    }

    [Fact]
    public void A_train_model_file_given_as_the_base_is_refused()
    {
        using var tmp = new TempDir();
        ModelZoo.Mandarin().Save(tmp["model.bin"]);
        var r = CliRunner.Run("transfer", "--base", tmp["model.bin"], "--out", tmp["run"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("is a ConvNet model file (from `convnet train`), not an ImageNet base", r.Err);
    }

    [Fact]
    public void An_output_path_that_is_a_file_is_refused_before_any_work()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp["out"], "x");
        var r = CliRunner.Run("transfer", "--out", tmp["out"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("is a file", r.Err);
    }

    [Fact]
    public void A_missing_ResNet18_names_the_package_to_restore()
    {
        var e = Assert.Throws<CliException>(() => TransferBase.Load("/nonexistent/ResNet18Onnx/ResNet18.onnx", isDefault: true, size: 64));
        Assert.Contains("Restore the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1", e.Message);
        var r = CliRunner.Run("transfer", "--base", "/nonexistent/ResNet18.onnx");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("does not exist", r.Err);
    }
}
