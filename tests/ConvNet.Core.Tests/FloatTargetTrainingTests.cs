using Xunit;
using Xunit.Abstractions;

namespace ConvNet.Core.Tests;

/// <summary>Training with float targets: Poisson regression, a binary task from logits, one-hot vs sparse, regression; fine-tuning.</summary>
[Collection("Allocation")]
public class FloatTargetTrainingTests(ITestOutputHelper output)
{
    private static readonly double[] Beta = [0.5, -0.3, 0.8];
    private const double Intercept = 0.2;

    /// <summary>x ~ U(−1, 1)³, y ~ Poisson(exp(x·β + b)) (Knuth's sampler).</summary>
    private static Dataset PoissonData(int n, int seed)
    {
        var rng = new Rng(seed);
        var x = new Tensor(n, 3); var y = new Tensor(n, 1);
        for (int i = 0; i < n; i++)
        {
            double eta = Intercept;
            for (int j = 0; j < 3; j++) { float v = rng.Uniform(-1, 1); x.Span[i * 3 + j] = v; eta += Beta[j] * v; }
            double limit = Math.Exp(-Math.Exp(eta)), prod = 1;
            int k = -1;
            do { k++; prod *= rng.NextDouble(); } while (prod > limit);
            y.Span[i] = k;
        }
        return new Dataset(x, y);
    }

    /// <summary>The Poisson maximum-likelihood estimate (β, b) by Newton's method in double.</summary>
    private static double[] PoissonMle(Dataset data)
    {
        int n = data.Count;
        var w = new double[4];
        for (int iter = 0; iter < 30; iter++)
        {
            var g = new double[4]; var h = new double[4, 4];
            for (int i = 0; i < n; i++)
            {
                double[] f = [data.X.Span[i * 3], data.X.Span[i * 3 + 1], data.X.Span[i * 3 + 2], 1];
                double lambda = Math.Exp(f[0] * w[0] + f[1] * w[1] + f[2] * w[2] + w[3]);
                for (int a = 0; a < 4; a++)
                {
                    g[a] += (lambda - data.Targets!.Span[i]) * f[a];
                    for (int b = 0; b < 4; b++) h[a, b] += lambda * f[a] * f[b];
                }
            }
            var step = Solve(h, g);
            for (int a = 0; a < 4; a++) w[a] -= step[a];
        }
        return w;
    }

    private static double[] Solve(double[,] a, double[] b)
    {
        int n = b.Length;
        var m = (double[,])a.Clone(); var x = (double[])b.Clone();
        for (int c = 0; c < n; c++)
        {
            int p = c;
            for (int r = c + 1; r < n; r++) if (Math.Abs(m[r, c]) > Math.Abs(m[p, c])) p = r;
            for (int k = 0; k < n; k++) (m[c, k], m[p, k]) = (m[p, k], m[c, k]);
            (x[c], x[p]) = (x[p], x[c]);
            for (int r = c + 1; r < n; r++)
            {
                double f = m[r, c] / m[c, c];
                for (int k = c; k < n; k++) m[r, k] -= f * m[c, k];
                x[r] -= f * x[c];
            }
        }
        for (int c = n - 1; c >= 0; c--)
        {
            for (int k = c + 1; k < n; k++) x[c] -= m[c, k] * x[k];
            x[c] /= m[c, c];
        }
        return x;
    }

