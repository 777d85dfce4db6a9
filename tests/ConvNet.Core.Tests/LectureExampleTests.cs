using ConvNet.Kernels;
using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>The lecture's worked examples, computed by the library.</summary>
public class LectureExampleTests
{
    [Fact]
    public void YellowDetector()
    {
        // A 1×1 conv with weights (R, G, B) = (1, 1, −1) and bias 0 lights up on yellow (255, 255, 0).
        var conv = new Conv2D(1, 1, name: "yellow");
        conv.Build([2, 3, 3]);
        Assert.Equal([1, 1, 3, 1], conv.Kernel!.Value.Shape.ToArray());
        new float[] { 1, 1, -1 }.CopyTo(conv.Kernel.Value.Span);
        conv.Bias!.Value.Span.Clear();
        float[] pixels =
        [
            255, 255, 0,     255, 0, 0,     0, 255, 0,        // yellow, red, green
            0, 0, 255,       255, 255, 255, 0, 0, 0,          // blue, white, black
        ];
        var y = conv.Forward(new Tensor(pixels, 1, 2, 3, 3));
        Assert.Equal([1, 2, 3, 1], y.Shape.ToArray());
        Assert.Equal([510f, 255f, 255f, -255f, 255f, 0f], y.ToArray());
        Assert.Equal(0, Array.IndexOf(y.ToArray(), y.ToArray().Max()));   // yellow is the strongest response
        // with ReLU the blue pixel is cut to 0
        var relu = new Conv2D(1, 1, activation: Activation.Relu);
        relu.Build([2, 3, 3]);
        new float[] { 1, 1, -1 }.CopyTo(relu.Kernel!.Value.Span);
        Assert.Equal([510f, 255f, 255f, 0f, 255f, 0f], relu.Forward(new Tensor(pixels, 1, 2, 3, 3)).ToArray());
    }

    [Fact]
    public void SameConvThenMaxPool()
    {
        var x = TestUtil.RandomTensor(new Rng(1), 1, 6, 6, 1);
        var conv = new Conv2D(3, 3, padding: Padding.Same);
        var pool = new MaxPooling2D(2);
        var y = conv.Forward(x);
        Assert.Equal([1, 6, 6, 3], y.Shape.ToArray());
        var p = pool.Forward(y);
        Assert.Equal([1, 3, 3, 3], p.Shape.ToArray());
        Assert.Equal(3 * 3 * 1 * 3 + 3, conv.ParamCount);
        // each pooled value is the max of its 2×2 block
        for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
        for (int c = 0; c < 3; c++)
            Assert.Equal(new[] { y[0, 2 * i, 2 * j, c], y[0, 2 * i, 2 * j + 1, c], y[0, 2 * i + 1, 2 * j, c], y[0, 2 * i + 1, 2 * j + 1, c] }.Max(), p[0, i, j, c]);
    }

    [Fact]
    public void AsymmetricStrides()
    {
        // strides 2 vertical, 3 horizontal on 7×10, Valid 3×3: rows (7−3)/2+1 = 3, columns (10−3)/3+1 = 3
        var conv = new Conv2D(2, (3, 3), (2, 3));
        Assert.Equal([3, 3, 2], conv.ComputeOutputShape([7, 10, 1]));
        var y = conv.Forward(TestUtil.RandomTensor(new Rng(2), 2, 7, 10, 1));
        Assert.Equal([2, 3, 3, 2], y.Shape.ToArray());
        Assert.Equal([4, 4, 2], new Conv2D(2, (3, 3), (2, 3), Padding.Same).ComputeOutputShape([7, 10, 1]));
    }

    [Fact]
    public void OneByOneConvFrom300To175Channels()
    {
        var conv = new Conv2D(175, 1);
        conv.Build([4, 4, 300]);
        Assert.Equal(52_675, conv.ParamCount);          // 300·175 weights + 175 biases
        Assert.Equal([4, 4, 175], conv.OutputShape);
    }

    [Fact]
    public void StrideEqualsKernelTouchesEachPixelOnce()
    {
        // 3×3 stride 3 on 6×6: the four windows tile the image, so with all-ones weights and dy every dx is the same
        const int filters = 2;
        var conv = new Conv2D(filters, 3, strides: 3, name: "tile");
        conv.Build([6, 6, 1]);
        conv.Kernel!.Value.Span.Fill(1f);
        var y = conv.Forward(TestUtil.RandomTensor(new Rng(3), 1, 6, 6, 1), training: true);
        Assert.Equal([1, 2, 2, filters], y.Shape.ToArray());
        var dy = new Tensor(y.Shape); dy.Span.Fill(1f);
        var dx = conv.Backward(dy);
        Assert.All(dx.ToArray(), v => Assert.Equal(filters, v));

        // the same through the kernel directly
        var g = ConvGeometry.Create(1, 6, 6, 1, 3, 3, 3, 3, Padding.Valid, 1);
        var dxk = new float[36];
        Conv.ConvBackwardData(g, Enumerable.Repeat(1f, g.OutImage).ToArray(), Enumerable.Repeat(1f, 9).ToArray(), dxk);
        Assert.All(dxk, v => Assert.Equal(1f, v));
        // contrast: stride 2 (overlapping windows) touches some pixels more than once
        var g2 = ConvGeometry.Create(1, 6, 6, 1, 3, 3, 2, 2, Padding.Valid, 1);
        var dx2 = new float[36];
        Conv.ConvBackwardData(g2, Enumerable.Repeat(1f, g2.OutImage).ToArray(), Enumerable.Repeat(1f, 9).ToArray(), dx2);
        Assert.Equal(4f, dx2.Max());
    }
}
