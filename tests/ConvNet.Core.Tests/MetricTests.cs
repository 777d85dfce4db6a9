using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>The float-target metrics on hand-worked batches (Keras 3 semantics), accumulation over batches, reset and clone.</summary>
public class MetricTests
{
    // predictions and 0/1 targets, 8 rows × 1 output
    private static readonly float[] P = [0.9f, 0.6f, 0.5f, 0.2f, 0.7f, 0.4f, 0.51f, 0.0f];
    private static readonly float[] Y = [1f, 0f, 1f, 0f, 1f, 1f, 0f, 0f];
    // p > 0.5 → predicted [1,1,0,0,1,0,1,0]; TP = rows 0,4 (2); FP = rows 1,6 (2); FN = rows 2,5 (2); TN = rows 3,7 (2)

    private static double Run(Metric m, float[] p, float[] y, int width = 1, int split = 3)
    {
        // two batches, to check the accumulation
        int rows = p.Length / width;
        m.Update(split, width, p.AsSpan(0, split * width), TargetBatch.FromValues(y.AsSpan(0, split * width), width));
        m.Update(rows - split, width, p.AsSpan(split * width), TargetBatch.FromValues(y.AsSpan(split * width), width));
        return m.Result;
    }

    [Fact]
    public void BinaryAccuracyPrecisionRecallByHand()
    {
        Assert.Equal(4.0 / 8, Run(new BinaryAccuracy(), P, Y), 12);   // p = 0.5 is not > 0.5: row 2 counts as predicted 0
        Assert.Equal(2.0 / 4, Run(new Precision(), P, Y), 12);
        Assert.Equal(2.0 / 4, Run(new Recall(), P, Y), 12);
        // threshold 0.45: predicted [1,1,1,0,1,0,1,0] → TP 3, FP 2, FN 1; accuracy (3 + 2)/8
        Assert.Equal(5.0 / 8, Run(new BinaryAccuracy(0.45f), P, Y), 12);
        Assert.Equal(3.0 / 5, Run(new Precision(0.45f), P, Y), 12);
        Assert.Equal(3.0 / 4, Run(new Recall(0.45f), P, Y), 12);
        var recall = new Recall();
        Run(recall, P, Y);
        Assert.Equal((2, 2, 2), (recall.TruePositives, recall.FalsePositives, recall.FalseNegatives));
    }

    [Fact]
    public void ThresholdZeroOnLogitsEqualsThresholdHalfOnProbabilities()
    {
        var rng = new Rng(3);
        var logits = TestUtil.Uniform(rng, 40, -4, 4);
        var y = Enumerable.Range(0, 40).Select(i => (float)(i % 2)).ToArray();
        var probs = logits.Select(z => (float)(1 / (1 + Math.Exp(-z)))).ToArray();
        foreach (var (onLogits, onProbs) in new (Metric, Metric)[] { (new BinaryAccuracy(0f), new BinaryAccuracy()), (new Precision(0f), new Precision()), (new Recall(0f), new Recall()) })
            Assert.Equal(Run(onProbs, probs, y), Run(onLogits, logits, y));
    }

    [Fact]
    public void EmptyDenominatorsGiveZeroAsKerasDivideNoNan()
    {
        float[] p = [0.1f, 0.2f], y = [0f, 0f];
        Assert.Equal(0, Run(new Precision(), p, y, split: 1));
        Assert.Equal(0, Run(new Recall(), p, y, split: 1));
        Assert.Equal(1, Run(new BinaryAccuracy(), p, y, split: 1));
    }

    [Fact]
    public void RegressionMetricsAverageOverAllElements()
    {
        // 3 rows × 2 outputs; errors 1, −2, 0.5, 0, 3, −1 → MAE 7.5/6, MSE (1 + 4 + 0.25 + 0 + 9 + 1)/6
        float[] y = [0f, 1f, 2f, 3f, 4f, 5f];
        float[] p = [1f, -1f, 2.5f, 3f, 7f, 4f];
        Assert.Equal(7.5 / 6, Run(new MeanAbsoluteErrorMetric(), p, y, width: 2, split: 1), 12);
        Assert.Equal(15.25 / 6, Run(new MeanSquaredErrorMetric(), p, y, width: 2, split: 2), 12);
    }

    [Fact]
    public void ResetCloneAndNames()
    {
        foreach (var (m, name) in new (Metric, string)[]
                 {
                     (new BinaryAccuracy(), "binary_accuracy"), (new Precision(), "precision"), (new Recall(), "recall"),
                     (new MeanAbsoluteErrorMetric(), "mean_absolute_error"), (new MeanSquaredErrorMetric(), "mean_squared_error"),
                 })
        {
            Assert.Equal(name, m.Name);
            Assert.Equal(TargetKind.Values, m.TargetKind);
            double r = Run(m, P, Y);
            Assert.NotEqual(0, r);
            var clone = m.CloneEmpty();
            Assert.Equal(0, clone.Result);
            Assert.Equal(m.GetType(), clone.GetType());
            Assert.Equal(name, clone.Name);
            m.Reset();
            Assert.Equal(0, m.Result);
            Assert.Equal(r, Run(m, P, Y));
        }
        Assert.Equal("acc_at_0", new BinaryAccuracy(0f, "acc_at_0").CloneEmpty().Name);
        Assert.Equal(0.3f, ((Precision)new Precision(0.3f).CloneEmpty()).Threshold);
    }

    [Fact]
    public void WrongTargetsNameTheMetricAndAddNothing()
    {
        var m = new Precision();
        var e = Assert.Throws<ArgumentException>(() => m.Update(2, 1, [0.9f, 0.1f], [1, 0]));
        Assert.Contains("'precision'", e.Message);
        Assert.Contains("float targets", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Accuracy().Update(2, 2, [0.9f, 0.1f, 0.2f, 0.8f], TargetBatch.FromValues([1f, 0f, 0f, 1f], 2)));
        Assert.Contains("'accuracy'", e.Message);
        e = Assert.Throws<ArgumentException>(() => m.Update(2, 1, [0.9f, 0.1f], TargetBatch.FromValues([1f, float.NaN], 1)));
        Assert.Contains("NaN", e.Message);
        Assert.Equal(0, m.TruePositives + m.FalsePositives + m.FalseNegatives);
    }
}
