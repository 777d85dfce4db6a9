using ConvNet.Kernels;
using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>
/// The fused Conv2D (+ReLU) + MaxPooling2D path: kernel vs reference twins (values and argmax exactly), model with
/// fusion vs the same model with fusion disabled (outputs and parameter gradients), and a finite-difference gradient
/// check through the fused pair.
/// </summary>
[Collection("Allocation")]
public class FusedConvPoolTests
{
    private static readonly (int PH, int PW, int SH, int SW)[] Pools = [(2, 2, 2, 2), (3, 3, 3, 3), (2, 3, 2, 3), (2, 2, 3, 3), (1, 2, 1, 2), (3, 1, 4, 2)];

    private sealed record Case(ConvGeometry Conv, ConvGeometry Pool, bool Relu, bool Bias);

    /// <summary>Random conv + pool geometries (odd sizes, channel tails K = 1..3·8+1, both paddings); null if the pool is degenerate.</summary>
    private static Case? RandomCase(Rng rng, int k)
    {
        int n = 1 + rng.NextInt(3), h = 1 + rng.NextInt(13), w = 1 + rng.NextInt(13), c = 1 + rng.NextInt(9);
        int kh = 1 + rng.NextInt(Math.Min(h, 3)), kw = 1 + rng.NextInt(Math.Min(w, 3)), sh = 1 + rng.NextInt(2), sw = 1 + rng.NextInt(2);
        var conv = ConvGeometry.Create(n, h, w, c, kh, kw, sh, sw, rng.NextInt(2) == 0 ? Padding.Same : Padding.Valid, k);
        if (conv.OH <= 0 || conv.OW <= 0) return null;
        var (ph, pw, psh, psw) = Pools[rng.NextInt(Pools.Length)];
        var pg = ConvGeometry.Create(n, conv.OH, conv.OW, k, ph, pw, psh, psw, rng.NextInt(2) == 0 ? Padding.Same : Padding.Valid, k);
        if (pg.OH <= 0 || pg.OW <= 0) return null;
        if ((pg.OH - 1) * pg.SH - pg.PadTop >= pg.H || (pg.OW - 1) * pg.SW - pg.PadLeft >= pg.W || pg.KH <= pg.PadTop || pg.KW <= pg.PadLeft) return null;
        return new Case(conv, pg, rng.NextInt(2) == 0, rng.NextInt(4) != 0);
    }

    private static float[] SmallIntegers(Rng rng, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = rng.NextInt(5) - 2;
        return a;
    }

    private static void Forward(Case t, KernelBackend? backend, float[] x, float[] w, float[] b, float[] y, byte[] arg)
    {
        var p = t.Pool;
        if (backend is not { } kb) ConvPoolReference.ConvPoolForward(t.Conv, p.KH, p.KW, p.SH, p.SW, p.PadTop, p.PadLeft, p.OH, p.OW, t.Relu, x, w, b, y, arg);
        else ConvPool.ConvPoolForwardOn(kb, t.Conv, p.KH, p.KW, p.SH, p.SW, p.PadTop, p.PadLeft, p.OH, p.OW, t.Relu, x, w, b, y, arg);
    }

    [Theory, Backends]
    public void FusedForwardMatchesReferenceExactlyOnIntegerData(string backend)
    {
        var kb = KernelBackendTests.Parse(backend);
        // Small integers: every conv sum is exact in float whatever the order, so values and argmax (ties included) must match exactly.
        var rng = new Rng(11);
        int tested = 0;
        for (int iter = 0; iter < 1500; iter++)
        {
            int k = 1 + iter % (3 * 8 + 1);
            var t = RandomCase(rng, k);
            if (t is null) continue;
            var x = SmallIntegers(rng, t.Conv.N * t.Conv.InImage);
            var w = SmallIntegers(rng, t.Conv.WeightSize);
            var b = t.Bias ? SmallIntegers(rng, k) : [];
            int len = t.Pool.N * t.Pool.OutImage;
            var y = Uniform(rng, len); var yr = new float[len];
            var a = new byte[len]; var ar = new byte[len];
            Forward(t, kb, x, w, b, y, a);
            Forward(t, null, x, w, b, yr, ar);
            string label = $"[{backend}] conv {t.Conv} pool {t.Pool} relu={t.Relu}";
            AssertExactlyEqual<float>(y, yr, $"{label}: pooled values");
            AssertExactlyEqual<byte>(a, ar, $"{label}: argmax");
            tested++;
        }
        Assert.True(tested > 1000, $"only {tested} cases were valid");
    }

