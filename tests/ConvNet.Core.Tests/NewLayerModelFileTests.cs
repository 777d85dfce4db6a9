using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>Every layer of issue 11 survives Sequential.Save/Load: same types, names, configuration, weights (moving statistics
/// included) and bit-identical predictions.</summary>
public sealed class NewLayerModelFileTests : IDisposable
{
    private readonly TrainingTempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    internal static Sequential RoundTrip(Sequential model, string path, Tensor x)
    {
        model.Threads = 1;
        var expected = model.Predict(x).ToArray();
        model.Save(path);
        var loaded = Sequential.Load(path);
        loaded.Threads = 1;
        Assert.Equal(model.Layers.Select(l => l.TypeName), loaded.Layers.Select(l => l.TypeName));
        Assert.Equal(model.Layers.Select(l => l.Name), loaded.Layers.Select(l => l.Name));
        Assert.Equal(model.Layers.Select(l => l.Trainable), loaded.Layers.Select(l => l.Trainable));
        Assert.Equal(model.Summary(), loaded.Summary());
        TrainingTestData.AssertWeightsIdentical(model.GetWeights(), loaded.GetWeights(), "loaded weights");
        AssertExactlyEqual<float>(loaded.Predict(x).ToArray(), expected, "predictions after load");
        return loaded;
    }

    [Fact]
    public void PaddingCroppingAndBatchNormalizationRoundTrip()
    {
        var rng = new Rng(1);
        var model = new Sequential(
            new Input(6, 7, 3),
            new ZeroPadding2D(((1, 2), (0, 3))),
            new BatchNormalization(axis: 3, momentum: 0.8f, epsilon: 1e-4f, name: "bn1"),
            new Cropping2D(((2, 0), (1, 1))),
            new BatchNormalization(axis: 1, center: false) { Trainable = false },
            new Flatten(),
            new BatchNormalization(scale: false),
            new Dense(3)) { Seed = 3 };
        // non-default moving statistics so the file must carry them
        foreach (var bn in model.Layers.OfType<BatchNormalization>())
        {
            Uniform(rng, bn.MovingMean!.Value.Length, -0.5f, 0.5f).CopyTo(bn.MovingMean.Value.Span);
            Uniform(rng, bn.MovingVariance!.Value.Length, 0.5f, 2f).CopyTo(bn.MovingVariance.Value.Span);
        }
        var loaded = RoundTrip(model, _dir.File("bn.cnet"), RandomTensor(rng, 4, 6, 7, 3));
        var bn1 = Assert.IsType<BatchNormalization>(loaded.Layers.First(l => l.Name == "bn1"));
        Assert.Equal((3, 0.8f, 1e-4f, true, true), (bn1.Axis, bn1.Momentum, bn1.Epsilon, bn1.Center, bn1.Scale));
        Assert.Equal(((1, 2), (0, 3)), loaded.Layers.OfType<ZeroPadding2D>().Single().Padding);
        Assert.Equal(((2, 0), (1, 1)), loaded.Layers.OfType<Cropping2D>().Single().Cropping);
    }

    [Fact]
    public void DropoutActivationAndPoolingLayersRoundTrip()
    {
        var rng = new Rng(2);
        var model = new Sequential(
            new Input(5, 6, 4),
            new SpatialDropout2D(0.25f, seed: 11),
            new ActivationLayer(Activation.GeluApproximate),
            new LeakyReLU(0.125f, name: "leaky"),
            new ActivationLayer("swish"),
            new GlobalMaxPooling2D(),
            new Dropout(0.5f),
            new Dense(6, Activation.Gelu),
            new Dense(3, Activation.Selu)) { Seed = 4 };
        var loaded = RoundTrip(model, _dir.File("drop.cnet"), RandomTensor(rng, 3, 5, 6, 4));
        var sd = loaded.Layers.OfType<SpatialDropout2D>().Single();
        Assert.Equal((0.25f, (int?)11), (sd.Rate, sd.DropoutSeed));
        var d = loaded.Layers.OfType<Dropout>().Single();
        Assert.Equal((0.5f, (int?)null), (d.Rate, d.DropoutSeed));
        Assert.Equal(0.125f, loaded.Layers.OfType<LeakyReLU>().Single().NegativeSlope);
        Assert.Equal([Activation.GeluApproximate, Activation.Silu], loaded.Layers.Where(l => l.GetType() == typeof(ActivationLayer)).Select(l => ((ActivationLayer)l).Activation));
        Assert.Equal([Activation.Gelu, Activation.Selu], loaded.Layers.OfType<Dense>().Select(l => l.Activation));
    }

    [Fact]
    public void DepthwiseAndSeparableConvolutionsRoundTrip()
    {
        var rng = new Rng(3);
        var model = new Sequential(
            new Input(9, 8, 3),
            new DepthwiseConv2D((3, 2), (2, 1), Padding.Same, depthMultiplier: 2, activation: Activation.Relu, name: "dw"),
            new SeparableConv2D(5, 3, padding: Padding.Same, depthMultiplier: 3, activation: Activation.Silu, useBias: false, name: "sep"),
            new GlobalAveragePooling2D(),
            new Dense(2)) { Seed = 5 };
        var loaded = RoundTrip(model, _dir.File("sep.cnet"), RandomTensor(rng, 2, 9, 8, 3));
        var dw = loaded.Layers.OfType<DepthwiseConv2D>().Single();
        Assert.Equal(((3, 2), (2, 1), Padding.Same, 2, Activation.Relu, true), (dw.KernelSize, dw.Strides, dw.Padding, dw.DepthMultiplier, dw.Activation, dw.UseBias));
        var sep = loaded.Layers.OfType<SeparableConv2D>().Single();
        Assert.Equal((5, (3, 3), (1, 1), Padding.Same, 3, Activation.Silu, false), (sep.Filters, sep.KernelSize, sep.Strides, sep.Padding, sep.DepthMultiplier, sep.Activation, sep.UseBias));
    }
}
