using ConvNet.Kernels;
using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>Wrong shapes and sizes give clear exceptions that name the layer and the expected vs actual shape.</summary>
public class BadInputTests
{
    [Fact]
    public void MissingBatchDimensionIsExplained()
    {
        var conv = new Conv2D(16, 3, padding: Padding.Same, name: "conv2d");
        conv.Build([80, 80, 1]);
        var ex = Assert.Throws<LayerShapeException>(() => conv.Forward(new Tensor(80, 80, 1)));
        Assert.Equal("conv2d", ex.LayerName);
        Assert.Equal("(None, 80, 80, 1)", ex.Expected);
        Assert.Equal("(80, 80, 1)", ex.Actual);
        Assert.Contains("'conv2d'", ex.Message);
        Assert.Contains("Conv2D", ex.Message);
        Assert.Contains("batch dimension is missing", ex.Message);
        Assert.Contains("add one", ex.Message);
        Assert.Contains("Reshape(1, 80, 80, 1)", ex.Message);

        var dense = new Dense(4, name: "head");
        dense.Build([10]);
        var ex2 = Assert.Throws<LayerShapeException>(() => dense.Forward(new Tensor(10)));
        Assert.Contains("'head'", ex2.Message);
        Assert.Contains("batch dimension is missing", ex2.Message);
    }

    [Fact]
    public void UnbuiltLayerGivenASingleImageComplainsAboutRank()
    {
        var conv = new Conv2D(8, 3, name: "first");
        var ex = Assert.Throws<LayerShapeException>(() => conv.Forward(new Tensor(80, 80, 1)));
        Assert.Equal("first", ex.LayerName);
        Assert.Contains("rank", ex.Message);
        var ex2 = Assert.Throws<LayerShapeException>(() => new Dense(3, name: "d").Forward(new Tensor(5)));
        Assert.Contains("batch dimension", ex2.Message);
    }

    [Fact]
    public void WrongChannelCount()
    {
        var conv = new Conv2D(4, 3, name: "rgb_expected");
        conv.Build([8, 8, 3]);
        var ex = Assert.Throws<LayerShapeException>(() => conv.Forward(new Tensor(2, 8, 8, 1)));
        Assert.Equal("rgb_expected", ex.LayerName);
        Assert.Equal("(None, 8, 8, 3)", ex.Expected);
        Assert.Equal("(2, 8, 8, 1)", ex.Actual);
        Assert.Contains("1 channels", ex.Message);
        Assert.Contains("built for 3", ex.Message);

        var ex2 = Assert.Throws<LayerShapeException>(() => conv.Forward(new Tensor(2, 9, 8, 3)));
        Assert.Contains("(None, 8, 8, 3)", ex2.Message);
        Assert.Contains("(2, 9, 8, 3)", ex2.Message);
    }

    [Fact]
    public void KernelLargerThanValidInput()
    {
        var conv = new Conv2D(4, 5, name: "big");
        var ex = Assert.Throws<LayerShapeException>(() => conv.Build([3, 4, 2]));
        Assert.Equal("big", ex.LayerName);
        Assert.Contains("larger", ex.Message);
        Assert.Contains("5×5", ex.Message);
        Assert.Contains("3×4", ex.Message);
        Assert.Contains("(None, 3, 4, 2)", ex.Message);
        Assert.False(conv.IsBuilt);
        Assert.Throws<LayerShapeException>(() => new Conv2D(4, 5).Forward(new Tensor(1, 4, 9, 1)));
        // Same padding accepts it
        Assert.Equal([3, 4, 4], new Conv2D(4, 5, padding: Padding.Same).ComputeOutputShape([3, 4, 2]));
        var pex = Assert.Throws<LayerShapeException>(() => new MaxPooling2D(4, name: "pool").Build([3, 8, 1]));
        Assert.Contains("'pool'", pex.Message);
        Assert.Contains("larger", pex.Message);
    }

