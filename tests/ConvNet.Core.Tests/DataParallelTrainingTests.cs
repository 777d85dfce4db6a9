using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>
/// The data-parallel training step (<see cref="DataParallelStep"/>): each thread runs the whole network on its share of the
/// batch, gradients are summed in replica order. Its gradients, loss and metrics match the layer-parallel path within float
/// rounding, it is deterministic for a given thread count, and graphs it cannot split keep the layer-parallel path.
/// </summary>
public sealed class DataParallelTrainingTests
{
    // Models are built from a factory so that two instances with the same seed start from the same weights.
    public static TheoryData<string, int, int> Graphs() => new()
    {
        { "mandarin", 2, 7 }, { "mandarin", 3, 7 }, { "residual", 2, 7 }, { "residual", 3, 7 },
        { "concatenate", 2, 7 }, { "concatenate", 3, 7 }, { "mandarin", 2, 2 }, { "residual", 3, 5 },
    };

    private static Model Build(string kind)
    {
        switch (kind)
        {
            case "mandarin":
            {
                // the lecture model, smaller: Rescaling, three fused conv+pool pairs, Flatten, Dense(ReLU), Dense logits
                var inputs = new Input(16, 16, 1);
                var x = new Rescaling(1f / 255).Apply(inputs);
                foreach (int f in new[] { 4, 8, 8 })
                    x = new MaxPooling2D().Apply(new Conv2D(f, 3, padding: Padding.Same, activation: Activation.Relu).Apply(x));
                x = new Dense(16, Activation.Relu).Apply(new Flatten().Apply(x));
                return new Model(inputs, new Dense(5).Apply(x)) { Seed = 3 };
            }
            case "residual":
            {
                // fan-out of the input and of a block output, Add, a projection shortcut, a fused pair
                var inputs = new Input(8, 8, 3);
                var x = Applications.ResidualBlock(Applications.ResidualBlock(inputs, 3), 6, strides: 2);
                x = new MaxPooling2D().Apply(new Conv2D(5, 3, padding: Padding.Same, activation: Activation.Relu).Apply(x));
                return new Model(inputs, new Dense(5).Apply(new Flatten().Apply(x))) { Seed = 4 };
            }
            default:
            {
                var inputs = new Input(8, 8, 3);
                var x = Applications.InceptionModule(inputs, 4, 3, 6, 2, 3, 2);   // four branches, Concatenate
                return new Model(inputs, new Dense(5).Apply(new GlobalAveragePooling2D().Apply(x))) { Seed = 5 };
            }
        }
    }

    private static (Tensor X, int[] Y) Data(Model m, int n, int seed)
    {
        var rng = new Rng(seed);
        var x = RandomTensor(rng, [n, .. m.InputShape!]);
        if (m.Layers.Any(l => l is Rescaling)) for (int i = 0; i < x.Length; i++) x.Span[i] = 127.5f * (x.Span[i] + 1);
        return (x, Enumerable.Range(0, n).Select(i => (i * 3 + 1) % 5).ToArray());
    }

    // Reference: the layer-parallel path (the whole batch through the model), mean loss over N, backward.
    private static (double Loss, float[][] Grads) LayerParallelGradients(Model m, Tensor x, int[] y, Loss loss)
    {
        var logits = m.Call(x, training: true);
        var grad = new Tensor(logits.Shape);
        double l = loss.Compute(x.Shape[0], logits.Shape[1], logits.Span, y, grad.Span, new float[logits.Length]);
        m.Backward(grad);
        var grads = m.Parameters.Select(p => p.Grad.ToArray()).ToArray();
        foreach (var p in m.Parameters) p.Grad.Span.Clear();
        return (l, grads);
    }

    private static (double Loss, float[][] Grads) DataParallelGradients(Model m, Tensor x, int[] y, Loss loss)
    {
        var dp = m.DataParallelFor(x.Shape[0]);
        Assert.NotNull(dp);
        double l = dp.Run(x, TargetBatch.FromLabels(y), loss, m.OutputShape[^1]);
        dp.ReduceGradients();
        var grads = m.Parameters.Select(p => p.Grad.ToArray()).ToArray();
        foreach (var p in m.Parameters) p.Grad.Span.Clear();
        return (l, grads);
    }