    [Fact]
    public void PoissonRegressionRecoversBeta()
    {
        // Dense(1, exponential): log-linear Poisson regression. Tolerances: the fitted coefficients are within 0.02 of the exact
        // maximum-likelihood estimate (the optimiser converged), and within 0.1 of the true β and b (≈ 3 standard errors for n = 3000).
        var data = PoissonData(3000, 7);
        var model = new Sequential { Seed = 1, Threads = 1 };
        var dense = new Dense(1, Activation.Exponential);
        model.Add(new Input(3)); model.Add(dense);
        model.Compile(new Adam(new ExponentialDecay(0.05f, 300, 0.5f)), new Poisson(), new MeanAbsoluteErrorMetric());
        var h = model.Fit(data, epochs: 40, batchSize: 100, seed: 3, validationData: PoissonData(500, 8));
        var fitted = dense.Kernel!.Value.ToArray().Select(v => (double)v).Append(dense.Bias!.Value.Span[0]).ToArray();
        var mle = PoissonMle(data);
        double[] truth = [.. Beta, Intercept];
        output.WriteLine($"fitted {string.Join(", ", fitted.Select(v => v.ToString("F4")))}; MLE {string.Join(", ", mle.Select(v => v.ToString("F4")))}; final loss {h["loss"][^1]:F5}");
        for (int k = 0; k < 4; k++)
        {
            Assert.True(Math.Abs(fitted[k] - mle[k]) <= 0.02, $"coefficient {k}: fitted {fitted[k]:F4}, maximum likelihood {mle[k]:F4}");
            Assert.True(Math.Abs(fitted[k] - truth[k]) <= 0.1, $"coefficient {k}: fitted {fitted[k]:F4}, true {truth[k]}");
        }
        Assert.Equal(["loss", "mean_absolute_error", "val_loss", "val_mean_absolute_error"], h.Keys);
        Assert.True(h["loss"][^1] < h["loss"][0]);
        // Evaluate's MAE equals the one computed from Predict
        var ev = model.Evaluate(data, batchSize: 128);
        var pred = model.Predict(data.X);
        double mae = 0;
        for (int i = 0; i < data.Count; i++) mae += Math.Abs(pred.Span[i] - data.Targets!.Span[i]);
        Assert.Equal(mae / data.Count, ev[1], 1e-6);
    }

