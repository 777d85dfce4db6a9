using ConvNet.Data;
using Xunit;

namespace ConvNet.Data.Tests;

public class SingleImageAndListSplitTests
{
    [Fact]
    public void RatioOfFilesMatchesTheFolderSplitForEveryClass()
    {
        using var dir = new TempDir();
        foreach (var cls in new[] { "bai", "ben", "kou" })
        {
            Directory.CreateDirectory(Path.Combine(dir.Path, cls));
            for (int k = 1; k <= 7; k++) File.WriteAllBytes(Path.Combine(dir.Path, cls, $"{cls}-{k}.png"), [1]);
        }
        var folders = SplitFolders.RatioLists(dir.Path, 1337, 5.0 / 7, 1.0 / 7, 1.0 / 7);
        foreach (var c in folders)
        {
            // Same files in another order and as zip-style display paths: the split must not change.
            var files = Directory.GetFiles(Path.Combine(dir.Path, c.ClassName)).Reverse().Select(f => "mandarin.zip!mandarin/" + c.ClassName + "/" + Path.GetFileName(f));
            var (train, val, test) = SplitFolders.RatioOfFiles(files, 1337, 5.0 / 7, 1.0 / 7, 1.0 / 7);
            Assert.Equal(c.Train.Select(Path.GetFileName), train.Select(p => p[(p.LastIndexOf('/') + 1)..]));
            Assert.Equal(c.Val.Select(Path.GetFileName), val.Select(p => p[(p.LastIndexOf('/') + 1)..]));
            Assert.Equal(c.Test.Select(Path.GetFileName), test.Select(p => p[(p.LastIndexOf('/') + 1)..]));
            Assert.Equal($"{c.ClassName}-7.png", Path.GetFileName(val.Single()));
            Assert.Equal($"{c.ClassName}-5.png", Path.GetFileName(test.Single()));
        }
    }

    [Fact]
    public void LoadImageGivesTheSameValuesAsTheFolderLoader()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "a"));
        var path = Path.Combine(dir.Path, "a", "x.png");
        using (var img = TestImages.Create(7, 5, (x, y) => new SixLabors.ImageSharp.PixelFormats.Rgba32((byte)(30 * x), (byte)(40 * y), (byte)(x * y), 255)))
            SixLabors.ImageSharp.ImageExtensions.SaveAsPng(img, path);
        var options = new ImageLoadOptions { ImageSize = (4, 3), ColorMode = ColorMode.Grayscale };
        var one = ImageDatasets.LoadImage(path, options);
        var folder = ImageDatasets.LoadDirectory(dir.Path, options);
        Assert.Equal(new Shape(1, 4, 3, 1), one.Shape);
        Assert.Equal(folder.X.ToArray(), one.ToArray());
    }

    [Fact]
    public void LoadImageNamesAMissingOrBrokenFile()
    {
        using var dir = new TempDir();
        var missing = Path.Combine(dir.Path, "nope.png");
        Assert.Contains("nope.png", Assert.Throws<FileNotFoundException>(() => ImageDatasets.LoadImage(missing)).Message);
        var junk = Path.Combine(dir.Path, "junk.png");
        File.WriteAllText(junk, "not an image");
        var e = Assert.Throws<InvalidDataException>(() => ImageDatasets.LoadImage(junk));
        Assert.Contains("junk.png", e.Message);
    }
}
