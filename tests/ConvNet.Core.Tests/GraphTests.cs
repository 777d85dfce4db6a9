using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>The functional API, bad graphs, nested models, the execution plan (fusion, liveness) and the zoo's counts.</summary>
public sealed class GraphTests
{
    /// <summary>The issue's example, verbatim apart from the sizes.</summary>
    private static Model ResNetish()
    {
        var inputs = new Input(8, 8, 1);
        var x = new Conv2D(4, 3, padding: Padding.Same, activation: Activation.Relu).Apply(inputs);
        var y = new Conv2D(4, 3, padding: Padding.Same).Apply(x);
        x = new ReLU().Apply(new Add().Apply(x, y));
        return new Model(inputs, new Dense(5).Apply(new Flatten().Apply(x)), name: "resnetish");
    }

    [Fact]
    public void FunctionalModelHasKerasNamesShapesAndCounts()
    {
        var m = ResNetish();
        Assert.Equal(["input_layer", "conv2d", "conv2d_1", "add", "re_lu", "flatten", "dense"], m.Layers.Select(l => l.Name));
        Assert.Equal([5], m.OutputShape);
        Assert.Equal(40 + 148 + 8 * 8 * 4 * 5 + 5, m.CountParams());
        Assert.Equal("Functional", m.TypeName);
        Assert.Same(m.Layers[3], m.GetLayer("add"));
        Assert.Throws<ArgumentException>(() => m.GetLayer("nope"));
    }

    [Fact]
    public void SummaryHasTheConnectedToColumn()
    {
        var s = ResNetish().Summary();
        Assert.Contains("Model: \"resnetish\"", s);
        Assert.Contains("┃ Connected to", s);
        Assert.Matches(@"│ input_layer \(InputLayer\) +│ \(None, 8, 8, 1\) +│ +0 │ - +│", s);
        Assert.Matches(@"│ add \(Add\) +│ \(None, 8, 8, 4\) +│ +0 │ conv2d\[0\]\[0\] +│\n│ +│ +│ +│ conv2d_1\[0\]\[0\] +│", s);
        Assert.Contains(" Total params: 1,473 (5.75 KB)", s);
    }

    [Fact]
    public void MergeShapeErrorsNameBothShapes()
    {
        var inputs = new Input(4, 4, 2);
        var a = new Conv2D(3, 1).Apply(inputs);
        var b = new Conv2D(5, 1).Apply(inputs);
        var e = Assert.Throws<LayerShapeException>(() => new Add(name: "sum").Apply(a, b));
        Assert.Contains("'sum' (Add)", e.Message);
        Assert.Contains("(None, 4, 4, 3)", e.Message);
        Assert.Contains("(None, 4, 4, 5)", e.Message);
        var pooled = new MaxPooling2D().Apply(inputs);
        e = Assert.Throws<LayerShapeException>(() => new Concatenate(name: "cat").Apply(a, pooled));
        Assert.Contains("(None, 4, 4, 3)", e.Message);
        Assert.Contains("(None, 2, 2, 2)", e.Message);
        e = Assert.Throws<LayerShapeException>(() => new Subtract().Apply(a, a, a));
        Assert.Contains("exactly 2", e.Message);
        e = Assert.Throws<LayerShapeException>(() => new Concatenate(axis: 4).Apply(a, a));
        Assert.Contains("axis 4", e.Message);
        Assert.Throws<LayerShapeException>(() => new Add().Apply(a));
    }

    [Fact]
    public void BadGraphsGetOneClearErrorNamingTheLayer()
    {
        var inputs = new Input(4);
        var other = new Input(4);
        var d = new Dense(3, name: "from_other").Apply(other);
        var e = Assert.Throws<ArgumentException>(() => new Model(inputs, d, name: "m"));
        Assert.Contains("input", e.Message);
        Assert.Contains("'from_other'", e.Message);

        var used = new Dense(2, name: "d1").Apply(inputs);
        var mixed = new Add(name: "mix").Apply(used, new Dense(2).Apply(other));
        e = Assert.Throws<ArgumentException>(() => new Model(inputs, mixed));
        Assert.Contains("not the model's input", e.Message);

        // a layer from another model's graph
        var first = new Model(inputs, used, name: "first");
        var e2 = Assert.Throws<ArgumentException>(() => new Model(inputs, new Dense(1).Apply(used), name: "second"));
        Assert.Contains("'d1'", e2.Message);
        Assert.Contains("'first'", e2.Message);

        // shared layers are refused
        var shared = new Dense(2, name: "shared");
        var i2 = new Input(2);
        shared.Apply(i2);
        var e3 = Assert.Throws<InvalidOperationException>(() => shared.Apply(i2));
        Assert.Contains("'shared'", e3.Message);
        Assert.Contains("Shared layers", e3.Message);

        // an Input is not applied
        Assert.Throws<InvalidOperationException>(() => new Input(2).Apply(i2));
        // the inputs must be an Input
        var e4 = Assert.Throws<ArgumentException>(() => new Model(new Dense(2).Apply(i2), new Dense(1).Apply(new Input(3))));
        Assert.Contains("must be an Input", e4.Message);
        Assert.NotNull(first);
    }

