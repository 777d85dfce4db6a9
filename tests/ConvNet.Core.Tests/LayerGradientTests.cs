using ConvNet.Kernels;
using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>
/// Finite-difference gradient checks of every layer's Backward (dx, kernel, bias, every batch item);
/// see <see cref="GradientChecker"/> for the method and tolerances.
/// </summary>
public class LayerGradientTests
{
    private const float ReluMargin = 2.5e-3f;   // > 2·h·max|w|: a float-FD step never crosses the kink

    internal static void CheckConv(int n, int h, int w, int c, int k, int kh, int kw, int sh, int sw,
        Padding pad, Activation act, bool bias, int seed, int? threads = null)
    {
        var rng = new Rng(seed);
        string label = $"Conv2D(n={n}, in={h}x{w}x{c}, filters={k}, kernel={kh}x{kw}, strides={sh}x{sw}, {pad}, {act}, bias={bias})";
        for (int attempt = 0; ; attempt++)
        {
            var layer = new Conv2D(k, (kh, kw), (sh, sw), pad, act, bias, name: "conv") { Threads = threads ?? n };
            layer.Build([h, w, c]);
            var x = RandomTensor(rng, n, h, w, c);
            Uniform(rng, layer.Kernel!.Value.Length).CopyTo(layer.Kernel.Value.Span);
            if (bias) Uniform(rng, k, -0.5f, 0.5f).CopyTo(layer.Bias!.Value.Span);
            double[] Ref(double[] xd, double[][] p, Activation a) =>
                DoubleReference.Conv2D(xd, n, h, w, c, p[0], bias ? p[1] : null, kh, kw, sh, sw, pad, k, a);
            if (act == Activation.Relu)
            {
                var z = Ref(ToDouble(x.Span), layer.Parameters.Select(p => ToDouble(p.Value.Span)).ToArray(), Activation.None);
                if (z.Any(v => Math.Abs(v) < ReluMargin))
                {
                    Assert.True(attempt < 500, $"{label}: could not draw pre-activations away from the ReLU kink");
                    continue;
                }
            }
            GradientChecker.Check(layer, x, (xd, p) => Ref(xd, p, act), rng, label,
                floatStep: act == Activation.Relu ? GradientChecker.FloatStepNearKinks : GradientChecker.FloatStep);
            return;
        }
    }

    [Theory]
    // stride 1, Valid and Same
    [InlineData(2, 5, 6, 3, 4, 3, 3, 1, 1, Padding.Valid, Activation.None, true)]
    [InlineData(3, 6, 7, 2, 3, 3, 3, 1, 1, Padding.Same, Activation.None, true)]
    // stride 2
    [InlineData(2, 7, 8, 3, 5, 3, 3, 2, 2, Padding.Same, Activation.Relu, true)]
    [InlineData(2, 7, 8, 2, 3, 3, 3, 2, 2, Padding.Valid, Activation.Tanh, false)]
    [InlineData(3, 8, 8, 2, 3, 4, 4, 2, 2, Padding.Same, Activation.None, true)]
    // stride 3 (Same pads unevenly; stride > kernel skips pixels)
    [InlineData(3, 8, 9, 2, 3, 3, 3, 3, 3, Padding.Same, Activation.None, true)]
    [InlineData(2, 9, 10, 2, 2, 2, 2, 3, 3, Padding.Valid, Activation.Relu, true)]
    [InlineData(2, 7, 7, 2, 3, 3, 3, 3, 3, Padding.Valid, Activation.Tanh, true)]
    // asymmetric strides: 2 vertical, 3 horizontal
    [InlineData(2, 7, 10, 3, 4, 3, 3, 2, 3, Padding.Valid, Activation.Relu, true)]
    [InlineData(2, 7, 10, 3, 4, 3, 3, 2, 3, Padding.Same, Activation.Tanh, true)]
    [InlineData(3, 6, 11, 2, 2, 3, 3, 2, 3, Padding.Same, Activation.None, false)]
    // 1×1 kernels
    [InlineData(3, 5, 5, 4, 6, 1, 1, 1, 1, Padding.Valid, Activation.Relu, true)]
    [InlineData(2, 5, 5, 4, 3, 1, 1, 2, 2, Padding.Same, Activation.None, false)]
    // non-square kernels (2×3, 3×2)
    [InlineData(2, 6, 7, 3, 4, 2, 3, 1, 1, Padding.Same, Activation.Tanh, true)]
    [InlineData(2, 6, 7, 3, 4, 2, 3, 2, 1, Padding.Valid, Activation.Relu, false)]
    [InlineData(3, 5, 7, 2, 3, 3, 2, 1, 2, Padding.Same, Activation.Relu, true)]
    // softmax activation over the filters
    [InlineData(2, 5, 6, 2, 4, 3, 3, 1, 1, Padding.Same, Activation.Softmax, true)]
    // enough filters for the Vector<float> paths (K = V+3 and 4V+3 hit the 1-vector and 4-vector blocks)
    [InlineData(2, 5, 5, 2, -1, 3, 3, 1, 1, Padding.Same, Activation.Relu, true)]
    [InlineData(2, 4, 4, 2, -4, 3, 3, 2, 2, Padding.Same, Activation.None, true)]
    // kernel as large as the input
    [InlineData(2, 4, 5, 2, 3, 4, 5, 1, 1, Padding.Valid, Activation.Tanh, true)]
    public void Conv2DGradients(int n, int h, int w, int c, int k, int kh, int kw, int sh, int sw, Padding pad, Activation act, bool bias)
    {
        if (k < 0) k = -k * V + 3;   // filter counts relative to the SIMD width
        CheckConv(n, h, w, c, k, kh, kw, sh, sw, pad, act, bias, seed: HashCode.Combine(n, h, w, c, k, kh, sh, sw) ^ (int)act);
    }

