using ConvNet.Kernels;
using FsCheck.Xunit;
using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>
/// The SIMD kernels agree with their naive reference twins on random shapes (FsCheck properties) and on
/// deterministic sweeps that hit every Vector&lt;float&gt; tail length. Conv and GEMM run on every kernel backend the CPU has
/// (<see cref="BackendsAttribute"/>; the properties loop over them). Floats: |a − r| ≤ 1e-4·(|r| + rms(r));
/// max-pool values and argmax: exactly equal (ties included).
/// </summary>
public class KernelEquivalenceTests
{
    private const double Rtol = 1e-4;

    /// <summary>Maps FsCheck's raw numbers onto [lo, hi].</summary>
    private static int In(int raw, int lo, int hi) => lo + (int)((uint)raw % (uint)(hi - lo + 1));

    /// <summary><see cref="CompareConv(KernelBackend, int, int, int, int, int, int, int, int, int, Padding, bool, int)"/> on every runnable backend.</summary>
    internal static void CompareConv(int n, int h, int w, int c, int k, int kh, int kw, int sh, int sw, Padding pad, bool bias, int seed)
    {
        foreach (var b in KernelTable.Runnable) CompareConv(b, n, h, w, c, k, kh, kw, sh, sw, pad, bias, seed);
    }

    internal static void CompareConv(KernelBackend backend, int n, int h, int w, int c, int k, int kh, int kw, int sh, int sw, Padding pad, bool bias, int seed)
    {
        var g = ConvGeometry.Create(n, h, w, c, kh, kw, sh, sw, pad, k);
        string label = $"conv [{backend}] {g}";
        var rng = new Rng(seed);
        var x = Uniform(rng, n * h * w * c);
        // some exact zeros in x: ConvBackwardFilter skips x == 0
        for (int i = 0; i < x.Length; i += 7) x[i] = 0f;
        var wt = Uniform(rng, g.WeightSize);
        var b = bias ? Uniform(rng, k) : [];
        var dy = Uniform(rng, n * g.OutImage);

        var y = Uniform(rng, n * g.OutImage); var yr = new float[y.Length];   // y is overwritten, not accumulated
        Conv.ConvForwardOn(backend, g, x, wt, b, y);
        ConvReference.ConvForward(g, x, wt, b, yr);
        AssertClose(y, yr, Rtol, $"{label}: ConvForward");

        var dx0 = Uniform(rng, x.Length);                                       // backward verbs accumulate
        var dx = (float[])dx0.Clone(); var dxr = (float[])dx0.Clone();
        Conv.ConvBackwardDataOn(backend, g, dy, wt, dx);
        ConvReference.ConvBackwardData(g, dy, wt, dxr);
        AssertClose(dx, dxr, Rtol, $"{label}: ConvBackwardData");

        var dw0 = Uniform(rng, wt.Length); var db0 = bias ? Uniform(rng, k) : [];
        var dw = (float[])dw0.Clone(); var dwr = (float[])dw0.Clone();
        var db = (float[])db0.Clone(); var dbr = (float[])db0.Clone();
        Conv.ConvBackwardFilterOn(backend, g, x, dy, dw, db);
        ConvReference.ConvBackwardFilter(g, x, dy, dwr, dbr);
        // dw and db are sums of n·OH·OW terms of magnitude ≤ 1 (plus the accumulated start value), summed in another order than
        // the twin: besides the relative tolerance, allow float rounding of such a sum, which matters when it cancels to near 0.
        double sumAtol = 1e-6 * n * g.OutImage;
        AssertClose(dw, dwr, Rtol, $"{label}: ConvBackwardFilter dw", atol: sumAtol);
        AssertClose(db, dbr, Rtol, $"{label}: ConvBackwardFilter dbias", atol: sumAtol);
    }

    [Property(MaxTest = 250)]
    public void ConvKernelsMatchReference(int rn, int rh, int rw, int rc, int rk, int rkh, int rkw, int rsh, int rsw, bool same, bool bias, int seed)
    {
        int h = In(rh, 1, 12), w = In(rw, 1, 12);
        CompareConv(In(rn, 1, 3), h, w, In(rc, 1, 9), In(rk, 1, 3 * V + 1), In(rkh, 1, h), In(rkw, 1, w), In(rsh, 1, 3), In(rsw, 1, 3),
            same ? Padding.Same : Padding.Valid, bias, seed);
    }

