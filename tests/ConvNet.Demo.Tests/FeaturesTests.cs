using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace ConvNet.Demo.Tests;

public sealed class FeaturesTests(TinyModelFixture tiny) : IClassFixture<TinyModelFixture>
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public void Writes_filter_and_feature_map_pngs_and_an_index()
    {
        using var tmp = new TempDir();
        string outDir = tmp["features"];
        var r = CliRunner.Run("features", "--model", tiny.ModelPath, "--image", tiny.ImagePath, "--out", outDir);
        Assert.True(r.ExitCode == 0, r.ToString());

        string[] pngs = ["input.png", "conv2d_filters.png", "conv2d_features.png", "conv2d_1_filters.png", "conv2d_1_features.png"];
        Assert.Equal(pngs.Order(), Directory.GetFiles(outDir, "*.png").Select(Path.GetFileName).Order()!);
        string index = File.ReadAllText(Path.Combine(outDir, "index.md"));
        foreach (var name in pngs)
        {
            string path = Path.Combine(outDir, name);
            Assert.Contains(path, r.Out);
            Assert.Contains($"[{name}]({name})", index);
            byte[] bytes = File.ReadAllBytes(path);
            Assert.Equal(PngSignature, bytes.Take(8));
            using var image = Image.Load<Rgba32>(bytes);
            Assert.True(image.Width >= 300 && image.Height >= 100, $"{name} is {image.Width}×{image.Height}");
        }
        Assert.Contains(Path.Combine(outDir, "index.md"), r.Out);
        Assert.Contains("'conv2d' (4 channels of 16×16", index);
    }

    [Fact]
    public void Untrained_mandarin_on_the_stand_in_image_draws_all_three_conv_layers()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run("features", "--out", tmp.Path);
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (var layer in new[] { "conv2d", "conv2d_1", "conv2d_2" })
            foreach (var kind in new[] { "filters", "features" })
            {
                using var image = Image.Load<Rgba32>(tmp[$"{layer}_{kind}.png"]);
                Assert.True(image.Width > 0);
            }
        Assert.Contains("UNTRAINED", File.ReadAllText(tmp["index.md"]));
    }

    [Fact]
    public void A_missing_image_exits_1_with_one_line()
    {
        using var tmp = new TempDir();
        var r = CliRunner.Run("features", "--model", tiny.ModelPath, "--image", tmp["nope.png"], "--out", tmp["out"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.ErrLines);
        Assert.Contains("does not exist", r.Err);
    }
}
