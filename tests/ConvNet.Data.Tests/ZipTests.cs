using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace ConvNet.Data.Tests;

public class ZipTests
{
    private static readonly Rgba32 Gray = new(90, 90, 90, 255);

    private static byte[] Png(byte value) => TestImages.Encode(TestImages.Create(3, 3, (_, _) => new Rgba32(value, value, value, 255)), ".png");

    /// <summary>A zip shaped like the lecture's mandarin.zip: mandarin/&lt;class&gt;/&lt;class&gt;-k.png, plus macOS junk.</summary>
    private static string MandarinZip(TempDir dir, string name = "mandarin.zip")
    {
        var entries = new List<(string, byte[]?)> { ("mandarin/", null) };
        foreach (var (c, v) in new[] { ("ben", (byte)20), ("bai", (byte)10) })
        {
            entries.Add(($"mandarin/{c}/", null));
            for (int k = 1; k <= 3; k++) entries.Add(($"mandarin/{c}/{c}-{k}.png", Png((byte)(v + k))));
        }
        entries.Add(("__MACOSX/mandarin/bai/._bai-1.png", [0, 5, 22, 7]));
        entries.Add(("mandarin/bai/._bai-2.png", [0, 5, 22, 7]));
        entries.Add(("mandarin/.DS_Store", [1, 2, 3]));
        string path = dir.Combine(name);
        TestImages.WriteZip(path, entries);
        return path;
    }

    [Fact]
    public void Zip_with_a_single_top_folder_reads_the_classes_inside_it()
    {
        using var dir = new TempDir();
        string zip = MandarinZip(dir);
        var ds = ImageDatasets.LoadZip(zip, new ImageLoadOptions { ImageSize = (3, 3), ColorMode = ColorMode.Grayscale });
        Assert.Equal(["bai", "ben"], ds.ClassNames);
        Assert.Equal([0, 0, 0, 1, 1, 1], ds.Y);
        Assert.Equal($"{zip}!mandarin/bai/bai-1.png", ds.Paths[0]);
        Assert.Equal(11f, ds.X[0, 1, 1, 0]);
        Assert.Equal(23f, ds.X[5, 2, 2, 0]);
        Assert.Equal("Found 6 files belonging to 2 classes.", ds.Report.Summary);
        Assert.Contains(ds.Report.Skipped, s => s.Kind == SkipKind.AppleDouble && s.Path.EndsWith("__MACOSX/mandarin/bai/._bai-1.png"));
        Assert.Contains(ds.Report.Skipped, s => s.Kind == SkipKind.AppleDouble && s.Path.EndsWith("mandarin/bai/._bai-2.png"));
        Assert.DoesNotContain(ds.Paths, p => p.Contains("__MACOSX"));
    }

    [Fact]
    public void LoadDirectory_detects_zips_by_extension_and_by_signature()
    {
        using var dir = new TempDir();
        var a = ImageDatasets.LoadDirectory(MandarinZip(dir), new ImageLoadOptions { ImageSize = (3, 3) });
        var b = ImageDatasets.LoadDirectory(MandarinZip(dir, "mandarin.data"), new ImageLoadOptions { ImageSize = (3, 3) });
        Assert.Equal(a.X.ToArray(), b.X.ToArray());
        Assert.Equal(6, b.Count);
    }

    [Fact]
    public void Zip_whose_top_level_is_the_class_folders()
    {
        using var dir = new TempDir();
        string zip = dir.Combine("flat.zip");
        TestImages.WriteZip(zip, [("b/1.png", Png(1)), ("a/x/2.png", Png(2)), ("a/1.png", Png(3))]);
        var ds = ImageDatasets.LoadZip(zip, new ImageLoadOptions { ImageSize = (3, 3), ColorMode = ColorMode.Grayscale });
        Assert.Equal(["a", "b"], ds.ClassNames);
        Assert.Equal([3f, 2f, 1f], Enumerable.Range(0, 3).Select(i => ds.X[i, 0, 0, 0]));
    }

    [Fact]
    public void Single_top_folder_with_only_files_is_one_class()
    {
        using var dir = new TempDir();
        string zip = dir.Combine("one.zip");
        TestImages.WriteZip(zip, [("only/1.png", Png(1)), ("only/2.png", Png(2))]);
        var ds = ImageDatasets.LoadZip(zip, new ImageLoadOptions { ImageSize = (3, 3) });
        Assert.Equal(["only"], ds.ClassNames);
        Assert.Equal(2, ds.Count);
    }