    /// <summary>A case FsCheck found (CI, 2026-11-28): one filter whose bias gradient cancels to 5.7e-4, off by 7.7e-7 from the twin.</summary>
    [Theory, Backends]
    public void ConvBackwardFilterSumThatCancelsNearZero(string backend) =>
        CompareConv(KernelBackendTests.Parse(backend), 3, 4, 4, 4, 1, 3, 2, 1, 1, Padding.Same, bias: true, seed: -1);

    [Theory, Backends]
    public void ConvKernelsEveryFilterTail(string backend)
    {
        // K = 1 … 5V+1 covers the 4-vector block, the 1-vector block and every scalar tail length
        var rng = new Rng(1);
        for (int k = 1; k <= 5 * V + 1; k++)
        {
            int h = 1 + rng.NextInt(7), w = 1 + rng.NextInt(7);
            CompareConv(KernelBackendTests.Parse(backend), 1 + rng.NextInt(3), h, w, 1 + rng.NextInt(5), k, 1 + rng.NextInt(h), 1 + rng.NextInt(w), 1 + rng.NextInt(3), 1 + rng.NextInt(3),
                k % 2 == 0 ? Padding.Same : Padding.Valid, k % 3 != 0, seed: k);
        }
    }

    internal static void ComparePool(int n, int h, int w, int c, int ph, int pw, int sh, int sw, Padding pad, int seed)
    {
        var g = ConvGeometry.Create(n, h, w, c, ph, pw, sh, sw, pad, c);
        string label = $"pool {g}";
        var rng = new Rng(seed);
        // small integers: many ties, which must resolve to the same (first) pixel
        var x = new float[n * h * w * c];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextInt(4) - 1;
        int outLen = n * g.OutImage;

        var y = new float[outLen]; var yr = new float[outLen];
        var a = new int[outLen]; var ar = new int[outLen];
        Pool.MaxPoolForward(g, x, y, a);
        PoolReference.MaxPoolForward(g, x, yr, ar);
        AssertExactlyEqual<float>(y, yr, $"{label}: MaxPoolForward y");
        AssertExactlyEqual<int>(a, ar, $"{label}: MaxPoolForward argmax");

        var dy = Uniform(rng, outLen);
        var dx0 = Uniform(rng, x.Length);
        var dx = (float[])dx0.Clone(); var dxr = (float[])dx0.Clone();
        Pool.MaxPoolBackward(g, dy, a, dx);
        PoolReference.MaxPoolBackward(g, dy, ar, dxr);
        AssertExactlyEqual<float>(dx, dxr, $"{label}: MaxPoolBackward");

        var xf = Uniform(rng, x.Length);
        var ya = Uniform(rng, outLen); var yar = new float[outLen];
        Pool.AvgPoolForward(g, xf, ya);
        PoolReference.AvgPoolForward(g, xf, yar);
        AssertClose(ya, yar, Rtol, $"{label}: AvgPoolForward");
        dx = (float[])dx0.Clone(); dxr = (float[])dx0.Clone();
        Pool.AvgPoolBackward(g, dy, dx);
        PoolReference.AvgPoolBackward(g, dy, dxr);
        AssertClose(dx, dxr, Rtol, $"{label}: AvgPoolBackward");
    }

    [Property(MaxTest = 250)]
    public void PoolKernelsMatchReference(int rn, int rh, int rw, int rc, int rph, int rpw, int rsh, int rsw, bool same, int seed)
    {
        int h = In(rh, 1, 12), w = In(rw, 1, 12);
        ComparePool(In(rn, 1, 3), h, w, In(rc, 1, 3 * V + 1), In(rph, 1, h), In(rpw, 1, w), In(rsh, 1, 3), In(rsw, 1, 3), same ? Padding.Same : Padding.Valid, seed);
    }