    [Fact]
    public void Conv2DGradientsRandomShapes()
    {
        var rng = new Rng(2024);
        var acts = new[] { Activation.None, Activation.Relu, Activation.Tanh };
        for (int t = 0; t < 12; t++)
        {
            int n = 2 + rng.NextInt(2), h = 1 + rng.NextInt(8), w = 1 + rng.NextInt(8), c = 1 + rng.NextInt(4), k = 1 + rng.NextInt(2 * V + 1);
            var pad = rng.NextInt(2) == 0 ? Padding.Valid : Padding.Same;
            int kh = 1 + rng.NextInt(Math.Min(h, 4)), kw = 1 + rng.NextInt(Math.Min(w, 4));
            CheckConv(n, h, w, c, k, kh, kw, 1 + rng.NextInt(3), 1 + rng.NextInt(3), pad, acts[rng.NextInt(3)], rng.NextInt(3) != 0, seed: 100 + t);
        }
    }

    internal static void CheckPool(bool max, int n, int h, int w, int c, int ph, int pw, int sh, int sw, Padding pad, int seed, int? threads = null)
    {
        var rng = new Rng(seed);
        Layer layer = max ? new MaxPooling2D((ph, pw), (sh, sw), pad, name: "pool") : new AveragePooling2D((ph, pw), (sh, sw), pad, name: "pool");
        layer.Threads = threads ?? n;
        var x = new Tensor(n, h, w, c);
        // max pooling: distinct values 1e-2 apart (≥ 10·h of the float check, far from any argmax change)
        (max ? DistinctShuffled(rng, x.Length, 1e-2f) : Uniform(rng, x.Length)).CopyTo(x.Span);
        string label = $"{layer.TypeName}(n={n}, in={h}x{w}x{c}, pool={ph}x{pw}, strides={sh}x{sw}, {pad})";
        GradientChecker.Check(layer, x, (xd, _) => DoubleReference.Pool(xd, n, h, w, c, ph, pw, sh, sw, pad, max), rng, label,
            floatStep: max ? GradientChecker.FloatStepNearKinks : GradientChecker.FloatStep);
    }

    [Theory]
    [InlineData(2, 5, 7, 3, 3, 3, 2, 2, Padding.Same)]    // pool 3 stride 2 Same on 5×7
    [InlineData(3, 6, 6, 2, 2, 2, 2, 2, Padding.Valid)]   // the default 2×2
    [InlineData(2, 5, 7, 3, 2, 2, 2, 2, Padding.Same)]    // odd input, Same: the last window is clipped
    [InlineData(2, 6, 8, 2, 3, 3, 1, 1, Padding.Same)]    // overlapping windows, stride 1
    [InlineData(2, 7, 9, 2, 2, 2, 3, 3, Padding.Valid)]   // stride > pool: skipped pixels get 0
    [InlineData(2, 6, 9, 3, 2, 3, 1, 2, Padding.Valid)]   // non-square pool, asymmetric strides
    [InlineData(3, 7, 8, 2, 3, 2, 2, 3, Padding.Same)]
    [InlineData(2, 4, 5, -1, 3, 3, 2, 2, Padding.Same)]   // C = V+1: vector + tail channels
    public void PoolingGradients(int n, int h, int w, int c, int ph, int pw, int sh, int sw, Padding pad)
    {
        if (c < 0) c = -c * V + 1;
        CheckPool(true, n, h, w, c, ph, pw, sh, sw, pad, seed: 7 * h + w + c);
        CheckPool(false, n, h, w, c, ph, pw, sh, sw, pad, seed: 11 * h + w + c);
    }