    [Fact]
    public void NonPositiveConstructorArguments()
    {
        void Check<TEx>(Func<object> make, params string[] fragments) where TEx : Exception
        {
            var ex = Assert.ThrowsAny<TEx>(() => make());
            foreach (var f in fragments) Assert.Contains(f, ex.Message);
        }
        Check<ArgumentOutOfRangeException>(() => new Conv2D(0, 3), "Conv2D", "filters", "0");
        Check<ArgumentOutOfRangeException>(() => new Conv2D(-2, 3), "Conv2D", "-2");
        Check<ArgumentOutOfRangeException>(() => new Conv2D(4, 0), "Conv2D", "kernel size");
        Check<ArgumentOutOfRangeException>(() => new Conv2D(4, (3, -1)), "Conv2D", "kernel size", "-1");
        Check<ArgumentOutOfRangeException>(() => new Conv2D(4, 3, strides: 0), "Conv2D", "strides");
        Check<ArgumentOutOfRangeException>(() => new Conv2D(4, (3, 3), (1, -2)), "Conv2D", "strides", "-2");
        Check<ArgumentOutOfRangeException>(() => new Dense(0), "Dense", "units", "0");
        Check<ArgumentOutOfRangeException>(() => new Dense(-3), "Dense", "-3");
        Check<ArgumentOutOfRangeException>(() => new MaxPooling2D(0), "MaxPooling2D", "pool size");
        Check<ArgumentOutOfRangeException>(() => new AveragePooling2D(2, 0), "AveragePooling2D", "strides");
        Check<ArgumentOutOfRangeException>(() => new MaxPooling2D((2, -1)), "MaxPooling2D", "-1");
        Check<ArgumentException>(() => new Input(0, 5), "Input", "positive");
        Check<ArgumentException>(() => new Input(1, 80, 80, 1), "Input", "no batch dimension");
    }

