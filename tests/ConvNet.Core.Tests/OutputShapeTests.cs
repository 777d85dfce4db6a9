using ConvNet.Kernels;
using FsCheck.Xunit;
using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>ConvGeometry.Axis and the layers' ComputeOutputShape follow TF/Keras' Valid/Same arithmetic.</summary>
public class OutputShapeTests
{
    [Fact]
    public void AxisMatchesTheFormulasExhaustively()
    {
        for (int input = 1; input <= 40; input++)
        for (int kernel = 1; kernel <= 11; kernel++)
        for (int stride = 1; stride <= 5; stride++)
        {
            // Valid: floor((in − k)/s) + 1 (no output when the kernel does not fit), no padding
            var (vo, vp) = ConvGeometry.Axis(input, kernel, stride, Padding.Valid);
            int expectValid = input < kernel ? 0 : (int)Math.Floor((input - kernel) / (double)stride) + 1;
            Assert.Equal((expectValid, 0), (vo, vp));

            // Same: ceil(in/s), padTotal = max((out − 1)·s + k − in, 0), padBefore = floor(padTotal/2)
            var (so, sp) = ConvGeometry.Axis(input, kernel, stride, Padding.Same);
            int expectOut = (int)Math.Ceiling(input / (double)stride);
            int padTotal = Math.Max((expectOut - 1) * stride + kernel - input, 0);
            Assert.Equal((expectOut, (int)Math.Floor(padTotal / 2.0)), (so, sp));
            Assert.Equal(DoubleReference.Axis(input, kernel, stride, Padding.Same), (so, sp));
        }
    }

    [Theory]
    // worked cases (TF): the extra padding pixel goes after
    [InlineData(5, 3, 2, 3, 1)]   // out 3, total 2 → 1 before, 1 after
    [InlineData(6, 3, 2, 3, 0)]   // out 3, total 1 → 0 before, 1 after
    [InlineData(7, 3, 3, 3, 1)]   // out 3, total 2
    [InlineData(6, 2, 1, 6, 0)]   // even kernel: total 1 → 0 before
    [InlineData(6, 4, 1, 6, 1)]   // total 3 → 1 before, 2 after
    [InlineData(5, 1, 3, 2, 0)]   // 1×1 stride 3: no padding
    public void SamePaddingExamples(int input, int kernel, int stride, int expectOut, int expectPadBefore)
        => Assert.Equal((expectOut, expectPadBefore), ConvGeometry.Axis(input, kernel, stride, Padding.Same));

    [Property(MaxTest = 300)]
    public void LayerOutputShapesAgreeWithAxis(int rh, int rw, int rc, int rk, int rkh, int rkw, int rsh, int rsw, bool same)
    {
        static int In(int raw, int lo, int hi) => lo + (int)((uint)raw % (uint)(hi - lo + 1));
        int h = In(rh, 1, 30), w = In(rw, 1, 30), c = In(rc, 1, 8), f = In(rk, 1, 20);
        int kh = In(rkh, 1, 9), kw = In(rkw, 1, 9), sh = In(rsh, 1, 4), sw = In(rsw, 1, 4);
        var pad = same ? Padding.Same : Padding.Valid;
        var (oh, _) = ConvGeometry.Axis(h, kh, sh, pad);
        var (ow, _) = ConvGeometry.Axis(w, kw, sw, pad);
        var conv = new Conv2D(f, (kh, kw), (sh, sw), pad);
        var max = new MaxPooling2D((kh, kw), (sh, sw), pad);
        var avg = new AveragePooling2D((kh, kw), (sh, sw), pad);
        if (oh > 0 && ow > 0)
        {
            Assert.Equal([oh, ow, f], conv.ComputeOutputShape([h, w, c]));
            Assert.Equal([oh, ow, c], max.ComputeOutputShape([h, w, c]));
            Assert.Equal([oh, ow, c], avg.ComputeOutputShape([h, w, c]));
        }
        else
        {
            Assert.Equal(Padding.Valid, pad);      // Same always has an output
            Assert.Throws<LayerShapeException>(() => conv.ComputeOutputShape([h, w, c]));
            Assert.Throws<LayerShapeException>(() => max.ComputeOutputShape([h, w, c]));
            Assert.Throws<LayerShapeException>(() => avg.ComputeOutputShape([h, w, c]));
        }
    }

    [Fact]
    public void ForwardProducesTheComputedShape()
    {
        var rng = new Rng(9);
        var x = TestUtil.RandomTensor(rng, 2, 9, 11, 3);
        Layer[] layers =
        [
            new Conv2D(4, (3, 2), (2, 3), Padding.Same), new Conv2D(4, (3, 2), (2, 3)), new MaxPooling2D(3, 2, Padding.Same),
            new AveragePooling2D((2, 3)), new GlobalAveragePooling2D(), new Flatten(), new Rescaling(2f),
        ];
        foreach (var l in layers)
        {
            var expect = l.ComputeOutputShape([9, 11, 3]);
            var y = l.Forward(x);
            Assert.Equal([2, .. expect], y.Shape.ToArray());
            Assert.Equal(expect, l.OutputShape);
        }
    }

    [Fact]
    public void MiscShapeRules()
    {
        Assert.Equal([7], new Dense(7).ComputeOutputShape([12]));
        Assert.Equal([60], new Flatten().ComputeOutputShape([3, 4, 5]));
        Assert.Equal([5], new GlobalAveragePooling2D().ComputeOutputShape([3, 4, 5]));
        Assert.Equal([3, 4, 5], new ReLU().ComputeOutputShape([3, 4, 5]));
        // MaxPooling2D strides default to the pool size
        Assert.Equal((3, 3), new MaxPooling2D(3).Strides);
        Assert.Equal([2, 2, 1], new MaxPooling2D(3).ComputeOutputShape([7, 8, 1]));
    }
}
