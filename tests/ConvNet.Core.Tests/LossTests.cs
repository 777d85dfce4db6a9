using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>
/// Every loss against an independent double-precision reference written here from the Keras 3 formulas:
/// the value (rtol 1e-6) and the analytic float gradient against central differences of the reference
/// (h = 1e-6, |a − n| ≤ 1e-4·(|n| + rms(n)) + 1e-9). Inputs keep ≥ 0.05 away from kinks and clipping edges.
/// </summary>
public class LossTests
{
    private const double H = 1e-6, Rtol = 1e-4;

    /// <summary>Reference per-sample losses summed over the batch, in double.</summary>
    private delegate double Reference(double[] predictions, double[] targets, int rows, int outputs);

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    private static double MeanPerRow(double[] p, double[] y, int rows, int outputs, Func<double, double, double> element)
    {
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int j = 0; j < outputs; j++) s += element(p[r * outputs + j], y[r * outputs + j]);
            total += s / outputs;
        }
        return total;
    }

    private static readonly Dictionary<string, Reference> References = new()
    {
        ["bce-logits"] = (p, y, r, o) => MeanPerRow(p, y, r, o, (z, t) => -(t * Math.Log(Sigmoid(z)) + (1 - t) * Math.Log(1 - Sigmoid(z)))),
        ["bce-probs"] = (p, y, r, o) => MeanPerRow(p, y, r, o, (q, t) => -(t * Math.Log(q) + (1 - t) * Math.Log(1 - q))),
        ["cce-logits"] = (p, y, rows, o) =>
        {
            double total = 0;
            for (int r = 0; r < rows; r++)
            {
                double z = 0;
                for (int j = 0; j < o; j++) z += Math.Exp(p[r * o + j]);
                for (int j = 0; j < o; j++) total -= y[r * o + j] * Math.Log(Math.Exp(p[r * o + j]) / z);
            }
            return total;
        },
        ["cce-probs"] = (p, y, rows, o) =>
        {
            double total = 0;
            for (int r = 0; r < rows; r++)
            {
                double s = 0;
                for (int j = 0; j < o; j++) s += p[r * o + j];
                for (int j = 0; j < o; j++) total -= y[r * o + j] * Math.Log(p[r * o + j] / s);
            }
            return total;
        },
        ["mse"] = (p, y, r, o) => MeanPerRow(p, y, r, o, (a, b) => (a - b) * (a - b)),
        ["mae"] = (p, y, r, o) => MeanPerRow(p, y, r, o, (a, b) => Math.Abs(a - b)),
        ["huber"] = (p, y, r, o) => MeanPerRow(p, y, r, o, (a, b) => Math.Abs(a - b) <= 1 ? 0.5 * (a - b) * (a - b) : Math.Abs(a - b) - 0.5),
        ["huber-0.5"] = (p, y, r, o) => MeanPerRow(p, y, r, o, (a, b) => Math.Abs(a - b) <= 0.5 ? 0.5 * (a - b) * (a - b) : 0.5 * Math.Abs(a - b) - 0.125),
        ["poisson"] = (p, y, r, o) => MeanPerRow(p, y, r, o, (a, b) => a - b * Math.Log(a + 1e-7)),
    };

    private static Loss Make(string name) => name switch
    {
        "bce-logits" => new BinaryCrossentropy(fromLogits: true),
        "bce-probs" => new BinaryCrossentropy(),
        "cce-logits" => new CategoricalCrossentropy(fromLogits: true),
        "cce-probs" => new CategoricalCrossentropy(),
        "mse" => new MeanSquaredError(),
        "mae" => new MeanAbsoluteError(),
        "huber" => new Huber(),
        "huber-0.5" => new Huber(0.5f),
        "poisson" => new Poisson(),
        _ => throw new ArgumentException(name),
    };

    /// <summary>Predictions and targets suited to each loss, away from kinks and clipping.</summary>
    private static (float[] P, float[] Y) Data(string name, int rows, int outputs, Rng rng)
    {
        int n = rows * outputs;
        var p = new float[n]; var y = new float[n];
        for (int i = 0; i < n; i++)
        {
            switch (name)
            {
                case "bce-logits": p[i] = rng.Uniform(-4, 4); y[i] = i % 3 == 0 ? rng.Uniform(0, 1) : rng.NextInt(2); break;   // soft targets too
                case "bce-probs": p[i] = rng.Uniform(0.05f, 0.95f); y[i] = rng.NextInt(2); break;
                case "cce-logits": p[i] = rng.Uniform(-3, 3); break;
                case "cce-probs": p[i] = rng.Uniform(0.1f, 1f); break;   // not normalised: the loss divides by the row sum
                case "poisson": p[i] = rng.Uniform(0.2f, 3f); y[i] = rng.NextInt(6); break;
                default:
                    // |p − y| ≥ 0.05 and away from the Huber knees (|e| = 0.5 or 1) by ≥ 0.05
                    y[i] = rng.Uniform(-2, 2);
                    float e;
                    do e = rng.Uniform(-2.5f, 2.5f); while (Math.Abs(e) < 0.05 || Math.Abs(Math.Abs(e) - 1) < 0.05 || Math.Abs(Math.Abs(e) - 0.5) < 0.05);
                    p[i] = y[i] + e;
                    break;
            }
        }
        if (name.StartsWith("cce"))
            for (int r = 0; r < rows; r++)
            {
                if (r % 2 == 0) y[r * outputs + rng.NextInt(outputs)] = 1;                     // one-hot
                else { float s = 0; for (int j = 0; j < outputs; j++) s += y[r * outputs + j] = rng.Uniform(0, 1); for (int j = 0; j < outputs; j++) y[r * outputs + j] /= s; }   // soft
            }
        return (p, y);
    }

    [Theory]
    [InlineData("bce-logits", 6, 1)]
    [InlineData("bce-logits", 3, 2)]
    [InlineData("bce-probs", 6, 1)]
    [InlineData("bce-probs", 4, 3)]
    [InlineData("cce-logits", 4, 5)]
    [InlineData("cce-probs", 4, 5)]
    [InlineData("mse", 5, 3)]
    [InlineData("mae", 5, 3)]
    [InlineData("huber", 7, 2)]
    [InlineData("huber-0.5", 7, 2)]
    [InlineData("poisson", 6, 2)]
    public void ValueAndGradientMatchDoubleReference(string name, int rows, int outputs)
    {
        var loss = Make(name);
        var (p, y) = Data(name, rows, outputs, new Rng(rows * 31 + outputs + name.Length));
        var reference = References[name];
        var pd = TestUtil.ToDouble(p); var yd = TestUtil.ToDouble(y);

        var grad = new float[p.Length];
        double sum = loss.Compute(rows, outputs, p, TargetBatch.FromValues(y, outputs), grad, new float[p.Length]);
        double expected = reference(pd, yd, rows, outputs);
        Assert.True(Math.Abs(sum - expected) <= 1e-6 * Math.Abs(expected) + 1e-9, $"{name}: loss sum {sum}, reference {expected}");

        // the gradient of the MEAN loss: central differences of reference / rows
        var numeric = new double[p.Length];
        for (int i = 0; i < p.Length; i++)
        {
            double keep = pd[i];
            pd[i] = keep + H; double up = reference(pd, yd, rows, outputs);
            pd[i] = keep - H; double down = reference(pd, yd, rows, outputs);
            pd[i] = keep;
            numeric[i] = (up - down) / (2 * H) / rows;
        }
        TestUtil.AssertClose(grad, numeric, Rtol, $"{name}: d(mean loss)/dp vs central differences", atol: 1e-9);

        // the gradient is ADDED into the buffer, and an empty buffer means "loss only"
        var preset = Enumerable.Repeat(0.25f, p.Length).ToArray();
        loss.Compute(rows, outputs, p, TargetBatch.FromValues(y, outputs), preset, new float[p.Length]);
        for (int i = 0; i < p.Length; i++) Assert.Equal(grad[i] + 0.25f, preset[i], 6);
        Assert.Equal(sum, loss.Compute(rows, outputs, p, TargetBatch.FromValues(y, outputs), [], new float[p.Length]));
    }

    [Theory]
    [InlineData(1000f, 0f, 1000.0)]
    [InlineData(-1000f, 1f, 1000.0)]
    [InlineData(1000f, 1f, 0.0)]
    [InlineData(-1000f, 0f, 0.0)]
    [InlineData(80f, 0f, 80.0)]
    [InlineData(-30f, 0.25f, 22.5)]   // max(z,0) − z·y + log(1 + e^−|z|) = 0 + 7.5 + 15 − … ≈ 0.25·30 + log1p(e^−30)
    public void BinaryCrossentropyFromLogitsIsStableForLargeLogits(float z, float y, double expected)
    {
        var grad = new float[1];
        double loss = new BinaryCrossentropy(fromLogits: true).Compute(1, 1, [z], TargetBatch.FromValues([y], 1), grad, new float[1]);
        if (z == -30f) expected = 0.25 * 30 + Math.Log(1 + Math.Exp(-30));
        Assert.True(double.IsFinite(loss), $"loss {loss}");
        Assert.Equal(expected, loss, 1e-9 * Math.Max(1, expected));
        Assert.Equal(Sigmoid(z) - y, grad[0], 1e-6);
    }

    [Fact]
    public void BinaryCrossentropyOnProbabilitiesClipsLikeKeras()
    {
        // p = 0 and 1 are clipped to 1e-7 and 1 − 1e-7 (float32): loss −log(1e-7) ≈ 16.118 for a wrong certain answer, and no gradient
        var bce = new BinaryCrossentropy();
        var grad = new float[4];
        double loss = bce.Compute(4, 1, [0f, 1f, 0f, 1f], TargetBatch.FromValues([1f, 0f, 0f, 1f], 1), grad, new float[4]);
        double lo = 1e-7f, hi = 1f - 1e-7f;   // float32 clip bounds, as Keras uses them
        double expected = -Math.Log(lo) - Math.Log(1 - hi) - Math.Log(1 - lo) - Math.Log(hi);
        Assert.Equal(expected, loss, 1e-9 * expected);
        Assert.True(loss > 32, $"two certain wrong answers cost about 2·16, got {loss}");
        Assert.All(grad, g => Assert.Equal(0f, g));
    }

    [Fact]
    public void CategoricalCrossentropyEqualsSparseOnOneHotTargets()
    {
        var rng = new Rng(5);
        int rows = 6, classes = 4;
        var logits = TestUtil.Uniform(rng, rows * classes, -3, 3);
        var labels = Enumerable.Range(0, rows).Select(i => i % classes).ToArray();
        var oneHot = new float[rows * classes];
        for (int r = 0; r < rows; r++) oneHot[r * classes + labels[r]] = 1;
        foreach (bool fromLogits in new[] { true, false })
        {
            var p = fromLogits ? logits : SoftmaxRows(logits, rows, classes);
            var gs = new float[p.Length]; var gc = new float[p.Length];
            double sparse = new SparseCategoricalCrossentropy(fromLogits).Compute(rows, classes, p, labels, gs, new float[p.Length]);
            double cce = new CategoricalCrossentropy(fromLogits).Compute(rows, classes, p, TargetBatch.FromValues(oneHot, classes), gc, new float[p.Length]);
            Assert.Equal(sparse, cce, 1e-5);
            if (fromLogits) TestUtil.AssertClose(gc, gs, 1e-5, "CCE vs sparse CCE gradient", atol: 1e-8);
        }
    }

    private static float[] SoftmaxRows(float[] z, int rows, int classes)
    {
        var p = new float[z.Length];
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int j = 0; j < classes; j++) s += Math.Exp(z[r * classes + j]);
            for (int j = 0; j < classes; j++) p[r * classes + j] = (float)(Math.Exp(z[r * classes + j]) / s);
        }
        return p;
    }

    [Fact]
    public void CategoricalCrossentropyOnProbabilitiesNormalisesRows()
    {
        // Keras divides by the row sum first: scaling a row of probabilities changes nothing, and the gradient is orthogonal to it.
        var p = new float[] { 0.2f, 0.3f, 0.5f };
        var y = new float[] { 0, 1, 0 };
        var cce = new CategoricalCrossentropy();
        var g = new float[3];
        double a = cce.Compute(1, 3, p, TargetBatch.FromValues(y, 3), g, new float[3]);
        double b = cce.Compute(1, 3, p.Select(v => v * 4).ToArray(), TargetBatch.FromValues(y, 3), [], new float[3]);
        Assert.Equal(-Math.Log(0.3), a, 1e-6);
        Assert.Equal(a, b, 1e-6);
        Assert.Equal(0, g[0] * p[0] + g[1] * p[1] + g[2] * p[2], 1e-6);
    }

    [Fact]
    public void HandValuesOfTheRegressionLosses()
    {
        // p = [1, 4], y = [0, 1]: errors 1 and 3 → MSE (1 + 9)/2 = 5, MAE 2, Huber(1) (0.5 + 2.5)/2 = 1.5
        float[] p = [1f, 4f], y = [0f, 1f];
        var t = TargetBatch.FromValues(y, 2);
        Assert.Equal(5.0, new MeanSquaredError().Compute(1, 2, p, t, [], new float[2]), 12);
        Assert.Equal(2.0, new MeanAbsoluteError().Compute(1, 2, p, t, [], new float[2]), 12);
        Assert.Equal(1.5, new Huber().Compute(1, 2, p, t, [], new float[2]), 12);
        // Poisson: p − y·log(p + 1e-7) → (1 + 4 − log(4 + 1e-7))/2
        Assert.Equal((5 - Math.Log(4 + 1e-7)) / 2, new Poisson().Compute(1, 2, p, t, [], new float[2]), 9);
    }

    [Fact]
    public void KerasNamesAndTargetKinds()
    {
        Assert.Equal("binary_crossentropy", new BinaryCrossentropy().Name);
        Assert.Equal("categorical_crossentropy", new CategoricalCrossentropy().Name);
        Assert.Equal("mean_squared_error", new MeanSquaredError().Name);
        Assert.Equal("mean_absolute_error", new MeanAbsoluteError().Name);
        Assert.Equal("huber_loss", new Huber().Name);
        Assert.Equal("poisson", new Poisson().Name);
        Assert.Equal(TargetKind.Labels, new SparseCategoricalCrossentropy().TargetKind);
        Assert.Equal(TargetKind.Values, new Poisson().TargetKind);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Huber(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Huber(float.NaN));
    }

    [Fact]
    public void WrongTargetsNameTheLossAndWriteNothing()
    {
        var grad = new float[4];
        var e = Assert.Throws<ArgumentException>(() => new SparseCategoricalCrossentropy(true).Compute(2, 2, [1f, 2f, 3f, 4f], TargetBatch.FromValues([1f, 0f, 0f, 1f], 2), grad, new float[4]));
        Assert.Contains("sparse_categorical_crossentropy", e.Message);
        Assert.Contains("integer class labels", e.Message);
        e = Assert.Throws<ArgumentException>(() => new MeanSquaredError().Compute(2, 2, [1f, 2f, 3f, 4f], [0, 1], grad, new float[4]));
        Assert.Contains("mean_squared_error", e.Message);
        Assert.Contains("float targets", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Poisson().Compute(2, 2, [1f, 2f, 3f, 4f], TargetBatch.FromValues([1f, float.NaN, 0f, 1f], 2), grad, new float[4]));
        Assert.Contains("poisson", e.Message);
        Assert.Contains("NaN", e.Message);
        Assert.Contains("[0, 1]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new BinaryCrossentropy().Compute(2, 2, [1f, 2f, 3f, 4f], TargetBatch.FromValues([1f, 0f], 1), grad, new float[4]));
        Assert.Contains("binary_crossentropy", e.Message);
        Assert.All(grad, g => Assert.Equal(0f, g));
    }
}
