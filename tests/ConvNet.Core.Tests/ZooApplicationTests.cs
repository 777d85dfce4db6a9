using Xunit;
using Xunit.Abstractions;

namespace ConvNet.Core.Tests;

/// <summary>
/// Xception and ResNet-18 of the zoo: parameter counts from issue 11 (Keras' and torchvision's own counts), shapes, Keras layer
/// names, and a small forward and training run. The full-size models hold 12–23 million parameters (plus gradients), so each is
/// built once or twice only.
/// </summary>
public class ZooApplicationTests(ITestOutputHelper output)
{
    private static long NonTrainable(Model m) => m.CountParams() - m.TrainableParamCount;

    [Fact]
    public void XceptionWithoutTopMatchesKeras()
    {
        var m = Applications.Xception(includeTop: false, inputShape: [150, 150, 3]);
        Assert.Equal(20_861_480, m.CountParams());
        Assert.Equal(20_806_952, m.TrainableParamCount);
        Assert.Equal(54_528, NonTrainable(m));
        Assert.Equal([5, 5, 2048], m.OutputShape);
        Assert.Equal(132, m.Layers.Count);   // Keras: len(Xception(include_top=False).layers) == 132
        Assert.Equal("block14_sepconv2_act", m.Layers[^1].Name);

        var stem = Assert.IsType<Conv2D>(m.GetLayer("block1_conv1"));
        Assert.Equal((2, 2), stem.Strides);
        Assert.Equal(Padding.Valid, stem.Padding);
        Assert.False(stem.UseBias);
        Assert.Equal([74, 74, 32], m.GetLayer("block1_conv1").OutputShape);
        Assert.IsType<BatchNormalization>(m.GetLayer("block1_conv1_bn"));
        var sep = Assert.IsType<SeparableConv2D>(m.GetLayer("block2_sepconv1"));
        Assert.False(sep.UseBias);
        Assert.Equal(Padding.Same, sep.Padding);
        Assert.Equal(3 * 3 * 64 + 64 * 128, sep.ParamCount);
        var pool = Assert.IsType<MaxPooling2D>(m.GetLayer("block2_pool"));
        Assert.Equal(((3, 3), (2, 2), Padding.Same), (pool.PoolSize, pool.Strides, pool.Padding));
        // Keras leaves the shortcut layers unnamed: conv2d … conv2d_3 (1×1/2, no bias), batch_normalization …, add … add_11
        Assert.Equal([64 * 128, 128 * 256, 256 * 728, 728 * 1024],
            new[] { "conv2d", "conv2d_1", "conv2d_2", "conv2d_3" }.Select(n => m.GetLayer(n).ParamCount));
        Assert.Equal(12, m.Layers.Count(l => l is Add));
        Assert.Equal(8, m.Layers.Count(l => l.Name.EndsWith("_sepconv3", StringComparison.Ordinal)));   // the middle flow
        Assert.Equal([9, 9, 728], m.GetLayer("block12_sepconv3_bn").OutputShape);   // 150 → 74 → 72 → 36 → 18 → 9
    }

    [Fact]
    public void XceptionWithTopMatchesKeras()
    {
        var m = Applications.Xception();
        Assert.Equal(22_910_480, m.CountParams());
        Assert.Equal(54_528, NonTrainable(m));
        Assert.Equal([299, 299, 3], m.InputTensor!.Shape);
        Assert.Equal([1000], m.OutputShape);
        Assert.Equal([10, 10, 2048], m.GetLayer("block14_sepconv2_act").OutputShape);
        Assert.IsType<GlobalAveragePooling2D>(m.GetLayer("avg_pool"));
        var top = Assert.IsType<Dense>(m.GetLayer("predictions"));
        Assert.Equal(2048 * 1000 + 1000, top.ParamCount);
        Assert.Equal("xception", m.Name);
    }

