using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>
/// RMSprop, AdamW, Adam(amsgrad) and learning-rate schedules against the Keras 3 update rules evaluated by hand in
/// double precision (float32 hyper-parameters, as Keras uses them), three steps on 19 values (a SIMD body plus a scalar
/// tail), |actual − expected| ≤ 1e-5·(|expected| + rms) + 1e-7.
/// </summary>
[Collection("Allocation")]
public class MoreOptimizerTests
{
    private const int N = 19;

    private static float[] Theta0() => Enumerable.Range(0, N).Select(i => (float)(0.5 - 0.07 * i)).ToArray();
    // step 3's gradients are small, so AMSGrad's running maximum differs from v
    private static float[] Grad(int step) => Enumerable.Range(0, N).Select(i => (float)(((i % 3 - 1) * 0.3 + 0.11 * step - 0.02 * i) * (step == 3 ? 0.05 : 1))).ToArray();

    private static float[][] Steps(Optimizer opt, int steps = 3)
    {
        var p = new Parameter("kernel", new Tensor(Theta0(), N));
        var result = new float[steps][];
        for (int t = 1; t <= steps; t++)
        {
            Grad(t).CopyTo(p.Grad.Span);
            opt.Step([p]);
            Assert.All(p.Grad.ToArray(), g => Assert.Equal(0f, g));
            result[t - 1] = p.Value.ToArray();
        }
        Assert.Equal(steps, opt.Iterations);
        return result;
    }

    private static void AssertSteps(float[][] actual, double[][] expected, string what)
    {
        for (int t = 0; t < expected.Length; t++) TestUtil.AssertClose(actual[t], expected[t], 1e-5, $"{what} step {t + 1}", atol: 1e-7);
    }

    [Theory]
    [InlineData(0.001, 0.9, 0.0, 1e-7, false)]
    [InlineData(0.01, 0.8, 0.0, 1e-3, true)]
    [InlineData(0.01, 0.9, 0.5, 1e-7, false)]
    [InlineData(0.01, 0.9, 0.0, 1e-2, false)]   // a large ε shows where it is added (under the root)
    [InlineData(0.05, 0.95, 0.9, 1e-4, true)]
    public void RmspropMatchesKeras3Formula(double lr, double rho, double momentum, double eps, bool centered)
    {
        var actual = Steps(new RMSprop((float)lr, (float)rho, (float)momentum, (float)eps, centered));
        double LR = (float)lr, RHO = (float)rho, MU = (float)momentum, E = (float)eps;
        var theta = Theta0().Select(v => (double)v).ToArray();
        var v = new double[N]; var a = new double[N]; var u = new double[N];
        var expected = new double[3][];
        for (int t = 1; t <= 3; t++)
        {
            var g = Grad(t);
            for (int i = 0; i < N; i++)
            {
                v[i] = RHO * v[i] + (1 - RHO) * g[i] * g[i];
                double denom = v[i] + E;
                if (centered) { a[i] = RHO * a[i] + (1 - RHO) * g[i]; denom = v[i] - a[i] * a[i] + E; }
                double inc = LR * g[i] / Math.Sqrt(denom);
                if (MU > 0) { u[i] = MU * u[i] + inc; inc = u[i]; }
                theta[i] -= inc;
            }
            expected[t - 1] = theta.ToArray();
        }
        AssertSteps(actual, expected, $"RMSprop(lr {lr}, rho {rho}, momentum {momentum}, centered {centered})");
    }

    [Fact]
    public void RmspropKerasDocstringExample()
    {
        // keras.optimizers.RMSprop(learning_rate=0.1); var1 = 10; loss = var1²/2 → grad 10; one step → 9.683772
        var p = new Parameter("v", new Tensor([10f], 1));
        p.Grad.Span[0] = 10f;
        new RMSprop(0.1f).Step([p]);
        Assert.Equal(9.683772f, p.Value.Span[0], 5);
    }

