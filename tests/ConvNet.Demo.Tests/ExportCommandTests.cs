using ConvNet.Onnx;

namespace ConvNet.Demo.Tests;

/// <summary><c>convnet export</c>: writes an ONNX file that imports back to the same predictions; bad options exit 2.</summary>
public sealed class ExportCommandTests
{
    [Theory]
    [InlineData("lenet5", "nhwc")]
    [InlineData("residual-block", "nchw")]
    public void ExportWritesAFileThatImportsBackToTheSamePredictions(string name, string layout)
    {
        var dir = Directory.CreateTempSubdirectory("convnet-export-");
        try
        {
            var path = Path.Combine(dir.FullName, name + ".onnx");
            var r = CliRunner.Run("export", "--model", name, "--onnx", path, "--layout", layout);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Contains("Wrote", r.Out);
            var imported = OnnxImporter.Load(path);
            var original = name == "lenet5" ? (Model)ModelZoo.LeNet5() : ModelZoo.CreateGraph(name);
            Assert.Equal(original.CountParams(), imported.CountParams());
            Assert.Equal(original.InputShape, imported.InputShape);   // the importer gives an NHWC model for either layout
            var x = new Tensor([2, .. original.InputShape!]);
            var rng = new Rng(1);
            for (int i = 0; i < x.Length; i++) x.Span[i] = rng.Uniform(0, 1);
            Assert.Equal(original.Predict(x).ToArray(), imported.Predict(x).ToArray());   // same zoo weights (seed 0), bit-identical
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public void BadLayoutExitsWithUsageError()
    {
        var r = CliRunner.Run("export", "--model", "lenet5", "--onnx", Path.Combine(Path.GetTempPath(), "never.onnx"), "--layout", "chw");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--layout", r.Err);
    }

    [Fact]
    public void TheImageNetResNet18HasASummaryAndAFeatureVector()
    {
        var r = CliRunner.Run("summary", "--model", "resnet18-imagenet");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Total params: 15,908,800", r.Out);
        Assert.Contains("(None, 1, 1, 512)", r.Out);
        var image = Directory.GetFiles(Path.Combine(RepoRoot(), "data", "emoji-objects", "test", "animal-bird"), "*.png").Order(StringComparer.Ordinal).First();
        r = CliRunner.Run("features", "--model", "resnet18-imagenet", "--image", image);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("512 values, L2 norm ", r.Out);
        Assert.Equal(10, r.Out.Split('\n').Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\s+\d+: \d+\.\d{4}$")));
    }

    private static string RepoRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "ConvNet.sln"))) d = d.Parent;
        return d?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
