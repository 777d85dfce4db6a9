using ConvNet.Kernels;
using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>
/// The activations of issue 11: gradient checks (GradientChecker tolerances) through the Activation layer, LeakyReLU, Conv2D and
/// Dense; SIMD kernels vs their naive twins on every vector tail (rtol 1e-5 with the rms floor); values against the double
/// definitions (rtol 1e-5); Keras names.
/// </summary>
public class ActivationTests
{
    public static readonly Activation[] Elementwise =
        [Activation.Sigmoid, Activation.Exponential, Activation.LeakyRelu, Activation.Elu, Activation.Selu, Activation.Silu, Activation.Gelu, Activation.GeluApproximate];

    private static readonly Activation[] Kinked = [Activation.LeakyRelu, Activation.Selu];   // not differentiable at 0

    public static TheoryData<Activation> All() { var d = new TheoryData<Activation>(); foreach (var a in Elementwise) d.Add(a); return d; }

    [Theory]
    [MemberData(nameof(All))]
    public void ActivationLayerGradients(Activation act)
    {
        foreach (var shape in new[] { new[] { 3, 7 }, new[] { 2, 3, 2, 2 * V + 3 } })
        {
            var rng = new Rng(shape.Sum() + (int)act);
            var x = new Tensor(shape);
            // kinked functions: |x| ≥ 0.1 = 10·h keeps finite differences off the kink; [−3, 3] covers GELU's curved part
            (Kinked.Contains(act) ? AwayFromZero(rng, x.Length, 0.1f, 3f) : Uniform(rng, x.Length, -3f, 3f)).CopyTo(x.Span);
            GradientChecker.Check(new ActivationLayer(act, "act") { Threads = 1 }, x,
                (xd, _) => xd.Select(v => DoubleReference.Elementwise(act, v, 0.2)).ToArray(), rng, $"Activation({act}) ({string.Join(", ", shape)})");
        }
    }

    [Theory]
    [InlineData(0.3f)]
    [InlineData(0.01f)]
    [InlineData(0f)]
    public void LeakyReLULayerGradients(float slope)
    {
        var rng = new Rng(42);
        var x = new Tensor(3, 4, 2, V + 1);
        AwayFromZero(rng, x.Length, 0.1f, 2f).CopyTo(x.Span);
        GradientChecker.Check(new LeakyReLU(slope, "leaky"), x, (xd, _) => xd.Select(v => v > 0 ? v : slope * v).ToArray(), rng, $"LeakyReLU({slope})");
    }

