using System.Globalization;
using Xunit;
using Xunit.Abstractions;

namespace ConvNet.Core.Tests;

/// <summary>Sequential.Fit / Evaluate / Predict: learning, determinism, frozen layers, failures, progress and cancellation, History.</summary>
public class TrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void ConvModelLearnsBrightQuadrantTo99Percent()
    {
        var data = TrainingTestData.Quadrants(200, 11);
        var model = TrainingTestData.QuadrantModel(seed: 1);
        TrainingTestData.Compile(model, new Adam(0.01f));
        var h = model.Fit(data, epochs: 15, batchSize: 16, seed: 2);
        output.WriteLine(h.ToCsv());

        var loss = h["loss"];
        Assert.Equal(15, h.Epochs);
        Assert.True(loss[^1] < 0.5 * loss[0], $"loss did not fall enough: {loss[0]} → {loss[^1]}");
        Assert.True(loss[^1] < loss[^5], $"loss still falling at the end: {loss[^5]} → {loss[^1]}");
        Assert.True(h["accuracy"][^1] >= 0.99, $"final training accuracy {h["accuracy"][^1]}");
        var ev = model.Evaluate(data);
        Assert.True(ev[1] >= 0.99, $"evaluated training accuracy {ev[1]}");
        // unseen samples of the same distribution
        Assert.True(model.Evaluate(TrainingTestData.Quadrants(100, 99))[1] >= 0.95);
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("sgd")]
    [InlineData("nesterov")]
    public void DenseModelLearnsSeparablePoints(string optimizer)
    {
        var data = TrainingTestData.Points(200, 4);
        var model = TrainingTestData.PointModel(seed: 3);
        Optimizer opt = optimizer switch
        {
            "adam" => new Adam(0.02f),
            "sgd" => new SGD(0.1f),
            _ => new SGD(0.05f, 0.9f, nesterov: true),
        };
        TrainingTestData.Compile(model, opt);
        var h = model.Fit(data, epochs: 20, batchSize: 10, seed: 1);
        Assert.True(h["loss"][^1] < h["loss"][0], $"loss {h["loss"][0]} → {h["loss"][^1]}");
        Assert.True(h["accuracy"][^1] >= 0.99, $"{optimizer}: final accuracy {h["accuracy"][^1]}\n{h.ToCsv()}");
        Assert.Equal(20 * 20, opt.Iterations);   // one step per batch
    }

    // ---- determinism ----

    private static (float[][] Weights, string Csv) Train(int modelSeed, int fitSeed, int threads, int epochs = 2, int samples = 64)
    {
        var model = TrainingTestData.QuadrantModel(modelSeed, threads);
        TrainingTestData.Compile(model, new Adam(0.01f));
        var h = model.Fit(TrainingTestData.Quadrants(samples, 5), epochs, batchSize: 8, validationData: TrainingTestData.Quadrants(8, 6), seed: fitSeed);
        return (model.GetWeights(), h.ToCsv());
    }

    [Fact]
    public void SameSeedGivesIdenticalInitialWeights()
    {
        var a = TrainingTestData.QuadrantModel(3).GetWeights();
        var b = TrainingTestData.QuadrantModel(3).GetWeights();
        TrainingTestData.AssertWeightsIdentical(a, b, "initial weights, same Seed");
        Assert.False(TrainingTestData.WeightsIdentical(a, TrainingTestData.QuadrantModel(4).GetWeights()), "different Seed, same initial weights");
    }

    [Fact]
    public void SeedSetInAnObjectInitializerIsHonouredOrRejected()
    {
        // new Sequential(new Input(…), …) { Seed = 5 } builds the model in the constructor, before the initializer sets Seed.
        // Setting Seed on a built model must either re-initialise the weights with that seed or throw — not be silently ignored.
        var viaAdd = new Sequential { Seed = 5 };
        viaAdd.Add(new Input(2));
        viaAdd.Add(new Dense(3));
        Sequential viaInitializer;
        try
        {
            viaInitializer = new Sequential(new Input(2), new Dense(3)) { Seed = 5 };
        }
        catch (InvalidOperationException e)
        {
            Assert.Contains("Seed", e.Message);
            return;
        }
        TrainingTestData.AssertWeightsIdentical(viaAdd.GetWeights(), viaInitializer.GetWeights(), "Seed = 5 set in an object initializer");
    }

    [Fact]
    public void SameSeedAndThreadsGiveIdenticalWeightsAndHistory()
    {
        var a = Train(3, 5, threads: 1);
        var b = Train(3, 5, threads: 1);
        TrainingTestData.AssertWeightsIdentical(a.Weights, b.Weights, "Threads=1 twice");
        Assert.Equal(a.Csv, b.Csv);
    }

    [Fact]
    public void TwoThreadsTwiceGiveIdenticalWeightsAndHistory()
    {
        // small workload: on a loaded 2-core machine every fork-join of the 2-thread pool can cost milliseconds
        var a = Train(3, 5, threads: 2, epochs: 2, samples: 24);
        var b = Train(3, 5, threads: 2, epochs: 2, samples: 24);
        TrainingTestData.AssertWeightsIdentical(a.Weights, b.Weights, "Threads=2 twice");
        Assert.Equal(a.Csv, b.Csv);
    }

    [Fact]
    public void DifferentFitSeedGivesDifferentWeights()
    {
        var a = Train(3, 5, threads: 1);
        var b = Train(3, 6, threads: 1);
        Assert.False(TrainingTestData.WeightsIdentical(a.Weights, b.Weights), "a different shuffle seed must change the trajectory");
        Assert.NotEqual(a.Csv, b.Csv);
    }

    [Fact]
    public void ShuffleOffIgnoresTheFitSeed()
    {
        var data = TrainingTestData.Points(40, 2);
        float[][] Run(int seed)
        {
            var m = TrainingTestData.PointModel(1);
            TrainingTestData.Compile(m);
            m.Fit(data, epochs: 2, batchSize: 8, shuffle: false, seed: seed);
            return m.GetWeights();
        }
        TrainingTestData.AssertWeightsIdentical(Run(1), Run(2), "shuffle: false");
    }

    // ---- frozen layers ----

    [Fact]
    public void FrozenLayersDoNotChangeDuringFit()
    {
        var model = TrainingTestData.QuadrantModel(2);
        var conv = model.Layers.OfType<Conv2D>().Single();
        var dense = model.Layers.OfType<Dense>().Single();
        conv.Trainable = false;
        TrainingTestData.Compile(model, new Adam(0.01f));
        var convBefore = conv.Parameters.Select(p => p.Value.ToArray()).ToArray();
        var denseBefore = dense.Parameters.Select(p => p.Value.ToArray()).ToArray();
        model.Fit(TrainingTestData.Quadrants(64, 1), epochs: 2, batchSize: 8);
        TrainingTestData.AssertWeightsIdentical(convBefore, conv.Parameters.Select(p => p.Value.ToArray()).ToArray(), "frozen conv");
        Assert.False(TrainingTestData.WeightsIdentical(denseBefore, dense.Parameters.Select(p => p.Value.ToArray()).ToArray()), "the trainable dense layer did not change");
        foreach (var p in model.Parameters) Assert.All(p.Grad.ToArray(), g => Assert.Equal(0f, g));   // no stale gradients
        Assert.Equal(dense.ParamCount, model.TrainableParameters.Sum(p => (long)p.Value.Length));

        // unfreezing makes the layer train again
        conv.Trainable = true;
        model.Fit(TrainingTestData.Quadrants(64, 1), epochs: 1, batchSize: 8);
        Assert.False(TrainingTestData.WeightsIdentical(convBefore, conv.Parameters.Select(p => p.Value.ToArray()).ToArray()), "unfrozen conv did not change");
    }

    [Fact]
    public void FrozenMiddleLayerStaysWhileLayersAroundItTrain()
    {
        var model = new Sequential { Seed = 1, Threads = 1 };
        foreach (var l in new Layer[] { new Input(2), new Dense(8, Activation.Tanh), new Dense(8, Activation.Tanh) { Trainable = false }, new Dense(4) }) model.Add(l);
        TrainingTestData.Compile(model);
        var before = model.GetWeights();
        model.Fit(TrainingTestData.Points(40, 1), epochs: 2, batchSize: 8);
        var after = model.GetWeights();
        Assert.False(before[0].AsSpan().SequenceEqual(after[0]), "first layer (before the frozen one) must still train");
        TrainingTestData.AssertWeightsIdentical([before[2], before[3]], [after[2], after[3]], "frozen middle layer");
        Assert.False(before[4].AsSpan().SequenceEqual(after[4]));
    }

    // ---- failures ----

    /// <summary>57-class Dense model on 2-D points, labels 0..56; batch size 4, no shuffling (so batch numbers are known).</summary>
    private static (Sequential Model, Dataset Data) FiftySevenClasses(int badIndex, int badLabel)
    {
        var model = TrainingTestData.PointModel(5, classes: 57);
        TrainingTestData.Compile(model);
        var data = TrainingTestData.Points(12, 1, classes: 57);
        data.Y[badIndex] = badLabel;
        return (model, data);
    }

    [Theory]
    [InlineData(57, 5, 2)]
    [InlineData(-1, 9, 3)]
    [InlineData(57, 0, 1)]
    [InlineData(int.MaxValue, 11, 3)]
    public void BadLabelThrowsNamingEpochBatchLabelAndClassCount(int label, int index, int batch)
    {
        var (model, data) = FiftySevenClasses(index, label);
        var initial = model.GetWeights();
        float[][] lastApplied = initial;
        var rec = new TrainingProgressRecorder(p => { if (p.Kind == ProgressKind.BatchEnd) lastApplied = model.GetWeights(); });
        var e = Assert.Throws<TrainingException>(() => model.Fit(data, epochs: 2, batchSize: 4, shuffle: false, progress: rec));
        Assert.Contains("Epoch 1", e.Message);
        Assert.Contains($"batch {batch}", e.Message);
        Assert.Contains($"label {label}", e.Message);
        Assert.Contains("57 classes", e.Message);
        Assert.Equal(batch - 1, rec.Of(ProgressKind.BatchEnd).Count());
        TrainingTestData.AssertWeightsIdentical(lastApplied, model.GetWeights(), "weights after the rejected batch");
        if (batch == 1) TrainingTestData.AssertWeightsIdentical(initial, model.GetWeights(), "weights after a bad first batch");
        foreach (var p in model.Parameters) Assert.All(p.Grad.ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void BadLabelInValidationDataIsReported()
    {
        var (model, data) = FiftySevenClasses(0, 3);
        var val = TrainingTestData.Points(4, 2, classes: 57);
        val.Y[2] = 57;
        var e = Assert.ThrowsAny<Exception>(() => model.Fit(data, epochs: 1, batchSize: 4, validationData: val));
        Assert.Contains("57", e.Message);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void NonFiniteInputThrowsTrainingException(float bad)
    {
        var data = TrainingTestData.Points(12, 1);
        data.X.Span[2 * 6 + 1] = bad;   // sample 6 → batch 2 of 4-sample batches
        var model = TrainingTestData.PointModel(1);
        TrainingTestData.Compile(model);
        float[][] lastApplied = model.GetWeights();
        var rec = new TrainingProgressRecorder(p => { if (p.Kind == ProgressKind.BatchEnd) lastApplied = model.GetWeights(); });
        var e = Assert.Throws<TrainingException>(() => model.Fit(data, epochs: 1, batchSize: 4, shuffle: false, progress: rec));
        Assert.Contains("Epoch 1", e.Message);
        Assert.Contains("batch 2", e.Message);
        Assert.Contains("NaN", e.Message);
        TrainingTestData.AssertWeightsIdentical(lastApplied, model.GetWeights(), "weights after the rejected batch");
    }

    [Fact]
    public void HugeLearningRateDrivingLossToNaNThrowsAndLeavesLastGoodWeights()
    {
        // Two linear Dense layers: one SGD step with lr 1e30 makes both kernels ~1e30, so the next logits overflow float.
        var model = new Sequential { Seed = 1, Threads = 1 };
        model.Add(new Input(2)); model.Add(new Dense(8)); model.Add(new Dense(4));
        TrainingTestData.Compile(model, new SGD(1e30f));
        float[][] lastApplied = model.GetWeights();
        var rec = new TrainingProgressRecorder(p => { if (p.Kind == ProgressKind.BatchEnd) lastApplied = model.GetWeights(); });
        var e = Assert.Throws<TrainingException>(() => model.Fit(TrainingTestData.Points(40, 1), epochs: 3, batchSize: 8, progress: rec));
        output.WriteLine(e.Message);
        Assert.Matches(@"Epoch \d+, batch \d+", e.Message);
        Assert.Contains("loss", e.Message);
        Assert.True(rec.Of(ProgressKind.BatchEnd).Any(), "the first batch (finite loss) should have been applied");
        TrainingTestData.AssertWeightsIdentical(lastApplied, model.GetWeights(), "weights after the batch whose loss was not finite");
        Assert.True(TrainingTestData.AllFinite(model.GetWeights()), "non-finite weights after a rejected batch");
    }

    [Fact]
    public void FitBeforeCompileThrows()
    {
        var model = TrainingTestData.PointModel(1);
        var e = Assert.Throws<InvalidOperationException>(() => model.Fit(TrainingTestData.Points(8, 1)));
        Assert.Contains("Compile", e.Message);
    }

    // ---- progress and cancellation ----

    [Fact]
    public void FitReportsBatchAndEpochProgress()
    {
        var model = TrainingTestData.PointModel(1);
        TrainingTestData.Compile(model);
        var rec = new TrainingProgressRecorder();
        var h = model.Fit(TrainingTestData.Points(10, 1), epochs: 2, batchSize: 4, validationData: TrainingTestData.Points(6, 2), progress: rec);

        Assert.Equal(
            [ProgressKind.BatchEnd, ProgressKind.BatchEnd, ProgressKind.BatchEnd, ProgressKind.EpochEnd,
             ProgressKind.BatchEnd, ProgressKind.BatchEnd, ProgressKind.BatchEnd, ProgressKind.EpochEnd],
            rec.Reports.Select(r => r.Kind));
        var batches = rec.Of(ProgressKind.BatchEnd).ToList();
        Assert.Equal([1, 2, 3, 1, 2, 3], batches.Select(b => b.Batch));
        Assert.Equal([1, 1, 1, 2, 2, 2], batches.Select(b => b.Epoch));
        Assert.All(rec.Reports, r => Assert.Equal(2, r.Epochs));
        Assert.All(rec.Reports, r => Assert.Equal(3, r.Batches));
        Assert.All(batches, b => Assert.True(b.Logs.ContainsKey("loss") && b.Logs.ContainsKey("accuracy")));
        Assert.All(batches, b => Assert.InRange(b.Logs["accuracy"], 0, 1));
        // The progress clock never runs backwards (a property of the reports, not a speed check).
        var clock = rec.Reports.Select(r => r.Elapsed).ToList();
        Assert.Equal(clock.Order(), clock);

        var epochs = rec.Of(ProgressKind.EpochEnd).ToList();
        for (int e = 0; e < 2; e++)
        {
            Assert.Equal(e + 1, epochs[e].Epoch);
            foreach (var k in new[] { "loss", "accuracy", "val_loss", "val_accuracy" })
                Assert.Equal(h[k][e], epochs[e].Logs[k]);
        }
        // the last batch's running averages are the epoch's training logs
        Assert.Equal(epochs[1].Logs["loss"], batches[^1].Logs["loss"]);
        Assert.Equal(epochs[1].Logs["accuracy"], batches[^1].Logs["accuracy"]);
    }

    [Fact]
    public void CancellationStopsFitAfterTheCurrentBatch()
    {
        var model = TrainingTestData.PointModel(1);
        TrainingTestData.Compile(model);
        using var cts = new CancellationTokenSource();
        float[][]? atCancel = null;
        var rec = new TrainingProgressRecorder(p =>
        {
            if (p.Kind == ProgressKind.BatchEnd && p.Epoch == 2 && p.Batch == 2)
            {
                atCancel = model.GetWeights();
                cts.Cancel();
            }
        });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            model.Fit(TrainingTestData.Points(40, 1), epochs: 5, batchSize: 8, progress: rec, cancellationToken: cts.Token));
        Assert.NotNull(atCancel);
        Assert.Equal(5 + 2, rec.Of(ProgressKind.BatchEnd).Count());
        TrainingTestData.AssertWeightsIdentical(atCancel!, model.GetWeights(), "weights after cancellation");
    }

    [Fact]
    public void AlreadyCancelledTokenChangesNothing()
    {
        var model = TrainingTestData.PointModel(1);
        TrainingTestData.Compile(model);
        var before = model.GetWeights();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            model.Fit(TrainingTestData.Points(40, 1), epochs: 2, batchSize: 8, cancellationToken: new CancellationToken(true)));
        TrainingTestData.AssertWeightsIdentical(before, model.GetWeights(), "weights after a pre-cancelled Fit");
    }

    [Fact]
    public void StopTrainingFromACallbackEndsAfterTheEpoch()
    {
        var model = TrainingTestData.PointModel(1);
        TrainingTestData.Compile(model);
        var h = model.Fit(TrainingTestData.Points(20, 1), epochs: 10, batchSize: 5, callbacks: [new StopAfter(3)]);
        Assert.Equal(3, h.Epochs);
        // a new Fit starts fresh (StopTraining is reset)
        Assert.Equal(2, model.Fit(TrainingTestData.Points(20, 1), epochs: 2, batchSize: 5).Epochs);
    }

    private sealed class StopAfter(int epochs) : Callback
    {
        public override void OnEpochEnd(ITrainingContext context, int epoch, IReadOnlyDictionary<string, double> logs)
        {
            Assert.Equal(["accuracy"], context.MetricNames);
            if (epoch + 1 >= epochs) context.StopTraining = true;
        }
    }

    // ---- Evaluate and Predict ----

    [Fact]
    public void EvaluateReturnsLossAccuracyTopKInKerasOrder()
    {
        var model = TrainingTestData.PointModel(2);
        model.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy(), new SparseTopKCategoricalAccuracy(k: 2));
        Assert.Equal(["loss", "accuracy", "sparse_top_k_categorical_accuracy"], model.EvaluateNames);
        var data = TrainingTestData.Points(23, 7);
        var logits = model.Predict(data.X);

        double loss = 0, acc = 0, top2 = 0;
        for (int i = 0; i < data.Count; i++)
        {
            var row = logits.Span.Slice(i * 4, 4).ToArray().Select(v => (double)v).ToArray();
            double max = row.Max(), lse = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
            loss += lse - row[data.Y[i]];
            int arg = Array.IndexOf(row, row.Max());
            if (arg == data.Y[i]) acc++;
            if (row.Count(v => v > row[data.Y[i]]) < 2) top2++;
        }
        int n = data.Count;
        var ev = model.Evaluate(data, batchSize: 5);   // 23 = 4·5 + 3: a partial last batch
        Assert.Equal(3, ev.Length);
        Assert.Equal(loss / n, ev[0], 1e-5 * Math.Max(1, loss / n));
        Assert.Equal(acc / n, ev[1], 12);
        Assert.Equal(top2 / n, ev[2], 12);
        Assert.True(ev[2] >= ev[1]);
        Assert.Equal(ev, model.Evaluate(data.X, data.Y, batchSize: 5));
    }

    [Fact]
    public void ValidationLogsOfTheLastEpochEqualEvaluate()
    {
        var model = TrainingTestData.PointModel(2);
        TrainingTestData.Compile(model);
        var val = TrainingTestData.Points(15, 8);
        var h = model.Fit(TrainingTestData.Points(40, 1), epochs: 2, batchSize: 8, validationData: val);
        var ev = model.Evaluate(val, batchSize: 8);
        Assert.Equal(ev[0], h["val_loss"][^1]);
        Assert.Equal(ev[1], h["val_accuracy"][^1]);
    }

    [Fact]
    public void PredictOnASampleWithoutBatchDimensionSaysSo()
    {
        var model = TrainingTestData.QuadrantModel(1);
        var sample = TrainingTestData.Quadrants(1, 1).X.Reshape(8, 8, 1);
        var e = Assert.Throws<LayerShapeException>(() => model.Predict(sample));
        Assert.Contains("batch dimension is missing", e.Message);
        Assert.Contains("(None, 8, 8, 1)", e.Message);
        Assert.Contains("(8, 8, 1)", e.Message);
        // with the batch dimension it works
        Assert.Equal([1, 4], model.Predict(sample.Reshape(1, 8, 8, 1)).Shape.ToArray());

        var dense = TrainingTestData.PointModel(1);
        var e2 = Assert.Throws<LayerShapeException>(() => dense.Predict(new Tensor([1f, 2f], 2)));
        Assert.Contains("batch dimension is missing", e2.Message);
    }

    [Fact]
    public void PredictProbabilitiesAreSoftmaxOfPredict()
    {
        var model = TrainingTestData.PointModel(1);
        var x = TrainingTestData.Points(5, 1).X;
        var logits = model.Predict(x);
        var probs = model.PredictProbabilities(x);
        for (int i = 0; i < 5; i++)
        {
            var row = logits.Span.Slice(i * 4, 4).ToArray();
            double max = row.Max(), z = row.Sum(v => Math.Exp(v - max));
            for (int j = 0; j < 4; j++) Assert.Equal(Math.Exp(row[j] - max) / z, probs[i, j], 1e-6);
        }
    }

    // ---- History ----

    [Fact]
    public void HistoryToCsvHasHeaderAndOneRowPerEpoch()
    {
        var model = TrainingTestData.PointModel(1);
        TrainingTestData.Compile(model);
        var h = model.Fit(TrainingTestData.Points(20, 1), epochs: 3, batchSize: 5, validationData: TrainingTestData.Points(8, 2));
        Assert.Equal(["loss", "accuracy", "val_loss", "val_accuracy"], h.Keys);
        Assert.Equal(3, h.Epochs);
        Assert.True(h.Contains("val_loss"));
        Assert.False(h.Contains("val_top_k"));
        var ke = Assert.Throws<KeyNotFoundException>(() => h["val_acc"]);
        Assert.Contains("val_accuracy", ke.Message);

        var csv = h.ToCsv();
        Assert.EndsWith("\n", csv);
        var lines = csv.TrimEnd('\n').Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.Equal("epoch,loss,accuracy,val_loss,val_accuracy", lines[0]);
        for (int e = 0; e < 3; e++)
        {
            var cells = lines[e + 1].Split(',');
            Assert.Equal(5, cells.Length);
            Assert.Equal((e + 1).ToString(CultureInfo.InvariantCulture), cells[0]);
            for (int k = 0; k < 4; k++)
                Assert.Equal(h[h.Keys[k]][e], double.Parse(cells[k + 1], CultureInfo.InvariantCulture));   // round-trips exactly
        }
    }

    [Fact]
    public void HistoryWithoutValidationHasNoValColumns()
    {
        var model = TrainingTestData.PointModel(1);
        TrainingTestData.Compile(model);
        var h = model.Fit(TrainingTestData.Points(8, 1), epochs: 1, batchSize: 8);
        Assert.Equal("epoch,loss,accuracy", h.ToCsv().Split('\n')[0]);
        Assert.Equal(2, h.ToCsv().TrimEnd('\n').Split('\n').Length);
    }
}
