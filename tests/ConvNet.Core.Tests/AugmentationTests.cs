using ConvNet.Kernels;
using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>
/// The Keras 3 preprocessing layers: exact transforms on tiny images whose result is known by hand (90° rotation, flips,
/// integer translation, zoom by 2 with nearest), every fill mode at the borders, the warp kernel against its naive twin,
/// identity at inference (centre crop for RandomCrop), determinism, bad factors, the training-mode gradient refusal,
/// a Fit through the layers, and the model-file round trip.
/// </summary>
public sealed class AugmentationTests : IDisposable
{
    private readonly TrainingTempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // A batch of n copies of an h×w×c image whose values are 1, 2, 3, … in NHWC order.
    private static Tensor Counting(int n, int h, int w, int c = 1)
    {
        var t = new Tensor(n, h, w, c);
        int img = h * w * c;
        for (int i = 0; i < t.Length; i++) t.Span[i] = i % img + 1;
        return t;
    }

    private static float[] Image(Tensor t, int i)
    {
        int img = t.Length / t.Shape[0];
        return t.Span.Slice(i * img, img).ToArray();
    }

    [Fact]
    public void RotationByAQuarterTurnIsCounterClockwise()
    {
        var x = Counting(2, 3, 3);   // [[1 2 3] [4 5 6] [7 8 9]]
        float[] expected = [3, 6, 9, 2, 5, 8, 1, 4, 7];   // np.rot90: the right column becomes the top row
        var nearest = new RandomRotation((0.25, 0.25), interpolation: Interpolation.Nearest, seed: 1);
        AssertExactlyEqual<float>(Image(nearest.Forward(x, training: true), 1), expected, "nearest");
        var bilinear = new RandomRotation((0.25, 0.25), seed: 1);
        AssertClose(Image(bilinear.Forward(x, training: true), 0), expected, 0, "bilinear", atol: 1e-5);
        var back = new RandomRotation((-0.25, -0.25), interpolation: Interpolation.Nearest, seed: 1);
        AssertExactlyEqual<float>(Image(back.Forward(x, training: true), 0), [7, 4, 1, 8, 5, 2, 9, 6, 3], "−90°");
    }

    [Theory]
    [InlineData(FlipMode.Horizontal)]
    [InlineData(FlipMode.Vertical)]
    [InlineData(FlipMode.HorizontalAndVertical)]
    public void FlipsMirrorTheImagesTheKeyChooses(FlipMode mode)
    {
        var x = Counting(32, 2, 3, 2);
        var layer = new RandomFlip(mode, seed: 7) { Threads = 2 };
        var y = layer.Forward(x, training: true);
        var seen = new HashSet<(bool, bool)>();
        for (int i = 0; i < 32; i++)
        {
            var (h, v) = layer.Flips(layer.LastKey, i);
            seen.Add((h, v));
            var expected = new float[12];
            for (int r = 0; r < 2; r++)
            for (int q = 0; q < 3; q++)
            for (int c = 0; c < 2; c++)
                expected[(r * 3 + q) * 2 + c] = ((v ? 1 - r : r) * 3 + (h ? 2 - q : q)) * 2 + c + 1;
            AssertExactlyEqual<float>(Image(y, i), expected, $"image {i} flipped ({h}, {v})");
        }
        int combinations = mode == FlipMode.HorizontalAndVertical ? 4 : 2;
        Assert.Equal(combinations, seen.Count);
    }

    [Theory]
    [InlineData(Interpolation.Nearest)]
    [InlineData(Interpolation.Bilinear)]
    public void IntegerTranslationShiftsDownAndRight(Interpolation interpolation)
    {
        var x = Counting(1, 4, 4);
        // one row down (0.25·4), one column left (−0.25·4), zeros coming in
        var layer = new RandomTranslation((0.25, 0.25), (-0.25, -0.25), FillMode.Constant, interpolation, seed: 3);
        float[] expected = [0, 0, 0, 0, 2, 3, 4, 0, 6, 7, 8, 0, 10, 11, 12, 0];
        AssertExactlyEqual<float>(Image(layer.Forward(x, training: true), 0), expected, "translated");
    }

