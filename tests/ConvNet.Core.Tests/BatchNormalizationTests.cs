using ConvNet.Kernels;
using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>
/// BatchNormalization: gradient checks through the batch statistics (GradientChecker tolerances), the moving statistics
/// after N steps against a double hand computation (rtol 1e-5), inference output = (x − mean)/√(var + ε)·γ + β (rtol 1e-5),
/// the Keras 3 rule that a frozen layer runs in inference mode, kernel twins, and axis errors.
/// </summary>
public class BatchNormalizationTests
{
    /// <summary>Double reference: normalise over every axis but <paramref name="axis"/> (of the full shape) with batch statistics
    /// (train) or the given moving statistics; γ/β null = 1/0.</summary>
    internal static double[] Reference(double[] x, int[] shape, int axis, double[]? gamma, double[]? beta, double eps, double[]? movMean = null, double[]? movVar = null)
    {
        int c = shape[axis], inner = 1, rows = 1;
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        for (int i = 0; i < axis; i++) rows *= shape[i];
        double m = (double)rows * inner;
        var mean = new double[c]; var variance = new double[c];
        if (movMean is null)
        {
            for (int r = 0; r < rows; r++) for (int k = 0; k < c; k++) for (int j = 0; j < inner; j++) mean[k] += x[(r * c + k) * inner + j] / m;
            for (int r = 0; r < rows; r++) for (int k = 0; k < c; k++) for (int j = 0; j < inner; j++)
            { double d = x[(r * c + k) * inner + j] - mean[k]; variance[k] += d * d / m; }
        }
        else { mean = movMean; variance = movVar!; }
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++) for (int k = 0; k < c; k++) for (int j = 0; j < inner; j++)
        {
            int i = (r * c + k) * inner + j;
            y[i] = (x[i] - mean[k]) / Math.Sqrt(variance[k] + eps) * (gamma?[k] ?? 1) + (beta?[k] ?? 0);
        }
        return y;
    }

    private static void SetAffine(BatchNormalization bn, Rng rng)
    {
        if (bn.Gamma is { } g) Uniform(rng, g.Value.Length, 0.5f, 1.5f).CopyTo(g.Value.Span);
        if (bn.Beta is { } b) Uniform(rng, b.Value.Length, -0.5f, 0.5f).CopyTo(b.Value.Span);
    }

    [Theory]
    [InlineData(new[] { 4, 3, 2, 5 }, -1, true, true, 2)]     // NHWC, channels last
    [InlineData(new[] { 3, 2, 2, 19 }, -1, true, true, 1)]    // C = 19: vector blocks and a tail
    [InlineData(new[] { 5, 7 }, -1, true, false, 2)]          // Dense features, no beta
    [InlineData(new[] { 3, 4, 3, 2 }, 1, false, true, 2)]     // axis 1 of NHWC: inner = 6
    [InlineData(new[] { 2, 3, 2, 11 }, 3, false, false, 1)]   // explicit positive axis, neither gamma nor beta
    [InlineData(new[] { 2, 5, 3, 3 }, -3, true, true, 2)]     // axis −3 = 1 (inner = 9 > V on AVX2)
    public void TrainingModeGradientsGoThroughBatchStatistics(int[] shape, int axis, bool center, bool scale, int threads)
    {
        var rng = new Rng(shape.Sum() * 13 + axis);
        var bn = new BatchNormalization(axis, center: center, scale: scale, name: "bn") { Threads = threads };
        bn.Build(shape[1..]);
        SetAffine(bn, rng);
        var x = RandomTensor(rng, shape);
        int ax = axis < 0 ? axis + shape.Length : axis;
        int gi = scale ? 0 : -1, bi = center ? (scale ? 1 : 0) : -1;
        GradientChecker.Check(bn, x, (xd, p) => Reference(xd, shape, ax, gi >= 0 ? p[gi] : null, bi >= 0 ? p[bi] : null, 1e-3), rng,
            $"BatchNormalization{Fmt(shape)} axis {axis} center={center} scale={scale}");
    }

    [Fact]
    public void FrozenLayerGradientsUseMovingStatistics()
    {
        var rng = new Rng(3);
        int[] shape = [3, 2, 3, 4];
        var bn = new BatchNormalization(name: "bn") { Threads = 2, Trainable = false };
        bn.Build(shape[1..]);
        SetAffine(bn, rng);
        Uniform(rng, 4, -0.3f, 0.3f).CopyTo(bn.MovingMean!.Value.Span);
        Uniform(rng, 4, 0.5f, 2f).CopyTo(bn.MovingVariance!.Value.Span);
        var mm = ToDouble(bn.MovingMean.Value.Span); var mv = ToDouble(bn.MovingVariance.Value.Span);
        // the moving statistics are state, not trained: their analytic gradient is 0 and the double reference holds them constant
        // (the float check would differentiate the output through them, so it is off here)
        GradientChecker.Check(bn, RandomTensor(rng, shape), (xd, p) => Reference(xd, shape, 3, p[0], p[1], 1e-3, mm, mv), rng, "frozen BatchNormalization",
            floatCheck: false);
        AssertClose(bn.MovingMean.Value.Span, mm, 0, "a frozen layer's moving mean never changes");
        AssertClose(bn.MovingVariance.Value.Span, mv, 0, "a frozen layer's moving variance never changes");
    }

    [Fact]
    public void MovingStatisticsAfterNStepsMatchAHandComputation()
    {
        var rng = new Rng(8);
        const int c = 6, steps = 5;
        const double momentum = 0.9;
        var bn = new BatchNormalization(momentum: 0.9f, name: "bn") { Threads = 2 };
        bn.Build([3, 2, c]);
        double[] mm = new double[c], mv = Enumerable.Repeat(1.0, c).ToArray();
        for (int s = 0; s < steps; s++)
        {
            var x = RandomTensor(rng, 4, 3, 2, c);
            for (int i = 0; i < x.Length; i++) x.Span[i] = x.Span[i] * (1 + i % c) + (i % c);   // distinct mean and variance per channel
            bn.Forward(x, training: true);
            int m = x.Length / c;
            for (int k = 0; k < c; k++)
            {
                double mean = 0, v = 0;
                for (int i = k; i < x.Length; i += c) mean += x.Span[i];
                mean /= m;
                for (int i = k; i < x.Length; i += c) v += (x.Span[i] - mean) * (x.Span[i] - mean);
                v /= m;   // biased, as Keras 3
                mm[k] = mm[k] * momentum + mean * (1 - momentum);
                mv[k] = mv[k] * momentum + v * (1 - momentum);
            }
        }
        AssertClose(bn.MovingMean!.Value.Span, mm, 1e-5, "moving mean after 5 steps");
        AssertClose(bn.MovingVariance!.Value.Span, mv, 1e-5, "moving variance after 5 steps");
        // inference mode leaves them alone
        bn.Forward(RandomTensor(rng, 2, 3, 2, c), training: false);
        AssertClose(bn.MovingMean.Value.Span, mm, 1e-5, "moving mean after an inference call");
    }

    [Fact]
    public void InferenceOutputIsTheFormulaWithMovingStatistics()
    {
        var rng = new Rng(9);
        var bn = new BatchNormalization(epsilon: 1e-2f, name: "bn") { Threads = 2 };
        bn.Build([2, 3, 5]);
        SetAffine(bn, rng);
        Uniform(rng, 5, -1f, 1f).CopyTo(bn.MovingMean!.Value.Span);
        Uniform(rng, 5, 0.1f, 3f).CopyTo(bn.MovingVariance!.Value.Span);
        var x = RandomTensor(rng, 3, 2, 3, 5);
        var y = bn.Forward(x, training: false).ToArray();
        var expected = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int k = i % 5;
            expected[i] = (x.Span[i] - bn.MovingMean.Value.Span[k]) / Math.Sqrt(bn.MovingVariance.Value.Span[k] + 1e-2) * bn.Gamma!.Value.Span[k] + bn.Beta!.Value.Span[k];
        }
        AssertClose(y, expected, 1e-5, "inference output");
    }

    [Fact]
    public void FrozenLayerRunsInInferenceModeEvenWhenTraining()
    {
        var rng = new Rng(10);
        var bn = new BatchNormalization(name: "bn") { Threads = 1 };
        bn.Build([4]);
        Uniform(rng, 4, -1f, 1f).CopyTo(bn.MovingMean!.Value.Span);
        var x = RandomTensor(rng, 8, 4);
        var inference = bn.Forward(x, training: false).ToArray();
        var trainingOut = bn.Forward(x, training: true).ToArray();
        Assert.NotEqual(inference, trainingOut);
        bn.Trainable = false;
        var keepMean = bn.MovingMean.Value.ToArray();
        var frozen = bn.Forward(x, training: true).ToArray();
        AssertExactlyEqual<float>(frozen, bn.Forward(x, training: false).ToArray(), "frozen layer, training: true vs false");
        AssertExactlyEqual<float>(bn.MovingMean.Value.Span, keepMean, "frozen layer's moving mean");
        // and inside a model fitted with the layer frozen: the moving statistics stay put
        var model = new Sequential(new Input(4), new BatchNormalization { Trainable = false }, new Dense(2)) { Threads = 1, Seed = 1 };
        var frozenBn = model.Layers.OfType<BatchNormalization>().Single();
        var before = frozenBn.Parameters.Select(p => p.Value.ToArray()).ToArray();
        model.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true));
        var xs = RandomTensor(rng, 16, 4);
        model.Fit(new Dataset(xs, Enumerable.Range(0, 16).Select(i => i % 2).ToArray()), epochs: 2, batchSize: 8, seed: 1);
        for (int k = 0; k < before.Length; k++)
            AssertExactlyEqual<float>(frozenBn.Parameters[k].Value.Span, before[k], $"frozen BN {frozenBn.Parameters[k].Name} after Fit");
        Assert.Equal(0, frozenBn.TrainableParamCount);
        Assert.Equal(16, frozenBn.ParamCount);
    }

    [Fact]
    public void InsideAModelTrainingUpdatesMovingStatisticsOnceAndTheOptimiserLeavesThemAlone()
    {
        var rng = new Rng(12);
        var model = new Sequential(new Input(3), new BatchNormalization(momentum: 0.5f), new Dense(2)) { Threads = 1, Seed = 1 };
        model.Compile(new Adam(0.1f), new SparseCategoricalCrossentropy(fromLogits: true));
        var bn = model.Layers.OfType<BatchNormalization>().Single();
        var x = RandomTensor(rng, 8, 3);
        for (int i = 0; i < x.Length; i++) x.Span[i] += 2f;   // mean ≈ 2
        model.TrainOnBatch(x, [0, 1, 0, 1, 0, 1, 0, 1]);
        var mean = new double[3]; var variance = new double[3];
        for (int k = 0; k < 3; k++)
        {
            for (int r = 0; r < 8; r++) mean[k] += x.Span[r * 3 + k] / 8.0;
            for (int r = 0; r < 8; r++) variance[k] += Math.Pow(x.Span[r * 3 + k] - mean[k], 2) / 8.0;
        }
        AssertClose(bn.MovingMean!.Value.Span, mean.Select(m => 0.5 * m).ToArray(), 1e-5, "moving mean after one step (0.5·0 + 0.5·mean)");
        AssertClose(bn.MovingVariance!.Value.Span, variance.Select(v => 0.5 + 0.5 * v).ToArray(), 1e-5, "moving variance after one step (0.5·1 + 0.5·var)");
        Assert.DoesNotContain(bn.MovingMean, model.TrainableParameters);
        Assert.Contains(bn.Gamma!, model.TrainableParameters);
        // prediction runs in inference mode: the moving statistics stay, and the output uses them
        var keep = bn.MovingMean.Value.ToArray();
        model.Predict(x);
        AssertExactlyEqual<float>(bn.MovingMean.Value.Span, keep, "moving mean after Predict");
    }

    [Fact]
    public void ParametersAreNamedAndFlaggedAsKerasDoes()
    {
        var bn = new BatchNormalization();
        bn.Build([5, 5, 7]);
        Assert.Equal(["gamma", "beta", "moving_mean", "moving_variance"], bn.Parameters.Select(p => p.Name));
        Assert.Equal([true, true, false, false], bn.Parameters.Select(p => p.Trainable));
        Assert.Equal(14, bn.TrainableParamCount);
        Assert.Equal(28, bn.ParamCount);
        Assert.All(bn.Gamma!.Value.ToArray(), v => Assert.Equal(1f, v));
        Assert.All(bn.MovingVariance!.Value.ToArray(), v => Assert.Equal(1f, v));
        var noAffine = new BatchNormalization(center: false, scale: false);
        noAffine.Build([3]);
        Assert.Equal(["moving_mean", "moving_variance"], noAffine.Parameters.Select(p => p.Name));
        Assert.Null(noAffine.Gamma);
        Assert.Null(noAffine.Beta);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(-5)]
    [InlineData(0)]
    public void AxisThatDoesNotExistNamesTheLayer(int axis)
    {
        var bn = new BatchNormalization(axis, name: "my_bn");
        var e = Assert.ThrowsAny<Exception>(() => bn.Build([5, 5, 3]));
        Assert.Contains("my_bn", e.Message);
        Assert.Contains("BatchNormalization", e.Message);
        Assert.Contains($"axis {axis}", e.Message);
        Assert.False(bn.IsBuilt);
    }

    [Fact]
    public void AddingABadAxisToAModelFailsAndLeavesTheModelAsItWas()
    {
        var model = new Sequential(new Input(6, 6, 2), new Conv2D(3, 3));
        int before = model.Layers.Count;
        var e = Assert.Throws<LayerShapeException>(() => model.Add(new BatchNormalization(axis: 4, name: "bad_bn")));
        Assert.Contains("'bad_bn' (BatchNormalization)", e.Message);
        Assert.Contains("axis 4 does not exist for rank-4 input", e.Message);
        Assert.Equal(before, model.Layers.Count);
        model.Add(new BatchNormalization(axis: 3));   // the valid one still goes in
    }

    [Fact]
    public void BadMomentumOrEpsilonIsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNormalization(momentum: 1.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNormalization(epsilon: 0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNormalization(epsilon: float.NaN));
    }

    [Fact]
    public void KernelsMatchTheirTwinsOnEveryChannelTail()
    {
        var rng = new Rng(4);
        for (int c = 1; c <= 3 * V + 1; c++)
        foreach (int inner in new[] { 1, 3, V + 2 })
        {
            int rows = 1 + rng.NextInt(5);
            int len = rows * c * inner;
            var x = Uniform(rng, len); var dy = Uniform(rng, len);
            var mean = Uniform(rng, c); var a = Uniform(rng, c); var b = Uniform(rng, c); var d = Uniform(rng, c);
            string what = $"rows {rows}, C {c}, inner {inner}";
            var s1 = Uniform(rng, c); var s2 = (float[])s1.Clone();
            BatchNorm.ChannelSum(rows, c, inner, x, s1); BatchNormReference.ChannelSum(rows, c, inner, x, s2);
            AssertClose(s1, s2, 1e-5, what + " ChannelSum");
            s1 = Uniform(rng, c); s2 = (float[])s1.Clone();
            BatchNorm.ChannelSquaredDeviation(rows, c, inner, x, mean, s1); BatchNormReference.ChannelSquaredDeviation(rows, c, inner, x, mean, s2);
            AssertClose(s1, s2, 1e-5, what + " ChannelSquaredDeviation");
            float[] m1 = Uniform(rng, c), e1 = Uniform(rng, c), q1 = Uniform(rng, c), m2 = new float[c], e2 = new float[c], q2 = new float[c];
            BatchNorm.ChannelMoments(rows, c, inner, x, m1, e1, q1); BatchNormReference.ChannelMoments(rows, c, inner, x, m2, e2, q2);
            AssertClose(m1, m2, 1e-5, what + " ChannelMoments mean");
            AssertClose(q1, q2, 1e-5, what + " ChannelMoments Σ(x−mean)²");
            for (int i = 0; i < c; i++) Assert.True(Math.Abs(e1[i]) <= 1e-4 * (Math.Sqrt(q2[i]) + 1), $"{what} ChannelMoments residue {e1[i]}");
            var y1 = new float[len]; var y2 = new float[len];
            BatchNorm.ScaleShift(rows, c, inner, x, a, b, y1); BatchNormReference.ScaleShift(rows, c, inner, x, a, b, y2);
            AssertClose(y1, y2, 1e-5, what + " ScaleShift");
            var t1 = Uniform(rng, c); var t2 = (float[])t1.Clone(); var u1 = Uniform(rng, c); var u2 = (float[])u1.Clone();
            BatchNorm.BackwardSums(rows, c, inner, x, dy, mean, t1, u1); BatchNormReference.BackwardSums(rows, c, inner, x, dy, mean, t2, u2);
            AssertClose(t1, t2, 1e-5, what + " BackwardSums Σdy");
            AssertClose(u1, u2, 1e-5, what + " BackwardSums Σdy·(x−μ)");
            BatchNorm.BackwardData(rows, c, inner, x, dy, a, b, d, y1); BatchNormReference.BackwardData(rows, c, inner, x, dy, a, b, d, y2);
            AssertClose(y1, y2, 1e-5, what + " BackwardData");
        }
    }

    private static string Fmt(int[] s) => "(" + string.Join(", ", s) + ")";
}
