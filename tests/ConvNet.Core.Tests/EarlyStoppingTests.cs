using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>EarlyStopping driven directly with scripted metric sequences and a fake training context (Keras 3 semantics).</summary>
public class EarlyStoppingTests
{
    /// <summary>A training context whose "weights" are one tensor holding the current epoch number.</summary>
    private sealed class FakeContext : ITrainingContext
    {
        public float[][] Weights = [[-1f, -1f]];
        public List<string> Messages { get; } = [];
        public int SetWeightsCalls;
        public bool StopTraining { get; set; }
        public IReadOnlyList<string> MetricNames => ["accuracy"];
        public float[][] GetWeights() => Weights.Select(w => w.ToArray()).ToArray();
        public void SetWeights(float[][] weights) { SetWeightsCalls++; Weights = weights.Select(w => w.ToArray()).ToArray(); }
        public void Report(string message) => Messages.Add(message);
        public float CurrentEpochTag => Weights[0][0];
    }

    /// <summary>Runs the callback the way Fit does: the weights change every epoch (tagged with the 0-based epoch), stop checked before each epoch.</summary>
    private static (FakeContext Context, int EpochsRun) Run(EarlyStopping es, string key, params double[] values)
    {
        var ctx = new FakeContext();
        es.OnTrainBegin(ctx);
        int epochs = 0;
        for (int epoch = 0; epoch < values.Length && !ctx.StopTraining; epoch++)
        {
            ctx.Weights = [[epoch, epoch * 10f]];
            var logs = new Dictionary<string, double> { ["loss"] = 1.0 / (epoch + 1), [key] = values[epoch] };
            es.OnEpochEnd(ctx, epoch, logs);
            epochs++;
        }
        es.OnTrainEnd(ctx);
        return (ctx, epochs);
    }

    [Fact]
    public void TiesDoNotCountAsImprovement_Min()
    {
        var es = new EarlyStopping("val_loss", patience: 2);
        var (ctx, run) = Run(es, "val_loss", 1.0, 1.0, 1.0, 1.0, 1.0);
        Assert.Equal(3, run);                   // epoch 1 and 2 (0-based) tie → wait 2 → stop after the 3rd epoch
        Assert.Equal(2, es.StoppedEpoch);
        Assert.Equal(0, es.BestEpoch);
        Assert.Equal(["Epoch 3: early stopping"], ctx.Messages);
    }

    [Fact]
    public void TiesDoNotCountAsImprovement_Max()
    {
        var es = new EarlyStopping("val_accuracy", patience: 1);
        var (ctx, run) = Run(es, "val_accuracy", 0.5, 0.75, 0.75, 0.9);
        Assert.Equal(3, run);
        Assert.Equal(1, es.BestEpoch);
        Assert.Equal(0.75, es.Best);
        Assert.Equal(["Epoch 3: early stopping"], ctx.Messages);
    }

    [Fact]
    public void PatienceZeroStopsAtSecondEpochWithoutImprovement()
    {
        var es = new EarlyStopping("val_loss", patience: 0);
        var (ctx, run) = Run(es, "val_loss", 1.0, 1.5, 0.5);
        Assert.Equal(2, run);
        Assert.True(ctx.StopTraining);
        Assert.Equal(1, es.StoppedEpoch);
        Assert.Equal(["Epoch 2: early stopping"], ctx.Messages);
    }

    [Fact]
    public void PatienceZeroNeverStopsAtEpochZero()
    {
        // A NaN first value is not an improvement (wait becomes 1 ≥ patience 0), yet epoch 0 never stops training.
        var es = new EarlyStopping("val_loss", patience: 0);
        var (ctx, run) = Run(es, "val_loss", double.NaN, 1.0, 0.5, 0.7, 0.1);
        Assert.Equal(4, run);
        Assert.Equal(3, es.StoppedEpoch);
        Assert.Equal(2, es.BestEpoch);
        Assert.Equal(["Epoch 4: early stopping"], ctx.Messages);
    }

    [Fact]
    public void PatienceZeroKeepsGoingWhileImproving()
    {
        var es = new EarlyStopping("val_loss", patience: 0);
        var (ctx, run) = Run(es, "val_loss", 5, 4, 3, 2, 1);
        Assert.Equal(5, run);
        Assert.False(ctx.StopTraining);
        Assert.Equal(0, es.StoppedEpoch);
        Assert.Empty(ctx.Messages);
    }

