using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>Adam and SGD against the Keras 3 update formulas, evaluated by hand in double precision.</summary>
public class OptimizerTests
{
    // 19 values: more than one SIMD vector (8 or 16 floats) plus a scalar tail, so both code paths are checked.
    private const int N = 19;

    private static float[] Theta0() => Enumerable.Range(0, N).Select(i => (float)(0.5 - 0.07 * i)).ToArray();
    private static float[] Grad(int step) => Enumerable.Range(0, N).Select(i => (float)((i % 3 - 1) * 0.3 + 0.11 * step - 0.02 * i)).ToArray();

    private static Parameter NewParameter(out float[] theta0)
    {
        theta0 = Theta0();
        return new Parameter("kernel", new Tensor(theta0.ToArray(), N));
    }

    /// <summary>Runs two steps with hand-set gradients; returns the values after each step.</summary>
    private static (float[] After1, float[] After2) TwoSteps(Optimizer opt, Parameter p)
    {
        Grad(1).CopyTo(p.Grad.Span);
        opt.Step([p]);
        Assert.All(p.Grad.ToArray(), g => Assert.Equal(0f, g));   // Step zeroes the gradients
        var a1 = p.Value.ToArray();
        Grad(2).CopyTo(p.Grad.Span);
        opt.Step([p]);
        Assert.All(p.Grad.ToArray(), g => Assert.Equal(0f, g));
        Assert.Equal(2, opt.Iterations);
        return (a1, p.Value.ToArray());
    }

    [Theory]
    [InlineData(0.001, 0.9, 0.999, 1e-7)]
    [InlineData(0.05, 0.8, 0.99, 1e-3)]
    public void AdamMatchesKeras3FormulaForTwoSteps(double lr, double b1, double b2, double eps)
    {
        var p = NewParameter(out var theta0);
        var opt = new Adam((float)lr, (float)b1, (float)b2, (float)eps);
        var (after1, after2) = TwoSteps(opt, p);

        // Keras 3 uses the float32 hyper-parameters; do the same so only the arithmetic precision differs.
        double B1 = (float)b1, B2 = (float)b2, LR = (float)lr, E = (float)eps;
        var theta = theta0.Select(v => (double)v).ToArray();
        var m = new double[N]; var v = new double[N];
        var expected = new double[2][];
        for (int t = 1; t <= 2; t++)
        {
            var g = Grad(t);
            double alpha = LR * Math.Sqrt(1 - Math.Pow(B2, t)) / (1 - Math.Pow(B1, t));
            for (int i = 0; i < N; i++)
            {
                m[i] += (g[i] - m[i]) * (1 - B1);
                v[i] += ((double)g[i] * g[i] - v[i]) * (1 - B2);
                theta[i] -= alpha * m[i] / (Math.Sqrt(v[i]) + E);
            }
            expected[t - 1] = theta.ToArray();
        }
        TestUtil.AssertClose(after1, expected[0], 1e-5, "Adam step 1", atol: 1e-7);
        TestUtil.AssertClose(after2, expected[1], 1e-5, "Adam step 2", atol: 1e-7);
        // the first Adam step moves every parameter with a non-zero gradient by about lr (bias-corrected)
        for (int i = 0; i < N; i++)
            if (Math.Abs(Grad(1)[i]) > 0.05) Assert.InRange(Math.Abs(after1[i] - theta0[i]), 0.5 * lr, 1.01 * lr);
    }