    [Theory, Backends]
    public void FusedForwardIsBitIdenticalToUnfusedSimdPair(string backend)
    {
        var kb = KernelBackendTests.Parse(backend);
        // Random reals: the fused kernel computes each conv row with the same SIMD tiles as Conv.ConvForward, so
        // conv → (ReLU) → max pool composed from the production kernels must agree bit for bit, argmax included.
        var rng = new Rng(12);
        for (int iter = 0; iter < 800; iter++)
        {
            int k = 1 + iter % (3 * 8 + 1);
            var t = RandomCase(rng, k);
            if (t is null) continue;
            var g = t.Conv; var p = t.Pool;
            var x = Uniform(rng, g.N * g.InImage); var w = Uniform(rng, g.WeightSize); var b = t.Bias ? Uniform(rng, k) : [];
            var z = new float[g.N * g.OutImage];
            Conv.ConvForwardOn(kb, g, x, w, b, z);
            if (t.Relu) Activations.ReluForward(z, z);
            var yu = new float[p.N * p.OutImage]; var flat = new int[yu.Length];
            Pool.MaxPoolForward(p, z, yu, flat);
            var y = new float[yu.Length]; var a = new byte[yu.Length];
            Forward(t, kb, x, w, b, y, a);
            string label = $"[{backend}] conv {g} pool {p} relu={t.Relu}";
            AssertExactlyEqual<float>(y, yu, $"{label}: pooled values vs unfused SIMD");
            // argmax agrees wherever the gradient can flow (ReLU may turn several negative z into tied zeros).
            for (int o = 0; o < y.Length; o++)
            {
                if (t.Relu && !(y[o] > 0f)) continue;
                int pix = o / p.C, pw = pix % p.OW, po = pix / p.OW % p.OH;
                int zp = flat[o] / p.C, zw = zp % p.W, zh = zp / p.W % p.H;
                int expected = (zh - (po * p.SH - p.PadTop)) * p.KW + zw - (pw * p.SW - p.PadLeft);
                Assert.True(a[o] == expected, $"{label}: argmax[{o}] = {a[o]}, unfused {expected}");
            }
        }
    }

    [Theory, Backends]
    public void ScatterMatchesReferenceExactly(string backend)
    {
        var kb = KernelBackendTests.Parse(backend);
        var rng = new Rng(13);
        for (int iter = 0; iter < 800; iter++)
        {
            int k = 1 + iter % (3 * 8 + 1);
            var t = RandomCase(rng, k);
            if (t is null) continue;
            var g = t.Conv; var p = t.Pool;
            var x = Uniform(rng, g.N * g.InImage); var w = Uniform(rng, g.WeightSize); var b = t.Bias ? Uniform(rng, k) : [];
            var y = new float[p.N * p.OutImage]; var a = new byte[y.Length];
            Forward(t, kb, x, w, b, y, a);
            var dy = Uniform(rng, y.Length);
            var dz = Uniform(rng, g.N * g.OutImage);   // garbage: the scatter overwrites everything
            var dzr = new float[dz.Length];
            ConvPool.MaxPoolScatterOn(kb, g, p.KH, p.KW, p.SH, p.SW, p.PadTop, p.PadLeft, p.OH, p.OW, t.Relu, y, dy, a, dz);
            ConvPoolReference.MaxPoolScatter(g, p.KH, p.KW, p.SH, p.SW, p.PadTop, p.PadLeft, p.OH, p.OW, t.Relu, y, dy, a, dzr);
            AssertExactlyEqual<float>(dz, dzr, $"[{backend}] conv {g} pool {p} relu={t.Relu}: dz");
        }
    }