    [Fact]
    public void PoolKernelsEveryChannelTail()
    {
        var rng = new Rng(2);
        for (int c = 1; c <= 3 * V + 1; c++)
        {
            int h = 1 + rng.NextInt(9), w = 1 + rng.NextInt(9);
            ComparePool(1 + rng.NextInt(3), h, w, c, 1 + rng.NextInt(h), 1 + rng.NextInt(w), 1 + rng.NextInt(3), 1 + rng.NextInt(3),
                c % 2 == 0 ? Padding.Same : Padding.Valid, seed: c);
        }
    }

    [Fact]
    public void MaxPoolTiesPickTheFirstPixelInRowMajorWindowOrder()
    {
        // 1 image 2×2, C = V+1 so both the vector path and the scalar tail see an all-equal window
        int c = V + 1;
        var g = ConvGeometry.Create(1, 2, 2, c, 2, 2, 2, 2, Padding.Valid, c);
        var x = Enumerable.Repeat(5f, 4 * c).ToArray();
        var y = new float[c]; var a = new int[c];
        Pool.MaxPoolForward(g, x, y, a);
        for (int ch = 0; ch < c; ch++) { Assert.Equal(5f, y[ch]); Assert.Equal(ch, a[ch]); }
        // a later, strictly larger pixel wins; a later equal one does not
        x[3 * c + 1] = 6f; x[1 * c + 2] = 6f; x[3 * c + 2] = 6f;
        Pool.MaxPoolForward(g, x, y, a);
        Assert.Equal(3 * c + 1, a[1]);
        Assert.Equal(1 * c + 2, a[2]);
    }

    [Theory, Backends]
    public void GemmVerbsMatchReferenceForEveryTailLength(string backend)
    {
        var rng = new Rng(3);
        int maxN = 3 * V + 1;
        for (int m = 0; m <= 9; m++)
        for (int n = 0; n <= maxN; n++)
        for (int k = 0; k <= maxN; k += (k < 10 ? 1 : 3))
            CompareGemm(KernelBackendTests.Parse(backend), m, n, k, rng);
    }

    [Property(MaxTest = 200)]
    public void GemmVerbsMatchReferenceOnRandomSizes(int rm, int rn, int rk, int seed)
    {
        foreach (var b in KernelTable.Runnable) CompareGemm(b, In(rm, 0, 40), In(rn, 0, 5 * V + 3), In(rk, 0, 70), new Rng(seed));
    }

    private static void CompareGemm(KernelBackend backend, int m, int n, int k, Rng rng)
    {
        string label = $"[{backend}] m={m} n={n} k={k}";
        var a = Uniform(rng, m * k); var bNN = Uniform(rng, k * n); var bNT = Uniform(rng, n * k);
        var c0 = Uniform(rng, m * n);                 // every verb accumulates into C

        var c = (float[])c0.Clone(); var cr = (float[])c0.Clone();
        Gemm.GemmNNOn(backend, m, n, k, a, bNN, c); GemmReference.GemmNN(m, n, k, a, bNN, cr);
        AssertClose(c, cr, Rtol, $"GemmNN {label}");

        c = (float[])c0.Clone(); cr = (float[])c0.Clone();
        Gemm.GemmNTOn(backend, m, n, k, a, bNT, c); GemmReference.GemmNT(m, n, k, a, bNT, cr);
        AssertClose(c, cr, Rtol, $"GemmNT {label}");

        var aT = Uniform(rng, k * m);                 // A stored K×M
        c = (float[])c0.Clone(); cr = (float[])c0.Clone();
        Gemm.GemmTNOn(backend, m, n, k, aT, bNN, c, 0); GemmReference.GemmTN(m, n, k, aT, bNN, cr);
        AssertClose(c, cr, Rtol, $"GemmTN {label}");

        // lda > m: A's rows are wider than the m columns used (Dense splits dW by rows this way)
        int lda = m + 3;
        var aWide = Uniform(rng, k * lda);
        c = (float[])c0.Clone(); cr = (float[])c0.Clone();
        Gemm.GemmTNOn(backend, m, n, k, aWide, bNN, c, lda); GemmReference.GemmTN(m, n, k, aWide, bNN, cr, lda);
        AssertClose(c, cr, Rtol, $"GemmTN lda={lda} {label}");
    }