    [Theory]
    [InlineData(0.1, 0.0, false)]
    [InlineData(0.1, 0.9, false)]
    [InlineData(0.1, 0.9, true)]
    [InlineData(0.01, 0.5, true)]
    public void SgdMatchesKeras3FormulaForTwoSteps(double lr, double momentum, bool nesterov)
    {
        var p = NewParameter(out var theta0);
        var opt = new SGD((float)lr, (float)momentum, nesterov);
        var (after1, after2) = TwoSteps(opt, p);

        double LR = (float)lr, MU = (float)momentum;
        var theta = theta0.Select(x => (double)x).ToArray();
        var u = new double[N];
        var expected = new double[2][];
        for (int t = 1; t <= 2; t++)
        {
            var g = Grad(t);
            for (int i = 0; i < N; i++)
            {
                if (MU == 0) { theta[i] -= LR * g[i]; continue; }
                u[i] = MU * u[i] - LR * g[i];
                theta[i] += nesterov ? MU * u[i] - LR * g[i] : u[i];
            }
            expected[t - 1] = theta.ToArray();
        }
        TestUtil.AssertClose(after1, expected[0], 1e-5, $"SGD(momentum {momentum}, nesterov {nesterov}) step 1", atol: 1e-7);
        TestUtil.AssertClose(after2, expected[1], 1e-5, $"SGD(momentum {momentum}, nesterov {nesterov}) step 2", atol: 1e-7);
    }

    [Fact]
    public void SgdHandValuesOnOneScalar()
    {
        // θ0 = 1, g1 = 0.5, g2 = −0.25, lr = 0.1, μ = 0.9
        // plain:    θ1 = 1 − 0.05 = 0.95;                θ2 = 0.95 + 0.025 = 0.975
        // momentum: u1 = −0.05, θ1 = 0.95;               u2 = −0.045 + 0.025 = −0.02, θ2 = 0.93
        // Nesterov: θ1 = 1 + 0.9·(−0.05) − 0.05 = 0.905; θ2 = 0.905 + 0.9·(−0.02) + 0.025 = 0.912
        foreach (var (opt, e1, e2) in new (Optimizer, double, double)[]
                 {
                     (new SGD(0.1f), 0.95, 0.975),
                     (new SGD(0.1f, 0.9f), 0.95, 0.93),
                     (new SGD(0.1f, 0.9f, nesterov: true), 0.905, 0.912),
                 })
        {
            var p = new Parameter("bias", new Tensor([1f], 1));
            p.Grad.Span[0] = 0.5f;
            opt.Step([p]);
            Assert.Equal(e1, p.Value.Span[0], 5);
            p.Grad.Span[0] = -0.25f;
            opt.Step([p]);
            Assert.Equal(e2, p.Value.Span[0], 5);
        }
    }

    [Fact]
    public void AdamKeepsSeparateStatePerParameter()
    {
        // Two parameters with the same gradients in one Step must move identically (state is per parameter, not shared).
        var a = new Parameter("kernel", new Tensor(Theta0(), N));
        var b = new Parameter("kernel", new Tensor(Theta0(), N));
        var opt = new Adam(0.01f);
        for (int t = 1; t <= 3; t++)
        {
            Grad(t).CopyTo(a.Grad.Span);
            Grad(t).CopyTo(b.Grad.Span);
            opt.Step([a, b]);
        }
        TestUtil.AssertExactlyEqual<float>(a.Value.Span, b.Value.Span, "two parameters with equal gradients");
        Assert.Equal(3, opt.Iterations);
    }

    [Fact]
    public void StepZeroesGradientsOfADenseLayer()
    {
        var dense = new Dense(3, name: "d");
        dense.Build([5]);
        foreach (var p in dense.Parameters) p.Grad.Span.Fill(0.25f);
        var before = dense.Kernel!.Value.ToArray();
        new SGD(0.1f).Step(dense.Parameters);
        foreach (var p in dense.Parameters) Assert.All(p.Grad.ToArray(), g => Assert.Equal(0f, g));
        var after = dense.Kernel.Value.ToArray();
        for (int i = 0; i < before.Length; i++) Assert.Equal(before[i] - 0.025f, after[i], 6);
        Assert.All(dense.Bias!.Value.ToArray(), v => Assert.Equal(-0.025f, v, 6));
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-0.1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void OptimizerRejectsBadLearningRate(float lr)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SGD(lr));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(lr));
    }

    [Fact]
    public void SgdRejectsMomentumOutsideZeroToOne()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SGD(0.1f, 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SGD(0.1f, -0.5f));
    }
}
