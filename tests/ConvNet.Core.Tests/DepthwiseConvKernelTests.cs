using ConvNet.Kernels;
using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>
/// The depthwise kernels (<see cref="DepthwiseConv"/>) against their naive twins, each instruction-set instantiation called
/// explicitly (portable Vector&lt;T&gt;, AVX2+FMA and AVX-512F where the CPU has them): every channel tail (C = 1 … 4W+1 for multiplier 1,
/// C = 1 … 2W+1 for multipliers 2 and 3 with W = 16, the widest vector, which covers the 4-vector block, the 1-vector block and every
/// scalar tail of K = C·M for every width), widths up to 13 (the 4-pixel interior tiles and their edges), strides 1 and 2, Valid and Same, random kernel sizes. |a − r| ≤ 1e-4·(|r| + rms(r)); backward verbs start from
/// non-zero buffers (they add).
/// </summary>
public class DepthwiseConvKernelTests
{
    /// <summary>Every instruction-set instantiation this CPU can run (portable always; AVX2 and AVX-512 where supported).</summary>
    internal static readonly KernelBackend[] Isas = Enum.GetValues<KernelBackend>().Where(DepthwiseConv.IsSupported).ToArray();

    internal static void Compare(int n, int h, int w, int c, int m, int kh, int kw, int sh, int sw, Padding pad, bool bias, int seed)
    {
        foreach (var isa in Isas) Compare(isa, n, h, w, c, m, kh, kw, sh, sw, pad, bias, seed);
    }

    internal static void Compare(KernelBackend isa, int n, int h, int w, int c, int m, int kh, int kw, int sh, int sw, Padding pad, bool bias, int seed)
    {
        var g = ConvGeometry.Create(n, h, w, c, kh, kw, sh, sw, pad, c * m);
        string label = $"depthwise [{isa}] {g} M={m}";
        var rng = new Rng(seed);
        var x = Uniform(rng, n * g.InImage);
        var wt = Uniform(rng, kh * kw * g.K);
        var b = bias ? Uniform(rng, g.K) : [];
        var dy = Uniform(rng, n * g.OutImage);

        var y = Uniform(rng, n * g.OutImage); var yr = new float[y.Length];
        DepthwiseConv.DepthwiseConvForward(isa, g, x, wt, b, y);
        DepthwiseConvReference.DepthwiseConvForward(g, x, wt, b, yr);
        AssertClose(y, yr, 1e-4, $"{label}: forward");

        var dx0 = Uniform(rng, x.Length);
        var dx = (float[])dx0.Clone(); var dxr = (float[])dx0.Clone();
        DepthwiseConv.DepthwiseConvBackwardData(isa, g, dy, wt, dx);
        DepthwiseConvReference.DepthwiseConvBackwardData(g, dy, wt, dxr);
        AssertClose(dx, dxr, 1e-4, $"{label}: backward-data");

        var dw0 = Uniform(rng, wt.Length); var db0 = bias ? Uniform(rng, g.K) : [];
        var dw = (float[])dw0.Clone(); var dwr = (float[])dw0.Clone();
        var db = (float[])db0.Clone(); var dbr = (float[])db0.Clone();
        DepthwiseConv.DepthwiseConvBackwardFilter(isa, g, x, dy, dw, db);
        DepthwiseConvReference.DepthwiseConvBackwardFilter(g, x, dy, dwr, dbr);
        AssertClose(dw, dwr, 1e-4, $"{label}: backward-filter dw");
        AssertClose(db, dbr, 1e-4, $"{label}: backward-filter dbias");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void EveryChannelTailStridesPaddingsMultiplier(int m)
    {
        var rng = new Rng(100 + m);
        int maxC = m == 1 ? 4 * 16 + 1 : 2 * 16 + 1;
        for (int c = 1; c <= maxC; c++)
        foreach (int s in new[] { 1, 2 })
        foreach (var pad in new[] { Padding.Valid, Padding.Same })
        {
            int h = 2 + rng.NextInt(6), w = 2 + rng.NextInt(12);
            int kh = 1 + rng.NextInt(Math.Min(h, 4)), kw = 1 + rng.NextInt(Math.Min(w, 4));
            Compare(1 + rng.NextInt(2), h, w, c, m, kh, kw, s, s, pad, rng.NextInt(3) != 0, seed: c * 10 + s + (int)pad * 5);
        }
    }

    /// <summary>The unrolled 3-tap paths (stride-1 tiles, strided tiles, leftover interior pixels) on every row width from 1 to 14,
    /// with K = 27 and 35 (a 16-lane block, an 8-lane block and a scalar tail).</summary>
    [Fact]
    public void ThreeByThreeRowsOfEveryWidth()
    {
        for (int w = 1; w <= 14; w++)
        foreach (int s in new[] { 1, 2 })
        foreach (var pad in new[] { Padding.Valid, Padding.Same })
        {
            if (pad == Padding.Valid && w < 3) continue;
            Compare(2, 5, w, 27, 1, 3, 3, s, s, pad, bias: w % 2 == 0, seed: w * 4 + s + (int)pad);
            Compare(1, 4, w, 7, 5, 3, 3, s, 1, pad, bias: true, seed: 100 + w);
        }
    }

    [Fact]
    public void RandomShapesIncludingAsymmetricStrides()
    {
        var rng = new Rng(7);
        for (int t = 0; t < 150; t++)
        {
            int h = 1 + rng.NextInt(10), w = 1 + rng.NextInt(10);
            Compare(1 + rng.NextInt(3), h, w, 1 + rng.NextInt(2 * 16 + 2), 1 + rng.NextInt(3), 1 + rng.NextInt(Math.Min(h, 5)), 1 + rng.NextInt(Math.Min(w, 5)),
                1 + rng.NextInt(3), 1 + rng.NextInt(3), rng.NextInt(2) == 0 ? Padding.Valid : Padding.Same, rng.NextInt(2) == 0, seed: t);
        }
    }

    [Fact]
    public void TheDispatcherPicksTheWidestSupportedPath()
    {
        Assert.Contains(KernelBackend.Portable, Isas);
        Assert.Equal(Isas.Max(), DepthwiseConv.Best);
    }

    [Fact]
    public void BadGeometryIsRejected()
    {
        var g = ConvGeometry.Create(1, 4, 4, 3, 3, 3, 1, 1, Padding.Same, 4);   // K not a multiple of C
        var e = Assert.Throws<ArgumentException>(() => DepthwiseConv.DepthwiseConvForward(g, new float[48], new float[36], [], new float[64]));
        Assert.Contains("depth multiplier", e.Message);
        var ok = ConvGeometry.Create(1, 4, 4, 3, 3, 3, 1, 1, Padding.Same, 6);
        Assert.Throws<ArgumentException>(() => DepthwiseConv.DepthwiseConvForward(ok, new float[48], new float[53], [], new float[96]));
    }
}
