using ConvNet.Demo.Inspection;
using ConvNet.Demo.Tests.Browser;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ConvNet.Demo.Tests;

/// <summary>
/// `convnet explore` pages opened in headless Chromium: a unit clicked with the mouse shows the sum, bias, pre-activation
/// and activation that the C# layers compute, the softmax matches <see cref="Model.PredictProbabilities"/>, the page
/// raises no JavaScript error and its screenshot is not blank. A Sequential and a functional (residual) model.
/// </summary>
[Collection(ChromiumCollection.Name)]
public sealed class ExploreBrowserTests(ChromiumFixture chromium) : IDisposable
{
    private const double Tolerance = 1e-4;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Sequential_model_page_shows_the_layers_numbers_for_clicked_units()
    {
        var (trace, driver) = await ExploreAsync(ExploreModels.Sequential(), channels: 1);
        await using (driver)
        {
            await CheckDenseUnitAsync(driver, trace, "dense", unit: 3);
            await CheckConvUnitAsync(driver, trace, "conv2d", channel: 1);
            var (y, x) = await CheckConvUnitAsync(driver, trace, "conv2d_1", channel: 5);
            // `convnet explain` prints the same pre-activation and value for this unit (both with 6 decimals).
            var explain = CliRunner.Run("explain", "--model", _dir["model.cnet"], "--image", _dir["kou-7.png"], "--layer", "conv2d_1", "--at", $"{y},{x},5");
            Assert.True(explain.ExitCode == 0, explain.ToString());
            Assert.Equal(ExplainLine(explain.Out, "= pre-activation z"), await driver.ReadAsync("z"), 1e-6);
            Assert.Equal(ExplainLine(explain.Out, "final value"), await driver.ReadAsync("activation"), 1e-6);
            await CheckPageAsync(driver, trace, ExploreModels.Labels, "explore-sequential.png");
        }
    }

    [Fact]
    public async Task Functional_residual_model_page_shows_the_layers_numbers_for_clicked_units()
    {
        var (trace, driver) = await ExploreAsync(ExploreModels.Residual(), channels: 3);
        await using (driver)
        {
            await CheckDenseUnitAsync(driver, trace, "dense", unit: 2);
            await CheckConvUnitAsync(driver, trace, "stem", channel: 2);
            await CheckConvUnitAsync(driver, trace, "block2_projection", channel: 0);
            await CheckConvUnitAsync(driver, trace, "block2_conv2", channel: 7);   // no activation: z is the output
            await CheckPageAsync(driver, trace, ExploreModels.Labels, "explore-residual.png");
        }
    }

    [Fact]
    public async Task Lecture_model_from_a_train_run_folder_page_shows_the_layers_numbers()
    {
        using var run = new TrainedRunFixture();
        Assert.True(run.ExitCode == 0, run.Err);
        string image = Path.Combine(run.DataDir, "kou", "kou-5.png");   // 128×128: resized like the training loader
        var r = CliRunner.Run("explore", "--model", run.RunDir, "--image", image, "--resize", "--out", _dir["page"]);
        Assert.True(r.ExitCode == 0, r.ToString());

        var model = Model.Load(Path.Combine(run.RunDir, "model.cnet"));
        var x = new Tensor(ImageFile.Load(image, 80, 80, 1, 0), 1, 80, 80, 1);
        var trace = GraphTrace.Run(model, x);
        _probabilities = model.PredictProbabilities(x).ToArray();
        await using var driver = await ExplorePageDriver.OpenAsync(chromium.Browser, _dir["page/index.html"]);
        await CheckDenseUnitAsync(driver, trace, "dense_1", unit: 0);
        await CheckConvUnitAsync(driver, trace, "conv2d", channel: 3);
        await CheckConvUnitAsync(driver, trace, "conv2d_2", channel: 10, positive: true);   // 32 input channels: 3 in full, the rest as sums
        await CheckPageAsync(driver, trace, TrainedRunFixture.Labels, "explore-mandarin.png");
    }

    // Saves the model, runs `convnet explore` on it, traces it in C# and opens the page.
    private async Task<(GraphTrace Trace, ExplorePageDriver Driver)> ExploreAsync(Model model, int channels)
    {
        string modelPath = _dir["model.cnet"];
        model.Save(modelPath);
        string image = ExploreModels.WriteImage(_dir["kou-7.png"]);
        var r = CliRunner.Run("explore", "--model", modelPath, "--image", image, "--out", _dir["page"]);
        Assert.True(r.ExitCode == 0, r.ToString());

        var loaded = Model.Load(modelPath);
        var x = new Tensor(ImageFile.Load(image, ExploreModels.Size, ExploreModels.Size, channels, 0), 1, ExploreModels.Size, ExploreModels.Size, channels);
        var trace = GraphTrace.Run(loaded, x);
        Assert.Equal(loaded.Predict(x).ToArray(), trace.Nodes[^1].Output.ToArray(), new ToleranceComparer(Tolerance));
        _probabilities = loaded.PredictProbabilities(x).ToArray();

        var driver = await ExplorePageDriver.OpenAsync(chromium.Browser, _dir["page/index.html"]);
        Assert.Equal(trace.Nodes.Count, await driver.LayerCountAsync());
        return (trace, driver);
    }

    private float[] _probabilities = [];

