using System.Globalization;
using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>ModelCheckpoint, ReduceLROnPlateau, CSVLogger and TerminateOnNaN: scripted with a fake context, and inside Fit.</summary>
public class MoreCallbackTests
{
    private sealed class FakeContext(Optimizer? optimizer = null) : ITrainingContext
    {
        public List<string> Messages { get; } = [];
        public List<string> Saved { get; } = [];
        public bool StopTraining { get; set; }
        public IReadOnlyList<string> MetricNames => ["accuracy"];
        public Optimizer? Optimizer => optimizer;
        public float[][] GetWeights() => [];
        public void SetWeights(float[][] weights) { }
        public void Report(string message) => Messages.Add(message);
        public void Save(string path) => Saved.Add(path);
    }

    /// <summary>Runs a callback over scripted epochs; returns the number of epochs run (stops when StopTraining is set).</summary>
    private static int Run(Callback cb, FakeContext ctx, string key, params double[] values)
    {
        cb.OnTrainBegin(ctx);
        int run = 0;
        for (int e = 0; e < values.Length && !ctx.StopTraining; e++, run++)
            cb.OnEpochEnd(ctx, e, new Dictionary<string, double> { ["loss"] = 1.0 / (e + 1), [key] = values[e] });
        cb.OnTrainEnd(ctx);
        return run;
    }

    // ---- ModelCheckpoint ----

    [Fact]
    public void CheckpointSaveBestOnlySavesOnStrictImprovementWithFormattedPaths()
    {
        var cb = new ModelCheckpoint("ckpt/{epoch:02d}-{val_loss:.2f}.cnet", saveBestOnly: true);
        var ctx = new FakeContext();
        Run(cb, ctx, "val_loss", 1.0, 0.8, 0.9, 0.8, 0.5, double.NaN);
        Assert.Equal(["ckpt/01-1.00.cnet", "ckpt/02-0.80.cnet", "ckpt/05-0.50.cnet"], ctx.Saved);   // 0.8 again is a tie; NaN never improves
        Assert.Equal(0.5, cb.Best);
        Assert.Equal("ckpt/05-0.50.cnet", cb.LastSavedPath);
        Assert.Empty(ctx.Messages);
        // the best value survives into the next Fit, as in Keras
        var ctx2 = new FakeContext();
        Run(cb, ctx2, "val_loss", 0.7, 0.4);
        Assert.Equal(["ckpt/02-0.40.cnet"], ctx2.Saved);
    }

    [Fact]
    public void CheckpointWithoutSaveBestOnlySavesEveryEpoch()
    {
        var ctx = new FakeContext();
        Run(new ModelCheckpoint("m.cnet"), ctx, "val_loss", 3, 2, 5);
        Assert.Equal(["m.cnet", "m.cnet", "m.cnet"], ctx.Saved);
        var ctx2 = new FakeContext();
        Run(new ModelCheckpoint("m-{epoch}-{loss:.3f}-{epoch:3d}.cnet", verbose: true), ctx2, "val_loss", 3, 2);
        Assert.Equal(["m-1-1.000-  1.cnet", "m-2-0.500-  2.cnet"], ctx2.Saved);
        Assert.Equal("Epoch 1: saving model to m-1-1.000-  1.cnet", ctx2.Messages[0]);
    }

    [Fact]
    public void CheckpointMaxModeThresholdAndMissingMonitor()
    {
        var cb = new ModelCheckpoint("best.cnet", "val_accuracy", saveBestOnly: true, initialValueThreshold: 0.6, verbose: true);
        Assert.Equal(MonitorMode.Max, cb.Mode);
        var ctx = new FakeContext();
        Run(cb, ctx, "val_accuracy", 0.5, 0.7, 0.65, 0.9);
        Assert.Equal(["best.cnet", "best.cnet"], ctx.Saved);
        Assert.Equal("Epoch 2: val_accuracy improved from 0.60000 to 0.70000, saving model to best.cnet", ctx.Messages[1]);
        Assert.Equal("Epoch 3: val_accuracy did not improve from 0.70000", ctx.Messages[2]);

        var missing = new FakeContext();
        Run(new ModelCheckpoint("x.cnet", "val_los", saveBestOnly: true), missing, "val_loss", 1, 0.5, 0.2);
        Assert.Empty(missing.Saved);
        var msg = Assert.Single(missing.Messages);
        Assert.Contains("val_los", msg);
        Assert.Contains("val_loss", msg);   // lists what is available
        Assert.Equal(MonitorMode.Max, new ModelCheckpoint("x", "val_precision").Mode);
        Assert.Equal(MonitorMode.Min, new ModelCheckpoint("x", "val_mean_absolute_error").Mode);
    }