    /// <summary>Points in [−1, 1]², label 1 inside the circle x² + y² &lt; 0.5.</summary>
    private static Dataset Circle(int n, int seed)
    {
        var rng = new Rng(seed);
        var x = new Tensor(n, 2); var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            float a = rng.Uniform(-1, 1), b = rng.Uniform(-1, 1);
            x.Span[2 * i] = a; x.Span[2 * i + 1] = b;
            y[i] = a * a + b * b < 0.5f ? 1 : 0;
        }
        return new Dataset(x, y);
    }

    [Fact]
    public void BinaryTaskTrainsWithBinaryCrossentropyFromLogits()
    {
        var train = Circle(800, 1).ToBinaryTargets();
        var test = Circle(400, 2).ToBinaryTargets();
        var model = new Sequential { Seed = 2, Threads = 1 };
        foreach (var l in new Layer[] { new Input(2), new Dense(32, Activation.Relu), new Dense(1) }) model.Add(l);
        // the model outputs logits, so the thresholds are 0 (σ(z) > 0.5 ⇔ z > 0)
        model.Compile(new Adam(0.02f), new BinaryCrossentropy(fromLogits: true), new BinaryAccuracy(0f), new Precision(0f), new Recall(0f));
        var h = model.Fit(train, epochs: 60, batchSize: 32, seed: 1, validationData: test);
        output.WriteLine(string.Join(" ", h.Keys.Select(k => $"{k} {h[k][^1]:F4}")));
        Assert.Equal(["loss", "binary_accuracy", "precision", "recall", "val_loss", "val_binary_accuracy", "val_precision", "val_recall"], h.Keys);
        Assert.True(h["binary_accuracy"][^1] >= 0.95, $"training accuracy {h["binary_accuracy"][^1]}");
        Assert.True(h["val_binary_accuracy"][^1] >= 0.93, $"held-out accuracy {h["val_binary_accuracy"][^1]}");
        Assert.True(h["loss"][^1] < 0.3 * h["loss"][0], $"loss {h["loss"][0]} → {h["loss"][^1]}");

        // Evaluate agrees with a count made from Predict
        var ev = model.Evaluate(test);
        var z = model.Predict(test.X);
        int hits = 0, tp = 0, fp = 0, fn = 0;
        for (int i = 0; i < test.Count; i++)
        {
            bool predicted = z.Span[i] > 0, actual = test.Targets!.Span[i] == 1;
            if (predicted == actual) hits++;
            if (predicted && actual) tp++; else if (predicted) fp++; else if (actual) fn++;
        }
        Assert.Equal((double)hits / test.Count, ev[1], 12);
        Assert.Equal((double)tp / (tp + fp), ev[2], 12);
        Assert.Equal((double)tp / (tp + fn), ev[3], 12);
        Assert.Equal(ev, model.Evaluate(test.X, test.Targets!));
    }

    [Fact]
    public void OneHotCategoricalCrossentropyTrainsLikeSparseLabels()
    {
        var data = TrainingTestData.Points(64, 3);
        var sparse = TrainingTestData.PointModel(4);
        sparse.Compile(new Adam(0.02f), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());
        var hs = sparse.Fit(data, epochs: 3, batchSize: 8, seed: 2);
        var oneHot = TrainingTestData.PointModel(4);
        oneHot.Compile(new Adam(0.02f), new CategoricalCrossentropy(fromLogits: true));
        var ho = oneHot.Fit(data.ToOneHotTargets(4), epochs: 3, batchSize: 8, seed: 2);
        for (int e = 0; e < 3; e++) Assert.Equal(hs["loss"][e], ho["loss"][e], 1e-5);
        var ws = sparse.GetWeights(); var wo = oneHot.GetWeights();
        for (int i = 0; i < ws.Length; i++) TestUtil.AssertClose(wo[i], ws[i], 1e-4, $"weight {i}", atol: 1e-6);
    }

    [Fact]
    public void LinearRegressionWithMeanSquaredError()
    {
        var rng = new Rng(9);
        int n = 400;
        var x = new Tensor(n, 2); var y = new Tensor(n);   // (N,) targets mean (N, 1)
        for (int i = 0; i < n; i++)
        {
            float a = rng.Uniform(-1, 1), b = rng.Uniform(-1, 1);
            x.Span[2 * i] = a; x.Span[2 * i + 1] = b;
            y.Span[i] = 2 * a - b + 0.5f + rng.Uniform(-0.01f, 0.01f);
        }
        var model = new Sequential { Seed = 1, Threads = 1 };
        var dense = new Dense(1);
        model.Add(new Input(2)); model.Add(dense);
        model.Compile(new SGD(0.1f), new MeanSquaredError(), new MeanSquaredErrorMetric(), new MeanAbsoluteErrorMetric());
        var h = model.Fit(x, y, epochs: 30, batchSize: 20, seed: 1);
        TestUtil.AssertClose(dense.Kernel!.Value.Span, new double[] { 2, -1 }, 0.01, "kernel");
        Assert.Equal(0.5, dense.Bias!.Value.Span[0], 0.01);
        for (int e = 0; e < h.Epochs; e++) Assert.Equal(h["loss"][e], h["mean_squared_error"][e], 1e-9 * h["loss"][e]);   // same quantity
        Assert.True(h["mean_absolute_error"][^1] < 0.01);
        Assert.True(model.TrainOnBatch(x.Slice(0, 8), y.Slice(0, 8)) < 1e-3);
    }

    [Theory]
    [InlineData("bce-adamw")]
    [InlineData("cce-rmsprop")]
    [InlineData("poisson-amsgrad-schedule")]
    public void FloatTargetTrainingStepAllocatesZeroBytesAfterWarmUp(string kind)
    {
        int outputs = kind.StartsWith("cce") ? 3 : 1;
        var model = TrainingTestData.PointModel(1, classes: outputs);
        if (kind.StartsWith("poisson")) model.Add(new ActivationLayer(Activation.Exponential));
        var (opt, loss, metrics) = kind switch
        {
            "bce-adamw" => ((Optimizer)new AdamW(), (Loss)new BinaryCrossentropy(fromLogits: true), new Metric[] { new BinaryAccuracy(0f), new Precision(0f), new Recall(0f) }),
            "cce-rmsprop" => (new RMSprop(momentum: 0.5f, centered: true), new CategoricalCrossentropy(fromLogits: true), []),
            _ => (new Adam(new CosineDecay(0.01f, 100), amsgrad: true), new Poisson(), new Metric[] { new MeanAbsoluteErrorMetric(), new MeanSquaredErrorMetric() }),
        };
        model.Compile(opt, loss, metrics);
        var x = TrainingTestData.Points(8, 1).X;
        var y = new Tensor(8, outputs);
        for (int i = 0; i < 8; i++) y.Span[i * outputs + i % outputs] = 1;
        for (int i = 0; i < 3; i++) model.TrainOnBatch(x, y);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) model.TrainOnBatch(x, y);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    // ---- re-compiling after changing Trainable (fine-tuning) ----

    [Fact]
    public void RecompilingAfterUnfreezingTrainsTheBaseWithAFreshOptimizer()
    {
        var data = Circle(64, 3).ToBinaryTargets();
        var model = new Sequential { Seed = 4, Threads = 1 };
        var base_ = new Dense(8, Activation.Relu, name: "base");
        var head = new Dense(1, name: "head");
        foreach (var l in new Layer[] { new Input(2), base_, head }) model.Add(l);

        // phase 1: frozen base, Adam a
        base_.Trainable = false;
        var a = new Adam(0.01f);
        model.Compile(a, new BinaryCrossentropy(fromLogits: true), new BinaryAccuracy(0f));
        var base0 = base_.Parameters.Select(p => p.Value.ToArray()).ToArray();
        var head0 = head.Parameters.Select(p => p.Value.ToArray()).ToArray();
        model.Fit(data, epochs: 2, batchSize: 16);
        TrainingTestData.AssertWeightsIdentical(base0, base_.Parameters.Select(p => p.Value.ToArray()).ToArray(), "frozen base in phase 1");
        Assert.False(TrainingTestData.WeightsIdentical(head0, head.Parameters.Select(p => p.Value.ToArray()).ToArray()), "head did not train");
        Assert.Equal(8, a.Iterations);

        // phase 2 (the lecture's fine-tuning): unfreeze, re-compile with a new optimiser at a very low rate
        base_.Trainable = true;
        const float lr = 1e-5f;
        var b = new Adam(lr);
        model.Compile(b, new BinaryCrossentropy(fromLogits: true), new BinaryAccuracy(0f));
        var before = model.GetWeights();
        var x = data.X.Slice(0, 16); var y = data.Targets!.Slice(0, 16);
        model.Compile(b, new BinaryCrossentropy(fromLogits: true), new BinaryAccuracy(0f));   // compiling again with the same instance is harmless
        model.TrainOnBatch(x, y);
        var after = model.GetWeights();
        // a fresh Adam's first step moves every parameter with a clear gradient by ≈ lr (bias-corrected m/√v = ±1):
        // state carried over from phase 1 would give other step sizes for the head
        int moved = 0;
        for (int t = 0; t < before.Length; t++)
            for (int i = 0; i < before[t].Length; i++)
            {
                double d = Math.Abs(after[t][i] - before[t][i]);
                if (d == 0) continue;   // ReLU units dead on this batch have no gradient
                Assert.InRange(d, 0.9 * lr, 1.01 * lr);
                moved++;
            }
        Assert.True(moved >= 10, $"only {moved} parameters moved");
        Assert.False(before[0].AsSpan().SequenceEqual(after[0]), "the unfrozen base did not train");
        Assert.Equal(8, a.Iterations);   // the old optimiser is no longer used
        Assert.Equal(1, b.Iterations);

        // re-compiling with the SAME instance keeps its state and step count
        model.Compile(b, new BinaryCrossentropy(fromLogits: true), new BinaryAccuracy(0f));
        model.TrainOnBatch(x, y);
        Assert.Equal(2, b.Iterations);
    }

    // ---- bad input: wrong kind of targets, NaN targets; nothing is updated ----

    private static (Sequential Model, Optimizer Opt) Compiled(Loss loss, int outputs, params Metric[] metrics)
    {
        var model = TrainingTestData.PointModel(1, classes: outputs);
        var opt = new Adam(0.01f);
        model.Compile(opt, loss, metrics);
        return (model, opt);
    }

    private static void AssertNothingUpdated(Sequential model, Optimizer opt, float[][] before)
    {
        TrainingTestData.AssertWeightsIdentical(before, model.GetWeights(), "weights after the rejected call");
        Assert.Equal(0, opt.Iterations);
        foreach (var p in model.Parameters) Assert.All(p.Grad.ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void FloatTargetsGivenToASparseLabelLossAreRejectedNamingTheLoss()
    {
        var (model, opt) = Compiled(new SparseCategoricalCrossentropy(fromLogits: true), 4, new Accuracy());
        var data = TrainingTestData.Points(16, 1);
        var oneHot = data.ToOneHotTargets(4);
        var before = model.GetWeights();
        foreach (var act in new Action[]
                 {
                     () => model.Fit(oneHot, epochs: 1, batchSize: 4),
                     () => model.Fit(oneHot.X, oneHot.Targets!, epochs: 1),
                     () => model.TrainOnBatch(oneHot.X, oneHot.Targets!),
                     () => model.Evaluate(oneHot),
                     () => model.Fit(data, epochs: 1, validationData: oneHot),
                 })
        {
            var e = Assert.Throws<ArgumentException>(act);
            Assert.Contains("'sparse_categorical_crossentropy'", e.Message);
            Assert.Contains("needs integer class labels", e.Message);
            Assert.Contains("float targets of shape (N, 4)", e.Message);
            AssertNothingUpdated(model, opt, before);
        }
    }

    [Fact]
    public void ClassLabelsGivenToAFloatTargetLossAreRejectedWithTheConversion()
    {
        var (model, opt) = Compiled(new BinaryCrossentropy(fromLogits: true), 1, new BinaryAccuracy(0f));
        var labels = Circle(16, 1);
        var before = model.GetWeights();
        var e = Assert.Throws<ArgumentException>(() => model.Fit(labels, epochs: 1));
        Assert.Contains("'binary_crossentropy'", e.Message);
        Assert.Contains("float targets of shape (N, 1)", e.Message);
        Assert.Contains("ToBinaryTargets()", e.Message);
        e = Assert.Throws<ArgumentException>(() => model.TrainOnBatch(labels.X, labels.Y));
        Assert.Contains("'binary_crossentropy'", e.Message);
        AssertNothingUpdated(model, opt, before);

        var (cce, opt2) = Compiled(new CategoricalCrossentropy(fromLogits: true), 4);
        var before2 = cce.GetWeights();
        e = Assert.Throws<ArgumentException>(() => cce.Fit(TrainingTestData.Points(16, 1), epochs: 1));
        Assert.Contains("'categorical_crossentropy'", e.Message);
        Assert.Contains("ToOneHotTargets(4)", e.Message);
        AssertNothingUpdated(cce, opt2, before2);
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "Infinity")]
    public void NonFiniteTargetsAreRejectedBeforeAnyUpdate(float bad, string shown)
    {
        var (model, opt) = Compiled(new MeanSquaredError(), 1, new MeanAbsoluteErrorMetric());
        var x = TrainingTestData.Points(12, 1).X;
        var y = new Tensor(12, 1);
        for (int i = 0; i < 12; i++) y.Span[i] = i * 0.1f;
        y.Span[7] = bad;
        var before = model.GetWeights();
        var e = Assert.Throws<ArgumentException>(() => model.Fit(x, y, epochs: 1, batchSize: 4, shuffle: false));
        Assert.Contains("'mean_squared_error'", e.Message);
        Assert.Contains(shown, e.Message);
        Assert.Contains("[7, 0]", e.Message);
        Assert.Contains("training data", e.Message);
        AssertNothingUpdated(model, opt, before);
        e = Assert.Throws<ArgumentException>(() => model.TrainOnBatch(x, y));
        Assert.Contains("'mean_squared_error'", e.Message);
        AssertNothingUpdated(model, opt, before);
        // in the validation data: found before the first epoch
        var good = new Tensor(12, 1);
        e = Assert.Throws<ArgumentException>(() => model.Fit(new Dataset(x, good), epochs: 1, validationData: new Dataset(x, y)));
        Assert.Contains("validation data", e.Message);
        AssertNothingUpdated(model, opt, before);
    }

    [Fact]
    public void AnOutOfRangeValidationLabelIsFoundBeforeTraining()
    {
        var (model, opt) = Compiled(new SparseCategoricalCrossentropy(fromLogits: true), 4, new Accuracy());
        var val = TrainingTestData.Points(6, 2);
        val.Y[4] = 9;
        var before = model.GetWeights();
        var e = Assert.Throws<ArgumentException>(() => model.Fit(TrainingTestData.Points(16, 1), epochs: 1, validationData: val));
        Assert.True(e.Message.Contains("label 9 of sample 4 in the validation data"), e.Message);
        AssertNothingUpdated(model, opt, before);
        e = Assert.Throws<ArgumentException>(() => model.Evaluate(val));
        Assert.Contains("label 9 of sample 4 in the evaluation data", e.Message);
    }

    [Fact]
    public void TargetsOfTheWrongWidthAreRejected()
    {
        var (model, opt) = Compiled(new MeanSquaredError(), 1);
        var x = TrainingTestData.Points(8, 1).X;
        var before = model.GetWeights();
        var e = Assert.Throws<ArgumentException>(() => model.Fit(x, new Tensor(8, 2)));
        Assert.Contains("2 target values per sample but the model outputs 1", e.Message);
        AssertNothingUpdated(model, opt, before);
        Assert.Throws<ArgumentException>(() => model.Fit(x, new Tensor(7, 1)));
    }

    [Fact]
    public void CompileRejectsMetricsForAnotherKindOfTarget()
    {
        var model = TrainingTestData.PointModel(1, classes: 1);
        var e = Assert.Throws<ArgumentException>(() => model.Compile(new Adam(), new MeanSquaredError(), new Accuracy()));
        Assert.Contains("'accuracy'", e.Message);
        Assert.Contains("'mean_squared_error'", e.Message);
        e = Assert.Throws<ArgumentException>(() => TrainingTestData.PointModel(1).Compile(new Adam(), new SparseCategoricalCrossentropy(true), new BinaryAccuracy()));
        Assert.Contains("'binary_accuracy'", e.Message);
    }

    [Fact]
    public void DatasetWithFloatTargets()
    {
        var x = new Tensor(3, 2);
        var d = new Dataset(x, new Tensor(3));
        Assert.Equal(TargetKind.Values, d.TargetKind);
        Assert.Equal(1, d.TargetWidth);
        Assert.Equal(3, d.Count);
        var e = Assert.Throws<InvalidOperationException>(() => d.Y);
        Assert.Contains("float targets", e.Message);
        Assert.Throws<ArgumentException>(() => new Dataset(x, new Tensor(4, 1)));
        Assert.Equal(5, new Dataset(x, new Tensor(3, 5)).TargetWidth);

        var labels = new Dataset(x, [0, 2, 1], ["a", "b", "c"]);
        Assert.Equal(TargetKind.Labels, labels.TargetKind);
        Assert.Null(labels.Targets);
        var oneHot = labels.ToOneHotTargets();
        Assert.Equal([1f, 0f, 0f, 0f, 0f, 1f, 0f, 1f, 0f], oneHot.Targets!.ToArray());
        Assert.Same(x, oneHot.X);
        Assert.Throws<InvalidOperationException>(() => labels.ToBinaryTargets());   // label 2
        Assert.Equal([0f, 1f, 1f], new Dataset(x, [0, 1, 1]).ToBinaryTargets().Targets!.ToArray());
    }
}
