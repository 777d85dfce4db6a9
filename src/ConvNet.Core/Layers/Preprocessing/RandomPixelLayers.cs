using System.Globalization;
using System.Numerics.Tensors;

namespace ConvNet;

/// <summary>Which axes <see cref="RandomFlip"/> may flip, as Keras's <c>mode</c>.</summary>
public enum FlipMode
{
    /// <summary>Left–right (<c>"horizontal"</c>).</summary>
    Horizontal,
    /// <summary>Top–bottom (<c>"vertical"</c>).</summary>
    Vertical,
    /// <summary>Both, each with probability ½ independently (<c>"horizontal_and_vertical"</c>, Keras's default).</summary>
    HorizontalAndVertical,
}

/// <summary>
/// Flips each image with probability ½ in training, like Keras 3 <c>RandomFlip(mode)</c>; the identity at inference.
/// With <see cref="FlipMode.HorizontalAndVertical"/> the two flips are drawn independently.
/// </summary>
public sealed class RandomFlip : RandomPreprocessingLayer
{
    /// <summary>Creates the layer.</summary>
    public RandomFlip(FlipMode mode = FlipMode.HorizontalAndVertical, int? seed = null, string? name = null) : base(seed, name)
    {
        CheckEnum("RandomFlip", nameof(mode), mode);
        Mode = mode;
    }

    /// <summary>The flips allowed.</summary>
    public FlipMode Mode { get; }

    /// <inheritdoc/>
    public override string TypeName => "RandomFlip";

    /// <summary>Whether image <paramref name="image"/> is flipped (horizontally, vertically) under <paramref name="key"/>.</summary>
    internal (bool Horizontal, bool Vertical) Flips(ulong key, int image) => Mode switch
    {
        FlipMode.Horizontal => (Uniform(key, image, 0) < 0.5, false),
        FlipMode.Vertical => (false, Uniform(key, image, 0) < 0.5),
        _ => (Uniform(key, image, 0) < 0.5, Uniform(key, image, 1) < 0.5),
    };

    private protected override void AugmentImage(int i, ReadOnlySpan<float> src, Span<float> dst)
    {
        var sh = InputShape!;
        int h = sh[0], w = sh[1], c = sh[2], row = w * c;
        var (fh, fv) = Flips(LastKey, i);
        for (int r = 0; r < h; r++)
        {
            var s = src.Slice((fv ? h - 1 - r : r) * row, row);
            var d = dst.Slice(r * row, row);
            if (!fh) { s.CopyTo(d); continue; }
            for (int q = 0; q < w; q++) s.Slice((w - 1 - q) * c, c).CopyTo(d.Slice(q * c, c));
        }
    }

    internal override void WriteConfig(IDictionary<string, string> c)
    {
        base.WriteConfig(c);
        c["mode"] = Mode switch { FlipMode.Horizontal => "horizontal", FlipMode.Vertical => "vertical", _ => "horizontal_and_vertical" };
    }

    internal static FlipMode ParseMode(string s) => s switch
    {
        "horizontal" => FlipMode.Horizontal, "vertical" => FlipMode.Vertical, "horizontal_and_vertical" => FlipMode.HorizontalAndVertical,
        _ => throw new FormatException($"unknown flip mode '{s}'"),
    };
}

/// <summary>
/// Changes each image's contrast by a random factor in training, like Keras 3 <c>RandomContrast(factor, value_range)</c>;
/// the identity at inference. Per image the factor f is uniform in [1 − lower, 1 + upper] (a single number gives
/// lower = upper), and every channel becomes (x − mean)·f + mean with the channel's mean over the image, clipped to the value range.
/// </summary>
public sealed class RandomContrast : RandomPreprocessingLayer
{
    /// <summary>f uniform in [1 − factor, 1 + factor]; factor in [0, 1].</summary>
    public RandomContrast(double factor, (float Low, float High)? valueRange = null, int? seed = null, string? name = null)
        : this((factor, factor), valueRange, seed, name) { }

    /// <summary>f uniform in [1 − lower, 1 + upper]; lower in [0, 1], upper ≥ 0.</summary>
    public RandomContrast((double Lower, double Upper) factor, (float Low, float High)? valueRange = null, int? seed = null, string? name = null)
        : base(seed, name)
    {
        if (!double.IsFinite(factor.Lower) || !double.IsFinite(factor.Upper) || factor.Lower < 0 || factor.Upper < 0 || factor.Lower > 1)
            throw new ArgumentOutOfRangeException(nameof(factor), $"RandomContrast: factor must be finite and non-negative with lower ≤ 1 " +
                $"(the contrast factor is drawn from [1 − lower, 1 + upper]), got {FormatPair(factor)}.");
        Factor = factor;
        ValueRange = CheckValueRange("RandomContrast", valueRange ?? (0f, 255f));
    }