    [Fact]
    public void CheckpointPathErrorsAreClear()
    {
        var e = Assert.Throws<ArgumentException>(() => new ModelCheckpoint("m-{epoch:%d}.cnet"));
        Assert.Contains("%d", e.Message);
        var bad = new ModelCheckpoint("m-{val_acc:.2f}.cnet");
        var ie = Assert.Throws<InvalidOperationException>(() => Run(bad, new FakeContext(), "val_accuracy", 0.5));
        Assert.Contains("val_acc", ie.Message);
        Assert.Contains("val_accuracy", ie.Message);
    }

    [Fact]
    public void CheckpointInFitSavesTheWeightsOfTheBestEpoch()
    {
        using var dir = new TrainingTempDir();
        var path = dir.File("best.cnet");
        var model = TrainingTestData.PointModel(3);
        TrainingTestData.Compile(model, new Adam(0.05f));
        var recorded = new List<(double ValLoss, float[][] Weights)>();
        var recorder = new Recorder((_, logs) => recorded.Add((logs["val_loss"], model.GetWeights())));
        model.Fit(TrainingTestData.Points(40, 1), epochs: 6, batchSize: 8, validationData: TrainingTestData.Points(12, 2),
            callbacks: [new ModelCheckpoint(path, saveBestOnly: true), recorder]);
        var best = recorded.MinBy(r => r.ValLoss);
        Assert.True(File.Exists(path));
        TrainingTestData.AssertWeightsIdentical(best.Weights, Sequential.Load(path).GetWeights(), "checkpoint of the best epoch");
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    private sealed class Recorder(Action<int, IReadOnlyDictionary<string, double>> onEpochEnd) : Callback
    {
        public override void OnEpochEnd(ITrainingContext context, int epoch, IReadOnlyDictionary<string, double> logs) => onEpochEnd(epoch, logs);
    }

    // ---- ReduceLROnPlateau ----

    private static float[] LearningRates(ReduceLROnPlateau cb, Optimizer opt, params double[] values)
    {
        var ctx = new FakeContext(opt);
        var rates = new List<float>();
        cb.OnTrainBegin(ctx);
        for (int e = 0; e < values.Length; e++)
        {
            cb.OnEpochEnd(ctx, e, new Dictionary<string, double> { ["val_loss"] = values[e], ["val_accuracy"] = values[e] });
            rates.Add(opt.LearningRate);
        }
        return [.. rates];
    }

    [Fact]
    public void ReducesAfterPatienceThenWaitsOutTheCooldown()
    {
        // best 1.0 at epoch 0; epochs 1, 2 no better → reduce at 2; cooldown 1 (epoch 3 resets wait, then counts 1);
        // 0.5 improves at 4; 5, 6 no better → reduce at 6; 7 cooldown + 1; 8 → reduce
        var rates = LearningRates(new ReduceLROnPlateau(factor: 0.5, patience: 2, cooldown: 1, minDelta: 0), new SGD(1f),
            1.0, 1.0, 1.0, 1.0, 0.5, 0.6, 0.6, 0.6, 0.6);
        Assert.Equal([1f, 1f, 0.5f, 0.5f, 0.5f, 0.5f, 0.25f, 0.25f, 0.125f], rates);
    }

    [Fact]
    public void MinLrMinDeltaAndMaxMode()
    {
        // minLr 0.3: 1 → 0.5 → max(0.25, 0.3) = 0.3, then no further change
        var rates = LearningRates(new ReduceLROnPlateau(factor: 0.5, patience: 1, minLr: 0.3), new SGD(1f), 1, 1, 1, 1, 1);
        Assert.Equal([1f, 0.5f, 0.3f, 0.3f, 0.3f], rates);
        // an improvement smaller than minDelta (default 1e-4) does not count
        rates = LearningRates(new ReduceLROnPlateau(factor: 0.1, patience: 1), new SGD(1f), 1.0, 0.99995, 0.5);
        Assert.Equal([1f, 0.1f, 0.1f], rates);
        // val_accuracy is maximised
        var acc = new ReduceLROnPlateau("val_accuracy", factor: 0.5, patience: 1);
        Assert.Equal(MonitorMode.Max, acc.Mode);
        var ctx = new FakeContext(new SGD(1f));
        acc.OnTrainBegin(ctx);
        foreach (var (v, e) in new[] { (0.5, 0), (0.6, 1), (0.55, 2) })
            acc.OnEpochEnd(ctx, e, new Dictionary<string, double> { ["val_accuracy"] = v });
        Assert.Equal(0.5f, ctx.Optimizer!.LearningRate);
    }

    [Fact]
    public void KerasDefaultsAndBadArguments()
    {
        var cb = new ReduceLROnPlateau();
        Assert.Equal(("val_loss", 0.1, 10, 1e-4, 0, 0.0), (cb.Monitor, cb.Factor, cb.Patience, cb.MinDelta, cb.Cooldown, cb.MinLr));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(factor: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(patience: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(minLr: double.NaN));
        var e = Assert.Throws<InvalidOperationException>(() => cb.OnTrainBegin(new FakeContext(new Adam(new ExponentialDecay(0.1f, 10, 0.9f)))));
        Assert.Contains("schedule", e.Message);
        Assert.Throws<InvalidOperationException>(() => cb.OnTrainBegin(new FakeContext()));
    }

    [Fact]
    public void ReduceLROnPlateauInFitChangesTheCompiledOptimizer()
    {
        var model = TrainingTestData.PointModel(1);
        var opt = new SGD(0.1f);
        TrainingTestData.Compile(model, opt);
        var rec = new TrainingProgressRecorder();
        // an improvement must exceed 100: only the first epoch improves, every later one reduces (patience 1)
        model.Fit(TrainingTestData.Points(16, 1), epochs: 4, batchSize: 8, progress: rec,
            callbacks: [new ReduceLROnPlateau("loss", factor: 0.5, patience: 1, minDelta: 100, verbose: true)]);
        Assert.Equal(0.1f * 0.5f * 0.5f * 0.5f, opt.LearningRate);
        Assert.Equal(["Epoch 2: ReduceLROnPlateau reducing learning rate to 0.05.", "Epoch 3: ReduceLROnPlateau reducing learning rate to 0.025.", "Epoch 4: ReduceLROnPlateau reducing learning rate to 0.0125."],
            rec.Messages);
    }

    // ---- CSVLogger ----

    [Fact]
    public void CsvLoggerWritesKerasColumnsAndRoundTripValues()
    {
        using var dir = new TrainingTempDir();
        var file = dir.File("log.csv");
        var model = TrainingTestData.PointModel(1);
        TrainingTestData.Compile(model);
        var h = model.Fit(TrainingTestData.Points(16, 1), epochs: 3, batchSize: 8, validationData: TrainingTestData.Points(8, 2), callbacks: [new CSVLogger(file)]);
        var lines = File.ReadAllText(file).Split('\n');
        Assert.Equal("", lines[^1]);
        Assert.Equal("epoch,accuracy,loss,val_accuracy,val_loss", lines[0]);   // sorted keys, as Keras
        Assert.Equal(5, lines.Length);
        for (int e = 0; e < 3; e++)
        {
            var cells = lines[e + 1].Split(',');
            Assert.Equal(e.ToString(CultureInfo.InvariantCulture), cells[0]);   // 0-based, as Keras
            foreach (var (key, col) in new[] { ("accuracy", 1), ("loss", 2), ("val_accuracy", 3), ("val_loss", 4) })
                Assert.Equal(h[key][e], double.Parse(cells[col], CultureInfo.InvariantCulture));
        }

        // without validation data Keras adds val_ columns filled with NA; append mode adds rows without a second header
        var plain = dir.File("plain.csv");
        model.Fit(TrainingTestData.Points(16, 1), epochs: 1, batchSize: 8, callbacks: [new CSVLogger(plain, ';')]);
        model.Fit(TrainingTestData.Points(16, 1), epochs: 2, batchSize: 8, callbacks: [new CSVLogger(plain, ';', append: true)]);
        var rows = File.ReadAllText(plain).TrimEnd('\n').Split('\n');
        Assert.Equal("epoch;accuracy;loss;val_accuracy;val_loss", rows[0]);
        Assert.Equal(4, rows.Length);
        Assert.All(rows.Skip(1), r => Assert.EndsWith(";NA;NA", r));
        Assert.Equal(["0", "0", "1"], rows.Skip(1).Select(r => r.Split(';')[0]));
        // a new Fit without append starts the file again
        model.Fit(TrainingTestData.Points(16, 1), epochs: 1, batchSize: 8, callbacks: [new CSVLogger(plain, ';')]);
        Assert.Equal(2, File.ReadAllText(plain).TrimEnd('\n').Split('\n').Length);
    }

    [Theory]
    [InlineData(double.NaN, "nan")]
    [InlineData(double.PositiveInfinity, "inf")]
    [InlineData(double.NegativeInfinity, "-inf")]
    [InlineData(1.0, "1.0")]
    [InlineData(0.1, "0.1")]
    [InlineData(1e-5, "1e-05")]
    public void CsvValuesAreWrittenAsPythonDoes(double v, string expected) => Assert.Equal(expected, CSVLogger.Format(v));

    // ---- TerminateOnNaN ----

    [Fact]
    public void TerminateOnNaNEndsFitNormallyWithoutApplyingTheBadBatch()
    {
        // as TrainingTests.HugeLearningRate…: SGD(1e30) on two linear layers overflows within a few batches
        var model = new Sequential { Seed = 1, Threads = 1 };
        model.Add(new Input(2)); model.Add(new Dense(8)); model.Add(new Dense(4));
        TrainingTestData.Compile(model, new SGD(1e30f));
        float[][] lastApplied = model.GetWeights();
        var rec = new TrainingProgressRecorder(p => { if (p.Kind == ProgressKind.BatchEnd) lastApplied = model.GetWeights(); });
        var terminate = new TerminateOnNaN();
        var endCalls = 0;
        var h = model.Fit(TrainingTestData.Points(40, 1), epochs: 5, batchSize: 8, progress: rec,
            callbacks: [terminate, new EndCounter(() => endCalls++)]);
        Assert.True(terminate.TerminatedEpoch >= 0, "the loss never became NaN: the test does not exercise the callback");
        Assert.Equal(terminate.TerminatedEpoch + 1, h.Epochs);
        Assert.True(terminate.TerminatedBatch >= 0);
        Assert.Equal(1, endCalls);   // OnTrainEnd ran: Fit ended normally
        TrainingTestData.AssertWeightsIdentical(lastApplied, model.GetWeights(), "weights after the terminated batch");
        Assert.True(TrainingTestData.AllFinite(model.GetWeights()));
        foreach (var p in model.Parameters) Assert.All(p.Grad.ToArray(), g => Assert.Equal(0f, g));
        var msg = Assert.Single(rec.Messages);
        Assert.Contains($"batch {terminate.TerminatedBatch + 1}: invalid loss, terminating training", msg);
    }

    private sealed class EndCounter(Action onEnd) : Callback
    {
        public override void OnTrainEnd(ITrainingContext context) => onEnd();
    }

    [Fact]
    public void TerminateOnNaNStopsAfterAnEpochWithANonFiniteValidationLoss()
    {
        var cb = new TerminateOnNaN();
        var ctx = new FakeContext();
        Assert.Equal(2, Run(cb, ctx, "val_loss", 0.5, double.PositiveInfinity, 0.4));
        Assert.Equal(1, cb.TerminatedEpoch);
        Assert.Equal(-1, cb.TerminatedBatch);
        Assert.Contains("val_loss", Assert.Single(ctx.Messages));
        Assert.Equal(3, Run(new TerminateOnNaN(), new FakeContext(), "val_loss", 0.5, 0.4, 0.3));
    }
}