    [Fact]
    public void LeakyReLUDefaultsFollowKeras3()
    {
        Assert.Equal(0.3f, new LeakyReLU().NegativeSlope);
        var y = new ActivationLayer("leaky_relu").Forward(new Tensor(new[] { -1f, 2f }, 1, 2)).ToArray();
        Assert.Equal([-0.2f, 2f], y);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LeakyReLU(-0.1f));
    }

    public static TheoryData<Activation> Smooth() => [Activation.Sigmoid, Activation.Exponential, Activation.Elu, Activation.Silu, Activation.Gelu, Activation.GeluApproximate, Activation.Tanh];

    [Theory]
    [MemberData(nameof(Smooth))]
    public void Conv2DAndDenseWithTheActivation(Activation act)
    {
        // SiLU and GELU need the pre-activation: Conv2D and Dense keep it for them
        LayerGradientTests.CheckConv(2, 5, 6, 3, V + 3, 3, 3, 1, 1, Padding.Same, act, true, seed: 300 + (int)act, threads: 2);
        LayerGradientTests.CheckConv(3, 6, 5, 2, 4, 3, 2, 2, 1, Padding.Valid, act, false, seed: 400 + (int)act, threads: 1);
        LayerGradientTests.CheckDense(4, 9, 2 * V + 1, act, true, seed: 500 + (int)act, threads: 2);
    }

    [Fact]
    public void KernelsMatchTheirTwinsOnEveryTail()
    {
        var rng = new Rng(6);
        for (int n = 1; n <= 3 * V + 1; n++)
        {
            var x = Uniform(rng, n, -6f, 6f);
            if (n > 2) { x[0] = 0f; x[1] = -90f; x[2] = 90f; }   // the kinks and far tails (e^90 overflows to ∞ in both)
            var dy = Uniform(rng, n);
            void Pair(string name, Action<float[], float[]> fast, Action<float[], float[]> reference, bool exp = false)
            {
                var y1 = new float[n]; var y2 = new float[n];
                fast(x, y1); reference(x, y2);
                if (exp) { for (int i = 0; i < n; i++) Assert.True(y1[i] == y2[i] || Math.Abs(y1[i] - y2[i]) <= 1e-5 * Math.Abs(y2[i]), $"{name} n={n} [{i}]: {y1[i]} vs {y2[i]}"); }
                else AssertClose(y1, y2, 1e-5, $"{name} n={n}");
            }
            float[] Acc() => Enumerable.Repeat(0.5f, n).ToArray();
            // forward
            Pair("sigmoid", (a, b) => Activations.SigmoidForward(a, b), (a, b) => ActivationsReference.SigmoidForward(a, b));
            Pair("exponential", (a, b) => Activations.ExponentialForward(a, b), (a, b) => ActivationsReference.ExponentialForward(a, b), exp: true);
            Pair("leaky_relu", (a, b) => Activations.LeakyReluForward(a, b, 0.3f), (a, b) => ActivationsReference.LeakyReluForward(a, b, 0.3f));
            Pair("elu", (a, b) => Activations.EluForward(a, b), (a, b) => ActivationsReference.EluForward(a, b));
            Pair("selu", (a, b) => Activations.SeluForward(a, b), (a, b) => ActivationsReference.SeluForward(a, b));
            Pair("silu", (a, b) => Activations.SiluForward(a, b), (a, b) => ActivationsReference.SiluForward(a, b));
            Pair("gelu", (a, b) => Activations.GeluForward(a, b), (a, b) => ActivationsReference.GeluForward(a, b));
            Pair("gelu tanh", (a, b) => Activations.GeluForward(a, b, true), (a, b) => ActivationsReference.GeluForward(a, b, true));
            // backward (adds into dx; y-based derivatives get the forward output)
            void Back(string name, Action<float[], float[]> forward, Action<float[], float[], float[]> fast, Action<float[], float[], float[]> reference, bool fromOutput)
            {
                var y = new float[n]; forward(x, y);
                var src = fromOutput ? y : x;
                if (name == "exponential") for (int i = 0; i < n; i++) y[i] = Math.Min(y[i], 1e30f);
                var d1 = Acc(); var d2 = Acc();
                fast(src, dy, d1); reference(src, dy, d2);
                AssertClose(d1, d2, 1e-5, $"{name} backward n={n}");
            }
            Back("sigmoid", (a, b) => ActivationsReference.SigmoidForward(a, b), (y, g, d) => Activations.SigmoidBackward(y, g, d), (y, g, d) => ActivationsReference.SigmoidBackward(y, g, d), true);
            Back("exponential", (a, b) => ActivationsReference.ExponentialForward(a, b), (y, g, d) => Activations.ExponentialBackward(y, g, d), (y, g, d) => ActivationsReference.ExponentialBackward(y, g, d), true);
            Back("leaky_relu", (a, b) => ActivationsReference.LeakyReluForward(a, b, 0.3f), (y, g, d) => Activations.LeakyReluBackward(y, g, d, 0.3f), (y, g, d) => ActivationsReference.LeakyReluBackward(y, g, d, 0.3f), true);
            Back("elu", (a, b) => ActivationsReference.EluForward(a, b), (y, g, d) => Activations.EluBackward(y, g, d), (y, g, d) => ActivationsReference.EluBackward(y, g, d), true);
            Back("selu", (a, b) => ActivationsReference.SeluForward(a, b), (y, g, d) => Activations.SeluBackward(y, g, d), (y, g, d) => ActivationsReference.SeluBackward(y, g, d), true);
            Back("silu", (a, b) => { }, (v, g, d) => Activations.SiluBackward(v, g, d), (v, g, d) => ActivationsReference.SiluBackward(v, g, d), false);
            Back("gelu", (a, b) => { }, (v, g, d) => Activations.GeluBackward(v, g, d), (v, g, d) => ActivationsReference.GeluBackward(v, g, d), false);
            Back("gelu tanh", (a, b) => { }, (v, g, d) => Activations.GeluBackward(v, g, d, true), (v, g, d) => ActivationsReference.GeluBackward(v, g, d, true), false);
        }
    }

    [Fact]
    public void ValuesMatchTheDefinitionsInDouble()
    {
        var xs = Enumerable.Range(-60, 121).Select(i => i / 10f).ToArray();   // −6 … 6
        foreach (var act in Elementwise)
        {
            var y = new float[xs.Length];
            xs.CopyTo(y, 0);
            var layer = new ActivationLayer(act);
            var t = new Tensor(y, 1, y.Length);
            var got = layer.Forward(t).ToArray();
            var expected = xs.Select(v => DoubleReference.Elementwise(act, v, 0.2)).ToArray();
            AssertClose(got, expected, act == Activation.Exponential ? 1e-6 : 1e-5, $"{act} on [−6, 6]");
        }
        // the library's double erfc twin against tabulated values (Abramowitz & Stegun table 7.1)
        foreach (var (z, erfc) in new[] { (1.0, 0.157299207050285), (2.0, 4.677734981047266e-3), (3.0, 2.209049699858544e-5) })
        {
            Assert.True(Math.Abs(ActivationsReference.Erfc(z) - erfc) <= 1e-12 * erfc, $"library erfc({z}) = {ActivationsReference.Erfc(z):R}, table {erfc:R}");
            Assert.True(Math.Abs(DoubleReference.Erfc(z) - erfc) <= 1e-12 * erfc, $"test erfc({z}) = {DoubleReference.Erfc(z):R}, table {erfc:R}");
        }
    }

    [Fact]
    public void KerasNamesParseAndRoundTrip()
    {
        foreach (var a in Enum.GetValues<Activation>()) Assert.Equal(a, ActivationOps.Parse(ActivationOps.Name(a)));
        Assert.Equal(Activation.Silu, ActivationOps.Parse("swish"));
        Assert.Equal("leaky_relu", ActivationOps.Name(Activation.LeakyRelu));
        Assert.Equal("silu", ActivationOps.Name(Activation.Swish));
        Assert.Equal(Activation.Gelu, new ActivationLayer("gelu").Activation);
        var e = Assert.Throws<ArgumentException>(() => new ActivationLayer("mish"));
        Assert.Contains("mish", e.Message);
        Assert.Equal("Activation", new ActivationLayer(Activation.Elu).TypeName);
        Assert.Equal("activation", Sequential.KerasName(new ActivationLayer(Activation.Elu).TypeName));
    }
}