    [Theory]
    [InlineData("mandarin/../../evil.png", "..")]
    [InlineData("/etc/evil.png", "absolute")]
    [InlineData("C:/evil.png", "absolute")]
    [InlineData("\\evil.png", "absolute")]
    [InlineData("mandarin\\..\\evil.png", "..")]
    public void Unsafe_entries_are_rejected_naming_zip_and_entry(string entry, string why)
    {
        using var dir = new TempDir();
        string zip = dir.Combine("evil.zip");
        TestImages.WriteZip(zip, [("mandarin/bai/1.png", Png(1)), (entry, Png(2))]);
        var e = Assert.Throws<InvalidDataException>(() => ImageDatasets.LoadZip(zip));
        Assert.Contains(zip, e.Message);
        Assert.Contains(entry, e.Message);
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void Oversized_entries_are_rejected_from_the_declared_length()
    {
        using var dir = new TempDir();
        string zip = dir.Combine("big.zip");
        TestImages.WriteZip(zip, [("c/small.png", Png(1)), ("c/bomb.png", new byte[100_000])]);
        var e = Assert.Throws<InvalidDataException>(() =>
            ImageDatasets.LoadZip(zip, new ImageLoadOptions { MaxFileBytes = 10_000 }));
        Assert.Contains(zip, e.Message);
        Assert.Contains("c/bomb.png", e.Message);
        Assert.Contains("100,000", e.Message);
    }

    [Fact]
    public void Corrupt_entries_follow_the_bad_file_policy()
    {
        using var dir = new TempDir();
        string zip = dir.Combine("bad.zip");
        TestImages.WriteZip(zip, [("c/good.png", Png(1)), ("c/bad.png", [1, 2, 3]), ("d/bad.jpg", [0xFF, 0xD8, 0xFF])]);
        var e = Assert.Throws<ImageLoadException>(() => ImageDatasets.LoadZip(zip, new ImageLoadOptions { ImageSize = (3, 3) }));
        Assert.Contains($"{zip}!c/bad.png", e.Message);
        Assert.Contains($"{zip}!d/bad.jpg", e.Message);

        var ds = ImageDatasets.LoadZip(zip, new ImageLoadOptions { ImageSize = (3, 3), BadFiles = BadFilePolicy.Skip });
        Assert.Equal(1, ds.Count);
        Assert.Equal(["c", "d"], ds.ClassNames);
        Assert.Equal(2, ds.Report.Skipped.Count(s => s.Kind == SkipKind.Bad));
    }

    [Fact]
    public void Not_a_zip_is_explained()
    {
        using var dir = new TempDir();
        string path = dir.Combine("fake.zip");
        File.WriteAllText(path, "hello");
        var e = Assert.Throws<InvalidDataException>(() => ImageDatasets.LoadDirectory(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Split_folders_output_loads_as_train_val_test_from_a_folder_and_a_zip()
    {
        using var dir = new TempDir();
        foreach (string c in new[] { "ben", "bai" })
            for (int k = 1; k <= 7; k++)
                TestImages.WriteSolid(dir.Combine("mandarin", c, $"{c}-{k}.png"), 4, 4, Gray);
        SplitFolders.Ratio(dir.Combine("mandarin"), dir.Combine("split"), 1337, 5.0 / 7, 1.0 / 7, 1.0 / 7);

        var options = new ImageLoadOptions { ImageSize = (4, 4), ColorMode = ColorMode.Grayscale };
        var (train, val, test) = ImageDatasets.LoadSplit(dir.Combine("split"), options);
        Assert.NotNull(test);
        Assert.Equal(new Shape(10, 4, 4, 1), train.X.Shape);
        Assert.Equal(["bai", "ben"], val.ClassNames);
        Assert.All(val.Paths, p => Assert.EndsWith("-7.png", p));
        Assert.All(test.Paths, p => Assert.EndsWith("-5.png", p));
        Assert.Equal([0, 1], test.Y);

        // the same split zipped under a top-level folder
        string zip = dir.Combine("split.zip");
        var entries = Directory.EnumerateFiles(dir.Combine("split"), "*", SearchOption.AllDirectories)
            .Select(f => ("mandarin-split/" + Path.GetRelativePath(dir.Combine("split"), f).Replace('\\', '/'), (byte[]?)File.ReadAllBytes(f)));
        TestImages.WriteZip(zip, entries);
        var z = ImageDatasets.LoadSplit(zip, options);
        Assert.Equal(train.X.ToArray(), z.Train.X.ToArray());
        Assert.Equal(2, z.Val.Count);
        Assert.Equal(2, z.Test!.Count);
        Assert.All(z.Test.Paths, p => Assert.Contains("!mandarin-split/test/", p));
    }

    [Fact]
    public void LoadSplit_without_val_is_explained()
    {
        using var dir = new TempDir();
        TestImages.WriteSolid(dir.Combine("s", "train", "a", "1.png"), 2, 2, Gray);
        var e = Assert.Throws<InvalidDataException>(() => ImageDatasets.LoadSplit(dir.Combine("s")));
        Assert.Contains("val", e.Message);
    }
}