    [Fact]
    public void ZoomByTwoWithNearestRepeatsTheCentre()
    {
        var x = Counting(1, 4, 4);
        var layer = new RandomZoom((-0.5, -0.5), interpolation: Interpolation.Nearest, seed: 3);   // zoom 0.5: enlarges ×2
        // x' = 0.5·x + 0.75 → 0.75, 1.25, 1.75, 2.25 → columns 1, 1, 2, 2 (same for rows)
        float[] expected = [6, 6, 7, 7, 6, 6, 7, 7, 10, 10, 11, 11, 10, 10, 11, 11];
        AssertExactlyEqual<float>(Image(layer.Forward(x, training: true), 0), expected, "zoomed in");
        var widthOnly = new RandomZoom((0, 0), (-0.5, -0.5), interpolation: Interpolation.Nearest, seed: 3);
        AssertExactlyEqual<float>(Image(widthOnly.Forward(x, training: true), 0), [2, 2, 3, 3, 6, 6, 7, 7, 10, 10, 11, 11, 14, 14, 15, 15], "width only");
    }

    [Theory]
    [InlineData(FillMode.Reflect, 0.5, new float[] { 2, 1, 1, 2 })]
    [InlineData(FillMode.Wrap, 0.5, new float[] { 3, 4, 1, 2 })]
    [InlineData(FillMode.Nearest, 0.5, new float[] { 1, 1, 1, 2 })]
    [InlineData(FillMode.Constant, 0.5, new float[] { -5, -5, 1, 2 })]
    [InlineData(FillMode.Reflect, -0.5, new float[] { 3, 4, 4, 3 })]
    [InlineData(FillMode.Wrap, -0.5, new float[] { 3, 4, 1, 2 })]
    [InlineData(FillMode.Nearest, -0.5, new float[] { 3, 4, 4, 4 })]
    [InlineData(FillMode.Constant, -0.5, new float[] { 3, 4, -5, -5 })]
    [InlineData(FillMode.Reflect, 1.0, new float[] { 4, 3, 2, 1 })]
    [InlineData(FillMode.Wrap, -0.75, new float[] { 4, 1, 2, 3 })]
    public void FillModesAtTheBorders(FillMode mode, double shift, float[] expected)
    {
        // a 1×4 row [1 2 3 4] shifted by shift·4 columns: reflect (d c b a | a b c d | d c b a), wrap, nearest, constant −5
        var x = Counting(1, 1, 4);
        foreach (var interpolation in new[] { Interpolation.Nearest, Interpolation.Bilinear })
        {
            var layer = new RandomTranslation((0, 0), (shift, shift), mode, interpolation, fillValue: -5, seed: 1);
            AssertExactlyEqual<float>(Image(layer.Forward(x, training: true), 0), expected, $"{mode} {interpolation} shift {shift}");
        }
    }

    [Fact]
    public void ConstantFillBlendsIntoBorderPixelsWithBilinear()
    {
        // half a pixel right: the first output reads halfway between the fill value and pixel a, as Keras's map_coordinates does
        var x = Counting(1, 1, 4);
        var layer = new RandomTranslation((0, 0), (0.125, 0.125), FillMode.Constant, fillValue: 9, seed: 1);
        AssertClose(Image(layer.Forward(x, training: true), 0), [5f, 1.5f, 2.5f, 3.5f], 0, "half-pixel shift", atol: 1e-6);
    }

