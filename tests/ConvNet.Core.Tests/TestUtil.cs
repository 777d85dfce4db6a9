using System.Numerics;
using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>Shared helpers: seeded random data and tolerant comparisons with useful failure messages.</summary>
internal static class TestUtil
{
    /// <summary>Vector&lt;float&gt;.Count on this machine (the SIMD width the kernels use).</summary>
    public static int V => Vector<float>.Count;

    public static float[] Uniform(Rng rng, int n, float lo = -1f, float hi = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = rng.Uniform(lo, hi);
        return a;
    }

    /// <summary>Uniform values whose magnitude is at least <paramref name="minAbs"/> (random sign).</summary>
    public static float[] AwayFromZero(Rng rng, int n, float minAbs, float maxAbs = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = rng.Uniform(minAbs, maxAbs) * (rng.NextInt(2) == 0 ? -1f : 1f);
        return a;
    }

    /// <summary>Distinct values spaced exactly <paramref name="spacing"/> apart, in random order, centred on 0.</summary>
    public static float[] DistinctShuffled(Rng rng, int n, float spacing)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (i - n / 2) * spacing;
        rng.Shuffle(a.AsSpan());
        return a;
    }

    public static Tensor RandomTensor(Rng rng, params int[] dims)
    {
        var t = new Tensor(dims);
        Uniform(rng, t.Length).CopyTo(t.Span);
        return t;
    }

    public static double[] ToDouble(ReadOnlySpan<float> s)
    {
        var d = new double[s.Length];
        for (int i = 0; i < s.Length; i++) d[i] = s[i];
        return d;
    }

    public static double Rms(ReadOnlySpan<double> a)
    {
        if (a.Length == 0) return 0;
        double s = 0;
        foreach (var v in a) s += v * v;
        return Math.Sqrt(s / a.Length);
    }

    public static double Rms(ReadOnlySpan<float> a)
    {
        if (a.Length == 0) return 0;
        double s = 0;
        foreach (var v in a) s += (double)v * v;
        return Math.Sqrt(s / a.Length);
    }

    /// <summary>
    /// Asserts |actual − expected| ≤ rtol·(|expected| + rms(expected)) + atol element-wise: relative per element,
    /// with the tensor's RMS as the floor so near-zero elements are judged on the tensor's scale.
    /// </summary>
    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double rtol, string what, double atol = 0)
    {
        Assert.True(actual.Length == expected.Length, $"{what}: length {actual.Length} != expected {expected.Length}");
        double rms = Rms(expected);
        int bad = 0, first = -1; double worst = 0; int worstAt = -1;
        for (int i = 0; i < actual.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]);
            double tol = rtol * (Math.Abs(expected[i]) + rms) + atol;
            if (!(err <= tol))
            {
                bad++;
                if (first < 0) first = i;
            }
            double rel = err / (Math.Abs(expected[i]) + rms + 1e-30);
            if (rel > worst || double.IsNaN(err)) { worst = rel; worstAt = i; }
        }
        Assert.True(bad == 0,
            $"{what}: {bad} of {actual.Length} elements off (rtol {rtol}); first at [{first}]: actual {(first >= 0 ? actual[first] : 0)}, expected {(first >= 0 ? expected[first] : 0)}; " +
            $"worst relative error {worst:G3} at [{worstAt}]; rms(expected) {rms:G4}");
    }

    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, double rtol, string what, double atol = 0)
        => AssertClose(actual, ToDouble(expected), rtol, what, atol);

    public static void AssertExactlyEqual<T>(ReadOnlySpan<T> actual, ReadOnlySpan<T> expected, string what) where T : IEquatable<T>
    {
        Assert.True(actual.Length == expected.Length, $"{what}: length {actual.Length} != expected {expected.Length}");
        for (int i = 0; i < actual.Length; i++)
            if (!actual[i].Equals(expected[i]))
                Assert.Fail($"{what}: element [{i}] is {actual[i]}, expected exactly {expected[i]}");
    }

    /// <summary>Builds a per-sample shape array.</summary>
    public static int[] Dims(params int[] d) => d;
}
