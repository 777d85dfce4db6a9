using ConvNet;
using ConvNet.Kernels;
using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>
/// The inference plan (<see cref="InferenceRewrite"/>): row bands of a convolution equal the whole convolution, the epilogue and
/// strided GEMM kernels equal their naive twins, and models run with the rewrites (BN folded, conv+BN+Add+ReLU fused, zero
/// padding folded, row- and unit-parallel small batches) give the unfused plan's outputs at every batch size and thread count.
/// </summary>
public sealed class InferenceRewriteTests : IDisposable
{
    // Split even the small test models' steps over the threads (only the schedule changes, never the results).
    public InferenceRewriteTests() => InferenceOp.MinParallelWork = 0;

    public void Dispose() => InferenceOp.MinParallelWork = 100_000;

    // ------------------------------------------------------------------------------------------------------------
    // Kernels
    // ------------------------------------------------------------------------------------------------------------

    [Fact]
    public void EpilogueMatchesReference()
    {
        var rng = new Rng(1);
        for (int iter = 0; iter < 300; iter++)
        {
            int pixels = 1 + rng.NextInt(9), ch = 1 + rng.NextInt(70);
            int ss = ch + rng.NextInt(3) * 16, ds = ch + rng.NextInt(3) * 5;
            bool scale = rng.NextInt(2) == 0, shift = rng.NextInt(2) == 0, res = rng.NextInt(2) == 0, relu = rng.NextInt(2) == 0;
            var src = Uniform(rng, (pixels - 1) * ss + ch);
            var sc = scale ? Uniform(rng, ch) : []; var sh = shift ? Uniform(rng, ch) : [];
            var r = res ? Uniform(rng, (pixels - 1) * ds + ch) : [];
            var d1 = Uniform(rng, (pixels - 1) * ds + ch); var d2 = (float[])d1.Clone();
            ConvEpilogue.Apply(pixels, ch, src, ss, sc, sh, r, relu, d1, ds);
            ConvEpilogueReference.Apply(pixels, ch, src, ss, sc, sh, r, relu, d2, ds);
            AssertExactlyEqual<float>(d1, d2, $"epilogue {pixels}×{ch} strides {ss}/{ds} scale={scale} shift={shift} res={res} relu={relu}");
        }
    }

    [Fact]
    public void StridedGemmMatchesReference()
    {
        var rng = new Rng(2);
        for (int iter = 0; iter < 200; iter++)
        {
            int m = 1 + rng.NextInt(9), n = 1 + rng.NextInt(90), k = 1 + rng.NextInt(40);
            int lda = k + rng.NextInt(4), ldb = n + rng.NextInt(20), ldc = n + rng.NextInt(7);
            var a = Uniform(rng, (m - 1) * lda + k); var b = Uniform(rng, (k - 1) * ldb + n);
            var c1 = Uniform(rng, (m - 1) * ldc + n); var c2 = (float[])c1.Clone();
            GemmStrided.NN(m, n, k, a, lda, b, ldb, c1, ldc);
            GemmStridedReference.NN(m, n, k, a, lda, b, ldb, c2, ldc);
            AssertClose(c1, c2, 1e-5, $"gemm {m}×{n}×{k} strides {lda}/{ldb}/{ldc}");
        }
    }