    [Theory]
    [InlineData(1, 7, 9)]
    [InlineData(3, 7, 9)]
    [InlineData(1, 20, 37)]   // wide rows: the 8-pixel SIMD blocks of single-channel bilinear, inside and at the borders
    public void WarpKernelMatchesItsNaiveTwinExactly(int channels, int h, int w)
    {
        var rng = new Rng(11);
        const int n = 6;
        var x = Uniform(rng, n * h * w * channels, 0, 255);
        var t = new float[6 * n];
        for (int i = 0; i < n; i++)
        {
            double a = ((float)rng.NextDouble() - 0.5) * 4, z = 0.5 + (float)rng.NextDouble();
            t[6 * i] = (float)(z * Math.Cos(a)); t[6 * i + 1] = (float)(-z * Math.Sin(a)); t[6 * i + 2] = ((float)rng.NextDouble() - 0.5f) * 20;
            t[6 * i + 3] = (float)(z * Math.Sin(a)); t[6 * i + 4] = (float)(z * Math.Cos(a)); t[6 * i + 5] = ((float)rng.NextDouble() - 0.5f) * 20;
        }
        t[0] = 1; t[1] = 0; t[2] = 0.5f; t[3] = 0; t[4] = 1; t[5] = -0.5f;   // one exact half-pixel shift (rounding ties)
        foreach (var mode in Enum.GetValues<FillMode>())
        foreach (var interpolation in Enum.GetValues<Interpolation>())
        {
            var fast = new float[x.Length];
            var naive = new float[x.Length];
            AffineWarp.Forward(x, fast, n, h, w, channels, t, interpolation, mode, 7f);
            AffineWarpReference.Forward(x, naive, n, h, w, channels, t, interpolation, mode, 7f);
            AssertExactlyEqual<float>(fast, naive, $"{mode} {interpolation} C={channels}");
        }
    }

    private static RandomPreprocessingLayer[] AllLayers(int? seed) =>
    [
        new RandomFlip(seed: seed), new RandomRotation(0.1, seed: seed), new RandomZoom(0.2, 0.1, seed: seed),
        new RandomTranslation(0.1, 0.2, seed: seed), new RandomContrast(0.3, seed: seed), new RandomBrightness(0.2, seed: seed),
        new RandomCrop(5, 4, seed: seed),
    ];

    [Fact]
    public void InferenceIsTheIdentityAndRandomCropTakesTheCentre()
    {
        var x = Counting(3, 7, 6, 2);
        foreach (var layer in AllLayers(1))
        {
            var y = layer.Forward(x, training: false);
            if (layer is RandomCrop)
            {
                Assert.Equal([3, 5, 4, 2], y.Shape.ToArray());
                var expected = new float[5 * 4 * 2];
                for (int r = 0; r < 5; r++) for (int q = 0; q < 4; q++) for (int c = 0; c < 2; c++)
                    expected[(r * 4 + q) * 2 + c] = ((r + 1) * 6 + q + 1) * 2 + c + 1;   // offsets ⌊(7−5)/2⌋ = 1, ⌊(6−4)/2⌋ = 1
                AssertExactlyEqual<float>(Image(y, 2), expected, "centre crop");
                var dx = layer.Backward(y);
                Assert.Equal(x.Shape, dx.Shape);
                Assert.Equal(0f, dx.Span[0]);   // zero-padded adjoint
            }
            else
            {
                AssertExactlyEqual<float>(y.Span, x.Span, layer.TypeName);
                Assert.Same(x, layer.Backward(x));
            }
            Assert.Equal(0, layer.ParamCount);
        }
    }

    [Fact]
    public void TrainingChangesTheImagesAndStaysInRange()
    {
        var rng = new Rng(4);
        var x = RandomTensor(rng, 8, 7, 6, 2);
        TensorPrimitivesAbs(x);
        foreach (var layer in AllLayers(1))
        {
            var y = layer.Forward(x, training: true);
            if (layer is not RandomCrop) Assert.False(y.Span.SequenceEqual(x.Span), $"{layer.TypeName} changed nothing");
            Assert.All(y.ToArray(), v => Assert.True(float.IsFinite(v)));
        }
    }

    private static void TensorPrimitivesAbs(Tensor x)
    {
        for (int i = 0; i < x.Length; i++) x.Span[i] = MathF.Abs(x.Span[i]) * 255;
    }