    [Fact]
    public void UnsupportedPoolsAreNotFused()
    {
        Assert.False(ConvPool.Supports(3, 3, 2, 2));   // overlapping windows
        Assert.False(ConvPool.Supports(17, 16, 17, 16));   // > 256 window positions
        var m = new Sequential(new Input(13, 13, 2), new Conv2D(3, 3, activation: Activation.Relu), new MaxPooling2D(3, 2),
            new Conv2D(3, 1, activation: Activation.Tanh), new MaxPooling2D(), new Conv2D(3, 1), new MaxPooling2D(), new Flatten(), new Dense(2));
        var plan = m.Plan();
        Assert.Equal([1, 1, 1, 1, 2, 1, 1], plan.Steps.Select(s => s.LayerCount));
        m.EnableFusion = false;
        Assert.All(m.Plan().Steps, s => Assert.Equal(1, s.LayerCount));
    }

    // ----------------------------------------------------------------------------------------------------------
    // Model level: fusion on vs off
    // ----------------------------------------------------------------------------------------------------------

    private static Sequential[] ModelPair(int which, int threads)
    {
        Sequential Make() => which switch
        {
            0 => new Sequential(new Input(16, 16, 1), new Rescaling(1f / 255),
                new Conv2D(8, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
                new Conv2D(16, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
                new Conv2D(12, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
                new Flatten(), new Dense(32, Activation.Relu), new Dense(5)),
            1 => new Sequential(new Input(17, 15, 3),
                new Conv2D(5, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(2, padding: Padding.Same),
                new Conv2D(9, 3, activation: Activation.None), new MaxPooling2D(),
                new Flatten(), new Dense(4)),
            _ => new Sequential(new Input(13, 14, 2), new Conv2D(7, (3, 2), (1, 2), Padding.Same, Activation.Relu),
                new MaxPooling2D((2, 3), (3, 3)), new Conv2D(25, 1, activation: Activation.Relu), new MaxPooling2D((1, 2)),
                new GlobalAveragePooling2D(), new Dense(6)),
        };
        var a = Make(); var b = Make();
        a.Seed = b.Seed = 4;
        a.Threads = b.Threads = threads;
        b.EnableFusion = false;
        return [a, b];
    }

    [Theory]
    [InlineData(0, 1, null)] [InlineData(0, 2, null)] [InlineData(1, 1, null)] [InlineData(1, 2, null)] [InlineData(2, 1, null)] [InlineData(2, 2, null)]
    [InlineData(0, 1, true)] [InlineData(0, 2, true)] [InlineData(1, 2, true)] [InlineData(2, 1, true)] [InlineData(0, 2, false)]
    public void FusedModelMatchesUnfusedModel(int which, int threads, bool? sparse)
    {
        var models = ModelPair(which, threads);
        foreach (var step in models[0].Plan().Steps) if (step.Fused is { } f) f.SparseBackward = sparse;   // null: automatic by channel count
        Assert.Contains(models[0].Plan().Steps, s => s.LayerCount == 2);
        Assert.All(models[1].Plan().Steps, s => Assert.Equal(1, s.LayerCount));
        var rng = new Rng(20 + which);
        var shape = models[0].InputShape!;
        var x = RandomTensor(rng, [7, .. shape]);
        if (which == 0) TensorScale(x, 255f);
        var outputs = new float[2][]; var grads = new float[2][][]; var dxs = new float[2][];
        var g = RandomTensor(rng, [7, .. models[0].OutputShape]);
        for (int i = 0; i < 2; i++)
        {
            var m = models[i];
            for (int rep = 0; rep < 2; rep++)   // twice: workspaces reused
            {
                outputs[i] = m.Call(x, training: true).ToArray();
                foreach (var p in m.Parameters) p.Grad.Span.Clear();
                var plan = m.Plan();
                plan.PrepareBackward(inputNeedsGradient: false);
                plan.Backward(g);
                grads[i] = m.Parameters.Select(p => p.Grad.ToArray()).ToArray();
            }
        }
        AssertClose(outputs[0], outputs[1], 1e-5, "outputs");
        for (int k = 0; k < grads[0].Length; k++)
            AssertClose(grads[0][k], grads[1][k], 1e-5, $"gradient of parameter {k} ({models[0].Parameters[k].Name})");

        // And a full TrainOnBatch (SGD: the weight change is the gradient) gives the same loss and weights.
        var labels = Enumerable.Range(0, 7).Select(i => i % models[0].OutputShape[^1]).ToArray();
        var loss = new double[2];
        for (int i = 0; i < 2; i++)
        {
            models[i].Compile(new SGD(0.5f), new SparseCategoricalCrossentropy(fromLogits: true));
            loss[i] = models[i].TrainOnBatch(x, labels);
        }
        Assert.Equal(loss[1], loss[0], 1e-5);
        var w0 = models[0].GetWeights(); var w1 = models[1].GetWeights();
        for (int k = 0; k < w0.Length; k++) AssertClose(w0[k], w1[k], 1e-5, $"weights {k} after TrainOnBatch");
        AssertClose(models[0].Call(x).ToArray(), models[1].Call(x).ToArray(), 1e-5, "outputs after TrainOnBatch");
    }

    private static void TensorScale(Tensor t, float s)
    {
        var sp = t.Span;
        for (int i = 0; i < sp.Length; i++) sp[i] = (sp[i] + 1) * 0.5f * s;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void FusedTrainingStepAllocatesZeroBytesAfterWarmUp(int threads)
    {
        var m = ModelPair(0, threads)[0];
        m.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());
        var rng = new Rng(5);
        var x = RandomTensor(rng, 8, 16, 16, 1);
        var y = Enumerable.Range(0, 8).Select(i => i % 5).ToArray();
        for (int i = 0; i < 3; i++) m.TrainOnBatch(x, y);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) m.TrainOnBatch(x, y);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void StandAloneLayersStayUnfused()
    {
        var conv = new Conv2D(4, 3, padding: Padding.Same, activation: Activation.Relu);
        var pool = new MaxPooling2D();
        var rng = new Rng(6);
        var x = RandomTensor(rng, 2, 6, 6, 3);
        var y = pool.Forward(conv.Forward(x, true), true);
        Assert.Equal([2, 3, 3, 4], y.Shape.ToArray());
        var dx = conv.Backward(pool.Backward(RandomTensor(rng, 2, 3, 3, 4)));
        Assert.Equal(x.Length, dx.Length);
    }

    // ----------------------------------------------------------------------------------------------------------
    // Finite differences through the fused pair (double-precision reference forward, L = Σ g·y)
    // ----------------------------------------------------------------------------------------------------------

    /// <summary>Double conv → act → max pool (first maximum), NHWC.</summary>
    private static double[] ReferencePair(ConvGeometry g, ConvGeometry p, bool relu, double[] x, double[] w, double[] b)
    {
        var z = new double[g.N * g.OutImage];
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        for (int ow = 0; ow < g.OW; ow++)
        for (int k = 0; k < g.K; k++)
        {
            double s = b[k];
            for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ih = oh * g.SH - g.PadTop + kh, iw = ow * g.SW - g.PadLeft + kw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                for (int c = 0; c < g.C; c++) s += x[((n * g.H + ih) * g.W + iw) * g.C + c] * w[((kh * g.KW + kw) * g.C + c) * g.K + k];
            }
            z[((n * g.OH + oh) * g.OW + ow) * g.K + k] = relu ? Math.Max(s, 0) : s;
        }
        var y = new double[p.N * p.OutImage];
        for (int n = 0; n < p.N; n++)
        for (int po = 0; po < p.OH; po++)
        for (int pw = 0; pw < p.OW; pw++)
        for (int k = 0; k < p.C; k++)
        {
            double best = double.NegativeInfinity;
            for (int kh = 0; kh < p.KH; kh++)
            for (int kw = 0; kw < p.KW; kw++)
            {
                int ih = po * p.SH - p.PadTop + kh, iw = pw * p.SW - p.PadLeft + kw;
                if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
                best = Math.Max(best, z[((n * p.H + ih) * p.W + iw) * p.C + k]);
            }
            y[((n * p.OH + po) * p.OW + pw) * p.C + k] = best;
        }
        return y;
    }

    [Theory]
    [InlineData(Activation.Relu, Padding.Same, 1)]
    [InlineData(Activation.Relu, Padding.Valid, 2)]
    [InlineData(Activation.None, Padding.Same, 2)]
    [InlineData(Activation.None, Padding.Valid, 1)]
    public void FiniteDifferencesThroughTheFusedPair(Activation act, Padding poolPadding, int threads)
    {
        var rng = new Rng(30 + (int)act * 7 + (int)poolPadding);
        var conv = new Conv2D(3, 3, padding: Padding.Same, activation: act) { Threads = threads };
        var pool = new MaxPooling2D(2, padding: poolPadding) { Threads = threads };
        var model = new Sequential(new Input(5, 7, 2), conv, pool) { Seed = 9 };
        Assert.Equal(2, model.Plan().Steps[0].LayerCount);
        var fused = new FusedConvPool(conv, pool);
        conv.NeedsInputGradient = true;   // check dL/dx too (the first layer of a model normally skips it)
        Uniform(rng, conv.Bias!.Value.Length, -0.3f, 0.3f).CopyTo(conv.Bias.Value.Span);
        var x = RandomTensor(rng, 2, 5, 7, 2);
        var y = fused.Forward(x).ToArray();
        var g = RandomTensor(rng, [2, .. pool.OutputShape!]);
        conv.Kernel!.Grad.Span.Clear(); conv.Bias.Grad.Span.Clear();
        var dx = fused.Backward(g).ToArray();
        var dw = conv.Kernel.Grad.ToArray(); var db = conv.Bias.Grad.ToArray();

        var cg = ConvGeometry.Create(2, 5, 7, 2, 3, 3, 1, 1, Padding.Same, 3);
        var pg = pool.Geometry(2);
        var xd = ToDouble(x.Span); var wd = ToDouble(conv.Kernel.Value.Span); var bd = ToDouble(conv.Bias.Value.Span); var gd = ToDouble(g.Span);
        bool relu = act == Activation.Relu;
        AssertClose(y, ReferencePair(cg, pg, relu, xd, wd, bd), 1e-5, "fused forward vs double reference");
        double Loss()
        {
            var yy = ReferencePair(cg, pg, relu, xd, wd, bd);
            double l = 0;
            for (int i = 0; i < yy.Length; i++) l += gd[i] * yy[i];
            return l;
        }
        double[] Numeric(double[] v)
        {
            const double h = 1e-5;
            var r = new double[v.Length];
            for (int i = 0; i < v.Length; i++)
            {
                double o = v[i];
                v[i] = o + h; double lp = Loss();
                v[i] = o - h; double lm = Loss();
                v[i] = o;
                r[i] = (lp - lm) / (2 * h);
            }
            return r;
        }
        AssertClose(dx, Numeric(xd), 1e-4, "dL/dx through the fused pair", atol: 1e-8);
        AssertClose(dw, Numeric(wd), 1e-4, "dL/dkernel through the fused pair", atol: 1e-8);
        AssertClose(db, Numeric(bd), 1e-4, "dL/dbias through the fused pair", atol: 1e-8);
    }
}

/// <summary>The overwriting backward verbs (no clear) equal clear + the accumulating reference verbs exactly.</summary>
public class FusedOverwriteKernelTests
{
    [Fact]
    public void MaxPoolBackwardOverwriteMatchesReference()
    {
        var rng = new Rng(40);
        (int, int, int, int)[] pools = [(2, 2, 2, 2), (3, 3, 3, 3), (2, 3, 2, 3), (2, 2, 3, 3), (1, 2, 1, 2), (3, 1, 4, 2)];
        for (int iter = 0; iter < 600; iter++)
        {
            int c = 1 + iter % (3 * 8 + 1), n = 1 + rng.NextInt(3), h = 1 + rng.NextInt(12), w = 1 + rng.NextInt(12);
            var (ph, pw, sh, sw) = pools[rng.NextInt(pools.Length)];
            var g = ConvGeometry.Create(n, h, w, c, ph, pw, sh, sw, rng.NextInt(2) == 0 ? Padding.Same : Padding.Valid, c);
            if (g.OH <= 0 || g.OW <= 0 || (g.OH - 1) * g.SH - g.PadTop >= g.H || (g.OW - 1) * g.SW - g.PadLeft >= g.W || g.KH <= g.PadTop || g.KW <= g.PadLeft) continue;
            var x = Uniform(rng, n * g.InImage); var y = new float[n * g.OutImage]; var arg = new int[y.Length];
            Pool.MaxPoolForward(g, x, y, arg);
            var dy = Uniform(rng, y.Length);
            var dx = Uniform(rng, x.Length);   // garbage: overwritten
            var dxr = new float[x.Length];
            Overwrite.MaxPoolBackward(g, dy, arg, dx);
            PoolReference.MaxPoolBackward(g, dy, arg, dxr);
            AssertExactlyEqual<float>(dx, dxr, $"pool {g}: dx");
        }
        Assert.False(Overwrite.SupportsMaxPool(ConvGeometry.Create(1, 5, 5, 1, 3, 3, 2, 2, Padding.Valid, 1)));
    }

    [Fact]
    public void ReluBackwardOverwriteMatchesReference()
    {
        var rng = new Rng(41);
        for (int len = 0; len < 40; len++)
        {
            var y = Uniform(rng, len);
            for (int i = 0; i < len; i += 3) y[i] = 0f;
            var dy = Uniform(rng, len); var dx = Uniform(rng, len); var dxr = new float[len];
            Overwrite.ReluBackward(y, dy, dx);
            ActivationsReference.ReluBackward(y, dy, dxr);
            AssertExactlyEqual<float>(dx, dxr, $"len {len}");
        }
    }
}

/// <summary>The sparse fused backward (<see cref="ConvPoolBackward"/>) equals scatter + the reference backward convolutions.</summary>
public class FusedSparseBackwardTests
{
    private static readonly (int PH, int PW, int SH, int SW)[] Pools = [(2, 2, 2, 2), (3, 3, 3, 3), (2, 3, 2, 3), (2, 2, 3, 3), (1, 2, 1, 2), (3, 1, 4, 2)];

    [Fact]
    public void SparseBackwardMatchesReference()
    {
        var rng = new Rng(50);
        int tested = 0;
        for (int iter = 0; iter < 1200; iter++)
        {
            int k = 1 + iter % (3 * 8 + 1);
            int n = 1 + rng.NextInt(3), h = 1 + rng.NextInt(13), w = 1 + rng.NextInt(13), c = 1 + rng.NextInt(20);
            int kh = 1 + rng.NextInt(Math.Min(h, 3)), kw = 1 + rng.NextInt(Math.Min(w, 3));
            var g = ConvGeometry.Create(n, h, w, c, kh, kw, 1 + rng.NextInt(2), 1 + rng.NextInt(2), rng.NextInt(2) == 0 ? Padding.Same : Padding.Valid, k);
            if (g.OH <= 0 || g.OW <= 0) continue;
            var (ph, pw, psh, psw) = Pools[rng.NextInt(Pools.Length)];
            var p = ConvGeometry.Create(n, g.OH, g.OW, k, ph, pw, psh, psw, rng.NextInt(2) == 0 ? Padding.Same : Padding.Valid, k);
            if (p.OH <= 0 || p.OW <= 0 || (p.OH - 1) * p.SH - p.PadTop >= p.H || (p.OW - 1) * p.SW - p.PadLeft >= p.W || p.KH <= p.PadTop || p.KW <= p.PadLeft) continue;
            bool relu = rng.NextInt(2) == 0, bias = rng.NextInt(4) != 0, withDx = rng.NextInt(4) != 0;
            var x = Uniform(rng, n * g.InImage); var wt = Uniform(rng, g.WeightSize); var b = Uniform(rng, k);
            var y = new float[n * p.OutImage]; var a = new byte[y.Length];
            ConvPool.ConvPoolForward(g, p.KH, p.KW, p.SH, p.SW, p.PadTop, p.PadLeft, p.OH, p.OW, relu, x, wt, b, y, a);
            var dy = Uniform(rng, y.Length);
            var dw0 = Uniform(rng, wt.Length); var db0 = Uniform(rng, k); var dx0 = Uniform(rng, x.Length);   // all accumulate
            var dw = (float[])dw0.Clone(); var db = (float[])db0.Clone(); var dx = (float[])dx0.Clone();
            ConvPoolBackward.Backward(g, p.KH, p.KW, p.SH, p.SW, p.PadTop, p.PadLeft, p.OH, p.OW, relu, x, wt, y, dy, a, dw, bias ? db : [], withDx ? dx : []);
            var dz = new float[n * g.OutImage];
            ConvPoolReference.MaxPoolScatter(g, p.KH, p.KW, p.SH, p.SW, p.PadTop, p.PadLeft, p.OH, p.OW, relu, y, dy, a, dz);
            var dwr = (float[])dw0.Clone(); var dbr = (float[])db0.Clone(); var dxr = (float[])dx0.Clone();
            ConvReference.ConvBackwardFilter(g, x, dz, dwr, bias ? dbr : []);
            if (withDx) ConvReference.ConvBackwardData(g, dz, wt, dxr);
            string label = $"conv {g} pool {p} relu={relu}";
            AssertClose(dw, dwr, 1e-4, $"{label}: dw");
            AssertClose(db, dbr, 1e-4, $"{label}: db");
            AssertClose(dx, dxr, 1e-4, $"{label}: dx");
            tested++;
        }
        Assert.True(tested > 800, $"only {tested} valid cases");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SparseAndDenseFusedBackwardAgreeInAModel(int threads)
    {
        var grads = new float[2][][]; var dxs = new float[2][];
        for (int v = 0; v < 2; v++)
        {
            var conv = new Conv2D(20, 3, padding: Padding.Same, activation: Activation.Relu) { Threads = threads };
            var pool = new MaxPooling2D(2, padding: Padding.Same) { Threads = threads };
            var m = new Sequential(new Input(11, 9, 9), conv, pool) { Seed = 3 };
            var fused = new FusedConvPool(conv, pool) { SparseBackward = v == 0 };
            conv.NeedsInputGradient = true;
            var rng = new Rng(8);
            var x = RandomTensor(rng, 5, 11, 9, 9);
            fused.Forward(x);
            var dy = RandomTensor(rng, [5, .. pool.OutputShape!]);
            foreach (var prm in conv.Parameters) prm.Grad.Span.Clear();
            dxs[v] = fused.Backward(dy).ToArray();
            grads[v] = conv.Parameters.Select(prm => prm.Grad.ToArray()).ToArray();
        }
        AssertClose(dxs[0], dxs[1], 1e-5, "dx sparse vs dense");
        for (int i = 0; i < grads[0].Length; i++) AssertClose(grads[0][i], grads[1][i], 1e-5, $"param {i} sparse vs dense");
    }
}