    /// <summary>Every split of the output rows into two or three bands gives the whole convolution's rows exactly (the kernels
    /// clip windows against the band's H and PadTop), for Same and Valid padding, strides 1 and 2, extra (folded) padding.</summary>
    [Fact]
    public void RowBandsEqualTheWholeConvolution()
    {
        var rng = new Rng(3);
        for (int iter = 0; iter < 120; iter++)
        {
            int kh = 1 + rng.NextInt(4) * 2, s = 1 + rng.NextInt(2), h = kh + rng.NextInt(12), w = kh + rng.NextInt(9), c = 1 + rng.NextInt(20), k = 1 + rng.NextInt(40);
            var g = ConvGeometry.Create(1, h, w, c, kh, kh, s, s, rng.NextInt(2) == 0 ? Padding.Same : Padding.Valid, k);
            if (rng.NextInt(3) == 0)
            {
                // Zero padding folded in: the pads grow, the output is the padded input's.
                int t = rng.NextInt(4), l = rng.NextInt(4), bo = rng.NextInt(3), ri = rng.NextInt(3);
                var gp = ConvGeometry.Create(1, h + t + bo, w + l + ri, c, kh, kh, s, s, Padding.Valid, k);
                if (gp.OH <= 0 || gp.OW <= 0) continue;
                g = gp with { H = h, W = w, PadTop = t, PadLeft = l };
            }
            if (g.OH <= 0 || g.OW <= 0) continue;
            var x = Uniform(rng, g.InImage); var wt = Uniform(rng, g.WeightSize); var b = Uniform(rng, k);
            var whole = new float[g.OutImage];
            ConvReference.ConvForward(g, x, wt, b, whole);
            var banded = new float[g.OutImage];
            int cut1 = rng.NextInt(g.OH + 1), cut2 = cut1 + rng.NextInt(g.OH - cut1 + 1);
            foreach (var (r0, r1) in new[] { (0, cut1), (cut1, cut2), (cut2, g.OH) })
            {
                if (r1 <= r0) continue;
                var gb = ConvRowBand.Of(g, r0, r1, out int off);
                Conv.ConvForward(gb, x.AsSpan(off, gb.InImage), wt, b, banded.AsSpan(r0 * g.OW * k, (r1 - r0) * g.OW * k));
            }
            AssertClose(banded, whole, 1e-5, $"{g} bands [0,{cut1}) [{cut1},{cut2}) [{cut2},{g.OH})");
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Models: rewritten vs unfused plan
    // ------------------------------------------------------------------------------------------------------------

    /// <summary>Random (non-trivial) BN statistics and affine parameters, so that the fold is exercised.</summary>
    internal static void RandomizeBatchNorm(Model m, int seed)
    {
        var rng = new Rng(seed);
        foreach (var bn in m.Layers.OfType<BatchNormalization>())
        {
            foreach (ref var v in bn.MovingMean!.Value.Span) v = rng.Uniform(-0.5f, 0.5f);
            foreach (ref var v in bn.MovingVariance!.Value.Span) v = rng.Uniform(0.3f, 2f);
            if (bn.Gamma is { } g) foreach (ref var v in g.Value.Span) v = rng.Uniform(0.5f, 1.5f);
            if (bn.Beta is { } b) foreach (ref var v in b.Value.Span) v = rng.Uniform(-0.3f, 0.3f);
        }
    }

    private static Model ConvBnReluChain()
    {
        var inputs = new Input(11, 10, 3);
        var x = new ZeroPadding2D(((2, 1), (1, 2))).Apply(inputs);
        x = new Conv2D(16, 5, strides: 2, useBias: false).Apply(x);
        x = new BatchNormalization().Apply(x);
        x = new ReLU().Apply(x);
        x = new Conv2D(24, 3, padding: Padding.Same).Apply(x);
        x = new BatchNormalization(scale: false).Apply(x);
        x = new ActivationLayer(Activation.Relu).Apply(x);
        x = new Conv2D(8, 1, activation: Activation.Relu).Apply(x);
        return new Model(inputs, new Dense(5).Apply(new Flatten().Apply(x)));
    }

    private static Model ResidualModel()
    {
        var inputs = new Input(14, 13, 4);
        var x = Applications.ResidualBlock(inputs, 8);
        x = Applications.ResidualBlock(x, 12, strides: 2);
        // A torchvision-style block: padded stride-2 conv, BN, ReLU, conv, BN, Add with a 1×1 projection, ReLU.
        var y = new Conv2D(16, 3, strides: 2, useBias: false).Apply(new ZeroPadding2D(((1, 1), (1, 1))).Apply(x));
        y = new ReLU().Apply(new BatchNormalization(epsilon: 1e-5f).Apply(y));
        y = new BatchNormalization().Apply(new Conv2D(16, 3, padding: Padding.Same, useBias: false).Apply(y));
        var shortcut = new BatchNormalization().Apply(new Conv2D(16, 1, strides: 2, useBias: false).Apply(x));
        x = new ReLU().Apply(new Add().Apply(y, shortcut));
        x = new GlobalAveragePooling2D().Apply(x);
        return new Model(inputs, new Dense(7, Activation.Relu).Apply(x));
    }

    /// <summary>Convs with weights above <see cref="FusedConvEpilogue.SlicedWeightBytes"/>: Same, strided, padded; 100 filters (a partial slice).</summary>
    private static Model SlicedModel()
    {
        var inputs = new Input(9, 8, 256);
        var x = new ReLU().Apply(new BatchNormalization().Apply(new Conv2D(100, 3, padding: Padding.Same, useBias: false).Apply(inputs)));
        var y = new Conv2D(100, 5, strides: 2, activation: Activation.Relu).Apply(new ZeroPadding2D(((2, 2), (1, 2))).Apply(inputs));
        x = new Conv2D(100, 3, strides: 2, padding: Padding.Same).Apply(x);
        x = new ReLU().Apply(new Add().Apply(y, x));
        return new Model(inputs, new GlobalAveragePooling2D().Apply(x));
    }

    /// <summary>Zero padding before max pools: on a signed input (not folded) and after a ReLU (folded); a Same pool.</summary>
    private static Model PoolModel()
    {
        var inputs = new Input(13, 12, 5);
        var x = new MaxPooling2D(2, 1).Apply(new ZeroPadding2D(((1, 0), (0, 1))).Apply(inputs));
        x = new Conv2D(8, 3, activation: Activation.Relu).Apply(x);
        x = new MaxPooling2D(3, 2).Apply(new ZeroPadding2D(((1, 0), (1, 0))).Apply(x));
        x = new MaxPooling2D(2, padding: Padding.Same).Apply(x);
        return new Model(inputs, new Dense(3).Apply(new Flatten().Apply(x)));
    }

    [Fact]
    public void ZeroPaddingFoldsIntoAMaxPoolOnlyAfterARelu()
    {
        var (fused, _) = Pair("pool", 1);
        var steps = fused.Plan().InferenceSteps;
        Assert.Single(steps, s => s.Layer is ZeroPadding2D);   // the one on the signed input stays
        Assert.Single(steps, s => s.Name.Contains("zero_padding2d_1+max_pooling2d_1", StringComparison.Ordinal));
        Assert.All(steps.Where(s => s.Layer is MaxPooling2D), s => Assert.IsType<BandedMaxPool>(s.Op));
        var (resnet, _) = Pair("resnet18", 1);
        Assert.False(resnet.Plan().InferenceSteps.Any(s => s.Op is null && s.Layer is ZeroPadding2D or BatchNormalization),
            string.Join(", ", resnet.Plan().InferenceSteps.Select(s => s.Name)));
    }

    private static Model Make(string which) => which switch
    {
        "chain" => ConvBnReluChain(),
        "residual" => ResidualModel(),
        "mandarin" => Applications.MandarinCnn(24, 24, 1, 9),
        "sliced" => SlicedModel(),
        "pool" => PoolModel(),
        _ => Applications.ResNet18(includeTop: false, inputShape: [64, 64, 3], pooling: "avg"),
    };

    private static (Model Fused, Model Unfused) Pair(string which, int threads)
    {
        var a = Make(which); var b = Make(which);
        a.Seed = b.Seed = 5;
        RandomizeBatchNorm(a, 9); RandomizeBatchNorm(b, 9);
        a.Threads = b.Threads = threads;
        b.EnableFusion = false;
        return (a, b);
    }

    [Theory]
    [InlineData("chain")] [InlineData("residual")] [InlineData("mandarin")] [InlineData("sliced")] [InlineData("pool")]
    public void RewrittenPlanMatchesUnfusedPlan(string which)
    {
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var (fused, unfused) = Pair(which, threads);
            foreach (int n in new[] { 1, 2, 8 })
            {
                var rng = new Rng(100 * threads + n);
                var x = RandomTensor(rng, [n, .. fused.InputShape!]);
                for (int rep = 0; rep < 2; rep++)   // twice: the buffers are reused
                {
                    var expected = unfused.Call(x).ToArray();
                    AssertClose(fused.Call(x).Span, expected, 1e-4, $"{which}, {threads} threads, B = {n}, call {rep}");
                }
            }
        }
    }

    [Fact]
    public void ResNet18MatchesUnfusedPlan()
    {
        foreach (int threads in new[] { 1, 2, 3 })
        {
            var (fused, unfused) = Pair("resnet18", threads);
            foreach (int n in threads == 2 ? new[] { 1, 2, 8 } : new[] { 1, 2 })
            {
                var x = RandomTensor(new Rng(n), [n, .. fused.InputShape!]);
                AssertClose(fused.Call(x).Span, unfused.Call(x).ToArray(), 1e-4, $"ResNet-18 64×64, {threads} threads, B = {n}");
            }
        }
    }

    [Fact]
    public void ResidualModelFusesEveryConvChain()
    {
        var (fused, _) = Pair("residual", 2);
        var plan = fused.Plan();
        string names = string.Join(", ", plan.InferenceSteps.Select(s => s.Name));
        Assert.False(plan.InferenceSteps.Any(s => s.Op is null && s.Layer is BatchNormalization or ZeroPadding2D or Add or ReLU), names);
        Assert.Equal(fused.Layers.OfType<Conv2D>().Count(), plan.InferenceSteps.Count(s => s.Op is FusedConvEpilogue));
        Assert.Equal(fused.Layers.OfType<Add>().Count(), plan.InferenceSteps.Count(s => s.Name.Contains("+add", StringComparison.Ordinal) && s.Op is FusedConvEpilogue));
        Assert.Contains(plan.InferenceSteps, s => s.Op is DenseByUnits);
        // The training plan is untouched.
        Assert.Contains(plan.Steps, s => s.Layer is BatchNormalization);
        Assert.All(plan.Steps, s => Assert.Null(s.Op));
    }

    [Fact]
    public void ChangedParametersAreSeenByTheNextInferenceCall()
    {
        var (fused, unfused) = Pair("residual", 2);
        var x = RandomTensor(new Rng(4), [2, .. fused.InputShape!]);
        fused.Call(x);
        RandomizeBatchNorm(fused, 77); RandomizeBatchNorm(unfused, 77);
        foreach (var (p, q) in fused.Parameters.Zip(unfused.Parameters))
            if (p.Trainable) { p.Value.Span[0] += 0.25f; q.Value.Span[0] += 0.25f; }
        AssertClose(fused.Call(x).Span, unfused.Call(x).ToArray(), 1e-4, "after changing the parameters");
    }

    [Fact]
    public void TrainingCallsUseTheLayersAndBatchStatistics()
    {
        // training: true normalises with batch statistics: the folded path must not be used.
        var (fused, unfused) = Pair("chain", 2);
        var x = RandomTensor(new Rng(6), [4, .. fused.InputShape!]);
        AssertClose(fused.Call(x, training: true).Span, unfused.Call(x, training: true).ToArray(), 1e-5, "training forward");
        AssertClose(fused.Call(x).Span, unfused.Call(x).ToArray(), 1e-4, "inference after a training call");
    }

    [Fact]
    public void UnfusedPlanHasNoInferenceOps()
    {
        var (_, unfused) = Pair("residual", 1);
        Assert.All(unfused.Plan().InferenceSteps, s => Assert.Null(s.Op));
    }
}

/// <summary>Inference with the rewritten plan allocates nothing after warm-up.</summary>
[Collection("Allocation")]
public class InferenceRewriteAllocationTests
{
    [Theory]
    [InlineData(1, 1)] [InlineData(1, 2)] [InlineData(4, 2)] [InlineData(3, 3)]
    public void RewrittenInferenceAllocatesNothingAfterWarmUp(int n, int threads)
    {
        var inputs = new Input(12, 12, 3);
        var x = Applications.ResidualBlock(inputs, 8);
        var y = new ReLU().Apply(new BatchNormalization().Apply(new Conv2D(8, 3, padding: Padding.Same, useBias: false).Apply(new ZeroPadding2D(1).Apply(x))));
        y = new MaxPooling2D().Apply(new Conv2D(6, 3, padding: Padding.Same, activation: Activation.Relu).Apply(y));
        var m = new Model(inputs, new Dense(4).Apply(new Dense(16, Activation.Relu).Apply(new Flatten().Apply(y)))) { Threads = threads, Seed = 1 };
        var t = new Tensor(n, 12, 12, 3);
        for (int i = 0; i < 3; i++) m.Call(t);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) m.Call(t);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Contains(m.Plan().InferenceSteps, s => s.Op is BandedConvPool);
        Assert.Contains(m.Plan().InferenceSteps, s => s.Op is FusedConvEpilogue);
    }

    /// <summary>A conv with weights above <see cref="FusedConvEpilogue.SlicedWeightBytes"/> (run by output-channel slices).</summary>
    [Theory]
    [InlineData(1, 2)] [InlineData(3, 2)] [InlineData(2, 1)]
    public void SlicedConvInferenceAllocatesNothingAfterWarmUp(int n, int threads)
    {
        var inputs = new Input(6, 5, 256);
        var x = new BatchNormalization().Apply(new Conv2D(160, 3, padding: Padding.Same, useBias: false).Apply(inputs));
        var m = new Model(inputs, new ReLU().Apply(new Add().Apply(x, new Conv2D(160, 1).Apply(inputs)))) { Threads = threads, Seed = 1 };
        var t = new Tensor(n, 6, 5, 256);
        for (int i = 0; i < 3; i++) m.Call(t);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) m.Call(t);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
