using Xunit;
using ConvNet.Data.Mandarin;

namespace ConvNet.Demo.Tests;

/// <summary>
/// A tiny stand-in set (3 classes × 7 samples from <see cref="MandarinGenerator"/>) and one `convnet train --epochs 2`
/// run on it, shared by the end-to-end tests.
/// </summary>
public sealed class TrainedRunFixture : IDisposable
{
    private readonly TempDir _dir = new();

    public static readonly string[] Labels = ["kou", "ren", "ri"];

    public TrainedRunFixture()
    {
        DataDir = _dir["data"];
        RunDir = _dir["run"];
        MandarinGenerator.Generate(DataDir, MandarinGenerator.DefaultSeed, labels: Labels);
        var r = CliRunner.Run("train", "--data", DataDir, "--epochs", "2", "--out", RunDir, "--threads", "2");
        ExitCode = r.ExitCode;
        Out = r.Out;
        Err = r.Err;
    }

    public string DataDir { get; }
    public string RunDir { get; }
    public int ExitCode { get; }
    public string Out { get; }
    public string Err { get; }
    public string Root => _dir.Path;

    public void Dispose() => _dir.Dispose();
}