    [Fact]
    public void SingleLayerShapeErrorNamesTheLayer()
    {
        var inputs = new Input(4, 4, 2);
        var e = Assert.Throws<LayerShapeException>(() => new Dense(3, name: "head").Apply(inputs));
        Assert.Contains("'head'", e.Message);
    }

    [Fact]
    public void FusionOnlyWhereThePoolIsTheConvsOnlyConsumer()
    {
        var inputs = new Input(8, 8, 2);
        var a = new Conv2D(4, 3, padding: Padding.Same, activation: Activation.Relu, name: "fused_conv").Apply(inputs);
        var p = new MaxPooling2D(name: "fused_pool").Apply(a);
        var b = new Conv2D(4, 3, padding: Padding.Same, activation: Activation.Relu, name: "shared_conv").Apply(p);
        var q = new MaxPooling2D(name: "pool_of_shared").Apply(b);
        var shortcut = new Conv2D(4, 1, 2, Padding.Same).Apply(b);   // b also feeds a shortcut: no fusion
        var y = new Add().Apply(q, shortcut);
        var m = new Model(inputs, new Dense(3).Apply(new Flatten().Apply(y))) { Seed = 3 };
        var steps = m.Plan().Steps;
        Assert.Contains(steps, s => s.Name == "fused_conv+fused_pool (fused)" && s.LayerCount == 2);
        Assert.Contains(steps, s => s.Name == "shared_conv" && s.LayerCount == 1);
        Assert.Contains(steps, s => s.Name == "pool_of_shared" && s.LayerCount == 1);

        // Results: fused vs unfused plans, bit-identical forward, gradients within float rounding.
        var unfused = new Model(ResNetInput(out var inputs2), Rebuild(inputs2)) { Seed = 3 };
        unfused.EnableFusion = false;
        Assert.All(unfused.Plan().Steps, s => Assert.Equal(1, s.LayerCount));
        var rng = new Rng(5);
        var x = RandomTensor(rng, 4, 8, 8, 2);
        AssertExactlyEqual<float>(m.Predict(x).Span, unfused.Predict(x).Span, "fused vs unfused predictions");
        var yLabels = new[] { 0, 1, 2, 1 };
        foreach (var model in new[] { m, unfused }) model.Compile(new SGD(0.1f), new SparseCategoricalCrossentropy(fromLogits: true));
        m.TrainOnBatch(x, yLabels); unfused.TrainOnBatch(x, yLabels);
        var wa = m.GetWeights(); var wb = unfused.GetWeights();
        for (int i = 0; i < wa.Length; i++) AssertClose(wa[i], wb[i], 1e-6, $"weights {i} after a step");

        static SymbolicTensor ResNetInput(out Input i) => i = new Input(8, 8, 2);
        static SymbolicTensor Rebuild(Input inputs)
        {
            var a = new Conv2D(4, 3, padding: Padding.Same, activation: Activation.Relu).Apply(inputs);
            var p = new MaxPooling2D().Apply(a);
            var b = new Conv2D(4, 3, padding: Padding.Same, activation: Activation.Relu).Apply(p);
            var q = new MaxPooling2D().Apply(b);
            var s = new Conv2D(4, 1, 2, Padding.Same).Apply(b);
            return new Dense(3).Apply(new Flatten().Apply(new Add().Apply(q, s)));
        }
    }

    [Fact]
    public void InferenceReusesBuffersByLiveness()
    {
        // 24 Dense layers: inference needs 2 buffers (a layer's input and output), not 24.
        var inputs = new Input(16);
        SymbolicTensor x = inputs;
        for (int i = 0; i < 24; i++) x = new Dense(16, Activation.Tanh).Apply(x);
        var deep = new Model(inputs, x) { Seed = 1 };
        var rng = new Rng(2);
        var batch = RandomTensor(rng, 5, 16);
        var predicted = deep.Predict(batch);
        Assert.Equal(2, deep.Plan().InferenceBufferCount(5));
        AssertExactlyEqual<float>(predicted.Span, deep.Call(batch, training: true).Span, "inference (shared buffers) vs training forward");

        // A residual graph keeps the shortcut alive: 3 buffers; a Flatten view keeps its source alive.
        var m = ResNetish();
        var r = RandomTensor(rng, 3, 8, 8, 1);
        var p = m.Predict(r);
        Assert.InRange(m.Plan().InferenceBufferCount(3), 2, 3);
        AssertExactlyEqual<float>(p.Span, m.Call(r, training: true).Span, "residual: inference vs training forward");
    }