    internal static void CheckDense(int n, int inF, int units, Activation act, bool bias, int seed, int? threads = null)
    {
        var rng = new Rng(seed);
        string label = $"Dense(n={n}, in={inF}, units={units}, {act}, bias={bias})";
        for (int attempt = 0; ; attempt++)
        {
            var layer = new Dense(units, act, bias, name: "dense") { Threads = threads ?? n };
            layer.Build([inF]);
            var x = RandomTensor(rng, n, inF);
            Uniform(rng, layer.Kernel!.Value.Length).CopyTo(layer.Kernel.Value.Span);
            if (bias) Uniform(rng, units, -0.5f, 0.5f).CopyTo(layer.Bias!.Value.Span);
            double[] Ref(double[] xd, double[][] p, Activation a) => DoubleReference.Dense(xd, n, inF, p[0], bias ? p[1] : null, units, a);
            if (act == Activation.Relu &&
                Ref(ToDouble(x.Span), layer.Parameters.Select(p => ToDouble(p.Value.Span)).ToArray(), Activation.None).Any(v => Math.Abs(v) < ReluMargin))
            {
                Assert.True(attempt < 500, $"{label}: could not draw pre-activations away from the ReLU kink");
                continue;
            }
            GradientChecker.Check(layer, x, (xd, p) => Ref(xd, p, act), rng, label,
                floatStep: act == Activation.Relu ? GradientChecker.FloatStepNearKinks : GradientChecker.FloatStep);
            return;
        }
    }

    [Theory]
    [InlineData(3, 7, 5, Activation.None, true, null)]
    [InlineData(2, 9, 4, Activation.Relu, true, null)]
    [InlineData(3, 6, 5, Activation.Softmax, true, null)]
    [InlineData(2, 5, 3, Activation.Tanh, false, null)]
    [InlineData(6, 13, 19, Activation.Relu, true, 1)]      // 6 rows, 19 units: the 4-row × 2-vector GEMM tiles and tails
    [InlineData(5, 21, 2, Activation.Softmax, false, 2)]
    public void DenseGradients(int n, int inF, int units, Activation act, bool bias, int? threads)
        => CheckDense(n, inF, units, act, bias, seed: n * 100 + inF * 10 + units, threads);

    [Theory]
    [InlineData(new[] { 3, 7 })]
    [InlineData(new[] { 2, 3, 4, 5 })]
    [InlineData(new[] { 2, 2, 19 })]
    public void ActivationLayerGradients(int[] shape)
    {
        var rng = new Rng(shape.Sum());
        int cols = shape[^1];
        // ReLU: |x| ≥ 1e-2 = 10·h keeps finite differences off the kink
        var xr = new Tensor(shape); AwayFromZero(rng, xr.Length, 1e-2f).CopyTo(xr.Span);
        GradientChecker.Check(new ReLU("relu") { Threads = 1 }, xr, (xd, _) => DoubleReference.Apply(Activation.Relu, (double[])xd.Clone(), cols), rng, $"ReLU {Fmt(shape)}",
            floatStep: GradientChecker.FloatStepNearKinks);
        var xt = new Tensor(shape); Uniform(rng, xt.Length, -2f, 2f).CopyTo(xt.Span);
        GradientChecker.Check(new Tanh("tanh") { Threads = 1 }, xt, (xd, _) => DoubleReference.Apply(Activation.Tanh, (double[])xd.Clone(), cols), rng, $"Tanh {Fmt(shape)}");
        var xs = new Tensor(shape); Uniform(rng, xs.Length, -2f, 2f).CopyTo(xs.Span);
        GradientChecker.Check(new Softmax("softmax") { Threads = 1 }, xs, (xd, _) => DoubleReference.Apply(Activation.Softmax, (double[])xd.Clone(), cols), rng, $"Softmax {Fmt(shape)}");
    }

    private static string Fmt(int[] s) => "(" + string.Join(", ", s) + ")";