    private static void AssertGradientsClose(float[][] expected, float[][] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double scale = Math.Max(1e-6, Rms(expected[i]));
            for (int j = 0; j < expected[i].Length; j++)
                Assert.True(Math.Abs(expected[i][j] - actual[i][j]) <= 1e-4 * scale + 1e-6 * Math.Abs(expected[i][j]),
                    $"{what}: parameter {i}[{j}]: {actual[i][j]} vs {expected[i][j]} (rms {scale})");
        }
    }

    [Theory]
    [MemberData(nameof(Graphs))]
    public void GradientsMatchOneThreadAndLayerParallel(string kind, int threads, int n)
    {
        var loss = new SparseCategoricalCrossentropy(fromLogits: true);
        var one = Build(kind); one.Threads = 1;
        var layerParallel = Build(kind); layerParallel.Threads = threads; layerParallel.EnableDataParallel = false;
        var dataParallel = Build(kind); dataParallel.Threads = threads;
        var (x, y) = Data(one, n, 11);
        var (l1, g1) = LayerParallelGradients(one, x, y, loss);
        var (lp, gp) = LayerParallelGradients(layerParallel, x, y, loss);
        var (ld, gd) = DataParallelGradients(dataParallel, x, y, loss);
        Assert.Equal(l1, ld, 1e-5 * Math.Abs(l1));
        Assert.Equal(lp, ld, 1e-5 * Math.Abs(lp));
        AssertGradientsClose(g1, gd, $"{kind}, {threads} threads, batch {n}: data-parallel vs 1 thread");
        AssertGradientsClose(gp, gd, $"{kind}, {threads} threads, batch {n}: data-parallel vs layer-parallel");
        Assert.Contains(dataParallel.DataParallelFor(n)!.Replicas[0].Plan.Steps, s => s.LayerCount == 2 || kind == "concatenate");   // fusion kept
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void TrainOnBatchReportsTheSameLossAndMetricsAndSteps(int threads)
    {
        var a = Build("residual"); a.Threads = 1;
        var b = Build("residual"); b.Threads = threads;
        foreach (var m in new[] { a, b }) m.Compile(new SGD(0.05f), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy(), new SparseTopKCategoricalAccuracy(2));
        var (x, y) = Data(a, 7, 12);
        for (int step = 0; step < 3; step++)
        {
            double la = a.TrainOnBatch(x, y), lb = b.TrainOnBatch(x, y);
            Assert.Equal(la, lb, 1e-5 * Math.Abs(la));
            var ea = a.Evaluate(x, y, 7); var eb = b.Evaluate(x, y, 7);
            for (int i = 0; i < ea.Length; i++) Assert.Equal(ea[i], eb[i], 1e-4);
        }
        var wa = a.GetWeights(); var wb = b.GetWeights();
        AssertGradientsClose(wa, wb, $"weights after 3 SGD steps, {threads} threads vs 1");
        Assert.NotNull(b.DataParallelFor(7));
    }

    [Fact]
    public void FitMetricsMatchTheLayerParallelPath()
    {
        var data = new Dataset(RandomTensor(new Rng(2), 14, 8, 8, 3), Enumerable.Range(0, 14).Select(i => i % 5).ToArray());
        History Run(bool dataParallel)
        {
            var m = Build("concatenate");
            m.Threads = 2; m.EnableDataParallel = dataParallel;
            m.Compile(new SGD(0.01f), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());
            return m.Fit(data, epochs: 2, batchSize: 5, seed: 1, verbose: 0);
        }
        var a = Run(false); var b = Run(true);
        for (int e = 0; e < 2; e++)
        {
            Assert.Equal(a["loss"][e], b["loss"][e], 1e-5);
            Assert.Equal(a["accuracy"][e], b["accuracy"][e]);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void TwoRunsAreBitIdentical(int threads)
    {
        float[][] Train()
        {
            var m = Build("residual");
            m.Threads = threads;
            m.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());
            var (x, y) = Data(m, 19, 13);
            m.Fit(x, y, epochs: 2, batchSize: 7, seed: 2, verbose: 0);   // batches of 7, 7, 5: uneven shares
            Assert.NotNull(m.DataParallelFor(7));
            return m.GetWeights();
        }
        var a = Train(); var b = Train();
        for (int i = 0; i < a.Length; i++) AssertExactlyEqual<float>(a[i], b[i], $"weights {i}");
    }

    [Fact]
    public void OneThreadKeepsTheLayerPath()
    {
        var m = Build("mandarin");
        m.Threads = 1;
        Assert.Null(m.DataParallelFor(32));
        m.Threads = 2;
        Assert.Null(m.DataParallelFor(1));   // one row: nothing to split
        Assert.NotNull(m.DataParallelFor(2));
    }

    /// <summary>Graphs whose training couples samples or draws random numbers, and nested models: the layer-parallel path,
    /// so their results are exactly those with data-parallel training switched off.</summary>
    public static TheoryData<string> Fallbacks() => ["batchnorm", "dropout", "spatialdropout", "augmentation", "nested"];

    private static Model FallbackModel(string kind)
    {
        var inputs = new Input(8, 8, 3);
        SymbolicTensor x = inputs;
        if (kind == "augmentation") x = new RandomFlip(seed: 3).Apply(x);
        x = new Conv2D(4, 3, padding: Padding.Same, activation: Activation.Relu).Apply(x);
        x = kind switch
        {
            "batchnorm" => new BatchNormalization().Apply(x),
            "spatialdropout" => new SpatialDropout2D(0.3f, seed: 4).Apply(x),
            "nested" => new Sequential(new Input(8, 8, 4), new Conv2D(4, 3, padding: Padding.Same)).Apply(x),
            _ => x,
        };
        x = new Flatten().Apply(x);
        if (kind == "dropout") x = new Dropout(0.4f, seed: 5).Apply(x);
        return new Model(inputs, new Dense(5).Apply(x)) { Seed = 6 };
    }

    [Theory]
    [MemberData(nameof(Fallbacks))]
    public void BatchCoupledRandomAndNestedGraphsFallBackBitIdentically(string kind)
    {
        float[][] Train(bool dataParallel)
        {
            var m = FallbackModel(kind);
            m.Threads = 2; m.EnableDataParallel = dataParallel;
            m.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true));
            var (x, y) = Data(m, 9, 14);
            m.Fit(x, y, epochs: 2, batchSize: 4, seed: 3, verbose: 0);
            if (dataParallel) Assert.Null(m.DataParallelFor(4));
            return m.GetWeights();
        }
        var a = Train(false); var b = Train(true);
        for (int i = 0; i < a.Length; i++) AssertExactlyEqual<float>(a[i], b[i], $"{kind}: weights {i}");
    }

    [Fact]
    public void BatchNormalizationInInferenceModeIsSplit()
    {
        var inputs = new Input(6, 6, 2);
        var x = new Conv2D(3, 3, padding: Padding.Same, activation: Activation.Tanh).Apply(inputs);
        x = new BatchNormalization().Apply(x, training: false);   // moving statistics only: per sample
        var m = new Model(inputs, new Dense(5).Apply(new Flatten().Apply(x))) { Seed = 7, Threads = 2 };
        Assert.NotNull(m.DataParallelFor(5));
        var loss = new SparseCategoricalCrossentropy(fromLogits: true);
        var (xs, y) = Data(m, 5, 15);
        m.EnableDataParallel = false;
        var (lp, gp) = LayerParallelGradients(m, xs, y, loss);
        m.EnableDataParallel = true;
        var (ld, gd) = DataParallelGradients(m, xs, y, loss);
        Assert.Equal(lp, ld, 1e-5 * Math.Abs(lp));
        AssertGradientsClose(gp, gd, "BatchNormalization(training: false)");
    }

    [Fact]
    public void FreezingAndReseedingTakeEffectInTheReplicas()
    {
        var m = Build("mandarin");
        m.Threads = 2;
        m.Compile(new SGD(0.1f), new SparseCategoricalCrossentropy(fromLogits: true));
        var (x, y) = Data(m, 6, 16);
        m.TrainOnBatch(x, y);
        var conv = m.Layers.OfType<Conv2D>().First();
        conv.Trainable = false;
        var before = conv.Parameters.Select(p => p.Value.ToArray()).ToArray();
        m.TrainOnBatch(x, y);
        for (int i = 0; i < before.Length; i++) AssertExactlyEqual<float>(before[i], conv.Parameters[i].Value.ToArray(), "frozen conv");
        conv.Trainable = true;
        m.Seed = 9;   // new parameter tensors: the replicas are rebuilt
        var fresh = m.GetWeights();
        m.TrainOnBatch(x, y);
        Assert.False(TrainingTestData.WeightsIdentical(fresh, m.GetWeights()), "the re-seeded model did not train");
        Assert.All(m.Parameters, p => Assert.All(p.Grad.ToArray(), g => Assert.Equal(0f, g)));
    }

    [Fact]
    public void NonFiniteLossAppliesNothingAndLeavesNoGradient()
    {
        // Two linear Dense layers: one SGD step with lr 1e30 makes both kernels ~1e30, so the next logits overflow float.
        var model = new Sequential { Seed = 1, Threads = 2 };
        model.Add(new Input(2)); model.Add(new Dense(8)); model.Add(new Dense(4));
        TrainingTestData.Compile(model, new SGD(1e30f));
        float[][] lastApplied = model.GetWeights();
        var rec = new TrainingProgressRecorder(p => { if (p.Kind == ProgressKind.BatchEnd) lastApplied = model.GetWeights(); });
        var e = Assert.Throws<TrainingException>(() => model.Fit(TrainingTestData.Points(40, 1), epochs: 3, batchSize: 8, progress: rec));
        Assert.True(e.LossNotFinite);
        Assert.NotNull(model.DataParallelFor(8));
        TrainingTestData.AssertWeightsIdentical(lastApplied, model.GetWeights(), "weights after the batch whose loss was not finite");
        Assert.All(model.Parameters, p => Assert.All(p.Grad.ToArray(), g => Assert.Equal(0f, g)));
        foreach (var r in model.DataParallelFor(8)!.Replicas)
            Assert.All(r.OwnParameters, p => Assert.All(p.Grad.ToArray(), g => Assert.Equal(0f, g)));
    }
}
