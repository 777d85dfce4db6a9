using ConvNet.Kernels;
using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>
/// Dropout and SpatialDropout2D: the expectation is preserved (fixed seed, tolerance 5 standard errors), the kept fraction is
/// 1 − rate (5 standard errors), inference is the identity, the same seed gives the same masks, masks do not depend on the thread
/// count, the gradient is the same mask (double-reference finite differences), kernels match their twins exactly, bad rates fail.
/// </summary>
public class DropoutTests
{
    [Theory]
    [InlineData(0.5f)]
    [InlineData(0.1f)]
    [InlineData(0.9f)]
    public void ExpectationAndKeptFractionArePreserved(float rate)
    {
        const int n = 64, size = 16384;   // 1,048,576 elements
        var layer = new Dropout(rate, seed: 123) { Threads = 2 };
        var x = new Tensor(n, size);
        x.Span.Fill(1f);
        var y = layer.Forward(x, training: true).ToArray();
        double mean = y.Average(v => (double)v);
        double kept = y.Count(v => v != 0f) / (double)y.Length;
        double seMean = Math.Sqrt(rate / (1 - rate) / y.Length), seKept = Math.Sqrt(rate * (1 - rate) / y.Length);
        Assert.True(Math.Abs(mean - 1) <= 5 * seMean, $"rate {rate}: mean {mean:R}, expected 1 ± {5 * seMean:G3} (5 SE)");
        Assert.True(Math.Abs(kept - (1 - rate)) <= 5 * seKept, $"rate {rate}: kept fraction {kept:R}, expected {1 - rate} ± {5 * seKept:G3}");
        Assert.All(y.Where(v => v != 0f).Take(1000), v => Assert.Equal(1f / (1f - rate), v));
    }

    [Fact]
    public void SpatialDropoutDropsWholeChannelsAndPreservesTheExpectation()
    {
        const float rate = 0.3f;
        var layer = new SpatialDropout2D(rate, seed: 5) { Threads = 2 };
        var x = new Tensor(4096, 2, 3, 64);
        x.Span.Fill(1f);
        var y = layer.Forward(x, training: true).ToArray();
        int kept = 0, decisions = 4096 * 64;
        for (int n = 0; n < 4096; n++)
        for (int c = 0; c < 64; c++)
        {
            float first = y[(n * 6) * 64 + c];
            for (int p = 1; p < 6; p++) Assert.Equal(first, y[(n * 6 + p) * 64 + c]);
            if (first != 0f) kept++;
        }
        double frac = kept / (double)decisions, se = Math.Sqrt(rate * (1 - rate) / decisions);
        Assert.True(Math.Abs(frac - (1 - rate)) <= 5 * se, $"kept channel fraction {frac:R}, expected {1 - rate} ± {5 * se:G3}");
        double mean = y.Average(v => (double)v), seMean = Math.Sqrt(rate / (1 - rate) / decisions);
        Assert.True(Math.Abs(mean - 1) <= 5 * seMean, $"mean {mean:R}, expected 1 ± {5 * seMean:G3}");
    }

    [Fact]
    public void InferenceIsTheIdentity()
    {
        var rng = new Rng(1);
        var x = RandomTensor(rng, 3, 4, 5, 6);
        foreach (Layer layer in new Layer[] { new Dropout(0.5f), new SpatialDropout2D(0.5f) })
        {
            var y = layer.Forward(x, training: false);
            AssertExactlyEqual<float>(y.Span, x.Span, $"{layer.TypeName} at inference");
            var g = RandomTensor(rng, 3, 4, 5, 6);
            AssertExactlyEqual<float>(layer.Backward(g).Span, g.Span, $"{layer.TypeName} backward at inference");
        }
        // rate 0 in training is the identity too
        AssertExactlyEqual<float>(new Dropout(0f).Forward(x, training: true).Span, x.Span, "Dropout(0) in training");
    }