    private static double ExplainLine(string text, string label)
    {
        var line = text.Split('\n').Single(l => l.TrimStart().StartsWith(label, StringComparison.Ordinal));
        return double.Parse(line[(line.LastIndexOf('=') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<(int Y, int X)> CheckConvUnitAsync(ExplorePageDriver driver, GraphTrace trace, string layer, int channel, bool positive = false)
    {
        int n = NodeOf(trace, layer);
        var node = trace.Nodes[n];
        var conv = (Conv2D)node.Layer;
        var z = LinearTwin(conv).Forward(trace.Nodes[node.Inbound[0]].Output).ToArray();
        var s = conv.OutputShape!;
        // The unit of this channel with the largest |z| (or z): a unit whose numbers are not all zero.
        int best = Enumerable.Range(0, s[0] * s[1]).MaxBy(i => positive ? z[i * s[2] + channel] : Math.Abs(z[i * s[2] + channel]));
        int y = best / s[1], x = best % s[1], at = best * s[2] + channel;

        await driver.ClickUnitAsync(n, channel, y, x);
        Assert.Equal($"{y},{x},{channel}", await driver.DetailUnitAsync());
        double sum = await driver.ReadAsync("sum"), bias = await driver.ReadAsync("bias"), shownZ = await driver.ReadAsync("z");
        Assert.Equal(z[at], shownZ, Tolerance);
        Assert.Equal(shownZ, sum + bias, Tolerance);
        Assert.Equal(conv.Bias!.Value.Span[channel], bias, Tolerance);
        Assert.Equal(node.Output.Span[at], await driver.ReadAsync("activation"), Tolerance);
        Assert.Equal(node.Output.Span[at], await driver.ReadAsync("layer"), Tolerance);
        Assert.Empty(driver.Errors);
        return (y, x);
    }

    private static async Task CheckDenseUnitAsync(ExplorePageDriver driver, GraphTrace trace, string layer, int unit)
    {
        int n = NodeOf(trace, layer);
        var node = trace.Nodes[n];
        var dense = (Dense)node.Layer;
        var z = LinearTwin(dense).Forward(trace.Nodes[node.Inbound[0]].Output).ToArray();
        int side = (int)Math.Ceiling(Math.Sqrt(dense.Units));   // the page lays a flat layer out in rows of ⌈√n⌉ cells

        await driver.ClickUnitAsync(n, 0, unit / side, unit % side);
        Assert.Equal($"{unit}", await driver.DetailUnitAsync());
        Assert.Equal(z[unit], await driver.ReadAsync("z"), Tolerance);
        Assert.Equal(node.Output.Span[unit], await driver.ReadAsync("activation"), Tolerance);
        Assert.Empty(driver.Errors);
    }

    private async Task CheckPageAsync(ExplorePageDriver driver, GraphTrace trace, string[] classNames, string screenshotName)
    {
        var shown = await driver.SoftmaxAsync();
        Assert.Equal(_probabilities.Length, shown.Length);
        foreach (var (c, name, p) in shown)
        {
            Assert.Equal(classNames[c], name);
            Assert.Equal(_probabilities[c], p, Tolerance);
        }

        byte[] png = await driver.ScreenshotAsync();
        using var image = Image.Load<Rgb24>(png);
        var colours = new HashSet<Rgb24>();
        int dark = 0;
        for (int r = 0; r < image.Height; r++)
            for (int c = 0; c < image.Width; c++)
            {
                var px = image[c, r];
                colours.Add(px);
                if (px.R + px.G + px.B < 200) dark++;
            }
        Assert.True(colours.Count >= 100, $"the screenshot has only {colours.Count} distinct colours: is the page blank?");
        Assert.True(dark >= image.Width * image.Height / 100, $"only {dark} dark pixels: are the feature maps drawn?");
        if (Environment.GetEnvironmentVariable("CONVNET_EXPLORE_SCREENSHOTS") is { Length: > 0 } folder)
            await File.WriteAllBytesAsync(Path.Combine(folder, screenshotName), png);
        Assert.Empty(driver.Errors);
        Assert.Equal(trace.Nodes.Count, await driver.LayerCountAsync());
    }

    private static int NodeOf(GraphTrace trace, string layer)
    {
        for (int i = 0; i < trace.Nodes.Count; i++) if (trace.Nodes[i].Layer.Name == layer) return i;
        throw new InvalidOperationException($"No layer '{layer}' in {string.Join(", ", trace.Nodes.Select(n => n.Layer.Name))}.");
    }

    // The layer without its activation, same weights: its output is the pre-activation z.
    private static Layer LinearTwin(Conv2D conv)
    {
        var twin = new Conv2D(conv.Filters, conv.KernelSize, conv.Strides, conv.Padding, Activation.None, conv.UseBias);
        twin.Build(conv.InputShape!);
        return CopyWeights(conv, twin);
    }

    private static Layer LinearTwin(Dense dense)
    {
        var twin = new Dense(dense.Units, Activation.None, dense.UseBias);
        twin.Build(dense.InputShape!);
        return CopyWeights(dense, twin);
    }

    private static Layer CopyWeights(Layer from, Layer to)
    {
        for (int i = 0; i < from.Parameters.Count; i++) from.Parameters[i].Value.Span.CopyTo(to.Parameters[i].Value.Span);
        return to;
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance * Math.Max(1, Math.Abs(a));
        public int GetHashCode(float v) => 0;
    }
}