    [Fact]
    public void NonPositiveShapeDimensions()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Shape(3, 0, 2));
        Assert.Contains("(3, 0, 2)", ex.Message);
        Assert.Contains("dimension 1 is 0", ex.Message);
        Assert.Contains("-4", Assert.Throws<ArgumentException>(() => new Shape(-4)).Message);
        Assert.Contains("rank 0", Assert.Throws<ArgumentException>(() => new Shape(Array.Empty<int>())).Message);
        Assert.Contains("rank 5", Assert.Throws<ArgumentException>(() => new Shape(1, 2, 3, 4, 5)).Message);
        Assert.Throws<ArgumentException>(() => new Tensor(2, -1));
        Assert.Throws<ArgumentException>(() => new Tensor(0));
    }

    // BUG in src (reported to the lead): layers accept per-sample shapes with zero or negative dimensions in Build.
    // Flatten, MaxPooling2D/AveragePooling2D, GlobalAveragePooling2D, Rescaling and the activation layers build
    // "successfully" with e.g. (4, 4, 0) and report output shapes such as (2, 2, 0) or (0,); Conv2D and Dense only
    // fail later with Shape's generic "Shape dimensions must be positive" message that does not name the layer.
    // Fix: validate in Layer.Build (src/ConvNet.Core/Layers/Layer.cs, before ComputeOutputShape):
    //   if (inputShape.Any(d => d <= 0)) throw Error("positive dimensions", Fmt(inputShape, batch: true), "every dimension must be positive");
    [Fact]
    public void BuildRejectsNonPositiveDimensionsNamingTheLayer()
    {
        var cases = new (Layer Layer, int[] Shape)[]
        {
            (new Conv2D(4, 3, padding: Padding.Same, name: "c"), [5, 5, 0]),
            (new Conv2D(4, 1, name: "c"), [5, -5, 1]),
            (new Dense(3, name: "d"), [0]),
            (new MaxPooling2D(2, name: "mp"), [4, 4, 0]),
            (new AveragePooling2D(2, padding: Padding.Same, name: "ap"), [0, 4, 2]),
            (new Flatten(name: "f"), [3, 0, 2]),
            (new GlobalAveragePooling2D(name: "g"), [0, 0, 3]),
            (new ReLU(name: "r"), [-1, 2]),
        };
        var problems = new List<string>();
        foreach (var (layer, shape) in cases)
        {
            string what = $"{layer.TypeName}.Build({Layer.Fmt(shape)})";
            try
            {
                layer.Build(shape);
                problems.Add($"{what} succeeded with output shape {Layer.Fmt(layer.OutputShape!)}");
            }
            catch (LayerShapeException ex)
            {
                if (ex.LayerName != layer.Name) problems.Add($"{what}: exception names '{ex.LayerName}'");
            }
            catch (Exception ex)
            {
                problems.Add($"{what}: {ex.GetType().Name} \"{ex.Message}\" does not name the layer");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void BuildTwiceWithAnotherShapeAndBadBackward()
    {
        var conv = new Conv2D(2, 3, name: "c1");
        conv.Build([6, 6, 1]);
        conv.Build([6, 6, 1]);                                   // idempotent
        var ex = Assert.Throws<LayerShapeException>(() => conv.Build([7, 6, 1]));
        Assert.Contains("already built", ex.Message);

        var fresh = new Conv2D(2, 3, name: "c2");
        Assert.Throws<InvalidOperationException>(() => fresh.Backward(new Tensor(1, 4, 4, 2)));
        fresh.Build([6, 6, 1]);
        Assert.Throws<InvalidOperationException>(() => fresh.Backward(new Tensor(1, 4, 4, 2)));   // built, but no Forward yet

        conv.Forward(new Tensor(2, 6, 6, 1), training: true);
        var bex = Assert.Throws<LayerShapeException>(() => conv.Backward(new Tensor(2, 4, 4, 3)));
        Assert.Contains("'c1'", bex.Message);
        Assert.Contains("(None, 4, 4, 2)", bex.Message);
        Assert.Contains("(2, 4, 4, 3)", bex.Message);

        var dense = new Dense(3, name: "fc");
        var dex = Assert.Throws<LayerShapeException>(() => dense.Forward(new Tensor(2, 4, 4, 1)));
        Assert.Contains("Flatten", dex.Message);
        Assert.Contains("'fc'", dex.Message);
    }

    [Fact]
    public void KernelSpanSizeMismatchesThrowArgumentException()
    {
        var g = ConvGeometry.Create(2, 5, 5, 3, 3, 3, 1, 1, Padding.Same, 4);
        float[] x = new float[2 * 75], w = new float[g.WeightSize], b = new float[4], y = new float[2 * g.OutImage];
        float[] Short(float[] a) => new float[a.Length - 1];
        // exception type must be ArgumentException (or a subclass), never IndexOutOfRangeException
        var thrown = new List<Exception>
        {
            Assert.ThrowsAny<ArgumentException>(() => Conv.ConvForward(g, Short(x), w, b, y)),
            Assert.ThrowsAny<ArgumentException>(() => Conv.ConvForward(g, x, Short(w), b, y)),
            Assert.ThrowsAny<ArgumentException>(() => Conv.ConvForward(g, x, w, new float[3], y)),
            Assert.ThrowsAny<ArgumentException>(() => Conv.ConvForward(g, x, w, b, Short(y))),
            Assert.ThrowsAny<ArgumentException>(() => Conv.ConvBackwardData(g, Short(y), w, x)),
            Assert.ThrowsAny<ArgumentException>(() => Conv.ConvBackwardData(g, y, w, Short(x))),
            Assert.ThrowsAny<ArgumentException>(() => Conv.ConvBackwardFilter(g, x, y, Short(w), b)),
            Assert.ThrowsAny<ArgumentException>(() => Conv.ConvBackwardFilter(g, x, y, w, new float[2])),
            Assert.ThrowsAny<ArgumentException>(() => Conv.ConvBackwardFilter(g, x, Short(y), w, b)),
            Assert.ThrowsAny<ArgumentException>(() => Conv.ConvForward(g with { SH = 0 }, x, w, b, y)),
            Assert.ThrowsAny<ArgumentException>(() => ConvReference.ConvForward(g, Short(x), w, b, y)),
        };

        var pg = ConvGeometry.Create(2, 5, 5, 3, 2, 2, 2, 2, Padding.Valid, 3);
        float[] px = new float[2 * pg.InImage], py = new float[2 * pg.OutImage]; int[] pa = new int[py.Length];
        thrown.AddRange(
        [
            Assert.ThrowsAny<ArgumentException>(() => Pool.MaxPoolForward(pg, Short(px), py, pa)),
            Assert.ThrowsAny<ArgumentException>(() => Pool.MaxPoolForward(pg, px, Short(py), pa)),
            Assert.ThrowsAny<ArgumentException>(() => Pool.MaxPoolForward(pg, px, py, new int[pa.Length - 1])),
            Assert.ThrowsAny<ArgumentException>(() => Pool.MaxPoolForward(pg with { K = 4 }, px, py, pa)),
            Assert.ThrowsAny<ArgumentException>(() => Pool.MaxPoolBackward(pg, py, pa, Short(px))),
            Assert.ThrowsAny<ArgumentException>(() => Pool.MaxPoolBackward(pg, py, Enumerable.Repeat(px.Length, pa.Length).ToArray(), px)),
            Assert.ThrowsAny<ArgumentException>(() => Pool.MaxPoolBackward(pg, py, Enumerable.Repeat(-1, pa.Length).ToArray(), px)),
            Assert.ThrowsAny<ArgumentException>(() => Pool.AvgPoolForward(pg, px, Short(py))),
            Assert.ThrowsAny<ArgumentException>(() => Pool.AvgPoolBackward(pg, Short(py), px)),
            Assert.ThrowsAny<ArgumentException>(() => PoolReference.AvgPoolForward(pg, Short(px), py)),
        ]);

        float[] a = new float[3 * 4], bm = new float[4 * 5], c = new float[3 * 5];
        thrown.AddRange(
        [
            Assert.ThrowsAny<ArgumentException>(() => Gemm.GemmNN(3, 5, 4, Short(a), bm, c)),
            Assert.ThrowsAny<ArgumentException>(() => Gemm.GemmNN(3, 5, 4, a, Short(bm), c)),
            Assert.ThrowsAny<ArgumentException>(() => Gemm.GemmNN(3, 5, 4, a, bm, Short(c))),
            Assert.ThrowsAny<ArgumentException>(() => Gemm.GemmNN(-1, 5, 4, a, bm, c)),
            Assert.ThrowsAny<ArgumentException>(() => Gemm.GemmNT(3, 5, 4, a, Short(bm), c)),
            Assert.ThrowsAny<ArgumentException>(() => Gemm.GemmNT(3, 5, 4, a, bm, Short(c))),
            Assert.ThrowsAny<ArgumentException>(() => Gemm.GemmTN(3, 5, 4, Short(a), bm, c)),
            Assert.ThrowsAny<ArgumentException>(() => Gemm.GemmTN(3, 5, 4, a, bm, c, lda: 2)),
            Assert.ThrowsAny<ArgumentException>(() => Gemm.GemmTN(3, 5, 4, a, bm, c, lda: 4)),    // needs (k−1)·lda + m = 15 > 12
            Assert.ThrowsAny<ArgumentException>(() => GemmReference.GemmNN(3, 5, 4, Short(a), bm, c)),
        ]);

        float[] v = new float[10];
        thrown.AddRange(
        [
            Assert.ThrowsAny<ArgumentException>(() => Activations.ReluForward(v, new float[9])),
            Assert.ThrowsAny<ArgumentException>(() => Activations.ReluBackward(v, v, new float[9])),
            Assert.ThrowsAny<ArgumentException>(() => Activations.ReluBackward(v, new float[11], v)),
            Assert.ThrowsAny<ArgumentException>(() => Activations.TanhForward(v, new float[11])),
            Assert.ThrowsAny<ArgumentException>(() => Activations.TanhBackward(v, v, new float[9])),
            Assert.ThrowsAny<ArgumentException>(() => Activations.SoftmaxForward(3, 4, v, new float[12])),
            Assert.ThrowsAny<ArgumentException>(() => Activations.SoftmaxForward(2, 0, v, v)),
            Assert.ThrowsAny<ArgumentException>(() => Activations.SoftmaxBackward(2, 5, v, v, new float[9])),
            Assert.ThrowsAny<ArgumentException>(() => SoftmaxCrossEntropy.SoftmaxCrossEntropyForwardBackward(2, 5, v, [0], v, v, 1f)),
            Assert.ThrowsAny<ArgumentException>(() => SoftmaxCrossEntropy.SoftmaxCrossEntropyForwardBackward(2, 5, v, [0, 1], new float[9], v, 1f)),
            Assert.ThrowsAny<ArgumentException>(() => SoftmaxCrossEntropy.SoftmaxCrossEntropyForwardBackward(2, 5, v, [0, 1], v, new float[9], 1f)),
            Assert.ThrowsAny<ArgumentException>(() => SoftmaxCrossEntropy.SoftmaxCrossEntropyForwardBackward(2, 5, v, [0, 5], v, v, 1f)),
            Assert.ThrowsAny<ArgumentException>(() => SoftmaxCrossEntropy.SoftmaxCrossEntropyForwardBackward(2, 5, v, [-1, 0], v, v, 1f)),
        ]);
        // every message names the kernel that rejected the call (or the offending label)
        Assert.All(thrown, e => Assert.False(string.IsNullOrWhiteSpace(e.Message)));
        Assert.Contains("ConvForward", thrown[0].Message);
        Assert.Contains("GemmNN", thrown.First(e => e.Message.Contains("GemmNN")).Message);
        Assert.Contains("Label 5", thrown[^2].Message);
    }
}