    [Theory]
    [InlineData(0.001, 0.004, false)]
    [InlineData(0.05, 0.1, false)]
    [InlineData(0.05, 0.1, true)]
    public void AdamWMatchesKeras3Formula(double lr, double wd, bool amsgrad)
    {
        var actual = Steps(new AdamW((float)lr, (float)wd, amsgrad: amsgrad));
        var expected = AdamReference(lr, 0.9, 0.999, 1e-7, amsgrad, wd);
        AssertSteps(actual, expected, $"AdamW(lr {lr}, wd {wd}, amsgrad {amsgrad})");
    }

    [Theory]
    [InlineData(0.001, 0.9, 0.999, 1e-7, false)]   // Keras defaults: v falls by only 0.1% in step 3, below the tolerance
    [InlineData(0.01, 0.9, 0.9, 1e-7, true)]
    [InlineData(0.05, 0.8, 0.9, 1e-3, true)]
    public void AdamAmsgradMatchesKeras3Formula(double lr, double b1, double b2, double eps, bool distinguishable)
    {
        var actual = Steps(new Adam((float)lr, (float)b1, (float)b2, (float)eps, amsgrad: true));
        var expected = AdamReference(lr, b1, b2, eps, amsgrad: true, wd: 0);
        AssertSteps(actual, expected, $"Adam(amsgrad, lr {lr})");
        // the test can tell AMSGrad from Adam: step 3 differs where v fell below its maximum
        var plain = AdamReference(lr, b1, b2, eps, amsgrad: false, wd: 0);
        if (distinguishable)   // ≥ 20× the comparison tolerance (1e-5·(|θ| + rms) ≲ 1e-5)
            Assert.True(Enumerable.Range(0, N).Max(i => Math.Abs(plain[2][i] - expected[2][i])) > 2e-4, "AMSGrad and Adam agree on this data: the test cannot tell them apart");
    }

    /// <summary>Keras 3 Adam/AdamW in double: decay θ −= θ·wd·lr first, then m, v, (v̂), θ −= α·m/(√v + ε).</summary>
    private static double[][] AdamReference(double lr, double b1, double b2, double eps, bool amsgrad, double wd)
    {
        double LR = (float)lr, B1 = (float)b1, B2 = (float)b2, E = (float)eps, WD = (float)wd;
        var theta = Theta0().Select(x => (double)x).ToArray();
        var m = new double[N]; var v = new double[N]; var vh = new double[N];
        var expected = new double[3][];
        for (int t = 1; t <= 3; t++)
        {
            var g = Grad(t);
            double alpha = LR * Math.Sqrt(1 - Math.Pow(B2, t)) / (1 - Math.Pow(B1, t));
            for (int i = 0; i < N; i++)
            {
                theta[i] -= theta[i] * WD * LR;
                m[i] += (g[i] - m[i]) * (1 - B1);
                v[i] += ((double)g[i] * g[i] - v[i]) * (1 - B2);
                vh[i] = Math.Max(vh[i], v[i]);
                theta[i] -= alpha * m[i] / (Math.Sqrt(amsgrad ? vh[i] : v[i]) + E);
            }
            expected[t - 1] = theta.ToArray();
        }
        return expected;
    }

    [Fact]
    public void AdamWHandValueOnOneScalar()
    {
        // θ0 = 1, g = 0.5, lr = 0.1, wd = 0.004: decay θ = 1 − 0.0004 = 0.9996; m = 0.05, v = 0.00025,
        // α = 0.1·√0.001/0.1 = 0.0316228; step = α·0.05/(0.0158114 + 1e-7) = 0.0999994 → θ1 = 0.8996006
        var p = new Parameter("w", new Tensor([1f], 1));
        p.Grad.Span[0] = 0.5f;
        new AdamW(0.1f).Step([p]);
        Assert.Equal(0.8996006f, p.Value.Span[0], 5);
        Assert.Equal(0.004f, new AdamW().WeightDecay);
    }

