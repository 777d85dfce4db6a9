using System.Text.Json.Nodes;
using ConvNet.Tuning;
using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>
/// Hyper-parameter search: the space's semantics (defaults while registering, unique names, conditional scopes), sampling
/// distributions checked statistically with fixed seeds, Hyperband's bracket schedule for R = 81 and η = 3, trials recorded
/// on disk and resumed after a simulated crash, determinism, failed trials, grid order, and the best model's checkpoint.
/// Models are a tiny dense net on 4×4 inputs so that a whole search takes well under a second.
/// </summary>
public sealed class TuningTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "convnet-tuning-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    // ---- the space ----

    [Fact]
    public void RegisteringReturnsDefaultsAndNamesAreUnique()
    {
        var hp = new HyperParameters();
        Assert.Equal(16, hp.Choice("filters", [16, 32, 64]));
        Assert.Equal(32, hp.Choice("units", [16, 32, 64], 32));
        Assert.Equal(8, hp.Int("n", 8, 64, step: 8));
        Assert.Equal(1e-4, hp.Float("lr", 1e-4, 1e-2, sampling: Sampling.Log));
        Assert.False(hp.Boolean("augment"));
        Assert.Equal("adam", hp.Fixed("optimizer", "adam"));
        Assert.Equal(16, hp.Choice("filters", [16, 32, 64]));   // same definition: same value
        var e = Assert.Throws<ArgumentException>(() => hp.Int("filters", 1, 5));
        Assert.Contains("'filters'", e.Message);
        Assert.Equal(new[] { "filters", "units", "n", "lr", "augment", "optimizer" }, hp.Space.Select(p => p.Name));
        Assert.Equal(8.0, hp.Get<double>("n"));
        Assert.Throws<KeyNotFoundException>(() => hp.Get<int>("missing"));
        Assert.Throws<ArgumentException>(() => hp.Choice("bad", [1, 2], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => hp.Float("neg", 0, 1, sampling: Sampling.Log));
    }

    [Fact]
    public void ConditionalEntriesAreActiveOnlyForTheirParentValues()
    {
        var hp = new HyperParameters();
        string kind = hp.Choice("kind", ["dense", "conv"]);
        using (hp.ConditionalScope("kind", "conv")) hp.Int("filters", 4, 8, step: 4);
        Assert.Equal("dense", kind);
        Assert.False(hp.IsActive("filters"));
        Assert.False(hp.Values.ContainsKey("filters"));
        var conv = hp.Copy();
        conv.Set("kind", "conv");
        conv.Set("filters", 8);
        Assert.True(conv.IsActive("filters"));
        Assert.Equal(8, conv.Get<int>("filters"));
        Assert.Throws<ArgumentException>(() => conv.Set("filters", 6));   // not on the grid 4, 8
    }

    [Fact]
    public void StepGridsHoldTheValuesAPersonWrote()
    {
        var hp = new HyperParameters();
        hp.Float("dropout", 0.0, 0.5, step: 0.1);
        hp.Float("lr", 1e-4, 1e-2, step: 10, sampling: Sampling.Log);
        hp.Int("units", 16, 100, step: 2, sampling: Sampling.Log);
        Assert.Equal(new object[] { 0.0, 0.1, 0.2, 0.3, 0.4, 0.5 }, hp.Space[0].GridValues());
        Assert.Equal(new object[] { 1e-4, 1e-3, 1e-2 }, hp.Space[1].GridValues().Select(v => (object)Math.Round((double)v, 15)));
        Assert.Equal(new object[] { 16, 32, 64 }, hp.Space[2].GridValues());
    }

    [Fact]
    public void LogUniformFloatIsUniformInLogSpace()
    {
        var space = new HyperParameters();
        space.Float("lr", 1e-5, 1e-1, sampling: Sampling.Log);
        const int n = 20_000;
        var rng = new Rng(42);
        var logs = new double[n];
        for (int i = 0; i < n; i++)
        {
            var hp = space.Copy();
            hp.SampleAll(rng);
            double v = hp.Get<double>("lr");
            Assert.InRange(v, 1e-5, 1e-1);
            logs[i] = (Math.Log10(v) + 5) / 4;   // uniform on [0, 1] if log-uniform
        }
        // Kolmogorov–Smirnov against U(0, 1): critical value 1.63/√n at α = 0.01.
        Array.Sort(logs);
        double d = 0;
        for (int i = 0; i < n; i++) d = Math.Max(d, Math.Max(Math.Abs((i + 1.0) / n - logs[i]), Math.Abs(logs[i] - (double)i / n)));
        Assert.True(d < 1.63 / Math.Sqrt(n), $"KS distance {d:G4} ≥ {1.63 / Math.Sqrt(n):G4}");
        // Each decade holds a quarter (5 standard errors); a linear sampler would put 90% in the top decade.
        for (int k = 0; k < 4; k++)
        {
            double share = logs.Count(x => x >= k / 4.0 && x < (k + 1) / 4.0) / (double)n, se = Math.Sqrt(0.25 * 0.75 / n);
            Assert.True(Math.Abs(share - 0.25) < 5 * se, $"decade {k}: {share:G4}");
        }
    }

    [Fact]
    public void LinearFloatIntGridsChoiceAndBooleanAreUniform()
    {
        var space = new HyperParameters();
        space.Float("rate", 0.0, 0.5);
        space.Int("units", 32, 128, step: 32);                         // 32, 64, 96, 128
        space.Int("filters", 8, 64, step: 2, sampling: Sampling.Log);  // 8, 16, 32, 64
        space.Choice("act", ["relu", "tanh", "gelu"]);
        space.Boolean("augment");
        const int n = 12_000;
        var rng = new Rng(7);
        var counts = new Dictionary<string, int>();
        double rateSum = 0;
        for (int i = 0; i < n; i++)
        {
            var hp = space.Copy();
            hp.SampleAll(rng);
            rateSum += hp.Get<double>("rate");
            foreach (var key in new[] { "units", "filters", "act", "augment" })
            {
                string k = key + "=" + hp.Values[key];
                counts[k] = counts.GetValueOrDefault(k) + 1;
            }
        }
        Assert.True(Math.Abs(rateSum / n - 0.25) < 5 * 0.5 / Math.Sqrt(12 * n), $"mean rate {rateSum / n}");
        void Uniform(string key, object[] values)
        {
            double p = 1.0 / values.Length, se = Math.Sqrt(p * (1 - p) / n);
            foreach (var v in values)
            {
                double share = counts.GetValueOrDefault(key + "=" + v) / (double)n;
                Assert.True(Math.Abs(share - p) < 5 * se, $"{key}={v}: {share:G4}, expected {p:G4}");
            }
            Assert.Equal(n, counts.Where(kv => kv.Key.StartsWith(key + "=", StringComparison.Ordinal)).Sum(kv => kv.Value));
        }
        Uniform("units", [32, 64, 96, 128]);
        Uniform("filters", [8, 16, 32, 64]);
        Uniform("act", ["relu", "tanh", "gelu"]);
        Uniform("augment", [false, true]);
    }

    [Theory]
    [InlineData("val_accuracy", ObjectiveDirection.Max)]
    [InlineData("accuracy", ObjectiveDirection.Max)]
    [InlineData("val_loss", ObjectiveDirection.Min)]
    [InlineData("val_mean_squared_error", ObjectiveDirection.Min)]
    public void ObjectiveDirectionComesFromTheName(string name, ObjectiveDirection direction)
    {
        Objective o = name;
        Assert.Equal(direction, o.Direction);
        Assert.Equal($"Objective(name=\"{name}\", direction=\"{direction.ToString().ToLowerInvariant()}\")", o.ToString());
    }

    // ---- Hyperband ----

    [Fact]
    public void HyperbandBracketsForR81Eta3AreThePublishedSchedule()
    {
        var brackets = Hyperband.Schedule(81, 3);
        // Keras Tuner's schedule (HyperbandOracle._get_size / _get_epochs), most aggressive bracket first.
        int[][][] keras =
        [
            [[81, 1], [27, 3], [9, 9], [3, 27], [1, 81]],
            [[34, 3], [12, 9], [4, 27], [2, 81]],
            [[15, 9], [5, 27], [2, 81]],
            [[8, 27], [3, 81]],
            [[5, 81]],
        ];
        Assert.Equal(new[] { 4, 3, 2, 1, 0 }, brackets.Select(b => b.Number));
        for (int b = 0; b < 5; b++)
            Assert.Equal(keras[b].Select(r => new HyperbandRound(r[0], r[1])), brackets[b].Rounds);
        // Li et al. 2018, Table 1 (R = 81, η = 3): every bracket starts with n_0 configurations of r_0 epochs, and round i trains
        // to r_0·η^i epochs. Later rounds keep ⌈·⌉ where the paper keeps ⌊n_{i−1}/η⌋, i.e. at least as many.
        int[][][] paper =
        [
            [[81, 1], [27, 3], [9, 9], [3, 27], [1, 81]],
            [[34, 3], [11, 9], [3, 27], [1, 81]],
            [[15, 9], [5, 27], [1, 81]],
            [[8, 27], [2, 81]],
            [[5, 81]],
        ];
        for (int b = 0; b < 5; b++)
        {
            Assert.Equal(paper[b][0][0], brackets[b].Rounds[0].Trials);
            Assert.Equal(paper[b].Select(r => r[1]), brackets[b].Rounds.Select(r => r.Epochs));
            for (int r = 0; r < paper[b].Length; r++) Assert.True(brackets[b].Rounds[r].Trials >= paper[b][r][0]);
        }
    }

    [Fact]
    public void HyperbandRunsItsBracketsAndContinuesTheBestTrials()
    {
        var tuner = new Hyperband(Build, "val_accuracy", maxEpochs: 9, factor: 3, seed: 3, directory: _dir, projectName: "hb");
        tuner.Search(Data.Train, Data.Val);
        var schedule = Hyperband.Schedule(9, 3);   // (9@1, 3@3, 1@9), (5@3, 2@9), (3@9)
        int expected = schedule.Sum(b => b.Rounds.Sum(r => r.Trials));
        Assert.Equal(23, expected);
        Assert.Equal(expected, tuner.Trials.Count);
        Assert.All(tuner.Trials, t => Assert.Equal(TrialStatus.Completed, t.Status));
        var epochs = tuner.Trials.Select(t => t.HyperParameters.Get<int>("tuner/epochs")).ToArray();
        int[] expectedEpochs = [.. schedule.SelectMany(b => b.Rounds.SelectMany(r => Enumerable.Repeat(r.Epochs, r.Trials)))];
        Assert.Equal(expectedEpochs, epochs);
        // Round 1 of the first bracket continues the best 3 of its 9 random trials, best first.
        var first = tuner.Trials.Take(9).ToArray();
        var promoted = tuner.Trials.Skip(9).Take(3).Select(t => t.HyperParameters.Get<string>("tuner/trial_id")).ToArray();
        var best3 = first.OrderByDescending(t => t.Score).Take(3).Select(t => t.TrialId).ToArray();
        Assert.Equal(best3.Order(), promoted.Order());
        Assert.All(tuner.Trials.Skip(9).Take(3), t => Assert.Equal(1, t.HyperParameters.Get<int>("tuner/initial_epoch")));
    }

    // ---- search, persistence, resume ----

    [Fact]
    public void SameSeedSameTrialsAndScores()
    {
        var a = new RandomSearch(Build, "val_accuracy", maxTrials: 4, seed: 11, directory: _dir, projectName: "a");
        var b = new RandomSearch(Build, "val_accuracy", maxTrials: 4, seed: 11, directory: _dir, projectName: "b");
        var c = new RandomSearch(Build, "val_accuracy", maxTrials: 4, seed: 12, directory: _dir, projectName: "c");
        foreach (var t in new[] { a, b, c }) t.Search(Data.Train, Data.Val, epochs: 3);
        Assert.Equal(Describe(a), Describe(b));
        Assert.NotEqual(a.Trials.Select(t => t.HyperParameters.ToString()), c.Trials.Select(t => t.HyperParameters.ToString()));
        Assert.Equal(4, a.Trials.Select(t => t.HyperParameters.ToString()).Distinct().Count());   // no configuration twice
    }

    [Fact]
    public void AnInterruptedSearchResumesWhereItStopped()
    {
        var reference = new RandomSearch(Build, "val_loss", maxTrials: 5, seed: 5, directory: _dir, projectName: "reference");
        reference.Search(Data.Train, Data.Val, epochs: 3);

        // Crash in the middle of the fourth trial's training: its record says RUNNING.
        var first = new RandomSearch(Build, "val_loss", maxTrials: 5, seed: 5, directory: _dir, projectName: "resumed");
        using var cts = new CancellationTokenSource();
        var crash = new Progress(p => { if (p.Kind == TuningProgressKind.Training && p.TrialNumber == 4 && p.Training!.Epoch == 2) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => first.Search(Data.Train, Data.Val, epochs: 3, progress: crash, cancellationToken: cts.Token));
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "resumed", "trial_03", "trial.json")))!;
        Assert.Equal("RUNNING", (string)record["status"]!);
        Assert.Equal(3, Directory.GetDirectories(Path.Combine(_dir, "resumed")).Count(d => File.Exists(Path.Combine(d, "checkpoint.cnet"))));
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "resumed"), "*.tmp", SearchOption.AllDirectories));

        // A new tuner on the same folder runs trial 4 again, then 5, and ends with the uninterrupted search's results.
        var resumed = new RandomSearch(Build, "val_loss", maxTrials: 5, seed: 5, directory: _dir, projectName: "resumed");
        Assert.Equal(new[] { TrialStatus.Completed, TrialStatus.Completed, TrialStatus.Completed, TrialStatus.Running }, resumed.Trials.Select(t => t.Status));
        var begun = new List<int>();
        resumed.Search(Data.Train, Data.Val, epochs: 3, progress: new Progress(p => { if (p.Kind == TuningProgressKind.TrialBegin) begun.Add(p.TrialNumber); }));
        Assert.Equal(new[] { 4, 5 }, begun);
        Assert.Equal(Describe(reference), Describe(resumed));

        // overwrite: true starts afresh.
        var again = new RandomSearch(Build, "val_loss", maxTrials: 5, seed: 5, directory: _dir, projectName: "resumed", overwrite: true);
        Assert.Empty(again.Trials);
        // Another search in the same folder is refused.
        var other = new RandomSearch(Build, "val_accuracy", maxTrials: 5, seed: 5, directory: _dir, projectName: "reference");
        Assert.Throws<InvalidOperationException>(() => other.Trials);
    }

    [Fact]
    public void AFailingTrialIsRecordedAndTheSearchGoesOn()
    {
        Model BuildOrFail(HyperParameters hp)
        {
            int units = hp.Choice("units", [2, 3, 4]);
            if (units == 3) throw new ArgumentException("3 units is an invalid combination");
            return Build(units, 1e-2);
        }
        var tuner = new GridSearch(BuildOrFail, "val_accuracy", seed: 1, directory: _dir, projectName: "grid");
        tuner.Search(Data.Train, Data.Val, epochs: 2);
        Assert.Equal(new[] { 2, 3, 4 }, tuner.Trials.Select(t => t.HyperParameters.Get<int>("units")));
        Assert.Equal(new[] { TrialStatus.Completed, TrialStatus.Failed, TrialStatus.Completed }, tuner.Trials.Select(t => t.Status));
        var failed = tuner.Trials[1];
        Assert.Equal("ArgumentException: 3 units is an invalid combination", failed.Message);
        Assert.Null(failed.Score);
        var record = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "grid", "trial_0001", "trial.json")))!;
        Assert.Equal("FAILED", (string)record["status"]!);
        Assert.Contains("invalid combination", (string)record["message"]!);
        Assert.Contains("1 trial failed.", tuner.ResultsSummary());
        Assert.Equal(2, tuner.GetBestHyperparameters(5).Count);
    }

    [Fact]
    public void GridSearchVisitsEveryCombinationLastEntryFastest()
    {
        var tuner = new GridSearch(hp =>
        {
            hp.Choice("a", [1, 2]);
            hp.Boolean("b");
            return Build(2, 1e-2);
        }, "val_loss", directory: _dir, projectName: "g");
        tuner.Search(Data.Train, Data.Val, epochs: 1);
        Assert.Equal(new[] { "a=1, b=False", "a=1, b=True", "a=2, b=False", "a=2, b=True" }, tuner.Trials.Select(t => t.HyperParameters.ToString()));
    }

    [Fact]
    public void EntriesOfABranchTheDefaultsSkipJoinTheSpaceWhenFirstBuilt()
    {
        Model BuildBranches(HyperParameters hp)
        {
            int units = 2;
            if (hp.Choice("kind", ["small", "big"]) == "big")
                using (hp.ConditionalScope("kind", "big")) units = hp.Int("big_units", 8, 16, step: 8);
            return Build(units, 1e-2);
        }
        string[] expected = ["kind=small", "kind=big, big_units=8", "kind=big, big_units=16"];
        var tuner = new GridSearch(BuildBranches, "val_loss", directory: _dir, projectName: "branches");
        Assert.Equal(new[] { "kind" }, tuner.SearchSpace.Space.Select(p => p.Name));   // the defaults take the small branch
        tuner.Search(Data.Train, Data.Val, epochs: 1);
        Assert.Equal(expected, tuner.Trials.Select(t => t.HyperParameters.ToString()));
        Assert.Equal(new[] { "kind", "big_units" }, tuner.SearchSpace.Space.Select(p => p.Name));

        // Resumed from disk, the discovered entry is an entry again (not a stray value), so the search is complete.
        var resumed = new GridSearch(BuildBranches, "val_loss", directory: _dir, projectName: "branches");
        Assert.Equal(expected, resumed.Trials.Select(t => t.HyperParameters.ToString()));
        Assert.Contains(resumed.Trials[2].HyperParameters.Space, p => p.Name == "big_units");
        var begun = 0;
        resumed.Search(Data.Train, Data.Val, epochs: 1, progress: new Progress(p => { if (p.Kind == TuningProgressKind.TrialBegin) begun++; }));
        Assert.Equal(0, begun);
    }

    [Fact]
    public void BestModelCarriesTheBestEpochsWeightsAndSummaryListsTrials()
    {
        var tuner = new RandomSearch(Build, "val_accuracy", maxTrials: 3, seed: 2, directory: _dir, projectName: "best");
        tuner.Search(Data.Train, Data.Val, epochs: 4);
        var best = tuner.GetBestTrials(1)[0];
        var model = tuner.GetBestModels(1)[0];
        double accuracy = model.Evaluate(Data.Val)[1];
        Assert.Equal(best.Score!.Value, accuracy, 1e-9);
        Assert.Equal(best.HyperParameters.ToString(), tuner.GetBestHyperparameters()[0].ToString());
        string summary = tuner.ResultsSummary(2);
        Assert.StartsWith("Results summary\nResults in ", summary);
        Assert.Contains("Showing 2 best trials\nObjective(name=\"val_accuracy\", direction=\"max\")\n\nTrial " + best.TrialId + " summary\nHyperparameters:\nunits: ", summary);
        Assert.Equal(2, summary.Split("Score: ").Length - 1);
    }

    // ---- helpers ----

    private static string Describe(Tuner t) =>
        string.Join("\n", t.Trials.Select(x => $"{x.TrialId} {x.Status} {x.HyperParameters} {x.Score:R} {x.BestEpoch}/{x.Epochs}"));

    private static Model Build(HyperParameters hp) => Build(hp, hp.Int("units", 2, 16, step: 2));

    private static Model Build(HyperParameters hp, int units) =>
        Build(units, hp.Float("learning_rate", 1e-3, 1e-1, sampling: Sampling.Log, defaultValue: 1e-2));

    private static Model Build(int units, double lr)
    {
        var model = new Sequential(new Input(4, 4, 1), new Flatten(), new Dense(units, Activation.Relu), new Dense(3)) { Threads = 1 };
        model.Compile(new Adam((float)lr), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());
        return model;
    }

    private sealed class Progress(Action<TuningProgress> action) : IProgress<TuningProgress>
    {
        public void Report(TuningProgress value) => action(value);
    }

    /// <summary>Three classes of 4×4 images told apart by which third of the image is bright, plus noise.</summary>
    private static class Data
    {
        public static readonly Dataset Train = Make(60, 1), Val = Make(30, 2);

        private static Dataset Make(int n, int seed)
        {
            var rng = new Rng(seed);
            var x = new Tensor(n, 4, 4, 1);
            var y = new int[n];
            var s = x.Span;
            for (int i = 0; i < n; i++)
            {
                y[i] = i % 3;
                for (int p = 0; p < 16; p++) s[i * 16 + p] = (float)(rng.NextDouble() + (p * 3 / 16 == y[i] ? 0.8 : 0));
            }
            return new Dataset(x, y);
        }
    }
}
