using Xunit;
namespace ConvNet.Demo.Tests;

public sealed class CliErrorTests
{
    [Theory]
    [InlineData("--epochs", "train", "--epochs", "0")]
    [InlineData("--batch-size", "train", "--batch-size", "-3")]
    [InlineData("--epochs", "train", "--epochs", "many")]
    [InlineData("--ratio", "train", "--ratio", "1/2,1/3")]
    [InlineData("--ratio", "split", "--input", "a", "--output", "b", "--ratio", "0.8")]
    [InlineData("--ratio", "split", "--input", "a", "--output", "b", "--ratio", "x/7,1/7,1/7")]
    [InlineData("resnet", "train", "--model", "resnet")]
    [InlineData("bogus", "bogus")]
    [InlineData("--frobnicate", "train", "--frobnicate")]
    [InlineData("--model", "predict", "image.png")]
    [InlineData("IMAGE", "predict", "--model", "m.cnet")]
    [InlineData("--out", "make-mandarin")]
    [InlineData("--input", "split", "--output", "b")]
    public void Bad_arguments_exit_with_2_and_say_what_is_wrong(string mentioned, params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.StartsWith("convnet: error: ", r.Err);
        Assert.Contains(mentioned, r.Err);
        Assert.Contains("--help", r.ErrLines[^1]);
        Assert.Equal("", r.Out);
    }

    [Fact]
    public void Missing_model_file_exits_1_with_one_line()
    {
        var r = CliRunner.Run("predict", "--model", "/nonexistent/model.cnet", "x.png");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(["convnet: error: Model file \"/nonexistent/model.cnet\" does not exist."], r.ErrLines);
    }

    [Fact]
    public void A_file_that_is_not_a_model_exits_1_with_one_line()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp["model.cnet"], "definitely not a model");
        var r = CliRunner.Run("evaluate", "--model", tmp["model.cnet"], "--data", tmp.Path);
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.ErrLines);
        Assert.Contains("not a ConvNet model file", r.Err);
    }

    [Fact]
    public void Verbose_adds_the_stack_trace()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp["model.cnet"], "definitely not a model");
        var r = CliRunner.Run("summary", "--model", tmp["model.cnet"], "--verbose");
        Assert.Equal(1, r.ExitCode);
        Assert.True(r.ErrLines.Length > 1);
        Assert.Contains("   at ", r.Err);
    }

    [Fact]
    public void Missing_training_data_exits_1()
    {
        var r = CliRunner.Run("train", "--data", "/nonexistent/mandarin.zip", "--epochs", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.ErrLines);
        Assert.Contains("does not exist", r.Err);
    }

    [Fact]
    public void Unknown_summary_model_name_exits_2_like_train()
    {
        var r = CliRunner.Run("summary", "--model", "resnet50");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.ErrLines);
        Assert.Contains("resnet50", r.Err);
    }

    [Fact]
    public void Help_lists_every_command()
    {
        var r = CliRunner.Run("--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var cmd in new[] { "train", "predict", "evaluate", "summary", "make-mandarin", "split" })
            Assert.Contains(cmd, r.Out);
        var train = CliRunner.Run("train", "--help");
        Assert.Equal(0, train.ExitCode);
        foreach (var opt in new[] { "--data", "--model", "--epochs", "--batch-size", "--seed", "--threads", "--out", "--patience" })
            Assert.Contains(opt, train.Out);
    }

    [Theory]
    [InlineData("mandarin", "Total params: 849,977 (3.24 MB)")]
    [InlineData("lenet5", "Total params: 61,706")]
    [InlineData("alexnet", "Total params: 62,378,344")]
    public void Summary_prints_the_keras_table(string model, string total)
    {
        var r = CliRunner.Run("summary", "--model", model);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Layer (type)", r.Out);
        Assert.Contains(total, r.Out);
    }

    [Theory]
    [InlineData("5/7,1/7,1/7", new[] { 5.0 / 7, 1.0 / 7, 1.0 / 7 })]
    [InlineData("0.8,0.1,0.1", new[] { 0.8, 0.1, 0.1 })]
    [InlineData("0.75, 0.25", new[] { 0.75, 0.25 })]
    public void Ratios_accept_fractions_and_decimals(string text, double[] expected)
    {
        Assert.Equal(expected, Ratios.TryParse(text, out var error));
        Assert.Null(error);
    }
}