    [Fact]
    public void SameSeedSameMasksAndThreadCountDoesNotMatter()
    {
        var rng = new Rng(2);
        var x = RandomTensor(rng, 5, 3, 3, 2 * V + 3);
        foreach (var make in new Func<int, Layer>[] { t => new Dropout(0.4f, seed: 77) { Threads = t }, t => new SpatialDropout2D(0.4f, seed: 77) { Threads = t } })
        {
            Layer a = make(1), b = make(2), c = make(2);
            for (int call = 0; call < 3; call++)
            {
                var ya = a.Forward(x, training: true).ToArray();
                AssertExactlyEqual<float>(b.Forward(x, training: true).Span, ya, $"{a.TypeName} call {call}: same seed, 1 vs 2 threads");
                var yc = c.Forward(x, training: true).ToArray();
                Assert.Equal(ya, yc);
            }
            // consecutive calls draw new masks; another seed another mask
            var first = make(1).Forward(x, training: true).ToArray();
            var l = make(1); l.Forward(x, training: true);
            Assert.NotEqual(first, l.Forward(x, training: true).ToArray());
            Layer other = a is Dropout ? new Dropout(0.4f, seed: 78) : new SpatialDropout2D(0.4f, seed: 78);
            Assert.NotEqual(first, other.Forward(x, training: true).ToArray());
        }
        // without an explicit seed the layer's (model-assigned) Seed decides
        var s1 = new Dropout(0.5f) { Seed = 9 }; var s2 = new Dropout(0.5f) { Seed = 9 };
        Assert.Equal(s1.Forward(x, training: true).ToArray(), s2.Forward(x, training: true).ToArray());
    }

    [Fact]
    public void GradientIsTheSameMask()
    {
        var rng = new Rng(3);
        var d = new Dropout(0.3f, seed: 4, name: "dropout") { Threads = 2 };
        var x = RandomTensor(rng, 3, 2 * V + 5);
        // the mask changes every call, so the float finite-difference check (which calls Forward again) is off;
        // the reference regenerates the checked call's mask from its key
        GradientChecker.Check(d, x, (xd, _) =>
        {
            var m = new float[xd.Length]; m.AsSpan().Fill(1f);
            DropoutMaskReference.Apply(m, m, d.LastKey, 0, 0.3f);
            return xd.Select((v, i) => v * m[i]).ToArray();
        }, rng, "Dropout(0.3)", floatCheck: false);
        var s = new SpatialDropout2D(0.5f, seed: 4, name: "sd") { Threads = 2 };
        var xs = RandomTensor(rng, 3, 2, 3, V + 1);
        GradientChecker.Check(s, xs, (xd, _) =>
        {
            var m = new float[xd.Length]; m.AsSpan().Fill(1f);
            DropoutMaskReference.ApplyPerChannel(m, m, 3, 6, V + 1, s.LastKey, 0, 0.5f, new float[V + 1]);
            return xd.Select((v, i) => v * m[i]).ToArray();
        }, rng, "SpatialDropout2D(0.5)", floatCheck: false);
    }

    [Fact]
    public void KernelsMatchTheirTwinsExactly()
    {
        var rng = new Rng(4);
        for (int n = 1; n <= 4 * V + 1; n++)
        foreach (float rate in new[] { 0f, 0.25f, 0.5f, 0.99f })
        {
            var x = Uniform(rng, n);
            ulong key = DropoutMask.Key(n, (long)(rate * 100));
            long offset = rng.NextInt(1000);
            var y1 = new float[n]; var y2 = new float[n];
            DropoutMask.Apply(x, y1, key, offset, rate);
            DropoutMaskReference.Apply(x, y2, key, offset, rate);
            AssertExactlyEqual<float>(y1, y2, $"Apply n={n} rate={rate}");
            int c = 1 + n % (2 * V + 1), images = 2, pixels = 3;
            var xs = Uniform(rng, images * pixels * c);
            var z1 = new float[xs.Length]; var z2 = new float[xs.Length];
            DropoutMask.ApplyPerChannel(xs, z1, images, pixels, c, key, 5, rate, new float[c]);
            DropoutMaskReference.ApplyPerChannel(xs, z2, images, pixels, c, key, 5, rate, new float[c]);
            AssertExactlyEqual<float>(z1, z2, $"ApplyPerChannel C={c} rate={rate}");
        }
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(-0.1f)]
    [InlineData(float.NaN)]
    [InlineData(1.5f)]
    public void RateOutsideTheUnitIntervalNamesTheLayer(float rate)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(rate, name: "drop1"));
        Assert.Contains("drop1", e.Message);
        Assert.Contains("Dropout", e.Message);
        Assert.Contains("[0, 1)", e.Message);
        var s = Assert.Throws<ArgumentOutOfRangeException>(() => new SpatialDropout2D(rate));
        Assert.Contains("SpatialDropout2D", s.Message);
    }
}
