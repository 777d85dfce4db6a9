using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>Issue 16's model-side items: concurrent use, NaN inputs, TrainOnBatch messages, verbose, monitors, top-k, stale temp files.</summary>
public sealed class ModelReliabilityTests : IDisposable
{
    private readonly TrainingTempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static Sequential Small()
    {
        var m = new Sequential(new Input(6, 6, 1), new Conv2D(4, 3, activation: Activation.Relu), new Flatten(), new Dense(3)) { Seed = 1, Threads = 1 };
        m.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());
        return m;
    }

    [Fact]
    public void ConcurrentPredictOnOneModelNeverReturnsWrongResults()
    {
        var model = Small();
        var rng = new Rng(1);
        var x = RandomTensor(rng, 64, 6, 6, 1);
        var expected = model.Predict(x, batchSize: 4).ToArray();
        int wrong = 0, refused = 0, right = 0;
        var threads = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < 200; i++)
            {
                try
                {
                    var y = model.Predict(x, batchSize: 4).ToArray();
                    if (y.AsSpan().SequenceEqual(expected)) Interlocked.Increment(ref right); else Interlocked.Increment(ref wrong);
                }
                catch (InvalidOperationException e) when (e.Message.Contains("another thread"))
                {
                    Interlocked.Increment(ref refused);
                }
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.True(t.Join(TimeSpan.FromMinutes(2)), "Predict hung");
        Assert.Equal(0, wrong);
        Assert.Equal(400, right + refused);
        Assert.True(right > 0);
    }

    [Fact]
    public void NaNInputsAreRejectedByPredictAndEvaluate()
    {
        var model = Small();
        var x = new Tensor(5, 6, 6, 1);
        x.Span[3 * 36 + 7] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => model.Predict(x));
        Assert.Contains("Sample 3", e.Message);
        Assert.Contains("NaN", e.Message);
        e = Assert.Throws<ArgumentException>(() => model.Evaluate(x, [0, 1, 2, 0, 1]));
        Assert.Contains("evaluation data", e.Message);
        x.Span[3 * 36 + 7] = float.PositiveInfinity;
        Assert.Throws<ArgumentException>(() => model.Predict(x));
    }

    [Fact]
    public void TrainOnBatchErrorsSayTrainOnBatch()
    {
        var model = Small();
        var e = Assert.Throws<TrainingException>(() => model.TrainOnBatch(new Tensor(2, 6, 6, 1), [0, 7]));
        Assert.StartsWith("TrainOnBatch:", e.Message);
        Assert.DoesNotContain("Epoch 1", e.Message);
    }

    [Fact]
    public void UnknownMonitorFailsBeforeTheFirstEpochListingTheNames()
    {
        var model = Small();
        var before = model.GetWeights();
        var data = new Dataset(new Tensor(4, 6, 6, 1), [0, 1, 2, 0]);
        var e = Assert.Throws<ArgumentException>(() => model.Fit(data, epochs: 2, validationData: data, callbacks: [new EarlyStopping("val_acc")], verbose: 0));
        Assert.Contains("'val_acc'", e.Message);
        Assert.Contains("val_accuracy", e.Message);
        Assert.Equal(before, model.GetWeights());
        e = Assert.Throws<ArgumentException>(() => model.Fit(data, epochs: 1, callbacks: [new EarlyStopping("val_loss")], verbose: 0));
        Assert.Contains("need validationData", e.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void VerboseWritesKerasStyleLines(int verbose)
    {
        var sw = new StringWriter();
        var progress = new ConsoleTrainingProgress(sw, verbose);
        var model = Small();
        var data = new Dataset(new Tensor(8, 6, 6, 1), [0, 1, 2, 0, 1, 2, 0, 1]);
        model.Fit(data, epochs: 2, batchSize: 4, validationData: data, progress: progress,
            callbacks: [new EarlyStopping("val_loss", patience: 0)]);
        var text = sw.ToString();
        Assert.Contains("Epoch 2/2 - batch 2/2 - ", text);
        Assert.Contains(" - loss: ", text);
        Assert.Contains(" - val_accuracy: ", text);
        Assert.Equal(verbose == 1, text.Contains('\r'));
        Assert.Equal(2, text.Split('\n').Count(l => l.TrimStart('\r').StartsWith("Epoch ", StringComparison.Ordinal) && l.Contains("val_loss")));
    }

    [Fact]
    public void TrainingProgressPrintsAUsableLine()
    {
        var p = new TrainingProgress(ProgressKind.EpochEnd, 3, 10, 9, 9, new Dictionary<string, double> { ["loss"] = 0.5, ["accuracy"] = 0.875 }, TimeSpan.FromSeconds(4.3));
        Assert.Equal("Epoch 3/10 - batch 9/9 - 4.3s - loss: 0.5000 - accuracy: 0.8750", p.ToString());
    }

    [Fact]
    public void PredictTopKUsesTheClassNames()
    {
        var model = Small();
        model.ClassNames = ["kou", "ren", "shan"];
        var x = RandomTensor(new Rng(3), 2, 6, 6, 1);
        var top = model.PredictTopK(x, k: 2);
        var probs = model.PredictProbabilities(x);
        Assert.Equal(2, top.Count);
        Assert.All(top, r => Assert.Equal(2, r.Length));
        int best = probs.Span[..3].IndexOf(TensorMax(probs.Span[..3]));
        Assert.Equal(model.ClassNames[best], top[0][0].Name);
        Assert.Equal(probs.Span[best], top[0][0].Probability);
        Assert.True(top[0][0].Probability >= top[0][1].Probability);
        Assert.Equal(top.Select(r => r[0].Name), model.PredictClasses(x));
        var path = _dir.File("named.cnet");
        model.Save(path);
        Assert.Equal(["kou", "ren", "shan"], Model.Load(path).ClassNames);

        static float TensorMax(ReadOnlySpan<float> s) { float m = float.NegativeInfinity; foreach (var v in s) m = Math.Max(m, v); return m; }
    }

    [Fact]
    public void TheNextSaveRemovesTemporaryFilesOfAKilledSave()
    {
        var model = Small();
        var path = _dir.File("m.cnet");
        var stale = Enumerable.Range(0, 3).Select(_ => _dir.File($".m.cnet.{Guid.NewGuid():N}.tmp")).ToArray();
        foreach (var s in stale) File.WriteAllBytes(s, new byte[1000]);
        var unrelated = _dir.File(".m.cnet.notours.tmp");
        var other = _dir.File($".other.cnet.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(unrelated, "x");
        File.WriteAllText(other, "x");
        string held = _dir.File($".m.cnet.{Guid.NewGuid():N}.tmp");
        using (new FileStream(held, FileMode.Create, FileAccess.ReadWrite, FileShare.None))   // a save still running
        {
            model.Save(path);
            Assert.True(File.Exists(held));
        }
        Assert.All(stale, s => Assert.False(File.Exists(s)));
        Assert.True(File.Exists(unrelated));
        Assert.True(File.Exists(other));
        Assert.True(File.Exists(path));
    }
}
