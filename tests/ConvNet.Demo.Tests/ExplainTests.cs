using System.Globalization;
using System.Text.RegularExpressions;
using ConvNet.Data.Mandarin;
using Xunit;

namespace ConvNet.Demo.Tests;

/// <summary>
/// A tiny saved model with every layer kind <c>explain</c> and <c>features</c> handle (Conv2D same/relu and valid/tanh,
/// max and average pooling with a padded window, Dense relu and linear; non-zero biases) and a test image.
/// </summary>
public sealed class TinyModelFixture : IDisposable
{
    private readonly TempDir _dir = new();

    public TinyModelFixture()
    {
        var model = new Sequential(
            new Input(16, 16, 1),
            new Rescaling(1f / 255),
            new Conv2D(4, 3, padding: Padding.Same, activation: Activation.Relu),   // conv2d        (16, 16, 4)
            new MaxPooling2D(),                                                    // max_pooling2d (8, 8, 4)
            new Conv2D(3, 3, activation: Activation.Tanh),                         // conv2d_1      (6, 6, 3)
            new AveragePooling2D(3, 2, Padding.Same),                              // average_pooling2d (3, 3, 3), last window padded
            new Flatten(),                                                         // flatten       (27,)
            new Dense(5, Activation.Relu),                                         // dense
            new Dense(3)) { Seed = 7 };                                            // dense_1
        var rng = new Random(11);
        foreach (var layer in model.Layers)
            if (layer.Parameters.Count > 1)
                foreach (ref float b in layer.Parameters[1].Value.Span) b = (float)(rng.NextDouble() * 0.2 - 0.05);
        ModelPath = _dir["model.cnet"];
        model.Save(ModelPath);
        File.WriteAllText(_dir["classes.txt"], "kou\nren\nri\n");
        ImagePath = _dir["kou-5.png"];
        MandarinGenerator.SavePng(MandarinGenerator.RenderSampleBytes("kou", 5, size: 40), 40, 40, ImagePath);
    }

    public string ModelPath { get; }
    public string ImagePath { get; }

    /// <summary>The model reloaded from disk and each layer's input and output for the image (layer by layer).</summary>
    public (Sequential Model, Tensor[] Inputs, Tensor[] Outputs) Forward()
    {
        var model = Sequential.Load(ModelPath);
        var h = new Tensor(ImageFile.Load(ImagePath, 16, 16, 1, 0), 1, 16, 16, 1);
        var inputs = new Tensor[model.Layers.Count];
        var outputs = new Tensor[model.Layers.Count];
        for (int i = 0; i < model.Layers.Count; i++)
        {
            inputs[i] = h.Clone();
            h = model.Layers[i].Forward(h);
            outputs[i] = h.Clone();
        }
        return (model, inputs, outputs);
    }

    public void Dispose() => _dir.Dispose();
}

public sealed class ExplainTests(TinyModelFixture tiny) : IClassFixture<TinyModelFixture>
{
    private CliRunner.Result Explain(string layer, string at, params string[] more) =>
        CliRunner.Run(["explain", "--model", tiny.ModelPath, "--image", tiny.ImagePath, "--layer", layer, "--at", at, .. more]);

