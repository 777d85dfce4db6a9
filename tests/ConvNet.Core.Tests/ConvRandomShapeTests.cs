using ConvNet.Kernels;
using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>
/// Every kernel backend the CPU runs (portable Vector&lt;T&gt; included, so it stays covered on AVX machines; CI also runs
/// the kernel tests with DOTNET_EnableAVX2=0) against the reference twins on random shapes and every filter tail.
/// </summary>
public class ConvRandomShapeTests
{
    [Theory, Backends]
    public void KernelsMatchTheReferenceOverRandomShapesAndEveryFilterTail(string backend)
    {
        var kb = KernelBackendTests.Parse(backend);
        var rng = new Rng(11);
        int maxK = 3 * 16 + 1;   // the widest vector: every tail of every backend
        for (int trial = 0; trial < 300; trial++)
        {
            int n = 1 + rng.NextInt(3), h = 1 + rng.NextInt(9), w = 1 + rng.NextInt(9), c = 1 + rng.NextInt(9);
            int k = trial < maxK ? trial + 1 : 1 + rng.NextInt(maxK);
            int kh = 1 + rng.NextInt(Math.Min(h, 4)), kw = 1 + rng.NextInt(Math.Min(w, 4));
            int sh = 1 + rng.NextInt(3), sw = 1 + rng.NextInt(3);
            var pad = rng.NextInt(2) == 0 ? Padding.Valid : Padding.Same;
            var g = ConvGeometry.Create(n, h, w, c, kh, kw, sh, sw, pad, k);
            var x = Random(rng, n * g.InImage); var wt = Random(rng, g.WeightSize); var b = Random(rng, k);
            var dy = Random(rng, n * g.OutImage);
            string what = $"[{backend}] trial {trial}: {g}";

            var y1 = new float[n * g.OutImage]; var y2 = new float[n * g.OutImage];
            Conv.ConvForwardOn(kb, g, x, wt, b, y1);
            ConvReference.ConvForward(g, x, wt, b, y2);
            AssertClose(y2, y1, what + " forward");

            var dx1 = Random(new Rng(trial), n * g.InImage); var dx2 = (float[])dx1.Clone();   // non-zero: backward adds
            Conv.ConvBackwardDataOn(kb, g, dy, wt, dx1);
            ConvReference.ConvBackwardData(g, dy, wt, dx2);
            AssertClose(dx2, dx1, what + " backward-data");

            var dw1 = Random(new Rng(trial + 1), g.WeightSize); var dw2 = (float[])dw1.Clone();
            var db1 = Random(new Rng(trial + 2), k); var db2 = (float[])db1.Clone();
            Conv.ConvBackwardFilterOn(kb, g, x, dy, dw1, db1);
            ConvReference.ConvBackwardFilter(g, x, dy, dw2, db2);
            AssertClose(dw2, dw1, what + " backward-filter");
            AssertClose(db2, db1, what + " bias gradient");
        }
    }

    private static float[] Random(Rng rng, int count)
    {
        var a = new float[count];
        for (int i = 0; i < a.Length; i++) a[i] = rng.Uniform(-1, 1);
        return a;
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (Math.Abs(expected[i] - actual[i]) > 1e-4f * (1 + Math.Abs(expected[i])))
                Assert.Fail($"{what}: element {i} is {actual[i]}, reference {expected[i]}.");
    }
}
