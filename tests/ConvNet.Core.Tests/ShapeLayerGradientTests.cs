using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>Gradient checks (GradientChecker tolerances) and shapes of ZeroPadding2D, Cropping2D and GlobalMaxPooling2D.</summary>
public class ShapeLayerGradientTests
{
    private static double[] Pad(double[] x, int n, int h, int w, int c, int t, int b, int l, int r)
    {
        int oh = h + t + b, ow = w + l + r;
        var y = new double[n * oh * ow * c];
        for (int i = 0; i < n; i++) for (int p = 0; p < h; p++) for (int q = 0; q < w; q++) for (int k = 0; k < c; k++)
            y[((i * oh + p + t) * ow + q + l) * c + k] = x[((i * h + p) * w + q) * c + k];
        return y;
    }

    private static double[] Crop(double[] x, int n, int h, int w, int c, int t, int b, int l, int r)
    {
        int oh = h - t - b, ow = w - l - r;
        var y = new double[n * oh * ow * c];
        for (int i = 0; i < n; i++) for (int p = 0; p < oh; p++) for (int q = 0; q < ow; q++) for (int k = 0; k < c; k++)
            y[((i * oh + p) * ow + q) * c + k] = x[((i * h + p + t) * w + q + l) * c + k];
        return y;
    }

    [Theory]
    [InlineData(2, 3, 4, 2, 1, 1, 1, 1)]
    [InlineData(3, 2, 5, 3, 0, 2, 3, 1)]
    [InlineData(2, 4, 3, 1, 2, 0, 0, 0)]
    public void ZeroPaddingAndCroppingGradients(int n, int h, int w, int c, int t, int b, int l, int r)
    {
        var rng = new Rng(n * 1000 + h * 100 + w * 10 + t);
        var pad = new ZeroPadding2D(((t, b), (l, r)), name: "pad");
        var x = RandomTensor(rng, n, h, w, c);
        GradientChecker.Check(pad, x, (xd, _) => Pad(xd, n, h, w, c, t, b, l, r), rng, $"ZeroPadding2D(({t},{b}),({l},{r}))");
        Assert.Equal([h + t + b, w + l + r, c], pad.OutputShape!);
        int bh = h + t + b, bw = w + l + r;
        var crop = new Cropping2D(((t, b), (l, r)), name: "crop");
        GradientChecker.Check(crop, RandomTensor(rng, n, bh, bw, c), (xd, _) => Crop(xd, n, bh, bw, c, t, b, l, r), rng, $"Cropping2D(({t},{b}),({l},{r}))");
        Assert.Equal([h, w, c], crop.OutputShape!);
    }

    [Fact]
    public void PaddingArgumentFormsFollowKeras()
    {
        Assert.Equal(((1, 1), (1, 1)), new ZeroPadding2D().Padding);
        Assert.Equal(((2, 2), (3, 3)), new ZeroPadding2D((2, 3)).Padding);
        Assert.Equal(((1, 2), (3, 4)), new ZeroPadding2D(((1, 2), (3, 4))).Padding);
        Assert.Equal(((2, 2), (3, 3)), new Cropping2D((2, 3)).Cropping);
        var p = new ZeroPadding2D(((1, 2), (3, 4)));
        p.Build([5, 6, 2]);
        Assert.Equal([8, 13, 2], p.OutputShape!);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ZeroPadding2D(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Cropping2D(((0, -1), (0, 0))));
        var e = Assert.Throws<LayerShapeException>(() => new Cropping2D(3, name: "crop").Build([6, 9, 1]));
        Assert.Contains("crop", e.Message);
        Assert.Throws<LayerShapeException>(() => new ZeroPadding2D(name: "zp").Build([4, 4]));
    }

    [Fact]
    public void PaddingBorderStaysZeroAcrossCalls()
    {
        var rng = new Rng(1);
        var pad = new ZeroPadding2D(1);
        var y = pad.Forward(RandomTensor(rng, 1, 2, 2, 1));
        y.Span.Fill(5f);   // a caller scribbles on the returned buffer
        var y2 = pad.Forward(RandomTensor(rng, 1, 2, 2, 1)).ToArray();
        Assert.Equal(0f, y2[0]);
        Assert.Equal(0f, y2[^1]);
    }
}

/// <summary>GlobalMaxPooling2D: gradient check on distinct values 1e-2 apart (GradientChecker tolerances, float step 1e-3) and its
/// kernel against the twin (values and argmax exactly, ties included).</summary>
public class GlobalMaxPoolingTests
{
    private static double[] Reference(double[] x, int n, int hw, int c)
    {
        var y = new double[n * c];
        for (int i = 0; i < n; i++) for (int k = 0; k < c; k++)
        {
            double m = double.NegativeInfinity;
            for (int p = 0; p < hw; p++) m = Math.Max(m, x[(i * hw + p) * c + k]);
            y[i * c + k] = m;
        }
        return y;
    }

    [Theory]
    [InlineData(3, 4, 5, 3)]
    [InlineData(2, 3, 2, -1)]
    [InlineData(2, 1, 1, 2)]
    public void Gradients(int n, int h, int w, int c)
    {
        if (c < 0) c = 2 * V + 3;
        var rng = new Rng(n * 100 + h * 10 + w + c);
        var x = new Tensor(n, h, w, c);
        DistinctShuffled(rng, x.Length, 1e-2f).CopyTo(x.Span);
        GradientChecker.Check(new GlobalMaxPooling2D("gmp") { Threads = 2 }, x, (xd, _) => Reference(xd, n, h * w, c), rng, $"GlobalMaxPooling2D({n},{h},{w},{c})",
            floatStep: GradientChecker.FloatStepNearKinks);
    }

    [Fact]
    public void KernelMatchesTwinWithTies()
    {
        var rng = new Rng(2);
        for (int c = 1; c <= 3 * V + 1; c++)
        {
            int n = 2, hw = 1 + rng.NextInt(7);
            var x = new float[n * hw * c];
            for (int i = 0; i < x.Length; i++) x[i] = rng.NextInt(3);   // many ties
            var y1 = new float[n * c]; var y2 = new float[n * c]; var a1 = new int[n * c]; var a2 = new int[n * c];
            Kernels.GlobalPool.GlobalMaxPoolForward(n, hw, c, x, y1, a1);
            Kernels.GlobalPoolReference.GlobalMaxPoolForward(n, hw, c, x, y2, a2);
            AssertExactlyEqual<float>(y1, y2, $"C={c} max");
            AssertExactlyEqual<int>(a1, a2, $"C={c} argmax");
            var dy = Uniform(rng, n * c); var d1 = new float[x.Length]; var d2 = new float[x.Length];
            Kernels.GlobalPool.GlobalMaxPoolBackward(n, hw, c, dy, a1, d1);
            Kernels.GlobalPoolReference.GlobalMaxPoolBackward(n, hw, c, dy, a2, d2);
            AssertExactlyEqual<float>(d1, d2, $"C={c} backward");
        }
    }
}
