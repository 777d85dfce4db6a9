using System.Text.Json.Nodes;
using ConvNet.Data.Mandarin;
using Xunit;

namespace ConvNet.Demo.Tests;

/// <summary>
/// <c>convnet tune</c> end to end on a tiny stand-in set (3 classes × 7 samples): two trials of one epoch write trials.csv,
/// results.json, scores.png and summary.txt; running the same command again resumes (no trial is trained twice) and
/// reports the same best trial.
/// </summary>
public sealed class TuneCommandTests
{
    [Fact]
    public void Tune_writes_its_files_and_resumes()
    {
        using var dir = new TempDir();
        MandarinGenerator.Generate(dir["data"], MandarinGenerator.DefaultSeed, labels: ["kou", "ren", "ri"]);
        string[] args = ["tune", "--data", dir["data"], "--max-trials", "2", "--epochs", "1", "--seed", "4", "--out", dir["out"], "--threads", "2"];
        var r = CliRunner.Run(args);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Search space (7 hyper-parameters; the defaults are the lecture's):", r.Out);
        Assert.Contains("Trial 1/2 (00): filters_1=", r.Out);
        Assert.Contains("Trial 2/2 (01): ", r.Out);
        Assert.Contains("| lecture defaults | ", r.Out);
        foreach (var f in new[] { "trials.csv", "results.json", "scores.png", "summary.txt", "search/tuner.json", "search/trial_00/trial.json", "search/trial_01/checkpoint.cnet" })
            Assert.True(File.Exists(dir["out/" + f]), $"{f} is missing\n{r}");
        var csv = File.ReadAllLines(dir["out/trials.csv"]);
        Assert.Equal("trial_id,status,score,best_epoch,epochs,seconds,filters_1,filters_2,filters_3,units,dropout,learning_rate,augment,message", csv[0]);
        Assert.Equal(3, csv.Length);
        Assert.All(csv.Skip(1), l => Assert.Contains(",COMPLETED,", l));
        var results = JsonNode.Parse(File.ReadAllText(dir["out/results.json"]))!;
        Assert.Equal("random", (string)results["tuner"]!);
        Assert.Equal(2, (int)results["trials"]!);
        Assert.Equal(7, results["best_hyperparameters"]!.AsObject().Count);

        var again = CliRunner.Run(args);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("resuming after 2 recorded trial(s)", again.Out);
        Assert.DoesNotContain("Trial 1/2", again.Out);
        var results2 = JsonNode.Parse(File.ReadAllText(dir["out/results.json"]))!;
        Assert.Equal((string)results["best_trial"]!, (string)results2["best_trial"]!);
        Assert.Equal((double)results["best_val_accuracy"]!, (double)results2["best_val_accuracy"]!);
    }

    [Fact]
    public void Hyperband_runs_its_brackets()
    {
        using var dir = new TempDir();
        MandarinGenerator.Generate(dir["data"], MandarinGenerator.DefaultSeed, labels: ["kou", "ren", "ri"]);
        var r = CliRunner.Run("tune", "--data", dir["data"], "--tuner", "hyperband", "--epochs", "3", "--max-trials", "20", "--seed", "4",
            "--out", dir["out"], "--threads", "2");
        Assert.True(r.ExitCode == 0, r.ToString());
        // R = 3, η = 3: bracket 1 runs 3 trials of 1 epoch and continues the best one to 3; bracket 0 runs 2 trials of 3 epochs.
        var csv = File.ReadAllLines(dir["out/trials.csv"]);
        var header = csv[0].Split(',');
        int epochs = Array.IndexOf(header, "tuner/epochs"), initial = Array.IndexOf(header, "tuner/initial_epoch");
        Assert.True(epochs > 0 && initial > 0, csv[0]);
        Assert.Equal(new[] { "1", "1", "1", "3", "3", "3" }, csv.Skip(1).Select(l => l.Split(',')[epochs]));
        Assert.Equal(new[] { "0", "0", "0", "1", "0", "0" }, csv.Skip(1).Select(l => l.Split(',')[initial]));
    }

    [Fact]
    public void Unknown_tuner_is_a_usage_error()
    {
        var r = CliRunner.Run("tune", "--tuner", "bayesian");
        Assert.Equal(2, r.ExitCode);
    }
}