    [Fact]
    public void FlattenRescalingGlobalAveragePoolingInputGradients()
    {
        var rng = new Rng(5);
        var x = RandomTensor(rng, 3, 4, 5, 2);
        GradientChecker.Check(new Flatten("flatten"), x, (xd, _) => (double[])xd.Clone(), rng, "Flatten");
        GradientChecker.Check(new Rescaling(1f / 255, name: "rescaling"), RandomTensor(rng, 2, 3, 4, 1), (xd, _) => xd.Select(v => v * (double)(1f / 255)).ToArray(), rng, "Rescaling(1/255)");
        GradientChecker.Check(new Rescaling(0.75f, -0.5f, name: "rescaling"), RandomTensor(rng, 3, 5), (xd, _) => xd.Select(v => v * 0.75 - 0.5).ToArray(), rng, "Rescaling(0.75, -0.5)");
        GradientChecker.Check(new GlobalAveragePooling2D("gap"), RandomTensor(rng, 3, 4, 5, 3), (xd, _) => DoubleReference.GlobalAveragePooling(xd, 3, 4, 5, 3), rng, "GlobalAveragePooling2D");
        GradientChecker.Check(new GlobalAveragePooling2D("gap"), RandomTensor(rng, 2, 3, 2, V + 3), (xd, _) => DoubleReference.GlobalAveragePooling(xd, 2, 3, 2, V + 3), rng, "GlobalAveragePooling2D (wide)");
        GradientChecker.Check(new Input(4, 3), RandomTensor(rng, 2, 4, 3), (xd, _) => (double[])xd.Clone(), rng, "Input");
    }

    [Theory]
    [InlineData(3, 5)]
    [InlineData(4, 11)]
    [InlineData(1, 1)]
    [InlineData(2, 19)]
    public void SoftmaxCrossEntropyFusedGradient(int rows, int classes)
    {
        var rng = new Rng(rows * 31 + classes);
        var logits = Uniform(rng, rows * classes, -3f, 3f);
        var labels = Enumerable.Range(0, rows).Select(_ => rng.NextInt(classes)).ToArray();
        float scale = 1f / rows;
        var probs = new float[rows * classes];
        var initial = Uniform(rng, rows * classes);          // dlogits accumulates: start from non-zero
        var dlogits = (float[])initial.Clone();
        double loss = SoftmaxCrossEntropy.SoftmaxCrossEntropyForwardBackward(rows, classes, logits, labels, probs, dlogits, scale);

        var ld = ToDouble(logits);
        Assert.True(Math.Abs(loss - DoubleReference.SoftmaxCrossEntropy(ld, rows, classes, labels)) <= 1e-5 * (1 + Math.Abs(loss)),
            $"loss {loss} vs double reference {DoubleReference.SoftmaxCrossEntropy(ld, rows, classes, labels)}");
        var probsRef = new double[rows * classes];
        Array.Copy(ld, probsRef, ld.Length);
        DoubleReference.Apply(Activation.Softmax, probsRef, classes);
        AssertClose(probs, probsRef, 1e-5, "softmax probabilities");

        var added = new float[rows * classes];
        for (int i = 0; i < added.Length; i++) added[i] = dlogits[i] - initial[i];
        // 1) against central differences of the double-precision loss
        var numeric = GradientChecker.NumericDouble(ld, () => scale * DoubleReference.SoftmaxCrossEntropy(ld, rows, classes, labels));
        AssertClose(added, numeric, 1e-4, "dlogits vs double finite differences", atol: 1e-6);
        // 2) against central differences of the kernel's own (float) loss
        var lf = (float[])logits.Clone();
        var scratch = new float[rows * classes];
        var numericF = GradientChecker.NumericFloat(lf, () => scale * SoftmaxCrossEntropy.SoftmaxCrossEntropyForwardBackward(rows, classes, lf, labels, scratch, [], 1f), 1e-2f);
        GradientChecker.CompareFloatFd(added, numericF, "dlogits vs float-kernel finite differences");
    }

