using ConvNet.Data;
using Xunit;

namespace ConvNet.Demo.Tests;

public sealed class MnistLeNetTests
{
    // A tiny MNIST-format folder: random 28×28 digits-to-be, written with the library's IDX writer.
    private static void WriteTinyMnist(string folder, int train, int test)
    {
        Directory.CreateDirectory(folder);
        var rng = new Random(7);
        void Write(string prefix, int n)
        {
            var pixels = new byte[n * 28 * 28];
            var labels = new byte[n];
            for (int i = 0; i < n; i++)
            {
                labels[i] = (byte)(i % 10);
                // Class k lights up row band k so the task is learnable.
                for (int r = 0; r < 28; r++)
                    for (int c = 0; c < 28; c++)
                        pixels[(i * 28 + r) * 28 + c] = (byte)(r / 3 == labels[i] ? 200 + rng.Next(50) : rng.Next(30));
            }
            Idx.WriteImages(Path.Combine(folder, $"{prefix}-images-idx3-ubyte"), pixels, n, 28, 28);
            Idx.WriteLabels(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"), labels);
        }
        Write("train", train);
        Write("t10k", test);
    }

    [Fact]
    public void Train_on_an_mnist_folder_uses_padded_lenet5_and_evaluate_reads_it_back()
    {
        using var tmp = new TempDir();
        WriteTinyMnist(tmp["mnist"], 200, 50);
        var r = CliRunner.Run("train", "--data", tmp["mnist"], "--epochs", "2", "--out", tmp["run"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Total params: 61,706", r.Out);
        Assert.Contains("X_train (180, 32, 32, 1)", r.Out);
        Assert.Equal("2", File.ReadAllText(tmp["run/padding.txt"]).Trim());
        var model = Sequential.Load(tmp["run/model.cnet"]);
        Assert.Equal([32, 32, 1], model.InputShape!.ToArray());

        var e = CliRunner.Run("evaluate", "--model", tmp["run/model.cnet"], "--data", tmp["mnist"]);
        Assert.True(e.ExitCode == 0, e.ToString());
        Assert.Contains("MNIST test set (50 images)", e.Out);
    }
}
