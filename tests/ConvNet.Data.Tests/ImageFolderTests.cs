using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace ConvNet.Data.Tests;

public class ImageFolderTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly Rgba32 Orange = new(200, 100, 50, 255);

    // libpng, png_set_rgb_to_gray(1, 0.299, 0.587): (9797·200 + 19234·100 + 3737·50) >> 15 = 4,069,650 >> 15 = 124
    private const float OrangeGrayPng = 124;

    private static ImageLoadOptions Opts(int h, int w, ColorMode mode = ColorMode.Rgb, BadFilePolicy policy = BadFilePolicy.Error) =>
        new() { ImageSize = (h, w), ColorMode = mode, BadFiles = policy };

    [Fact]
    public void Classes_are_sorted_by_code_point_and_hidden_folders_skipped()
    {
        using var dir = new TempDir();
        foreach (string c in new[] { "中", "a", "é", "Z", ".hidden" })
            TestImages.WriteSolid(dir.Combine("root", c, "x.png"), 3, 2, Orange);
        var ds = ImageDatasets.LoadDirectory(dir.Combine("root"), Opts(2, 3));
        Assert.Equal(["Z", "a", "é", "中"], ds.ClassNames);
        Assert.Equal([0, 1, 2, 3], ds.Y);
        Assert.Equal("Found 4 files belonging to 4 classes.", ds.Report.Summary);
        Assert.Equal(new Shape(4, 2, 3, 3), ds.X.Shape);
        Assert.Equal(new[] { 200f, 100f, 50f }, ds.X.ToArray()[..3]);
    }

    [Fact]
    public void Explicit_class_names_keep_their_order_and_must_exist()
    {
        using var dir = new TempDir();
        foreach (string c in new[] { "a", "b", "c" })
            TestImages.WriteSolid(dir.Combine("root", c, "x.png"), 2, 2, Orange);
        var ds = ImageDatasets.LoadDirectory(dir.Combine("root"), Opts(2, 2));
        Assert.Equal(["a", "b", "c"], ds.ClassNames);

        var ordered = ImageDatasets.LoadDirectory(dir.Combine("root"), new ImageLoadOptions { ImageSize = (2, 2), ClassNames = ["c", "a"] });
        Assert.Equal(["c", "a"], ordered.ClassNames);
        Assert.Equal(2, ordered.Count);
        Assert.EndsWith(Path.Combine("c", "x.png"), ordered.Paths[0]);

        var e = Assert.Throws<InvalidDataException>(() =>
            ImageDatasets.LoadDirectory(dir.Combine("root"), new ImageLoadOptions { ClassNames = ["a", "zzz"] }));
        Assert.Contains("\"zzz\"", e.Message);
    }

    [Theory]
    [InlineData(".png")]
    [InlineData(".bmp")]
    [InlineData(".PNG")]
    public void Lossless_formats_load_exact_rgb_and_grayscale(string ext)
    {
        using var dir = new TempDir();
        // odd size, distinct pixels
        using var img = TestImages.Create(5, 3, (x, y) => new Rgba32((byte)(x * 40), (byte)(y * 60), (byte)(x + y), 255));
        TestImages.Write(dir.Combine("root", "k", "img" + ext), img);

        var rgb = ImageDatasets.LoadDirectory(dir.Combine("root"), Opts(3, 5));
        Assert.Equal(new Shape(1, 3, 5, 3), rgb.X.Shape);
        Assert.Equal(160f, rgb.X[0, 2, 4, 0]);
        Assert.Equal(120f, rgb.X[0, 2, 4, 1]);
        Assert.Equal(6f, rgb.X[0, 2, 4, 2]);

        var gray = ImageDatasets.LoadDirectory(dir.Combine("root"), Opts(3, 5, ColorMode.Grayscale));
        Assert.Equal(new Shape(1, 3, 5, 1), gray.X.Shape);
        bool png = ext.Equals(".png", StringComparison.OrdinalIgnoreCase);
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 5; x++)
            {
                int r = x * 40, g = y * 60, b = x + y;
                int expected = png
                    ? (r == g && g == b ? r : (9797 * r + 19234 * g + 3737 * b) >> 15)
                    : (19595 * r + 38470 * g + 7471 * b + 32768) >> 16;
                Assert.Equal(expected, gray.X[0, y, x, 0]);
            }
    }

    [Fact]
    public void Solid_orange_png_grayscale_uses_libpng_coefficients()
    {
        using var dir = new TempDir();
        TestImages.WriteSolid(dir.Combine("root", "k", "o.png"), 7, 5, Orange);
        var ds = ImageDatasets.LoadDirectory(dir.Combine("root"), Opts(4, 4, ColorMode.Grayscale));
        Assert.All(ds.X.ToArray(), v => Assert.Equal(OrangeGrayPng, v));
    }

    [Fact]
    public void Jpeg_grayscale_is_the_luma_within_jpeg_error()
    {
        using var dir = new TempDir();
        TestImages.WriteSolid(dir.Combine("root", "k", "o.jpg"), 9, 7, Orange);
        TestImages.WriteSolid(dir.Combine("root", "k", "p.JPEG"), 9, 7, Orange);
        var ds = ImageDatasets.LoadDirectory(dir.Combine("root"), Opts(7, 9, ColorMode.Grayscale));
        Assert.Equal(2, ds.Count);
        // 0.299·200 + 0.587·100 + 0.114·50 = 124.2
        Assert.All(ds.X.ToArray(), v => Assert.InRange(v, 122f, 126f));
    }

    [Fact]
    public void Gif_uses_the_first_frame()
    {
        using var dir = new TempDir();
        using var gif = TestImages.Create(4, 3, (_, _) => new Rgba32(255, 255, 255, 255));
        using var second = TestImages.Create(4, 3, (_, _) => new Rgba32(0, 0, 0, 255));
        gif.Frames.AddFrame(second.Frames.RootFrame);
        Assert.Equal(2, gif.Frames.Count);
        TestImages.Write(dir.Combine("root", "k", "anim.gif"), gif);

        var ds = ImageDatasets.LoadDirectory(dir.Combine("root"), Opts(3, 4, ColorMode.Grayscale));
        Assert.All(ds.X.ToArray(), v => Assert.Equal(255f, v));
    }

    [Fact]
    public void Rgba_keeps_alpha_and_gray_is_replicated_for_rgb()
    {
        using var dir = new TempDir();
        TestImages.WriteSolid(dir.Combine("root", "a", "t.png"), 2, 2, new Rgba32(10, 20, 30, 128));
        TestImages.WriteSolid(dir.Combine("root", "a", "u.jpg"), 2, 2, new Rgba32(0, 0, 0, 255));
        File.WriteAllBytes(dir.Combine("root", "b", "g.png").EnsureDir(), TestImages.GrayPng(2, 1, [7, 250]));

        var rgba = ImageDatasets.LoadDirectory(dir.Combine("root"), Opts(2, 2, ColorMode.Rgba));
        Assert.Equal(new Shape(3, 2, 2, 4), rgba.X.Shape);
        Assert.Equal(new[] { 10f, 20f, 30f, 128f }, rgba.X.ToArray()[..4]);
        Assert.Equal(255f, rgba.X[1, 0, 0, 3]);

        var rgb = ImageDatasets.LoadDirectory(dir.Combine("root"), Opts(1, 2, ColorMode.Rgb));
        Assert.Equal(new[] { 7f, 7f, 7f, 250f, 250f, 250f }, rgb.X.ToArray()[^6..]);
    }

    [Fact]
    public void Images_are_resized_with_tf_bilinear()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.Combine("root", "k", "g.png").EnsureDir(), TestImages.GrayPng(2, 2, [0, 10, 20, 30]));
        var ds = ImageDatasets.LoadDirectory(dir.Combine("root"), Opts(3, 3, ColorMode.Grayscale));
        Assert.Equal(new[] { 0f, 5, 10, 10, 15, 20, 20, 25, 30 }, ds.X.ToArray());
    }

    [Fact]
    public void Files_are_found_recursively_in_keras_order_and_junk_is_reported()
    {
        using var dir = new TempDir();
        string k = dir.Combine("root", "k");
        foreach (string name in new[] { "b.png", "a.PNG", Path.Combine("sub", "a.png"), Path.Combine("sub", "deeper", "z.gif"), "c.jpeg" })
            TestImages.WriteSolid(Path.Combine(k, name), 2, 2, Orange);
        TestImages.WriteSolid(Path.Combine(k, ".hidden.png"), 2, 2, Orange);
        File.WriteAllText(Path.Combine(k, "._b.png"), "AppleDouble");
        File.WriteAllText(Path.Combine(k, ".DS_Store"), "junk");
        File.WriteAllText(Path.Combine(k, "notes.txt"), "text");
        TestImages.WriteSolid(Path.Combine(k, ".ipynb_checkpoints", "x.png"), 2, 2, Orange);
        TestImages.WriteSolid(dir.Combine("root", "loose.png"), 2, 2, Orange); // not in a class folder: ignored like Keras

        var warnings = new List<string>();
        var ds = ImageDatasets.LoadDirectory(dir.Combine("root"), Opts(2, 2));
        var withWarnings = ImageDatasets.LoadDirectory(dir.Combine("root"), new ImageLoadOptions { ImageSize = (2, 2), Warning = warnings.Add });

        string[] expected = ["a.PNG", "b.png", "c.jpeg", "sub/a.png", "sub/deeper/z.gif"];
        Assert.Equal(expected, ds.Paths.Select(p => Path.GetRelativePath(k, p).Replace('\\', '/')));
        Assert.Equal("Found 5 files belonging to 1 class.", ds.Report.Summary);
        var kinds = ds.Report.Skipped.ToDictionary(s => Path.GetRelativePath(k, s.Path).Replace('\\', '/'), s => s.Kind);
        Assert.Equal(SkipKind.Hidden, kinds[".hidden.png"]);
        Assert.Equal(SkipKind.Hidden, kinds[".DS_Store"]);
        Assert.Equal(SkipKind.AppleDouble, kinds["._b.png"]);
        Assert.Equal(SkipKind.NotAnImage, kinds["notes.txt"]);
        Assert.Equal(SkipKind.Hidden, kinds[".ipynb_checkpoints/x.png"]);
        Assert.Equal(5, kinds.Count);
        Assert.Equal(6, warnings.Count);   // the five skipped files, and that there is only one class
        Assert.Contains(warnings, w => w.Contains("._b.png") && w.Contains("AppleDouble"));
        Assert.Contains(warnings, w => w.Contains("only one class folder"));
    }

    private static TempDir BadFolder(out string[] badPaths)
    {
        var dir = new TempDir();
        TestImages.WriteSolid(dir.Combine("root", "a", "good1.png"), 4, 4, Orange);
        TestImages.WriteSolid(dir.Combine("root", "b", "good2.jpg"), 4, 4, Orange);
        string garbage = dir.Combine("root", "a", "garbage.png");
        File.WriteAllText(garbage, "this is not an image at all");
        string empty = dir.Combine("root", "b", "empty.bmp");
        File.WriteAllBytes(empty, []);
        string truncated = dir.Combine("root", "b", "truncated.png");
        using (var big = TestImages.Create(64, 64, (x, y) => new Rgba32((byte)(x * 4), (byte)(y * 4), (byte)(x ^ y), 255)))
        {
            var bytes = TestImages.Encode(big, ".png");
            File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        }
        string huge = dir.Combine("root", "a", "huge.png");
        File.WriteAllBytes(huge, TestImages.PngWithHeader(30000, 30000));
        badPaths = [garbage, huge, empty, truncated];
        return dir;
    }

    [Fact]
    public void Error_policy_throws_once_listing_every_bad_file()
    {
        using var dir = BadFolder(out var bad);
        var e = Assert.Throws<ImageLoadException>(() => ImageDatasets.LoadDirectory(dir.Combine("root"), Opts(4, 4)));
        output.WriteLine(e.Message);
        foreach (string p in bad) Assert.Contains(p, e.Message);
        Assert.Equal(bad.Length, e.BadFiles.Count);
        Assert.Contains("30000×30000", e.Message);
        Assert.DoesNotContain("good1", e.Message);
        Assert.Equal(dir.Combine("root"), e.Input);
    }

    [Fact]
    public void Skip_policy_reports_bad_files_and_keeps_the_rest()
    {
        using var dir = BadFolder(out var bad);
        var warnings = new List<string>();
        var ds = ImageDatasets.LoadDirectory(dir.Combine("root"),
            new ImageLoadOptions { ImageSize = (4, 4), BadFiles = BadFilePolicy.Skip, Warning = warnings.Add });
        Assert.Equal(2, ds.Count);
        Assert.Equal([0, 1], ds.Y);
        Assert.Equal(6, ds.Report.FoundCount);
        Assert.Equal(2, ds.Report.LoadedCount);
        Assert.Equal("Found 6 files belonging to 2 classes.", ds.Report.Summary);
        Assert.Equal(bad.Order(StringComparer.Ordinal), ds.Report.Skipped.Where(s => s.Kind == SkipKind.Bad).Select(s => s.Path).Order(StringComparer.Ordinal));
        Assert.Equal(4, warnings.Count);
        Assert.Equal(200f, ds.X[0, 0, 0, 0]);
    }

    [Fact]
    public void A_30000_by_30000_png_header_is_rejected_without_allocating_the_pixels()
    {
        var bytes = TestImages.PngWithHeader(30000, 30000);
        Assert.True(bytes.Length < 100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(bytes, ColorMode.Grayscale, 50_000_000, out _, out _));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 50_000_000, $"allocated {allocated:N0} bytes");
        Assert.Contains("900,000,000 pixels", e.Message);
    }

    [Fact]
    public void Pixel_limit_is_configurable()
    {
        using var dir = new TempDir();
        TestImages.WriteSolid(dir.Combine("root", "k", "x.png"), 10, 10, Orange);
        var e = Assert.Throws<ImageLoadException>(() =>
            ImageDatasets.LoadDirectory(dir.Combine("root"), new ImageLoadOptions { ImageSize = (2, 2), MaxPixels = 99 }));
        Assert.Contains("10×10", e.Message);
        Assert.Contains("MaxPixels", e.Message);
    }

    [Fact]
    public void Empty_or_missing_folders_are_explained()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.Combine("root", "k"));
        File.WriteAllText(dir.Combine("root", "k", "readme.txt"), "x");
        var none = Assert.Throws<InvalidDataException>(() => ImageDatasets.LoadDirectory(dir.Combine("root")));
        Assert.Contains("No images found", none.Message);

        Directory.CreateDirectory(dir.Combine("flat"));
        Assert.Throws<InvalidDataException>(() => ImageDatasets.LoadDirectory(dir.Combine("flat")));

        var missing = Assert.Throws<FileNotFoundException>(() => ImageDatasets.LoadDirectory(dir.Combine("nope")));
        Assert.Contains("nope", missing.Message);
    }

    [Fact]
    public void Progress_reports_every_file()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 5; i++) TestImages.WriteSolid(dir.Combine("root", "k", $"{i}.png"), 2, 2, Orange);
        var reports = new System.Collections.Concurrent.ConcurrentBag<LoadProgress>();
        var progress = new SyncProgress<LoadProgress>(reports.Add);
        ImageDatasets.LoadDirectory(dir.Combine("root"), new ImageLoadOptions { ImageSize = (2, 2), Progress = progress });
        Assert.Equal(5, reports.Count);
        Assert.Equal(Enumerable.Range(1, 5), reports.Select(r => r.Completed).Order());
        Assert.All(reports, r => Assert.Equal(5, r.Total));
    }

    private sealed class SyncProgress<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }
}

internal static class PathTestExtensions
{
    /// <summary>Creates the parent folder of a file path and returns the path.</summary>
    public static string EnsureDir(this string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }
}
