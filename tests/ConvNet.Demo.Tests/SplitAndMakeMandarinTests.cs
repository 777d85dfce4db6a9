using Xunit;
using ConvNet.Data.Mandarin;

namespace ConvNet.Demo.Tests;

public sealed class SplitAndMakeMandarinTests
{
    [Fact]
    public void Split_writes_split_folders_layout_like_the_lecture()
    {
        using var tmp = new TempDir();
        MandarinGenerator.Generate(tmp["in"], labels: ["bai", "kou"], size: 16);
        var r = CliRunner.Run("split", "--input", tmp["in"], "--output", tmp["out"], "--seed", "1337", "--ratio", "5/7,1/7,1/7");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(["test", "train", "val"], Directory.GetDirectories(tmp["out"]).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var label in new[] { "bai", "kou" })
        {
            string[] Files(string part) => Directory.GetFiles(Path.Combine(tmp["out"], part, label)).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
            // The lecture: for every class, val holds -7, test holds -5, train 1, 2, 3, 4, 6.
            Assert.Equal([$"{label}-1.png", $"{label}-2.png", $"{label}-3.png", $"{label}-4.png", $"{label}-6.png"], Files("train"));
            Assert.Equal([$"{label}-7.png"], Files("val"));
            Assert.Equal([$"{label}-5.png"], Files("test"));
        }
        Assert.Contains("train: 10 files", r.Out);
    }

    [Fact]
    public void Split_with_decimals_and_two_parts_has_no_test_folder()
    {
        using var tmp = new TempDir();
        MandarinGenerator.Generate(tmp["in"], labels: ["ri"], size: 16, samplesPerClass: 10);
        var r = CliRunner.Run("split", "--input", tmp["in"], "--output", tmp["out"], "--ratio", "0.8,0.2");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(8, Directory.GetFiles(tmp["out/train/ri"]).Length);
        Assert.Equal(2, Directory.GetFiles(tmp["out/val/ri"]).Length);
        Assert.False(Directory.Exists(tmp["out/test"]));
    }

    [Fact]
    public void Split_of_a_missing_folder_exits_1()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run("split", "--input", tmp["missing"], "--output", tmp["out"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.ErrLines);
    }

    [Fact]
    public void Make_mandarin_writes_the_set_and_a_contact_sheet()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run("make-mandarin", "--out", tmp["m"], "--labels", "kou", "ren", "--samples", "2", "--size", "32");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(File.Exists(tmp["m/kou/kou-1.png"]));
        Assert.True(File.Exists(tmp["m/ren/ren-2.png"]));
        Assert.True(File.Exists(tmp["m/contact-sheet.png"]));
        var bad = CliRunner.Run("make-mandarin", "--out", tmp["m2"], "--labels", "nope");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("nope", bad.Err);
    }

    [Fact]
    public void Train_on_an_already_split_folder_and_a_zip()
    {
        using var tmp = new TempDir();
        MandarinGenerator.Generate(tmp["in"], labels: ["kou", "ri"], size: 32);
        Assert.Equal(0, CliRunner.Run("split", "--input", tmp["in"], "--output", tmp["split"]).ExitCode);
        var r = CliRunner.Run("train", "--data", tmp["split"], "--epochs", "1", "--out", tmp["run1"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Found 10 files belonging to 2 classes.", r.Out);

        // A zip with a single top-level folder, like the lecture's mandarin.zip.
        Directory.CreateDirectory(tmp["ziproot"]);
        Directory.Move(tmp["in"], tmp["ziproot/mandarin"]);
        System.IO.Compression.ZipFile.CreateFromDirectory(tmp["ziproot"], tmp["mandarin.zip"]);
        var z = CliRunner.Run("train", "--data", tmp["mandarin.zip"], "--epochs", "1", "--out", tmp["run2"]);
        Assert.True(z.ExitCode == 0, z.ToString());
        Assert.Contains("Found 14 files belonging to 2 classes.", z.Out);
        Assert.Contains("Found 10 files belonging to 2 classes.", z.Out);
        // Same split as on disk: the test part is -5 of each class, so both runs see the same test images.
        Assert.True(File.Exists(tmp["run2/model.cnet"]));
    }
}