    [Fact]
    public void ContrastAndBrightnessFollowTheirFormulasAndClip()
    {
        var x = new Tensor(16, 2, 2, 1);
        for (int i = 0; i < 16; i++) { x.Span[4 * i] = 0; x.Span[4 * i + 1] = 100; x.Span[4 * i + 2] = 200; x.Span[4 * i + 3] = 250; }
        var contrast = new RandomContrast(0.9, seed: 2);
        var y = contrast.Forward(x, training: true);
        bool clipped = false;
        for (int i = 0; i < 16; i++)
        {
            float f = contrast.ContrastFactor(contrast.LastKey, i), mean = 550f / 4;
            Assert.InRange(f, 0.1f, 1.9f);
            for (int p = 0; p < 4; p++)
            {
                float e = Math.Clamp((x.Span[4 * i + p] - mean) * f + mean, 0f, 255f);
                Assert.Equal(e, y.Span[4 * i + p], 3);
                clipped |= e is 0f or 255f;
            }
        }
        Assert.True(clipped, "no value was clipped: the test does not exercise clipping");
        var brightness = new RandomBrightness((0.1, 0.3), valueRange: (0f, 255f), seed: 2);
        y = brightness.Forward(x, training: true);
        for (int i = 0; i < 16; i++)
        {
            float d = brightness.Offset(brightness.LastKey, i);
            Assert.InRange(d, 0.1f * 255 - 1e-3f, 0.3f * 255 + 1e-3f);
            for (int p = 0; p < 4; p++) Assert.Equal(Math.Min(x.Span[4 * i + p] + d, 255f), y.Span[4 * i + p]);
        }
    }

    [Fact]
    public void RandomCropTakesAWindowInsideTheImage()
    {
        var x = Counting(20, 6, 5, 1);
        var layer = new RandomCrop(3, 2, seed: 9);
        var y = layer.Forward(x, training: true);
        var tops = new HashSet<int>();
        for (int i = 0; i < 20; i++)
        {
            var (top, left) = layer.Offsets(layer.LastKey, i);
            Assert.InRange(top, 0, 3);
            Assert.InRange(left, 0, 3);
            tops.Add(top);
            var expected = new float[6];
            for (int r = 0; r < 3; r++) for (int q = 0; q < 2; q++) expected[r * 2 + q] = (top + r) * 5 + left + q + 1;
            AssertExactlyEqual<float>(Image(y, i), expected, $"crop {i}");
        }
        Assert.True(tops.Count > 1);
    }

    [Fact]
    public void TheSameSeedGivesTheSameBatchesWhateverTheThreads()
    {
        var rng = new Rng(5);
        var x = RandomTensor(rng, 9, 8, 8, 3);
        TensorPrimitivesAbs(x);
        float[][] Run(int seed, int threads)
        {
            var layers = AllLayers(null);
            var outputs = new List<float[]>();
            foreach (var l in layers) { l.Seed = seed; l.Threads = threads; }
            for (int call = 0; call < 2; call++)
                foreach (var l in layers) outputs.Add(l.Forward(x, training: true).ToArray());
            return [.. outputs];
        }
        var a = Run(1, 1);
        var b = Run(1, 2);
        var c = Run(2, 2);
        for (int i = 0; i < a.Length; i++) AssertExactlyEqual<float>(a[i], b[i], $"output {i}, 1 vs 2 threads");
        Assert.Contains(Enumerable.Range(0, a.Length), i => !a[i].AsSpan().SequenceEqual(c[i]));
        Assert.False(a[1].AsSpan().SequenceEqual(a[1 + 7]), "the second call repeated the first one's rotations");
    }

    [Fact]
    public void BadArgumentsAreRejectedNamingTheLayer()
    {
        void Bad(string layer, string fragment, Action create)
        {
            var e = Assert.ThrowsAny<ArgumentException>(create);
            Assert.Contains(layer, e.Message);
            Assert.Contains(fragment, e.Message);
        }
        Bad("RandomRotation", "factor", () => new RandomRotation(-0.1));
        Bad("RandomRotation", "factor", () => new RandomRotation((0.2, 0.1)));
        Bad("RandomRotation", "finite", () => new RandomRotation(double.NaN));
        Bad("RandomZoom", "heightFactor", () => new RandomZoom(1.5));
        Bad("RandomZoom", "widthFactor", () => new RandomZoom(0.1, -1.2));
        Bad("RandomTranslation", "widthFactor", () => new RandomTranslation(0.1, 2));
        Bad("RandomContrast", "factor", () => new RandomContrast(-0.1));
        Bad("RandomContrast", "factor", () => new RandomContrast(1.5));
        Bad("RandomBrightness", "factor", () => new RandomBrightness(1.5));
        Bad("RandomBrightness", "valueRange", () => new RandomBrightness(0.1, valueRange: (1f, 0f)));
        Bad("RandomCrop", "positive", () => new RandomCrop(0, 3));
        Bad("RandomFlip", "mode", () => new RandomFlip((FlipMode)7));
        Bad("RandomRotation", "fillMode", () => new RandomRotation(0.1, (FillMode)9));
        var shape = Assert.Throws<LayerShapeException>(() => new RandomCrop(9, 4).Build([8, 8, 1]));
        Assert.Contains("RandomCrop", shape.Message);
    }