    [Fact]
    public void NestedModelIsOneSummaryRowAndFreezesAsAWhole()
    {
        var baseIn = new Input(6, 6, 3);
        var bx = new Conv2D(4, 3, activation: Activation.Relu).Apply(baseIn);
        var baseModel = new Model(baseIn, new GlobalAveragePooling2D().Apply(bx), name: "base");
        var inputs = new Input(6, 6, 3);
        var features = baseModel.Apply(inputs, training: false);
        var model = new Model(inputs, new Dense(2).Apply(features), name: "transfer");
        var s = model.Summary();
        Assert.Matches(@"│ base \(Functional\) +│ \(None, 4\) +│ +112 │ input_layer_?\d*\[0\]\[0\]", s);
        Assert.DoesNotContain("conv2d (Conv2D)", s);
        Assert.Equal(122, model.CountParams());

        baseModel.Trainable = false;
        Assert.All(baseModel.Layers, l => Assert.False(l.Trainable));
        Assert.Contains(" Trainable params: 10 (40.00 B)", model.Summary());
        Assert.Contains(" Non-trainable params: 112 (448.00 B)", model.Summary());
        Assert.Equal(2, model.TrainableParameters.Count);

        // Training: the frozen base does not change and its backward is skipped (no gradient reaches its weights).
        var rng = new Rng(4);
        var x = RandomTensor(rng, 8, 6, 6, 3);
        var y = Enumerable.Range(0, 8).Select(i => i % 2).ToArray();
        model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(fromLogits: true));
        var before = model.GetWeights();
        model.Fit(x, y, epochs: 3, batchSize: 4);
        var after = model.GetWeights();
        Assert.Equal(before[0], after[0]);   // base kernel
        Assert.Equal(before[1], after[1]);   // base bias
        Assert.NotEqual(before[2], after[2]);   // head kernel
        Assert.All(baseModel.Parameters, p => Assert.All(p.Grad.ToArray(), g => Assert.Equal(0f, g)));