    [Fact]
    public void RestoresBestWeightsAtTrainEndEvenWithoutEarlyStop()
    {
        var es = new EarlyStopping("val_loss", patience: 10, restoreBestWeights: true);
        var (ctx, run) = Run(es, "val_loss", 3.0, 1.0, 2.0, 2.5);
        Assert.Equal(4, run);
        Assert.False(ctx.StopTraining);
        Assert.Equal(0, es.StoppedEpoch);
        Assert.Equal(1, es.BestEpoch);
        Assert.Equal(["Restoring model weights from the end of the best epoch: 2."], ctx.Messages);
        Assert.Equal(1, ctx.SetWeightsCalls);
        Assert.Equal([1f, 10f], ctx.Weights[0]);   // the weights of the best epoch (0-based 1)
    }

    [Fact]
    public void WithoutRestoreBestWeightsTheLastWeightsStay()
    {
        var es = new EarlyStopping("val_loss", patience: 1);
        var (ctx, run) = Run(es, "val_loss", 1.0, 2.0, 3.0);
        Assert.Equal(2, run);
        Assert.Equal(0, ctx.SetWeightsCalls);
        Assert.Equal(1f, ctx.CurrentEpochTag);
        Assert.Equal(["Epoch 2: early stopping"], ctx.Messages);
    }

    [Fact]
    public void StoppingReportsOneBasedEpochThenRestores()
    {
        var es = new EarlyStopping("val_loss", patience: 2, restoreBestWeights: true);
        var (ctx, run) = Run(es, "val_loss", 2.0, 1.0, 1.5, 1.2, 0.1);
        Assert.Equal(4, run);
        Assert.Equal(["Epoch 4: early stopping", "Restoring model weights from the end of the best epoch: 2."], ctx.Messages);
        Assert.Equal(1f, ctx.CurrentEpochTag);
    }

    [Fact]
    public void ImprovementSmallerThanMinDeltaDoesNotCount()
    {
        var es = new EarlyStopping("val_loss", patience: 3, minDelta: 0.1);
        // 0.95 and 0.92 are better than 1.0 by less than 0.1 → no improvement; 0.85 is better by 0.15 → improvement
        var (ctx, run) = Run(es, "val_loss", 1.0, 0.95, 0.92, 0.85, 0.84, 0.83, 0.82, 0.5);
        Assert.Equal(3, es.BestEpoch);
        Assert.Equal(0.85, es.Best);
        Assert.Equal(7, run);                 // 0.84, 0.83, 0.82 are within 0.1 of 0.85 → wait 3 → stop after the 7th epoch
        Assert.Equal(["Epoch 7: early stopping"], ctx.Messages);
    }

    [Fact]
    public void MinDeltaAppliesToMaxModeAndIsSignless()
    {
        var es = new EarlyStopping("val_accuracy", patience: 2, minDelta: -0.05);
        Assert.Equal(0.05, es.MinDelta);
        var (_, run) = Run(es, "val_accuracy", 0.5, 0.52, 0.54, 0.9);
        Assert.Equal(3, run);
        Assert.Equal(0, es.BestEpoch);
    }

    [Theory]
    [InlineData("val_loss", MonitorMode.Min)]
    [InlineData("loss", MonitorMode.Min)]
    [InlineData("val_accuracy", MonitorMode.Max)]
    [InlineData("accuracy", MonitorMode.Max)]
    [InlineData("sparse_top_k_categorical_accuracy", MonitorMode.Max)]
    [InlineData("val_auc", MonitorMode.Max)]
    public void AutoModeFromName(string monitor, MonitorMode expected) =>
        Assert.Equal(expected, new EarlyStopping(monitor).Mode);

    [Fact]
    public void AutoDirectionLossMinimisedAccuracyMaximised()
    {
        double[] rising = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
        var acc = new EarlyStopping("val_accuracy", patience: 1);
        Assert.Equal(6, Run(acc, "val_accuracy", rising).EpochsRun);     // rising accuracy keeps improving
        var loss = new EarlyStopping("val_loss", patience: 1);
        Assert.Equal(2, Run(loss, "val_loss", rising).EpochsRun);        // rising loss is no improvement
        var explicitMin = new EarlyStopping("val_accuracy", patience: 1, mode: MonitorMode.Min);
        Assert.Equal(2, Run(explicitMin, "val_accuracy", rising).EpochsRun);
    }

