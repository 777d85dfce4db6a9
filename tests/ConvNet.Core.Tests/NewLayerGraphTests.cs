using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>The issue-11 layers inside functional models: an Xception-style block (separable convolutions, batch normalisation,
/// a strided 1×1 shortcut, Add) trains, saves and loads bit-identically, and a BatchNormalization inside a nested model applied
/// with <c>training: false</c> runs in inference mode during Fit (the Keras 3 transfer-learning rule).</summary>
public sealed class NewLayerGraphTests : IDisposable
{
    private readonly TrainingTempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static Model XceptionBlock()
    {
        var inputs = new Input(12, 12, 4);
        var residual = new BatchNormalization().Apply(new Conv2D(8, 1, strides: 2, padding: Padding.Same, useBias: false).Apply(inputs));
        var x = new SeparableConv2D(8, 3, padding: Padding.Same, useBias: false).Apply(inputs);
        x = new BatchNormalization().Apply(x);
        x = new ActivationLayer("relu").Apply(x);
        x = new SeparableConv2D(8, 3, padding: Padding.Same, useBias: false).Apply(x);
        x = new BatchNormalization().Apply(x);
        x = new MaxPooling2D(3, 2, Padding.Same).Apply(x);
        x = new Add().Apply(x, residual);
        x = new Dropout(0.25f, seed: 1).Apply(new GlobalAveragePooling2D().Apply(x));
        return new Model(inputs, new Dense(3).Apply(x)) { Seed = 5, Threads = 2 };
    }

    [Fact]
    public void XceptionStyleBlockTrainsAndRoundTrips()
    {
        var model = XceptionBlock();
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(fromLogits: true));
        var rng = new Rng(1);
        var x = RandomTensor(rng, 16, 12, 12, 4);
        var y = Enumerable.Range(0, 16).Select(i => i % 3).ToArray();
        double first = model.TrainOnBatch(x, y), last = first;
        for (int i = 0; i < 30; i++) last = model.TrainOnBatch(x, y);
        Assert.True(double.IsFinite(last) && last < first, $"loss {first} → {last} over 30 steps on one batch");
        var path = _dir.File("xception-block.cnet");
        model.Save(path);
        var loaded = Model.Load(path);
        loaded.Threads = 2;
        AssertExactlyEqual<float>(loaded.Predict(x).Span, model.Predict(x).ToArray(), "predictions after load");
        Assert.Equal(model.Summary(), loaded.Summary());
    }

    [Fact]
    public void BatchNormalizationInANestedModelCalledWithTrainingFalseKeepsItsMovingStatistics()
    {
        var baseIn = new Input(6, 6, 3);
        var bn = new BatchNormalization(name: "base_bn");
        var baseModel = new Model(baseIn, bn.Apply(new Conv2D(4, 3, padding: Padding.Same).Apply(baseIn)), name: "base");
        var inputs = new Input(6, 6, 3);
        var features = baseModel.Apply(inputs, training: false);
        var model = new Model(inputs, new Dense(2).Apply(new GlobalAveragePooling2D().Apply(features))) { Seed = 3, Threads = 1 };
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(fromLogits: true));
        var mean = bn.MovingMean!.Value.ToArray(); var variance = bn.MovingVariance!.Value.ToArray();
        var rng = new Rng(2);
        var x = RandomTensor(rng, 8, 6, 6, 3);
        for (int i = 0; i < 3; i++) model.TrainOnBatch(x, [0, 1, 0, 1, 0, 1, 0, 1]);
        AssertExactlyEqual<float>(bn.MovingMean.Value.Span, mean, "moving mean of a BN in a base called with training: false");
        AssertExactlyEqual<float>(bn.MovingVariance.Value.Span, variance, "moving variance of a BN in a base called with training: false");
        // control: the layer itself in training mode does update them
        bn.Forward(RandomTensor(rng, 2, 6, 6, 4), training: true);
        Assert.NotEqual(mean, bn.MovingMean.Value.ToArray());
    }
}