    [Fact]
    public void NoGradientFlowsThroughATrainingAugmentationButFitWorks()
    {
        var layer = new RandomRotation(0.1, seed: 1);
        var x = Counting(2, 4, 4);
        var y = layer.Forward(x, training: true);
        var e = Assert.Throws<NotSupportedException>(() => layer.Backward(y));
        Assert.Contains("RandomRotation", e.Message);

        var rng = new Rng(3);
        var model = new Sequential(new Input(8, 8, 1), new RandomRotation(0.05), new RandomZoom(0.1), new RandomTranslation(0.1, 0.1),
            new Rescaling(1f / 255), new Flatten(), new Dense(3)) { Seed = 1 };
        model.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());
        var data = RandomTensor(rng, 12, 8, 8, 1);
        TensorPrimitivesAbs(data);
        var history = model.Fit(data, [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], epochs: 2, batchSize: 4);
        Assert.Equal(2, history.Epochs);
        Assert.Contains("RandomRotation", model.Summary());
    }

    [Fact]
    public void ModelFileRoundTrip()
    {
        var rng = new Rng(6);
        var model = new Sequential(
            new Input(9, 8, 3),
            new RandomFlip(FlipMode.Vertical, seed: 4, name: "flip"),
            new RandomRotation((-0.1, 0.05), FillMode.Constant, Interpolation.Nearest, fillValue: 2.5f, seed: 5),
            new RandomZoom((-0.3, 0.2), fillMode: FillMode.Wrap),
            new RandomZoom(0.1, 0.2, FillMode.Nearest),
            new RandomTranslation((0, 0.1), (-0.2, 0.2)),
            new RandomContrast((0.2, 0.4), valueRange: (0f, 1f)),
            new RandomBrightness(0.3, valueRange: (-1f, 1f), seed: 8),
            new RandomCrop(7, 6),
            new Flatten(), new Dense(3)) { Seed = 2 };
        var loaded = NewLayerModelFileTests.RoundTrip(model, _dir.File("augment.cnet"), RandomTensor(rng, 2, 9, 8, 3));
        var rot = loaded.Layers.OfType<RandomRotation>().Single();
        Assert.Equal(((-0.1, 0.05), FillMode.Constant, Interpolation.Nearest, 2.5f, (int?)5), (rot.Factor, rot.FillMode, rot.Interpolation, rot.FillValue, rot.AugmentSeed));
        var zooms = loaded.Layers.OfType<RandomZoom>().ToArray();
        Assert.Equal(((-0.3, 0.2), ((double, double)?)null, FillMode.Wrap), (zooms[0].HeightFactor, zooms[0].WidthFactor, zooms[0].FillMode));
        Assert.Equal(((-0.1, 0.1), ((double, double)?)(-0.2, 0.2), FillMode.Nearest), (zooms[1].HeightFactor, zooms[1].WidthFactor, zooms[1].FillMode));
        Assert.Equal(FlipMode.Vertical, loaded.Layers.OfType<RandomFlip>().Single().Mode);
        var tr = loaded.Layers.OfType<RandomTranslation>().Single();
        Assert.Equal(((0, 0.1), (-0.2, 0.2)), (tr.HeightFactor, tr.WidthFactor));
        var ct = loaded.Layers.OfType<RandomContrast>().Single();
        Assert.Equal(((0.2, 0.4), (0f, 1f)), (ct.Factor, ct.ValueRange));
        var br = loaded.Layers.OfType<RandomBrightness>().Single();
        Assert.Equal(((-0.3, 0.3), (-1f, 1f), (int?)8), (br.Factor, br.ValueRange, br.AugmentSeed));
        Assert.Equal((7, 6), (loaded.Layers.OfType<RandomCrop>().Single().Height, loaded.Layers.OfType<RandomCrop>().Single().Width));
    }
}