    private static double Number(string output, string pattern)
    {
        var m = Regex.Match(output, pattern + @"\s*=\s+(-?\d+\.\d+)\s*$", RegexOptions.Multiline);
        Assert.True(m.Success, $"no line matching '{pattern}' in:\n{output}");
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    // Printed values have 6 decimals.
    private static void Close(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 2e-6, $"expected {expected}, got {actual}");

    private static int[] At(string at) => at.Split(',').Select(int.Parse).ToArray();

    [Theory]
    [InlineData("conv2d", "7,8,2", false)]     // interior
    [InlineData("conv2d", "0,15,1", true)]     // top-right corner: 5 of 9 window cells are zero padding
    [InlineData("conv2d_1", "3,2,0", false)]   // 4 input channels, valid padding, tanh
    public void Conv_value_is_the_printed_sum_plus_bias_through_the_activation(string layerName, string atText, bool border)
    {
        var r = Explain(layerName, atText);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("matches the layer's output", r.Out);
        Assert.Equal(border, r.Out.Contains("·0", StringComparison.Ordinal));

        var (model, inputs, outputs) = tiny.Forward();
        int li = model.Layers.ToList().FindIndex(l => l.Name == layerName);
        var conv = (Conv2D)model.Layers[li];
        int[] at = At(atText);
        var s = conv.InputShape!;
        int h = s[0], w = s[1], c = s[2], k = conv.Filters, kh = conv.KernelSize.Height, kw = conv.KernelSize.Width;
        int pad = conv.Padding == Padding.Same ? (kh - 1) / 2 : 0;
        double sum = 0;
        for (int i = 0; i < kh; i++)
            for (int j = 0; j < kw; j++)
            {
                int row = at[0] - pad + i, col = at[1] - pad + j;
                if (row < 0 || row >= h || col < 0 || col >= w) continue;
                for (int ci = 0; ci < c; ci++)
                    sum += (double)inputs[li][0, row, col, ci] * conv.Kernel!.Value[i, j, ci, at[2]];
            }
        double bias = conv.Bias!.Value[at[2]];
        float layerValue = outputs[li][0, at[0], at[1], at[2]];

        Close(sum, Number(r.Out, @"sum of the .*products\)?"));
        Close(bias, Number(r.Out, @"\+ bias b\[\d+\]"));
        Close(sum + bias, Number(r.Out, "= pre-activation z"));
        Close(layerValue, Number(r.Out, @"final value y\[[\d, ]+\]"));
        double expected = conv.Activation == Activation.Tanh ? Math.Tanh(sum + bias) : Math.Max(sum + bias, 0);
        Close(expected, layerValue);
        Assert.Contains($"matches the layer's output: {layerValue.ToString("0.000000", CultureInfo.InvariantCulture)}", r.Out);
    }

    [Theory]
    [InlineData("max_pooling2d", "3,4,1")]
    [InlineData("average_pooling2d", "2,2,1")]   // window rows/cols 4…6 of a 6×6 input: the padding cells are not counted
    [InlineData("average_pooling2d", "0,1,2")]
    public void Pooling_value_is_the_max_or_average_of_the_printed_window(string layerName, string atText)
    {
        var r = Explain(layerName, atText);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("matches the layer's output", r.Out);

        var (model, inputs, outputs) = tiny.Forward();
        int li = model.Layers.ToList().FindIndex(l => l.Name == layerName);
        var pool = (Pooling2D)model.Layers[li];
        int[] at = At(atText);
        int h = pool.InputShape![0], w = pool.InputShape[1];
        var window = new List<double>();
        for (int i = 0; i < pool.PoolSize.Height; i++)
            for (int j = 0; j < pool.PoolSize.Width; j++)
            {
                int row = at[0] * pool.Strides.Height + i, col = at[1] * pool.Strides.Width + j;   // pad before is 0 for these layers
                if (row < h && col < w) window.Add(inputs[li][0, row, col, at[2]]);
            }
        float layerValue = outputs[li][0, at[0], at[1], at[2]];
        if (pool is MaxPooling2D)
        {
            Close(window.Max(), Number(r.Out, @"max of the 4 values \(row \d+, column \d+\)"));
        }
        else
        {
            Close(window.Sum(), Number(r.Out, $@"sum of the {window.Count} values"));
            Close(window.Average(), layerValue);
            Assert.Equal(atText == "2,2,1", r.Out.Contains("are ignored", StringComparison.Ordinal));
        }
        Close(layerValue, Number(r.Out, @"final value y\[[\d, ]+\]"));
    }

    [Theory]
    [InlineData("dense", 3)]
    [InlineData("dense_1", 1)]
    public void Dense_unit_is_the_printed_sum_plus_bias_through_the_activation(string layerName, int unit)
    {
        var r = Explain(layerName, unit.ToString(CultureInfo.InvariantCulture));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("matches the layer's output", r.Out);

        var (model, inputs, outputs) = tiny.Forward();
        int li = model.Layers.ToList().FindIndex(l => l.Name == layerName);
        var dense = (Dense)model.Layers[li];
        int n = dense.InputShape![0];
        double sum = 0;
        for (int i = 0; i < n; i++) sum += (double)inputs[li][0, i] * dense.Kernel!.Value[i, unit];
        double bias = dense.Bias!.Value[unit];
        float layerValue = outputs[li][0, unit];
        Close(sum, Number(r.Out, $"sum of the {n} products"));
        Close(sum + bias, Number(r.Out, "= pre-activation z"));
        Close(layerValue, Number(r.Out, $@"final value y\[{unit}\]"));
        Close(dense.Activation == Activation.Relu ? Math.Max(sum + bias, 0) : sum + bias, layerValue);
    }

    [Fact]
    public void Without_a_model_file_it_explains_the_untrained_mandarin_net_on_the_stand_in_image()
    {
        var r = CliRunner.Run("explain", "--layer", "conv2d", "--at", "0,0,3", "--seed", "5");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("UNTRAINED", r.Out);
        Assert.Contains("stand-in test image", r.Out);
        Assert.Contains("·0", r.Out);
        Assert.Contains("matches the layer's output", r.Out);
        Assert.Equal("", r.Err);
    }

    [Fact]
    public void A_large_conv_window_prints_every_channel_and_the_total()
    {
        var r = CliRunner.Run("explain", "--layer", "conv2d_1", "--at", "20,20,3");
        Assert.True(r.ExitCode == 0, r.ToString());
        for (int ci = 0; ci < 16; ci++) Assert.Contains($"channel {ci}: x", r.Out);
        Assert.Matches(@"sum of the 16 channel sums \(144 products\)\s+=", r.Out);
    }

    [Theory]
    [InlineData("conv2d_1", "20,20,3", "rows 37…44, columns 37…44 (8×8 pixels of the 80×80 image)")]   // 3×3 after a 3×3 conv and a 2×2 pool
    [InlineData("conv2d_2", "5,5,0", "rows 13…30, columns 13…30 (18×18 pixels of the 80×80 image)")]
    public void A_deeper_conv_also_gives_its_window_in_the_image(string layer, string at, string expected)
    {
        var r = CliRunner.Run("explain", "--layer", layer, "--at", at);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("in the image: " + expected, r.Out);
    }

    [Fact]
    public void An_unknown_layer_exits_1_with_one_line_listing_the_layers()
    {
        var r = Explain("conv9", "1,2,3");
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.ErrLines);
        Assert.Contains("'conv9'", line);
        Assert.Contains("conv2d, max_pooling2d, conv2d_1, average_pooling2d, dense, dense_1", line);
    }

    [Theory]
    [InlineData("conv2d", "16,0,0", "(16, 16, 4)")]
    [InlineData("conv2d", "0,0,4", "(16, 16, 4)")]
    [InlineData("dense", "5", "(5,)")]
    [InlineData("conv2d", "3", "(16, 16, 4)")]
    public void An_index_outside_the_output_exits_1_naming_the_shape(string layer, string at, string shape)
    {
        var r = Explain(layer, at);
        Assert.Equal(1, r.ExitCode);
        var line = Assert.Single(r.ErrLines);
        Assert.Contains(shape, line);
        Assert.Equal("", r.Out);
    }

    [Theory]
    [InlineData("a,b,c")]
    [InlineData("1,2,3,4")]
    [InlineData("1,,2")]
    [InlineData("-1,0,0")]
    public void A_malformed_at_is_an_argument_error(string at)
    {
        var r = Explain("conv2d", at);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("convnet: error: --at", r.Err);
        Assert.Equal("", r.Out);
    }
}
