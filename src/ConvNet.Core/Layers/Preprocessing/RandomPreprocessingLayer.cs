using System.Globalization;
using ConvNet.Kernels;

namespace ConvNet;

/// <summary>How an affine augmentation fills points outside the input, as Keras's <c>fill_mode</c>.</summary>
public enum FillMode
{
    /// <summary>Mirror about the edge of the last pixel: (d c b a | a b c d | d c b a). Keras's default.</summary>
    Reflect,
    /// <summary>Repeat the image: (a b c d | a b c d | a b c d).</summary>
    Wrap,
    /// <summary>A constant value: (k k k k | a b c d | k k k k).</summary>
    Constant,
    /// <summary>Repeat the edge pixel: (a a a a | a b c d | d d d d).</summary>
    Nearest,
}

/// <summary>Sampling of an affine augmentation, as Keras's <c>interpolation</c>.</summary>
public enum Interpolation
{
    /// <summary>Bilinear from the four nearest pixel centres (Keras's default).</summary>
    Bilinear,
    /// <summary>The nearest pixel centre (half rounded away from zero).</summary>
    Nearest,
}

/// <summary>
/// Base of the Keras 3 preprocessing layers (<see cref="RandomFlip"/>, <see cref="RandomRotation"/>, <see cref="RandomZoom"/>,
/// <see cref="RandomTranslation"/>, <see cref="RandomContrast"/>, <see cref="RandomBrightness"/>, <see cref="RandomCrop"/>):
/// random in training, the identity at inference (RandomCrop crops the centre). No parameters.
/// <para>
/// Randomness: call <c>t</c> in training mode uses the key <c>DropoutMask.Key(seed, t)</c>, and image <c>i</c>'s k-th random
/// number is <c>DropoutMask.Hash(key, 8i + k) / 2³²</c>; the same seed gives the same augmented batches whatever the thread
/// count. Setting <see cref="Layer.Seed"/> (a model does) restarts the sequence.
/// </para>
/// <para>
/// Gradients: at inference the backward pass is the transform's adjoint (the identity; zero-padding for RandomCrop). In
/// training no gradient flows through a random augmentation: these layers belong right after the <see cref="Input"/>, where
/// nothing upstream needs one (a model's plan then skips their backward). If something upstream does need it, the backward
/// pass throws <see cref="NotSupportedException"/> naming the layer rather than return a wrong or approximate gradient.
/// </para>
/// </summary>
public abstract class RandomPreprocessingLayer : Layer
{
    private long _calls;
    private bool _augmented;

    private protected RandomPreprocessingLayer(int? seed, string? name) : base(name) => AugmentSeed = seed;

    /// <summary>The seed given to the constructor; null uses the layer's <see cref="Layer.Seed"/> (set by the model).</summary>
    public int? AugmentSeed { get; }

    /// <summary>The key of the last training-mode forward.</summary>
    internal ulong LastKey { get; private set; }

    private protected override void OnSeedSet(int seed) => _calls = 0;

    /// <summary>Image <paramref name="image"/>'s <paramref name="k"/>-th uniform number in [0, 1) under <paramref name="key"/> (k &lt; 8).</summary>
    private protected static double Uniform(ulong key, int image, int k) => DropoutMask.Hash(key, (uint)(8 * image + k)) * (1.0 / 4294967296.0);