    /// <summary>(lower, upper): the factor is uniform in [1 − lower, 1 + upper].</summary>
    public (double Lower, double Upper) Factor { get; }

    /// <summary>Outputs are clipped to [Low, High] (default [0, 255]).</summary>
    public (float Low, float High) ValueRange { get; }

    /// <inheritdoc/>
    public override string TypeName => "RandomContrast";

    /// <summary>Image <paramref name="image"/>'s contrast factor under <paramref name="key"/>.</summary>
    internal float ContrastFactor(ulong key, int image) => (float)Uniform(key, image, 0, (1 - Factor.Lower, 1 + Factor.Upper));

    private protected override void AugmentImage(int i, ReadOnlySpan<float> src, Span<float> dst)
    {
        var sh = InputShape!;
        int pixels = sh[0] * sh[1], c = sh[2];
        float f = ContrastFactor(LastKey, i);
        if (c == 1)
        {
            float mean = TensorPrimitives.Sum(src) / pixels;
            TensorPrimitives.Multiply(src, f, dst);
            TensorPrimitives.Add(dst, mean * (1 - f), dst);
        }
        else
            for (int ch = 0; ch < c; ch++)
            {
                double sum = 0;
                for (int p = 0; p < pixels; p++) sum += src[p * c + ch];
                float mean = (float)(sum / pixels), add = mean * (1 - f);
                for (int p = 0; p < pixels; p++) dst[p * c + ch] = src[p * c + ch] * f + add;
            }
        TensorPrimitives.Max(dst, ValueRange.Low, dst);
        TensorPrimitives.Min(dst, ValueRange.High, dst);
    }

    internal override void WriteConfig(IDictionary<string, string> c)
    {
        base.WriteConfig(c);
        c["factor"] = Pair(Factor);
        c["value_range"] = FormatRange(ValueRange);
    }

    internal static (float, float) CheckValueRange(string layer, (float Low, float High) r) =>
        float.IsFinite(r.Low) && float.IsFinite(r.High) && r.Low < r.High ? r
            : throw new ArgumentOutOfRangeException("valueRange", $"{layer}: valueRange must be finite with low < high, got ({r.Low}, {r.High}).");

    internal static string FormatRange((float Low, float High) r) => string.Create(CultureInfo.InvariantCulture, $"{r.Low:R},{r.High:R}");

    internal static (float, float) ParseRange(string s)
    {
        var (a, b) = ParsePair(s);
        return ((float)a, (float)b);
    }
}

/// <summary>
/// Adds a random brightness offset to each image in training, like Keras 3 <c>RandomBrightness(factor, value_range)</c>;
/// the identity at inference. Per image the offset is u·(High − Low) with u uniform in the factor's range (a single number f
/// gives [−f, f]; factors lie in [−1, 1]); the result is clipped to the value range. One offset for all channels.
/// </summary>
public sealed class RandomBrightness : RandomPreprocessingLayer
{
    /// <summary>Offsets uniform in [−factor, factor]·(High − Low).</summary>
    public RandomBrightness(double factor, (float Low, float High)? valueRange = null, int? seed = null, string? name = null)
        : this(Symmetric(factor), valueRange, seed, name) { }

    /// <summary>Offsets uniform in [lower, upper]·(High − Low).</summary>
    public RandomBrightness((double Lower, double Upper) factor, (float Low, float High)? valueRange = null, int? seed = null, string? name = null)
        : base(seed, name)
    {
        Factor = CheckRange("RandomBrightness", nameof(factor), factor, -1, 1);
        ValueRange = RandomContrast.CheckValueRange("RandomBrightness", valueRange ?? (0f, 255f));
    }

    /// <summary>(lower, upper) fraction of the value range.</summary>
    public (double Lower, double Upper) Factor { get; }

    /// <summary>The value range (default [0, 255]): offsets are fractions of its width and outputs are clipped to it.</summary>
    public (float Low, float High) ValueRange { get; }

    /// <inheritdoc/>
    public override string TypeName => "RandomBrightness";

    /// <summary>Image <paramref name="image"/>'s offset under <paramref name="key"/>.</summary>
    internal float Offset(ulong key, int image) => (float)(Uniform(key, image, 0, Factor) * (ValueRange.High - ValueRange.Low));