    [Fact]
    public void ActivationKernelsMatchReferenceForEveryLength()
    {
        var rng = new Rng(4);
        for (int len = 0; len <= 3 * V + 1; len++)
        {
            var x = Uniform(rng, len, -3f, 3f);
            if (len > 0) x[0] = 0f;                       // ReLU at exactly 0: y = 0, derivative 0
            var dy = Uniform(rng, len);
            var d0 = Uniform(rng, len);

            var y = new float[len]; var yr = new float[len];
            Activations.ReluForward(x, y); ActivationsReference.ReluForward(x, yr);
            AssertExactlyEqual<float>(y, yr, $"ReluForward len {len}");
            var dx = (float[])d0.Clone(); var dxr = (float[])d0.Clone();
            Activations.ReluBackward(yr, dy, dx); ActivationsReference.ReluBackward(yr, dy, dxr);
            AssertExactlyEqual<float>(dx, dxr, $"ReluBackward len {len}");

            Activations.TanhForward(x, y); ActivationsReference.TanhForward(x, yr);
            AssertClose(y, yr, 1e-5, $"TanhForward len {len}");
            dx = (float[])d0.Clone(); dxr = (float[])d0.Clone();
            Activations.TanhBackward(yr, dy, dx); ActivationsReference.TanhBackward(yr, dy, dxr);
            AssertClose(dx, dxr, 1e-5, $"TanhBackward len {len}");

            // in place (the layers run activations in place)
            var inPlace = (float[])x.Clone();
            Activations.ReluForward(inPlace, inPlace);
            ActivationsReference.ReluForward(x, yr);
            AssertExactlyEqual<float>(inPlace, yr, $"ReluForward in place len {len}");

            if (len == 0) continue;
            for (int rows = 0; rows <= 3; rows++)
            {
                var sx = Uniform(rng, rows * len, -4f, 4f);
                var sy = new float[rows * len]; var syr = new float[rows * len];
                Activations.SoftmaxForward(rows, len, sx, sy); ActivationsReference.SoftmaxForward(rows, len, sx, syr);
                AssertClose(sy, syr, 1e-5, $"SoftmaxForward {rows}x{len}");
                var sdy = Uniform(rng, rows * len); var sd0 = Uniform(rng, rows * len);
                var sdx = (float[])sd0.Clone(); var sdxr = (float[])sd0.Clone();
                Activations.SoftmaxBackward(rows, len, syr, sdy, sdx); ActivationsReference.SoftmaxBackward(rows, len, syr, sdy, sdxr);
                AssertClose(sdx, sdxr, 1e-5, $"SoftmaxBackward {rows}x{len}");
            }
        }
    }

    [Fact]
    public void SoftmaxCrossEntropyMatchesReference()
    {
        var rng = new Rng(5);
        for (int classes = 1; classes <= 3 * V + 1; classes++)
        for (int rows = 0; rows <= 4; rows++)
        {
            string label = $"{rows}x{classes}";
            var logits = Uniform(rng, rows * classes, -6f, 6f);
            var labels = Enumerable.Range(0, rows).Select(_ => rng.NextInt(classes)).ToArray();
            float scale = rng.Uniform(0.1f, 2f);
            var p = new float[rows * classes]; var pr = new float[rows * classes];
            var d0 = Uniform(rng, rows * classes);
            var d = (float[])d0.Clone(); var dr = (float[])d0.Clone();
            double loss = SoftmaxCrossEntropy.SoftmaxCrossEntropyForwardBackward(rows, classes, logits, labels, p, d, scale);
            double lossR = SoftmaxCrossEntropyReference.SoftmaxCrossEntropyForwardBackward(rows, classes, logits, labels, pr, dr, scale);
            Assert.True(Math.Abs(loss - lossR) <= 1e-5 * (1 + Math.Abs(lossR)), $"{label}: loss {loss} vs reference {lossR}");
            AssertClose(p, pr, 1e-5, $"{label}: probs");
            AssertClose(d, dr, 1e-5, $"{label}: dlogits");
            // empty dlogits: loss only, nothing written
            double lossOnly = SoftmaxCrossEntropy.SoftmaxCrossEntropyForwardBackward(rows, classes, logits, labels, p, [], scale);
            Assert.Equal(loss, lossOnly);
        }
    }
}