        // Fine-tuning: unfreeze and re-compile; now the base trains too.
        baseModel.Trainable = true;
        model.Compile(new Adam(1e-4f), new SparseCategoricalCrossentropy(fromLogits: true));
        model.Fit(x, y, epochs: 1, batchSize: 4);
        Assert.NotEqual(after[0], model.GetWeights()[0]);
    }

    /// <summary>Records the training flag each forward sees (identity).</summary>
    private sealed class Probe() : Layer(null)
    {
        public List<bool> Seen { get; } = [];
        public override string TypeName => "Probe";
        public override int[] ComputeOutputShape(IReadOnlyList<int> s) => s.ToArray();
        protected override Tensor ForwardCore(Tensor x, bool training) { Seen.Add(training); return x; }
        protected override Tensor BackwardCore(Tensor dy) => dy;
        internal override bool OutputMayAliasInput => true;
        internal override void WriteConfig(IDictionary<string, string> config) { }
    }

    [Fact]
    public void TrainingFalseKeepsANestedModelInInferenceModeWhileTheOuterTrains()
    {
        var innerIn = new Input(3);
        var innerProbe = new Probe();
        var inner = new Model(innerIn, new Dense(3).Apply(innerProbe.Apply(innerIn)), name: "inner");
        var followIn = new Input(3);
        var followProbe = new Probe();
        var follow = new Model(followIn, followProbe.Apply(followIn), name: "follow");
        var inputs = new Input(3);
        var outerProbe = new Probe();
        var x = inner.Apply(outerProbe.Apply(inputs), training: false);
        var model = new Model(inputs, new Dense(2).Apply(follow.Apply(x)));
        model.Compile(new SGD(0.01f), new SparseCategoricalCrossentropy(fromLogits: true));
        model.TrainOnBatch(new Tensor(2, 3), [0, 1]);
        Assert.Equal([true], outerProbe.Seen);
        Assert.Equal([false], innerProbe.Seen);
        Assert.Equal([true], followProbe.Seen);
        model.Predict(new Tensor(1, 3));
        Assert.Equal([true, false], outerProbe.Seen);
    }

    [Fact]
    public void ZooCountsMatchTheHandComputedOnes()
    {
        var inception = Applications.InceptionModule3a();
        Assert.Equal(163_696, inception.CountParams());
        Assert.Equal([28, 28, 256], inception.OutputShape);
        // 1×1 64: 12,352; 1×1 96: 18,528; 3×3 128: 110,720; 1×1 16: 3,088; 5×5 32: 12,832; pool proj 32: 6,176
        Assert.Equal([0, 12_352, 18_528, 110_720, 3_088, 12_832, 0, 6_176, 0], inception.Layers.Select(l => l.ParamCount));

        var residual = Applications.ResidualBlocks();
        // identity block: 2 × (3·3·64·64 + 64) = 73,856; projection block: 3·3·64·128 + 128 = 73,856,
        // 3·3·128·128 + 128 = 147,584, 1·1·64·128 + 128 = 8,320 → 229,760
        Assert.Equal(73_856 + 229_760, residual.CountParams());
        Assert.Equal([28, 28, 128], residual.OutputShape);
        Assert.Contains(residual.Layers, l => l.Name == "block2_projection" && l.ParamCount == 8_320);
        Assert.DoesNotContain(residual.Layers, l => l.Name == "block1_projection");
    }

    [Fact]
    public void FunctionalMandarinMatchesTheSequentialOne()
    {
        var functional = Applications.MandarinCnn(16, 16, 1, 5);
        var sequential = new Sequential(new Input(16, 16, 1), new Rescaling(1f / 255),
            new Conv2D(16, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
            new Conv2D(32, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
            new Conv2D(64, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
            new Flatten(), new Dense(128, Activation.Relu), new Dense(5));
        Assert.Equal(849_977, Applications.MandarinCnn().CountParams());
        Assert.Equal(sequential.Layers.Select(l => l.Name), functional.Layers.Select(l => l.Name));
        var data = TrainingTestData.Quadrants(24, 1);
        var x = new Tensor(24, 16, 16, 1);
        var rng = new Rng(9);
        for (int i = 0; i < x.Length; i++) x.Span[i] = rng.Uniform(0, 255);
        var labels = Enumerable.Range(0, 24).Select(i => i % 5).ToArray();
        var histories = new List<History>();
        foreach (var m in new Model[] { functional, sequential })
        {
            m.Seed = 3;
            m.Threads = 1;
            m.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());
            histories.Add(m.Fit(x, labels, epochs: 2, batchSize: 8, seed: 4));
        }
        var wf = functional.GetWeights(); var ws = sequential.GetWeights();
        for (int i = 0; i < wf.Length; i++) AssertExactlyEqual<float>(wf[i], ws[i], $"weights {i}");
        Assert.Equal(histories[1]["loss"], histories[0]["loss"]);
        Assert.NotNull(data);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SameSeedGivesBitIdenticalWeightsForGraphs(int threads)
    {
        float[][] Train()
        {
            var inputs = new Input(8, 8, 3);
            var x = Applications.InceptionModule(inputs, 4, 3, 4, 2, 3, 2);
            x = Applications.ResidualBlock(x, 13);
            x = Applications.ResidualBlock(x, 8, strides: 2);
            var m = new Model(inputs, new Dense(3).Apply(new GlobalAveragePooling2D().Apply(x))) { Seed = 5, Threads = threads };
            m.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true));
            var rng = new Rng(6);
            var data = RandomTensor(rng, 12, 8, 8, 3);
            m.Fit(data, Enumerable.Range(0, 12).Select(i => i % 3).ToArray(), epochs: 2, batchSize: 5, seed: 1);
            return m.GetWeights();
        }
        var a = Train(); var b = Train();
        for (int i = 0; i < a.Length; i++) AssertExactlyEqual<float>(a[i], b[i], $"weights {i}");
    }

    [Fact]
    public void SequentialStillBuildsFromDataAndAcceptsLayersAfterBuild()
    {
        var m = new Sequential(new Dense(4, Activation.Relu));
        m.Add(new Dense(2));
        Assert.False(m.IsBuilt);
        var y = m.Predict(new Tensor(3, 5));
        Assert.Equal([3, 2], y.Shape.ToArray());
        m.Add(new Dense(1));
        Assert.Equal([1], m.OutputShape);
        Assert.Equal(3, m.Layers.Count);
        Assert.Equal(1, m.Predict(new Tensor(2, 5)).Shape[1]);
        // a Sequential is a layer too: nest it
        var inputs = new Input(5);
        var outer = new Model(inputs, new Dense(2).Apply(m.Apply(inputs)));
        Assert.Equal(m.CountParams() + 4, outer.CountParams());
        Assert.Matches(@"sequential \(Sequential\)", outer.Summary());
    }
}