    [Fact]
    public void SchedulesAreEvaluatedAtTheIterationCountBeforeTheStep()
    {
        // PiecewiseConstantDecay([1], [0.1, 0.01]): steps 0 and 1 use 0.1, step 2 on uses 0.01 (Keras: optimizer.iterations before increment)
        var opt = new SGD(new PiecewiseConstantDecay([1], [0.1f, 0.01f]));
        var p = new Parameter("w", new Tensor([1f], 1));
        float[] expected = [0.9f, 0.8f, 0.79f, 0.78f];
        for (int t = 0; t < 4; t++)
        {
            Assert.Equal(t <= 1 ? 0.1f : 0.01f, opt.LearningRate);   // the rate the next step will use
            p.Grad.Span[0] = 1f;
            opt.Step([p]);
            Assert.Equal(expected[t], p.Value.Span[0], 6);
        }
        // ExponentialDecay through Adam: the first step uses the initial rate, so it moves by about lr
        var adam = new Adam(new ExponentialDecay(0.01f, 1, 0.5f));
        var q = new Parameter("w", new Tensor([1f], 1));
        q.Grad.Span[0] = 3f; adam.Step([q]);
        Assert.Equal(0.99f, q.Value.Span[0], 5);
        Assert.Equal(0.005f, adam.LearningRate, 7);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-0.1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void LearningRateSetterRejectsBadValuesLikeTheConstructor(float lr)
    {
        foreach (Optimizer opt in new Optimizer[] { new SGD(0.1f), new Adam(0.1f), new AdamW(0.1f), new RMSprop(0.1f) })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => opt.LearningRate = lr);
            Assert.Contains("positive and finite", e.Message);
            Assert.Equal(0.1f, opt.LearningRate);   // unchanged
            opt.LearningRate = 0.05f;
            Assert.Equal(0.05f, opt.LearningRate);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new RMSprop(lr));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(lr));
    }

    [Fact]
    public void AScheduledLearningRateCannotBeSet()
    {
        var opt = new RMSprop(new CosineDecay(0.1f, 10));
        var e = Assert.Throws<InvalidOperationException>(() => opt.LearningRate = 0.5f);
        Assert.Contains("schedule", e.Message);
        Assert.Equal(0.1f, opt.LearningRate);
    }

    [Fact]
    public void BadHyperParametersAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RMSprop(rho: 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RMSprop(momentum: -0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RMSprop(epsilon: 0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta1: 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(weightDecay: -1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW(weightDecay: float.NaN));
        Assert.Throws<ArgumentNullException>(() => new SGD((LearningRateSchedule)null!));
    }

    [Theory]
    [InlineData("rmsprop")]
    [InlineData("rmsprop-centered-momentum")]
    [InlineData("adamw-amsgrad")]
    public void SplittingALargeParameterOverTwoThreadsChangesNothing(string kind)
    {
        // ≥ 2^15 values: Apply splits the update over the worker pool; element ranges are independent
        const int n = 40_003;
        float[] Run(int threads)
        {
            Optimizer opt = kind switch
            {
                "rmsprop" => new RMSprop(0.01f),
                "rmsprop-centered-momentum" => new RMSprop(0.01f, momentum: 0.9f, centered: true),
                _ => new AdamW(0.01f, amsgrad: true),
            };
            opt.Threads = threads;
            var rng = new Rng(4);
            var p = new Parameter("kernel", new Tensor(TestUtil.Uniform(rng, n), n));
            for (int t = 0; t < 3; t++)
            {
                TestUtil.Uniform(rng, n).CopyTo(p.Grad.Span);
                opt.Step([p]);
            }
            return p.Value.ToArray();
        }
        TestUtil.AssertExactlyEqual<float>(Run(1), Run(2), $"{kind}: 1 vs 2 threads");
    }

    [Theory]
    [InlineData("rmsprop")]
    [InlineData("adamw")]
    [InlineData("amsgrad-scheduled")]
    public void StepsAllocateNothingAfterTheFirst(string kind)
    {
        Optimizer opt = kind switch
        {
            "rmsprop" => new RMSprop(momentum: 0.5f, centered: true),
            "adamw" => new AdamW(),
            _ => new Adam(new CosineDecay(0.01f, 100, warmupTarget: 0.02f, warmupSteps: 10), amsgrad: true),
        };
        var p = new Parameter("kernel", new Tensor(Theta0(), N));
        Parameter[] ps = [p];
        opt.Step(ps);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) { Grad(1).AsSpan().CopyTo(p.Grad.Span); opt.Step(ps); }
        // Grad(1) allocates its array: measure without it
        long withGrads = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) opt.Step(ps);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(withGrads > 0);
    }
}
