using System.Globalization;

namespace ConvNet;

/// <summary>
/// Rotates each image by a random angle in training, like Keras 3 <c>RandomRotation</c>; the identity at inference.
/// The factor is a fraction of a full turn (2π): 0.1 draws angles in [−0.2π, 0.2π]; a pair gives (lower, upper).
/// Positive angles turn counter-clockwise about the image centre ((W − 1)/2, (H − 1)/2). Defaults: reflect, bilinear.
/// </summary>
public sealed class RandomRotation : RandomAffineLayer
{
    /// <summary>Angles uniform in [−factor, factor]·2π.</summary>
    public RandomRotation(double factor, FillMode fillMode = FillMode.Reflect, Interpolation interpolation = Interpolation.Bilinear,
        float fillValue = 0f, int? seed = null, string? name = null)
        : this(Symmetric(factor), fillMode, interpolation, fillValue, seed, name) { }

    /// <summary>Angles uniform in [lower, upper]·2π.</summary>
    public RandomRotation((double Lower, double Upper) factor, FillMode fillMode = FillMode.Reflect, Interpolation interpolation = Interpolation.Bilinear,
        float fillValue = 0f, int? seed = null, string? name = null) : base(fillMode, interpolation, fillValue, seed, name)
    {
        Factor = CheckRange("RandomRotation", nameof(factor), factor, double.MinValue, double.MaxValue);
    }

    /// <summary>(lower, upper) fraction of 2π.</summary>
    public (double Lower, double Upper) Factor { get; }

    /// <inheritdoc/>
    public override string TypeName => "RandomRotation";

    private protected override void Transform(ulong key, int image, int height, int width, Span<double> t)
    {
        double angle = Uniform(key, image, 0, Factor) * 2 * Math.PI, cos = Math.Cos(angle), sin = Math.Sin(angle);
        t[0] = cos; t[1] = -sin; t[2] = ((width - 1) - (cos * (width - 1) - sin * (height - 1))) / 2;
        t[3] = sin; t[4] = cos; t[5] = ((height - 1) - (sin * (width - 1) + cos * (height - 1))) / 2;
    }

    internal override void WriteConfig(IDictionary<string, string> c)
    {
        base.WriteConfig(c);
        c["factor"] = Pair(Factor);
    }
}

/// <summary>
/// Zooms each image by a random factor in training, like Keras 3 <c>RandomZoom</c>; the identity at inference.
/// The zoom is 1 + u with u uniform in the factor's range: negative u zooms in (enlarges), positive zooms out. Without a
/// width factor the width zoom equals the height zoom (aspect kept). Factors lie in [−1, 1]. Defaults: reflect, bilinear.
/// </summary>
public sealed class RandomZoom : RandomAffineLayer
{
    /// <summary>Zoom factors uniform in [−heightFactor, heightFactor] (and [−widthFactor, widthFactor] if given).</summary>
    public RandomZoom(double heightFactor, double? widthFactor = null, FillMode fillMode = FillMode.Reflect,
        Interpolation interpolation = Interpolation.Bilinear, float fillValue = 0f, int? seed = null, string? name = null)
        : this(Symmetric(heightFactor), widthFactor is double w ? Symmetric(w) : null, fillMode, interpolation, fillValue, seed, name) { }

    /// <summary>Zoom factors uniform in (lower, upper) ranges.</summary>
    public RandomZoom((double Lower, double Upper) heightFactor, (double Lower, double Upper)? widthFactor = null, FillMode fillMode = FillMode.Reflect,
        Interpolation interpolation = Interpolation.Bilinear, float fillValue = 0f, int? seed = null, string? name = null)
        : base(fillMode, interpolation, fillValue, seed, name)
    {
        HeightFactor = CheckRange("RandomZoom", nameof(heightFactor), heightFactor, -1, 1);
        WidthFactor = widthFactor is { } w ? CheckRange("RandomZoom", nameof(widthFactor), w, -1, 1) : null;
    }

    /// <summary>(lower, upper) of the height zoom's offset from 1.</summary>
    public (double Lower, double Upper) HeightFactor { get; }

    /// <summary>(lower, upper) of the width zoom's offset from 1; null: the same zoom as the height.</summary>
    public (double Lower, double Upper)? WidthFactor { get; }

    /// <inheritdoc/>
    public override string TypeName => "RandomZoom";

    private protected override void Transform(ulong key, int image, int height, int width, Span<double> t)
    {
        double zy = 1 + Uniform(key, image, 0, HeightFactor);
        double zx = WidthFactor is { } w ? 1 + Uniform(key, image, 1, w) : zy;
        t[0] = zx; t[1] = 0; t[2] = (width - 1) / 2.0 * (1 - zx);
        t[3] = 0; t[4] = zy; t[5] = (height - 1) / 2.0 * (1 - zy);
    }

    internal override void WriteConfig(IDictionary<string, string> c)
    {
        base.WriteConfig(c);
        c["height_factor"] = Pair(HeightFactor);
        c["width_factor"] = WidthFactor is { } w ? Pair(w) : "none";
    }
}

/// <summary>
/// Shifts each image by a random offset in training, like Keras 3 <c>RandomTranslation</c>; the identity at inference.
/// Factors are fractions of the height and width in [−1, 1]; positive shifts move the content down and right.
/// Defaults: reflect, bilinear.
/// </summary>
public sealed class RandomTranslation : RandomAffineLayer
{
    /// <summary>Shifts uniform in [−heightFactor, heightFactor]·H and [−widthFactor, widthFactor]·W.</summary>
    public RandomTranslation(double heightFactor, double widthFactor, FillMode fillMode = FillMode.Reflect,
        Interpolation interpolation = Interpolation.Bilinear, float fillValue = 0f, int? seed = null, string? name = null)
        : this(Symmetric(heightFactor), Symmetric(widthFactor), fillMode, interpolation, fillValue, seed, name) { }

    /// <summary>Shifts uniform in (lower, upper)·H and (lower, upper)·W.</summary>
    public RandomTranslation((double Lower, double Upper) heightFactor, (double Lower, double Upper) widthFactor, FillMode fillMode = FillMode.Reflect,
        Interpolation interpolation = Interpolation.Bilinear, float fillValue = 0f, int? seed = null, string? name = null)
        : base(fillMode, interpolation, fillValue, seed, name)
    {
        HeightFactor = CheckRange("RandomTranslation", nameof(heightFactor), heightFactor, -1, 1);
        WidthFactor = CheckRange("RandomTranslation", nameof(widthFactor), widthFactor, -1, 1);
    }

    /// <summary>(lower, upper) vertical shift as a fraction of the height.</summary>
    public (double Lower, double Upper) HeightFactor { get; }

    /// <summary>(lower, upper) horizontal shift as a fraction of the width.</summary>
    public (double Lower, double Upper) WidthFactor { get; }

    /// <inheritdoc/>
    public override string TypeName => "RandomTranslation";

    private protected override void Transform(ulong key, int image, int height, int width, Span<double> t)
    {
        double dy = Uniform(key, image, 0, HeightFactor) * height, dx = Uniform(key, image, 1, WidthFactor) * width;
        t[0] = 1; t[1] = 0; t[2] = -dx;
        t[3] = 0; t[4] = 1; t[5] = -dy;
    }

    internal override void WriteConfig(IDictionary<string, string> c)
    {
        base.WriteConfig(c);
        c["height_factor"] = Pair(HeightFactor);
        c["width_factor"] = Pair(WidthFactor);
    }
}
