using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>Gradient checks of DepthwiseConv2D and SeparableConv2D (dx and every weight, every batch item; GradientChecker
/// tolerances) against double references written from Keras' definitions, plus shapes and Keras weight names.</summary>
public class DepthwiseLayerGradientTests
{
    internal static double[] Depthwise(double[] x, int n, int h, int w, int c, double[] kernel, double[]? bias, int kh, int kw, int sh, int sw, Padding pad, int m)
    {
        var (oh, pt) = DoubleReference.Axis(h, kh, sh, pad);
        var (ow, pl) = DoubleReference.Axis(w, kw, sw, pad);
        var y = new double[n * oh * ow * c * m];
        for (int b = 0; b < n; b++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        for (int ch = 0; ch < c; ch++)
        for (int f = 0; f < m; f++)
        {
            double s = bias?[ch * m + f] ?? 0;
            for (int u = 0; u < kh; u++)
            for (int v = 0; v < kw; v++)
            {
                int r = i * sh - pt + u, q = j * sw - pl + v;
                if (r < 0 || r >= h || q < 0 || q >= w) continue;
                s += x[((b * h + r) * w + q) * c + ch] * kernel[((u * kw + v) * c + ch) * m + f];
            }
            y[((b * oh + i) * ow + j) * c * m + ch * m + f] = s;
        }
        return y;
    }

    [Theory]
    [InlineData(2, 5, 6, 3, 1, 3, 3, 1, 1, Padding.Valid, Activation.None, true)]
    [InlineData(2, 6, 5, 2, 2, 3, 3, 1, 1, Padding.Same, Activation.Tanh, true)]
    [InlineData(3, 7, 7, 3, 3, 3, 3, 2, 2, Padding.Same, Activation.None, false)]
    [InlineData(2, 7, 8, 2, 1, 2, 3, 2, 1, Padding.Valid, Activation.Gelu, true)]
    [InlineData(2, 4, 5, -1, 1, 3, 3, 1, 1, Padding.Same, Activation.Silu, true)]   // C = V+3: vector + tail channels
    [InlineData(2, 5, 5, -2, 2, 3, 3, 2, 2, Padding.Same, Activation.None, true)]   // K = 2(V+3)
    public void DepthwiseConv2DGradients(int n, int h, int w, int c, int m, int kh, int kw, int sh, int sw, Padding pad, Activation act, bool bias)
    {
        if (c < 0) c = V + 3;
        var rng = new Rng(n * 1000 + h * 100 + c * 10 + m);
        var layer = new DepthwiseConv2D((kh, kw), (sh, sw), pad, m, act, bias, name: "dw") { Threads = n };
        layer.Build([h, w, c]);
        Uniform(rng, layer.DepthwiseKernel!.Value.Length).CopyTo(layer.DepthwiseKernel.Value.Span);
        if (bias) Uniform(rng, c * m, -0.5f, 0.5f).CopyTo(layer.Bias!.Value.Span);
        GradientChecker.Check(layer, RandomTensor(rng, n, h, w, c),
            (xd, p) => DoubleReference.Apply(act, Depthwise(xd, n, h, w, c, p[0], bias ? p[1] : null, kh, kw, sh, sw, pad, m), c * m), rng,
            $"DepthwiseConv2D(n={n}, in={h}x{w}x{c}, M={m}, kernel={kh}x{kw}, strides={sh}x{sw}, {pad}, {act}, bias={bias})");
    }

    [Theory]
    [InlineData(2, 5, 6, 3, 4, 1, 3, 1, Padding.Valid, Activation.None, true)]
    [InlineData(3, 6, 6, 2, 5, 2, 3, 2, Padding.Same, Activation.Tanh, true)]
    [InlineData(2, 7, 5, 3, -1, 3, 3, 1, Padding.Same, Activation.Gelu, false)]
    [InlineData(2, 5, 5, -1, 3, 1, 2, 2, Padding.Valid, Activation.Elu, true)]
    public void SeparableConv2DGradients(int n, int h, int w, int c, int filters, int m, int k, int s, Padding pad, Activation act, bool bias)
    {
        if (c < 0) c = V + 1;
        if (filters < 0) filters = V + 2;
        var rng = new Rng(n * 1000 + h * 100 + c * 10 + m + filters);
        var layer = new SeparableConv2D(filters, k, s, pad, m, act, bias, name: "sep") { Threads = n };
        layer.Build([h, w, c]);
        Uniform(rng, layer.DepthwiseKernel!.Value.Length).CopyTo(layer.DepthwiseKernel.Value.Span);
        Uniform(rng, layer.PointwiseKernel!.Value.Length).CopyTo(layer.PointwiseKernel.Value.Span);
        if (bias) Uniform(rng, filters, -0.5f, 0.5f).CopyTo(layer.Bias!.Value.Span);
        var (oh, _) = DoubleReference.Axis(h, k, s, pad);
        var (ow, _) = DoubleReference.Axis(w, k, s, pad);
        GradientChecker.Check(layer, RandomTensor(rng, n, h, w, c), (xd, p) =>
        {
            var t = Depthwise(xd, n, h, w, c, p[0], null, k, k, s, s, pad, m);
            return DoubleReference.Conv2D(t, n, oh, ow, c * m, p[1], bias ? p[2] : null, 1, 1, 1, 1, Padding.Valid, filters, act);
        }, rng, $"SeparableConv2D(n={n}, in={h}x{w}x{c}, filters={filters}, M={m}, kernel={k}, strides={s}, {pad}, {act}, bias={bias})");
    }

    [Fact]
    public void WeightsHaveKerasNamesAndShapes()
    {
        var dw = new DepthwiseConv2D(3, depthMultiplier: 2);
        dw.Build([8, 8, 5]);
        Assert.Equal([8 - 2, 8 - 2, 10], dw.OutputShape!);
        Assert.Equal(["depthwise_kernel", "bias"], dw.Parameters.Select(p => p.Name));
        Assert.Equal([3, 3, 5, 2], dw.DepthwiseKernel!.Value.Shape.ToArray());
        Assert.Equal(3 * 3 * 5 * 2 + 10, dw.ParamCount);
        var sep = new SeparableConv2D(7, 3, strides: 2, padding: Padding.Same, depthMultiplier: 3);
        sep.Build([9, 10, 4]);
        Assert.Equal([5, 5, 7], sep.OutputShape!);
        Assert.Equal(["depthwise_kernel", "pointwise_kernel", "bias"], sep.Parameters.Select(p => p.Name));
        Assert.Equal([1, 1, 12, 7], sep.PointwiseKernel!.Value.Shape.ToArray());
        Assert.Equal(3 * 3 * 4 * 3 + 12 * 7 + 7, sep.ParamCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DepthwiseConv2D(3, depthMultiplier: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SeparableConv2D(0, 3));
        var e = Assert.Throws<LayerShapeException>(() => new DepthwiseConv2D(5, name: "dwc").Build([3, 3, 2]));
        Assert.Contains("dwc", e.Message);
    }
}