    // dst = clip(src + offset, value range)
    private protected override void AugmentImage(int i, ReadOnlySpan<float> src, Span<float> dst)
    {
        TensorPrimitives.Add(src, Offset(LastKey, i), dst);
        TensorPrimitives.Max(dst, ValueRange.Low, dst);
        TensorPrimitives.Min(dst, ValueRange.High, dst);
    }

    internal override void WriteConfig(IDictionary<string, string> c)
    {
        base.WriteConfig(c);
        c["factor"] = Pair(Factor);
        c["value_range"] = RandomContrast.FormatRange(ValueRange);
    }
}

/// <summary>
/// Crops a random (height, width) window of each image in training, like Keras 3 <c>RandomCrop</c>; at inference it crops
/// the centre window (offsets ⌊(H − height)/2⌋, ⌊(W − width)/2⌋). The input must be at least height × width (Keras 3
/// instead resizes smaller inputs, and at inference resizes the largest central window of the target aspect ratio; this
/// layer only crops, so training and inference see the same scale).
/// </summary>
public sealed class RandomCrop : RandomPreprocessingLayer
{
    private Tensor? _y, _dx;

    /// <summary>Creates the layer.</summary>
    public RandomCrop(int height, int width, int? seed = null, string? name = null) : base(seed, name)
    {
        if (height <= 0 || width <= 0)
            throw new ArgumentOutOfRangeException(height <= 0 ? nameof(height) : nameof(width), $"RandomCrop: height and width must be positive, got {height}×{width}.");
        Height = height;
        Width = width;
    }

    /// <summary>Output height.</summary>
    public int Height { get; }

    /// <summary>Output width.</summary>
    public int Width { get; }

    /// <inheritdoc/>
    public override string TypeName => "RandomCrop";

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s)
    {
        base.ComputeOutputShape(s);
        if (s[0] < Height || s[1] < Width)
            throw Error($"(None, ≥{Height}, ≥{Width}, {s[2]})", Fmt(s, batch: true), $"RandomCrop cannot crop {Height}×{Width} from a {s[0]}×{s[1]} image");
        return [Height, Width, s[2]];
    }

    /// <summary>Image <paramref name="image"/>'s (top, left) in training under <paramref name="key"/>.</summary>
    internal (int Top, int Left) Offsets(ulong key, int image)
    {
        int rows = InputShape![0] - Height + 1, cols = InputShape[1] - Width + 1;
        return (Math.Min(rows - 1, (int)(Uniform(key, image, 0) * rows)), Math.Min(cols - 1, (int)(Uniform(key, image, 1) * cols)));
    }

    private protected override Tensor Augment(Tensor x, ulong key)
    {
        var s = InputShape!;
        var y = Workspace(ref _y, x.Shape[0], OutputShape!);
        int big = s[0] * s[1] * s[2], small = Height * Width * s[2];
        for (int i = 0; i < x.Shape[0]; i++)
        {
            var (top, left) = Offsets(key, i);
            RowWindowCopy.LargeToSmall(x.Span.Slice(i * big, big), y.Span.Slice(i * small, small), 1, Height, Width, s[2], s[0], s[1], top, left);
        }
        return y;
    }

    private protected override Tensor Infer(Tensor x)
    {
        var s = InputShape!;
        if (s[0] == Height && s[1] == Width) return x;
        var y = OutputBuffer(ref _y, x.Shape[0]);
        RowWindowCopy.LargeToSmall(x.Span, y.Span, x.Shape[0], Height, Width, s[2], s[0], s[1], (s[0] - Height) / 2, (s[1] - Width) / 2);
        return y;
    }

    private protected override Tensor InferBackward(Tensor dy)
    {
        var s = InputShape!;
        if (s[0] == Height && s[1] == Width) return dy;
        var dx = Workspace(ref _dx, dy.Shape[0], s);
        dx.Span.Clear();
        RowWindowCopy.SmallToLarge(dy.Span, dx.Span, dy.Shape[0], Height, Width, s[2], s[0], s[1], (s[0] - Height) / 2, (s[1] - Width) / 2);
        return dx;
    }

    internal override void WriteConfig(IDictionary<string, string> c)
    {
        base.WriteConfig(c);
        c["height"] = Height.ToString(CultureInfo.InvariantCulture);
        c["width"] = Width.ToString(CultureInfo.InvariantCulture);
    }
}