    /// <summary>Uniform in [lower, upper].</summary>
    private protected static double Uniform(ulong key, int image, int k, (double Lower, double Upper) range) =>
        range.Lower + (range.Upper - range.Lower) * Uniform(key, image, k);

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s)
    {
        if (s.Count != 3)
            throw Error("(None, height, width, channels)", Fmt(s, batch: true), $"{TypeName} needs rank-4 NHWC images, got rank {s.Count + 1}");
        return s.ToArray();
    }

    /// <inheritdoc/>
    protected sealed override Tensor ForwardCore(Tensor x, bool training)
    {
        _augmented = training;
        if (!training) return Infer(x);
        LastKey = DropoutMask.Key(AugmentSeed ?? Seed, _calls++);
        return Augment(x, LastKey);
    }

    /// <inheritdoc/>
    protected sealed override Tensor BackwardCore(Tensor dy)
    {
        if (!_augmented) return InferBackward(dy);
        if (!NeedsInputGradient) return dy;   // nothing upstream uses it
        throw new NotSupportedException($"Layer {Display}: no gradient flows back through a random augmentation in training. " +
            "Put augmentation layers right after the Input (nothing before them needs a gradient), or call the model in inference mode.");
    }

    /// <summary>The training-mode transform of a batch under <paramref name="key"/> (default: each image on its own,
    /// <see cref="AugmentEachImage"/>).</summary>
    private protected virtual Tensor Augment(Tensor x, ulong key) => AugmentEachImage(x);

    private Tensor? _eachX, _eachY;
    private Action<int, int, int>? _eachPart;

    /// <summary>Transforms each image on its own: <see cref="AugmentImage"/> for every image, batch-parallel, into a reused
    /// (N, H, W, C) workspace.</summary>
    private protected Tensor AugmentEachImage(Tensor x)
    {
        _eachX = x;
        _eachY = Workspace(ref _eachY, x.Shape[0], InputShape!);
        ForBatch(x.Shape[0], _eachPart ??= (_, s, cnt) =>
        {
            int img = _eachX!.Length / _eachX.Shape[0];
            for (int i = s; i < s + cnt; i++) AugmentImage(i, _eachX.Span.Slice(i * img, img), _eachY!.Span.Slice(i * img, img));
        });
        _eachX = null;
        return _eachY;
    }

    /// <summary>dst = the transform of image <paramref name="image"/> (src, dst: H·W·C) under <see cref="LastKey"/>; layers
    /// that keep the default <see cref="Augment"/> override it.</summary>
    private protected virtual void AugmentImage(int image, ReadOnlySpan<float> src, Span<float> dst) =>
        throw new NotSupportedException($"{TypeName} does not transform images one at a time.");

    /// <summary>The inference-mode forward (default: the identity, the input tensor itself).</summary>
    private protected virtual Tensor Infer(Tensor x) => x;

    /// <summary>The adjoint of <see cref="Infer"/> (default: the identity).</summary>
    private protected virtual Tensor InferBackward(Tensor dy) => dy;

    internal override void WriteConfig(IDictionary<string, string> c) =>
        c["seed"] = AugmentSeed is int s ? s.ToString(CultureInfo.InvariantCulture) : "none";

    // ----- argument checks and model-file formatting shared by the layers -----

    /// <summary>Keras's single-number factor: f → (−f, f); a pair is taken as (lower, upper).</summary>
    private protected static (double, double) Symmetric(double f) => (-f, f);

    /// <summary>Checks a (lower, upper) factor: finite, lower ≤ upper, within [min, max]; the message names the layer and argument.</summary>
    private protected static (double Lower, double Upper) CheckRange(string layer, string argument, (double Lower, double Upper) f, double min, double max)
    {
        if (!double.IsFinite(f.Lower) || !double.IsFinite(f.Upper))
            throw new ArgumentOutOfRangeException(argument, $"{layer}: {argument} must be finite, got {FormatPair(f)}.");
        if (f.Lower > f.Upper)
            throw new ArgumentOutOfRangeException(argument, $"{layer}: {argument} has an upper bound below its lower bound: {FormatPair(f)}" +
                " (a single number f means (−f, f), so it cannot be negative).");
        if (f.Lower < min || f.Upper > max)
            throw new ArgumentOutOfRangeException(argument, $"{layer}: {argument} must lie in [{min.ToString(CultureInfo.InvariantCulture)}, " +
                $"{max.ToString(CultureInfo.InvariantCulture)}], got {FormatPair(f)}.");
        return f;
    }

    private protected static string FormatPair((double Lower, double Upper) f) =>
        string.Create(CultureInfo.InvariantCulture, $"({f.Lower:R}, {f.Upper:R})");

    internal static string Pair((double Lower, double Upper) f) => string.Create(CultureInfo.InvariantCulture, $"{f.Lower:R},{f.Upper:R}");

    internal static (double, double) ParsePair(string s)
    {
        var p = s.Split(',');
        return p.Length == 2
            ? (double.Parse(p[0], NumberStyles.Float, CultureInfo.InvariantCulture), double.Parse(p[1], NumberStyles.Float, CultureInfo.InvariantCulture))
            : throw new FormatException($"'{s}' is not a pair of numbers");
    }

    internal static string FillModeName(FillMode m) => m switch
    {
        FillMode.Reflect => "reflect", FillMode.Wrap => "wrap", FillMode.Constant => "constant", _ => "nearest",
    };

    internal static FillMode ParseFillMode(string s) => s switch
    {
        "reflect" => FillMode.Reflect, "wrap" => FillMode.Wrap, "constant" => FillMode.Constant, "nearest" => FillMode.Nearest,
        _ => throw new FormatException($"unknown fill mode '{s}'"),
    };

    internal static string InterpolationName(Interpolation i) => i == Interpolation.Nearest ? "nearest" : "bilinear";

    internal static Interpolation ParseInterpolation(string s) => s switch
    {
        "bilinear" => Interpolation.Bilinear, "nearest" => Interpolation.Nearest, _ => throw new FormatException($"unknown interpolation '{s}'"),
    };

    internal static int? ParseSeed(string s) => s == "none" ? null : int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture);

    private protected static void CheckEnum<T>(string layer, string argument, T value) where T : struct, Enum
    {
        if (!Enum.IsDefined(value)) throw new ArgumentOutOfRangeException(argument, $"{layer}: unknown {argument} {value}.");
    }
}

