using Xunit;
using System.Globalization;
using SixLabors.ImageSharp;

namespace ConvNet.Demo.Tests;

public sealed class TrainEndToEndTests(TrainedRunFixture run) : IClassFixture<TrainedRunFixture>
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public void Train_succeeds_and_prints_the_lecture_steps()
    {
        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}\n{run.Out}\n{run.Err}");
        Assert.Equal("", run.Err);
        Assert.Contains("Found 21 files belonging to 3 classes.", run.Out);
        Assert.Contains("Found 15 files belonging to 3 classes.", run.Out);
        Assert.Equal(2, run.Out.Split('\n').Count(l => l == "Found 3 files belonging to 3 classes."));
        Assert.Contains("Total params: 843,011", run.Out);
        Assert.Contains("Epoch 1/2", run.Out);
        Assert.Contains("Epoch 2/2", run.Out);
        Assert.Contains("Restoring model weights from the end of the best epoch", run.Out);
        Assert.Contains("Evaluation [loss, accuracy, top-5]:", run.Out);
        Assert.Matches(@"\n  test  \[[0-9.eE-]+, [0-9.]+, [0-9.]+\]", run.Out);
        Assert.Contains("Prediction for test image #2", run.Out);
        Assert.Contains("Total time:", run.Out);
    }

    [Fact]
    public void Plain_progress_prints_one_line_per_epoch()
    {
        var epochLines = run.Out.Split('\n').Where(l => l.StartsWith("Epoch ", StringComparison.Ordinal) && l.Contains(" batches ")).ToList();
        Assert.Equal(2, epochLines.Count);
        Assert.All(epochLines, l => Assert.Contains("val_accuracy:", l));
        Assert.DoesNotContain("\u001b[", run.Out); // no ANSI escapes when not interactive
    }

    [Theory]
    [InlineData("curves.png")]
    [InlineData("errors.png")]
    [InlineData("confidence.png")]
    public void Plots_are_valid_pngs(string name)
    {
        string path = Path.Combine(run.RunDir, name);
        Assert.True(File.Exists(path), $"{name} is missing");
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(PngSignature, bytes.Take(8).ToArray());
        using var image = Image.Load(bytes);
        Assert.True(image.Width >= 300 && image.Height >= 200, $"{name} is {image.Width}×{image.Height}");
    }

    [Fact]
    public void History_csv_has_a_header_and_one_row_per_epoch()
    {
        var lines = File.ReadAllLines(Path.Combine(run.RunDir, "history.csv"));
        Assert.Equal("epoch,loss,accuracy,sparse_top_k_categorical_accuracy,val_loss,val_accuracy,val_sparse_top_k_categorical_accuracy", lines[0]);
        Assert.Equal(3, lines.Length);
        for (int e = 1; e <= 2; e++)
        {
            var cells = lines[e].Split(',');
            Assert.Equal(7, cells.Length);
            Assert.Equal(e.ToString(CultureInfo.InvariantCulture), cells[0]);
            Assert.All(cells.Skip(1), c => Assert.True(double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v), c));
        }
    }

    [Fact]
    public void Model_file_loads_with_the_class_list()
    {
        var model = Sequential.Load(Path.Combine(run.RunDir, "model.cnet"));
        Assert.Equal(843_011, model.CountParams());
        Assert.Equal([80, 80, 1], model.InputShape!.ToArray());
        Assert.Equal(3, model.OutputShape[^1]);
        Assert.Equal(TrainedRunFixture.Labels, File.ReadAllLines(Path.Combine(run.RunDir, "classes.txt")));
    }

    [Fact]
    public void Report_links_the_figures_and_has_the_numbers()
    {
        string md = File.ReadAllText(Path.Combine(run.RunDir, "report.md"));
        Assert.Contains("(curves.png)", md);
        Assert.Contains("(errors.png)", md);
        Assert.Contains("(confidence.png)", md);
        Assert.Contains("(history.csv)", md);
        Assert.Matches(@"\| test \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|", md);
    }

    [Fact]
    public void Predict_prints_ranked_classes_for_each_image()
    {
        string model = Path.Combine(run.RunDir, "model.cnet");
        string a = Path.Combine(run.DataDir, "kou", "kou-1.png"), b = Path.Combine(run.DataDir, "ri", "ri-3.png");
        var r = CliRunner.Run("predict", "--model", model, a, b);
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(8, lines.Length); // per image: a header and 3 ranked classes (only 3 classes)
        Assert.StartsWith(a + ": ", lines[0]);
        Assert.StartsWith(b + ": ", lines[4]);
        double total = lines.Where(l => l.StartsWith("  ", StringComparison.Ordinal))
            .Take(3).Sum(l => double.Parse(l.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1].TrimEnd('%'), CultureInfo.InvariantCulture));
        Assert.InRange(total, 99.9, 100.1);
        Assert.Contains("kou 口", r.Out);
    }

    [Fact]
    public void Evaluate_prints_metrics_and_a_per_class_table()
    {
        var r = CliRunner.Run("evaluate", "--model", run.RunDir, "--data", run.DataDir);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Evaluated on all images", r.Out);
        Assert.Contains("[loss, accuracy, top-5] = [", r.Out);
        Assert.Contains("Per-class accuracy", r.Out);
        foreach (var label in TrainedRunFixture.Labels) Assert.Contains(label, r.Out);
    }

    [Fact]
    public void Evaluate_rejects_data_with_classes_the_model_does_not_know()
    {
        using var tmp = new TempDir();
        Directory.CreateDirectory(tmp["data/kou"]);
        Directory.CreateDirectory(tmp["data/zzz"]);
        File.Copy(Path.Combine(run.DataDir, "kou", "kou-1.png"), tmp["data/kou/a.png"]);
        File.Copy(Path.Combine(run.DataDir, "kou", "kou-2.png"), tmp["data/zzz/b.png"]);
        var r = CliRunner.Run("evaluate", "--model", run.RunDir, "--data", tmp["data"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.ErrLines);
        Assert.Contains("zzz", r.Err);
    }

    [Fact]
    public void Predict_on_an_unreadable_image_fails_with_one_line()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp["broken.png"], "not a png");
        var r = CliRunner.Run("predict", "--model", Path.Combine(run.RunDir, "model.cnet"), tmp["broken.png"]);
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.ErrLines);
        Assert.Contains("broken.png", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
    }
}
