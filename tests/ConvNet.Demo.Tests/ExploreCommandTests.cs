using System.Text.RegularExpressions;
using ConvNet.Demo.Commands;
using ConvNet.Demo.Inspection;
using ConvNet.Demo.Tests.Browser;

namespace ConvNet.Demo.Tests;

/// <summary>`convnet explore` without a browser: bad inputs give one clear line and exit 1; the page is self-contained and bounded.</summary>
public sealed partial class ExploreCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void AssertOneLineError(CliRunner.Result r, params string[] mentioned)
    {
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Single(r.ErrLines);
        Assert.StartsWith("convnet: error: ", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
        foreach (var m in mentioned) Assert.Contains(m, r.Err);
    }

    [Fact]
    public void A_missing_model_file_is_named()
    {
        var r = CliRunner.Run("explore", "--model", _dir["none/model.cnet"], "--out", _dir["page"]);
        AssertOneLineError(r, $"\"{_dir["none/model.cnet"]}\"", "does not exist");
    }

    [Fact]
    public void A_missing_image_is_named()
    {
        var r = CliRunner.Run("explore", "--model", "lenet5", "--image", _dir["none.png"], "--out", _dir["page"]);
        AssertOneLineError(r, $"\"{_dir["none.png"]}\"", "does not exist");
    }

    [Fact]
    public void An_image_of_the_wrong_size_names_both_shapes_and_resize_accepts_it()
    {
        string image = ExploreModels.WriteImage(_dir["small.png"], 24);
        var r = CliRunner.Run("explore", "--model", "lenet5", "--image", image, "--out", _dir["page"]);
        AssertOneLineError(r, $"\"{image}\"", "is 24×24", "expects 32×32", "(None, 32, 32, 1)", "--resize");
        Assert.False(File.Exists(_dir["page/index.html"]));

        var ok = CliRunner.Run("explore", "--model", "lenet5", "--image", image, "--resize", "--out", _dir["page"]);
        Assert.True(ok.ExitCode == 0, ok.ToString());
        Assert.Contains("resized to 32×32", ok.Out);
    }

    [Fact]
    public void A_file_that_is_not_an_image_is_named()
    {
        File.WriteAllText(_dir["notes.png"], "these are notes, not pixels");
        var r = CliRunner.Run("explore", "--model", "lenet5", "--image", _dir["notes.png"], "--out", _dir["page"]);
        AssertOneLineError(r, $"\"{_dir["notes.png"]}\"", "not an image");
    }

    [Fact]
    public void Out_is_required_and_explore_is_in_the_help()
    {
        var r = CliRunner.Run("explore", "--model", "lenet5");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--out", r.Err);
        var help = CliRunner.Run("--help");
        Assert.Contains("explore", help.Out);
    }

    [Fact]
    public void The_Mandarin_page_is_self_contained_and_within_its_bound()
    {
        var r = CliRunner.Run("explore", "--model", "mandarin", "--out", _dir["page"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        string html = File.ReadAllText(_dir["page/index.html"]);
        // No network: no external scripts, styles, images or links.
        Assert.DoesNotMatch(ExternalReference(), html);
        Assert.Contains("data:image/png;base64,", html);
        // Every conv and dense unit of the lecture's model can be clicked: 11 layers, 5 with weights embedded.
        Assert.Equal(11, Regex.Count(html, "\"name\":"));
        Assert.Equal(5, Regex.Count(html, "\"kernel\":"));
        long bound = (ExplorePage.MaxExactFloats * 4L + ExplorePage.MaxThumbBytes) * 4 / 3 + 200_000;
        Assert.InRange(html.Length, 1_000_000, bound);
        Assert.Contains($"Wrote \"{_dir["page/index.html"]}\"", r.Out);
        Assert.Equal(ExploreCommand.PageFile, Path.GetFileName(_dir["page/index.html"]));
    }

    [GeneratedRegex(@"(src|href)\s*=\s*[""']?(https?:|//)|@import|url\((?!data:)", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();
}