/// <summary>
/// Base of <see cref="RandomRotation"/>, <see cref="RandomZoom"/> and <see cref="RandomTranslation"/>: each draws one affine
/// transform per image and warps the batch with <see cref="AffineWarp"/> (split over threads by image).
/// </summary>
public abstract class RandomAffineLayer : RandomPreprocessingLayer
{
    private Tensor? _y;
    private float[] _transforms = [];
    private Tensor? _x;
    private readonly Action<int, int, int> _part;

    private protected RandomAffineLayer(FillMode fillMode, Interpolation interpolation, float fillValue, int? seed, string? name) : base(seed, name)
    {
        CheckEnum(GetType().Name, nameof(fillMode), fillMode);
        CheckEnum(GetType().Name, nameof(interpolation), interpolation);
        if (!float.IsFinite(fillValue))
            throw new ArgumentOutOfRangeException(nameof(fillValue), $"{GetType().Name}: fillValue must be finite, got {fillValue}.");
        FillMode = fillMode;
        Interpolation = interpolation;
        FillValue = fillValue;
        _part = (p, s, cnt) =>
        {
            var sh = InputShape!;
            int img = sh[0] * sh[1] * sh[2];
            AffineWarp.Forward(_x!.Span.Slice(s * img, cnt * img), _y!.Span.Slice(s * img, cnt * img), cnt, sh[0], sh[1], sh[2],
                _transforms.AsSpan(6 * s, 6 * cnt), Interpolation, FillMode, FillValue);
        };
    }

    /// <summary>How points outside the input are filled.</summary>
    public FillMode FillMode { get; }

    /// <summary>Nearest or bilinear sampling.</summary>
    public Interpolation Interpolation { get; }

    /// <summary>The value used by <see cref="FillMode.Constant"/>.</summary>
    public float FillValue { get; }

    /// <summary>Writes image <paramref name="image"/>'s inverse transform [a0, a1, a2, b0, b1, b2] (output pixel → input point).</summary>
    private protected abstract void Transform(ulong key, int image, int height, int width, Span<double> t);

    /// <summary>The transforms of the last training-mode batch (6 numbers per image; tests read them).</summary>
    internal ReadOnlySpan<float> LastTransforms => _transforms;

    private protected override Tensor Augment(Tensor x, ulong key)
    {
        int n = x.Shape[0];
        var sh = InputShape!;
        if (_transforms.Length != 6 * n) _transforms = new float[6 * n];
        Span<double> t = stackalloc double[6];
        for (int i = 0; i < n; i++)
        {
            Transform(key, i, sh[0], sh[1], t);
            for (int k = 0; k < 6; k++) _transforms[6 * i + k] = (float)t[k];
        }
        _x = x;
        _y = Workspace(ref _y, n, sh);
        ForBatch(n, _part);
        _x = null;
        return _y;
    }

    internal override void WriteConfig(IDictionary<string, string> c)
    {
        base.WriteConfig(c);
        c["fill_mode"] = FillModeName(FillMode);
        c["interpolation"] = InterpolationName(Interpolation);
        c["fill_value"] = FillValue.ToString("R", CultureInfo.InvariantCulture);
    }
}
