using System.Text.Json;
using ConvNet.Demo.Teaching;
using Xunit;

namespace ConvNet.Demo.Tests;

public class BenchAndLessonCommandTests
{
    [Fact]
    public void LessonPrintsExactlyTheRenderedPage()
    {
        var r = CliRunner.Run("lesson", "4");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(Lessons.Render(4), r.Out);
        Assert.Contains("52,675", r.Out);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("99")]
    [InlineData("x")]
    public void LessonOutOfRangeIsAnArgumentError(string n)
    {
        var r = CliRunner.Run("lesson", n);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("convnet: error:", r.Err);
    }

    [Fact]
    public void BenchJsonHasTheStableKeysWithMeasuredValues()
    {
        var r = CliRunner.Run("bench", "--json", "--threads", "1", "--batch-size", "4", "--seconds", "0.2", "--pairs", "1", "--steps", "2");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        var root = doc.RootElement;
        foreach (var key in new[] { "train_img_per_s", "infer_b32_img_per_s", "infer_b1_ms", "conv2_fwd_gflops" })
            Assert.True(root.GetProperty(key).GetDouble() > 0, key);
        Assert.Equal(0, root.GetProperty("alloc_bytes_per_step").GetInt64());
        Assert.Equal(4, root.GetProperty("batch_size").GetInt32());
        Assert.Equal(10, root.GetProperty("layers").GetArrayLength());
    }

    [Fact]
    public void BenchRejectsZeroThreads()
    {
        var r = CliRunner.Run("bench", "--threads", "0");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--threads must be at least 1", r.Err);
    }
}
