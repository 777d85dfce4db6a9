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
}