    [Fact]
    public void UnknownMonitorWarnsOnceViaReportAndDoesNotStop()
    {
        var es = new EarlyStopping("val_acuracy", patience: 0, restoreBestWeights: true);
        var (ctx, run) = Run(es, "val_accuracy", 0.9, 0.8, 0.7);
        Assert.Equal(3, run);
        Assert.False(ctx.StopTraining);
        var msg = Assert.Single(ctx.Messages);
        Assert.Contains("val_acuracy", msg);
        Assert.Contains("not available", msg);
        Assert.Contains("val_accuracy", msg);   // lists the available metrics
        Assert.Equal(0, ctx.SetWeightsCalls);
    }

    [Fact]
    public void NegativePatienceIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping(patience: -1));

    [Fact]
    public void StateResetsOnTrainBegin()
    {
        var es = new EarlyStopping("val_loss", patience: 1, restoreBestWeights: true);
        Run(es, "val_loss", 1, 2, 3);
        Assert.Equal(1, es.StoppedEpoch);
        var (ctx, run) = Run(es, "val_loss", 10, 9, 8, 7);    // a second Fit must not remember best = 1
        Assert.Equal(4, run);
        Assert.Equal(3, es.BestEpoch);
        Assert.Equal(["Restoring model weights from the end of the best epoch: 4."], ctx.Messages);
    }

    [Fact]
    public void LectureScenario_ValAccuracyPatience15BestAt26StopsAt41()
    {
        // val_accuracy rises to its maximum at epoch 26 (1-based), then never beats it; 100 epochs requested.
        var values = new double[100];
        for (int e = 0; e < 100; e++)
            values[e] = e < 25 ? 0.5 + 0.015 * e                 // 0.50 … 0.86
                : e == 25 ? 0.9316                                 // the best epoch (index 25)
                : e % 3 == 0 ? 0.9316 : 0.92 + 0.0001 * (e % 7);   // ties and slightly worse values afterwards
        var es = new EarlyStopping("val_accuracy", patience: 15, restoreBestWeights: true);
        var (ctx, run) = Run(es, "val_accuracy", values);
        Assert.Equal(41, run);
        Assert.Equal(40, es.StoppedEpoch);
        Assert.Equal(25, es.BestEpoch);
        Assert.Equal(0.9316, es.Best);
        Assert.Equal(
            ["Epoch 41: early stopping", "Restoring model weights from the end of the best epoch: 26."],
            ctx.Messages);
        Assert.Equal([25f, 250f], ctx.Weights[0]);
    }

    [Fact]
    public void FitWithEarlyStoppingReportsMessagesThroughProgress()
    {
        var data = TrainingTestData.Points(40, 3);
        var model = TrainingTestData.PointModel(1);
        TrainingTestData.Compile(model);
        var rec = new TrainingProgressRecorder();
        // "val_loss" is not logged without validation data: Fit refuses before the first epoch (issue 16), naming the logs.
        var e = Assert.Throws<ArgumentException>(() => model.Fit(data, epochs: 10, batchSize: 8, callbacks: [new EarlyStopping("val_loss")], progress: rec));
        Assert.Contains("'val_loss'", e.Message);
        Assert.Contains("loss, accuracy", e.Message);
        Assert.Empty(rec.Messages);
        // "loss" with a huge min_delta never improves after epoch 1
        var es = new EarlyStopping("loss", patience: 2, minDelta: 100, restoreBestWeights: true);
        var h = model.Fit(data, epochs: 10, batchSize: 8, callbacks: [es], progress: rec);
        Assert.Equal(3, h.Epochs);
        var msgs = rec.Messages.ToList();
        Assert.Equal(2, msgs.Count);
        Assert.Equal("Epoch 3: early stopping", msgs[0]);
        Assert.Equal("Restoring model weights from the end of the best epoch: 1.", msgs[1]);
        Assert.Equal(3, rec.Of(ProgressKind.Message).Last().Epoch);
    }
}