    [Fact]
    public void BackwardAddsIntoParameterGradients()
    {
        var rng = new Rng(77);
        var layers = new (Layer Layer, Tensor X)[]
        {
            (new Conv2D(5, 3, padding: Padding.Same, activation: Activation.Tanh) { Threads = 2 }, RandomTensor(rng, 2, 5, 6, 3)),
            (new Conv2D(4, (2, 3), (2, 1), useBias: true) { Threads = 1 }, RandomTensor(rng, 3, 5, 6, 2)),
            (new Dense(7, Activation.Tanh) { Threads = 2 }, RandomTensor(rng, 4, 9)),
        };
        foreach (var (layer, x) in layers)
        {
            var y = layer.Forward(x, training: true);
            var g = RandomTensor(rng, y.Shape.ToArray());
            var dx1 = layer.Backward(g).ToArray();
            var once = layer.Parameters.Select(p => p.Grad.ToArray()).ToArray();
            Assert.All(once, a => Assert.Contains(a, v => v != 0f));
            var dx2 = layer.Backward(g).ToArray();
            for (int k = 0; k < once.Length; k++)
                AssertClose(layer.Parameters[k].Grad.Span, once[k].Select(v => 2.0 * v).ToArray(), 1e-6,
                    $"{layer.TypeName} {layer.Parameters[k].Name}: second Backward must add (2× the first gradient)");
            // dx is not accumulated: the same upstream gradient gives the same dx
            AssertClose(dx2, dx1, 1e-6, $"{layer.TypeName}: dx of the second Backward");
        }
    }

    // Regression: Conv2D.BackwardCore used to recover the chunk index as s·parts/n, which is wrong when parts does
    // not divide n (n = 3, parts = 2: the chunk starting at 1 got index 0), so two chunks raced on one partial-gradient
    // buffer and the kernel/bias gradients were wrong for e.g. batch 3 on 2 threads. Fixed in f533720 (ForBatch now
    // passes the part index). Thread counts that do not divide the batch must give the single-thread gradients.
    [Theory]
    [InlineData(3, 2)]
    [InlineData(5, 2)]
    [InlineData(5, 3)]
    [InlineData(7, 4)]
    public void Conv2DParameterGradientsDoNotDependOnThreadCount(int n, int threads)
    {
        var rng = new Rng(n * 10 + threads);
        var x = RandomTensor(rng, n, 6, 5, 2);
        var g = RandomTensor(rng, n, 6, 5, 3);
        float[][] Grads(int t)
        {
            var layer = new Conv2D(3, 3, padding: Padding.Same, name: "conv") { Threads = t, Seed = 1 };
            layer.Forward(x, training: true);
            layer.Backward(g);
            return layer.Parameters.Select(p => p.Grad.ToArray()).ToArray();
        }
        var single = Grads(1);
        var multi = Grads(threads);
        AssertClose(multi[0], single[0], 1e-5, $"Conv2D kernel gradient, batch {n}, Threads {threads} vs 1");
        AssertClose(multi[1], single[1], 1e-5, $"Conv2D bias gradient, batch {n}, Threads {threads} vs 1");
    }

    [Theory]
    [InlineData(3, 2)]
    [InlineData(5, 3)]
    public void OtherLayersDoNotDependOnThreadCount(int n, int threads)
    {
        var rng = new Rng(n + threads);
        var x4 = DistinctShuffled(rng, n * 6 * 5 * 3, 1e-2f);
        var x2 = RandomTensor(rng, n, 11);
        Layer[] Make(int t) =>
        [
            new MaxPooling2D(3, 2, Padding.Same) { Threads = t },
            new AveragePooling2D(3, 2, Padding.Same) { Threads = t },
            new Dense(6, Activation.Tanh) { Threads = t, Seed = 3 },
        ];
        var one = Make(1); var many = Make(threads);
        for (int i = 0; i < one.Length; i++)
        {
            var x = i < 2 ? new Tensor((float[])x4.Clone(), n, 6, 5, 3) : x2;
            var y1 = one[i].Forward(x, true).ToArray();
            var yk = many[i].Forward(x, true).ToArray();
            AssertClose(yk, y1, 1e-6, $"{one[i].TypeName} forward, Threads {threads}");
            var g = RandomTensor(new Rng(i), one[i].Forward(x, true).Shape.ToArray());
            many[i].Forward(x, true);
            AssertClose(many[i].Backward(g).ToArray(), one[i].Backward(g).ToArray(), 1e-6, $"{one[i].TypeName} dx, Threads {threads}");
            for (int k = 0; k < one[i].Parameters.Count; k++)
                AssertClose(many[i].Parameters[k].Grad.Span, one[i].Parameters[k].Grad.Span, 1e-5, $"{one[i].TypeName} {one[i].Parameters[k].Name} grad, Threads {threads}");
        }
    }
}