    [Fact]
    public void ResNet18MatchesTorchvision()
    {
        var m = Applications.ResNet18();
        Assert.Equal(11_699_112, m.CountParams());
        Assert.Equal(11_689_512, m.TrainableParamCount);   // torchvision: sum(p.numel() for p in resnet18().parameters())
        Assert.Equal(9_600, NonTrainable(m));               // its running_mean and running_var buffers
        Assert.Equal([1000], m.OutputShape);

        // torchvision's symmetric padding: explicit ZeroPadding2D + Valid on every stride-2 layer
        Assert.Equal(((3, 3), (3, 3)), Assert.IsType<ZeroPadding2D>(m.GetLayer("conv1_pad")).Padding);
        Assert.Equal([112, 112, 64], m.GetLayer("conv1_conv").OutputShape);
        Assert.Equal(Padding.Valid, Assert.IsType<MaxPooling2D>(m.GetLayer("pool1_pool")).Padding);
        Assert.Equal([56, 56, 64], m.GetLayer("pool1_pool").OutputShape);
        foreach (var stage in new[] { "conv3", "conv4", "conv5" })
        {
            Assert.Equal(Padding.Valid, Assert.IsType<Conv2D>(m.GetLayer($"{stage}_block1_1_conv")).Padding);
            Assert.IsType<ZeroPadding2D>(m.GetLayer($"{stage}_block1_1_pad"));
            Assert.IsType<Conv2D>(m.GetLayer($"{stage}_block1_0_conv"));
        }
        Assert.DoesNotContain(m.Layers, l => l.Name == "conv2_block1_0_conv");   // identity shortcuts in the first stage
        Assert.Equal(Padding.Same, Assert.IsType<Conv2D>(m.GetLayer("conv2_block1_1_conv")).Padding);
        Assert.Equal([7, 7, 512], m.GetLayer("conv5_block2_out").OutputShape);
        Assert.Equal(3, m.Layers.Count(l => l.Name.EndsWith("_0_conv", StringComparison.Ordinal)));
        Assert.Equal(8, m.Layers.Count(l => l is Add));
        Assert.All(m.Layers.OfType<Conv2D>(), c => Assert.False(c.UseBias));
        Assert.All(m.Layers.OfType<BatchNormalization>(), bn => Assert.Equal((1e-5f, 0.9f), (bn.Epsilon, bn.Momentum)));
        Assert.Equal(512 * 1000 + 1000, m.GetLayer("predictions").ParamCount);
    }

    [Fact]
    public void ResNet18RunsOnASmallInput()
    {
        var m = Applications.ResNet18(includeTop: false, inputShape: [64, 64, 3]);
        m.Threads = 1;
        Assert.Equal(11_699_112 - 513_000, m.CountParams());   // no top: the same convolutional weights at any input size
        Assert.Equal([2, 2, 512], m.OutputShape);
        var x = TestUtil.RandomTensor(new Rng(5), 2, 64, 64, 3);
        var y = m.Predict(x);
        Assert.Equal([2, 2, 2, 512], y.Shape.ToArray());
        Assert.All(y.ToArray(), v => Assert.True(float.IsFinite(v) && v >= 0f));   // ends with a ReLU
        Assert.Contains(y.ToArray(), v => v > 0f);
        // inference mode uses the moving statistics, so a sample alone gives the features it gets in the batch
        var alone = m.Predict(x.Slice(1, 1)).ToArray();
        var inBatch = y.ToArray().AsSpan(2 * 2 * 512).ToArray();
        for (int i = 0; i < alone.Length; i++) Assert.Equal(inBatch[i], alone[i], 1e-5f * (1 + Math.Abs(inBatch[i])));
    }

    [Fact]
    public void ResNet18TrainsOnATinyBatch()
    {
        // backward through ZeroPadding2D, BatchNormalization (batch statistics), projection shortcuts and the Adds
        var m = Applications.ResNet18(inputShape: [32, 32, 3], classes: 3, classifierActivation: Activation.None);
        m.Threads = 1;
        m.Compile(new Adam(1e-3f), new SparseCategoricalCrossentropy(fromLogits: true));
        var x = TestUtil.RandomTensor(new Rng(6), 6, 32, 32, 3);
        int[] labels = [0, 1, 2, 0, 1, 2];
        var losses = Enumerable.Range(0, 5).Select(_ => m.TrainOnBatch(x, labels)).ToArray();
        output.WriteLine($"losses {string.Join(", ", losses.Select(l => l.ToString("F4")))}");
        Assert.All(losses, l => Assert.True(double.IsFinite(l)));
        Assert.True(losses[^1] < losses[0], $"the loss did not fall: {losses[0]:F4} → {losses[^1]:F4}");
        var bn = Assert.IsType<BatchNormalization>(m.GetLayer("conv1_bn"));
        Assert.Contains(bn.MovingMean!.Value.ToArray(), v => v != 0f);   // training mode updated the moving statistics
    }

    [Fact]
    public void BadArgumentsAreRefusedWithTheModelsName()
    {
        var e = Assert.Throws<ArgumentException>(() => Applications.Xception(includeTop: false, inputShape: [70, 150, 3]));
        Assert.Contains("Xception", e.Message);
        Assert.Contains("71", e.Message);
        e = Assert.Throws<ArgumentException>(() => Applications.ResNet18(inputShape: [64, 64]));
        Assert.Contains("ResNet18", e.Message);
        e = Assert.Throws<ArgumentException>(() => Applications.ResNet18(includeTop: false, pooling: "mean"));
        Assert.Contains("pooling", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Applications.ResNet18(classes: 0));
    }

    [Fact]
    public void PoolingWithoutTheTopGivesAVector()
    {
        var m = Applications.ResNet18(includeTop: false, inputShape: [32, 32, 3], pooling: "max");
        Assert.Equal([512], m.OutputShape);
        Assert.IsType<GlobalMaxPooling2D>(m.Layers[^1]);
    }
}
