using System.Globalization;

namespace ConvNet;

/// <summary>
/// Shared plumbing of <see cref="ZeroPadding2D"/> and <see cref="Cropping2D"/>: both copy a window of rows between a
/// smaller and a larger NHWC image (whole rows of W·C floats at a time). Padding copies small → large and back-propagates
/// large → small; cropping does the opposite.
/// </summary>
internal static class RowWindowCopy
{
    /// <summary>For each image and each small row: large[n, top + r, left.., :] = small[n, r, :, :] (the rest of large untouched).</summary>
    public static void SmallToLarge(ReadOnlySpan<float> small, Span<float> large, int n, int h, int w, int c, int bigH, int bigW, int top, int left)
    {
        int row = w * c;
        for (int i = 0; i < n; i++)
        for (int r = 0; r < h; r++)
            small.Slice(((i * h) + r) * row, row).CopyTo(large.Slice((((i * bigH) + top + r) * bigW + left) * c, row));
    }

    /// <summary>For each image and each small row: small[n, r, :, :] = large[n, top + r, left.., :].</summary>
    public static void LargeToSmall(ReadOnlySpan<float> large, Span<float> small, int n, int h, int w, int c, int bigH, int bigW, int top, int left)
    {
        int row = w * c;
        for (int i = 0; i < n; i++)
        for (int r = 0; r < h; r++)
            large.Slice((((i * bigH) + top + r) * bigW + left) * c, row).CopyTo(small.Slice(((i * h) + r) * row, row));
    }

    public static string Format(((int A, int B) H, (int A, int B) W) p) =>
        string.Create(CultureInfo.InvariantCulture, $"{p.H.A},{p.H.B},{p.W.A},{p.W.B}");

    public static ((int, int), (int, int)) Parse(string s)
    {
        var v = s.Split(',').Select(t => int.Parse(t, NumberStyles.Integer, CultureInfo.InvariantCulture)).ToArray();
        return v.Length == 4 ? ((v[0], v[1]), (v[2], v[3])) : throw new FormatException($"'{s}' is not four integers");
    }

    public static void Check(((int A, int B) H, (int A, int B) W) p, string layer, string what)
    {
        if (p.H.A < 0 || p.H.B < 0 || p.W.A < 0 || p.W.B < 0)
            throw new ArgumentOutOfRangeException(what, $"{layer}: {what} must be non-negative, got (({p.H.A}, {p.H.B}), ({p.W.A}, {p.W.B})).");
    }
}

/// <summary>
/// Adds rows and columns of zeros around each image, like Keras <c>ZeroPadding2D</c>:
/// (N, H, W, C) → (N, top + H + bottom, left + W + right, C).
/// </summary>
public sealed class ZeroPadding2D : Layer
{
    private Tensor? _y, _dx;

    /// <summary>The same padding on all four sides (Keras <c>padding=1</c>).</summary>
    public ZeroPadding2D(int padding = 1, string? name = null) : this(((padding, padding), (padding, padding)), name) { }

    /// <summary>Symmetric padding: <paramref name="padding"/>.Height rows above and below, .Width columns left and right.</summary>
    public ZeroPadding2D((int Height, int Width) padding, string? name = null)
        : this(((padding.Height, padding.Height), (padding.Width, padding.Width)), name) { }

    /// <summary>Explicit padding ((top, bottom), (left, right)).</summary>
    public ZeroPadding2D(((int Top, int Bottom) Height, (int Left, int Right) Width) padding, string? name = null) : base(name)
    {
        RowWindowCopy.Check(padding, "ZeroPadding2D", nameof(padding));
        Padding = padding;
    }

    /// <summary>((top, bottom), (left, right)) rows and columns of zeros.</summary>
    public ((int Top, int Bottom) Height, (int Left, int Right) Width) Padding { get; }

    /// <inheritdoc/>
    public override string TypeName => "ZeroPadding2D";

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s)
    {
        if (s.Count != 3)
            throw Error("(None, height, width, channels)", Fmt(s, batch: true), $"ZeroPadding2D needs rank-4 NHWC input, got rank {s.Count + 1}");
        int[] output =
        [
            ShapeChecks.Dimension(this, (long)s[0] + Padding.Height.Top + Padding.Height.Bottom, "height", s),
            ShapeChecks.Dimension(this, (long)s[1] + Padding.Width.Left + Padding.Width.Right, "width", s),
            s[2],
        ];
        ShapeChecks.RequireFits(this, output, "output", s);
        return output;
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        var s = InputShape!; var o = OutputShape!;
        var y = Workspace(ref _y, x.Shape[0], o);
        y.Span.Clear();   // the border must be zero even if a caller wrote into the returned tensor
        RowWindowCopy.SmallToLarge(x.Span, y.Span, x.Shape[0], s[0], s[1], s[2], o[0], o[1], Padding.Height.Top, Padding.Width.Left);
        return y;
    }

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        var s = InputShape!; var o = OutputShape!;
        var dx = Workspace(ref _dx, dy.Shape[0], s);
        RowWindowCopy.LargeToSmall(dy.Span, dx.Span, dy.Shape[0], s[0], s[1], s[2], o[0], o[1], Padding.Height.Top, Padding.Width.Left);
        return dx;
    }

    internal override void WriteConfig(IDictionary<string, string> c) => c["padding"] = RowWindowCopy.Format(Padding);
}

/// <summary>
/// Removes rows and columns from the borders of each image, like Keras <c>Cropping2D</c>:
/// (N, H, W, C) → (N, H − top − bottom, W − left − right, C).
/// </summary>
public sealed class Cropping2D : Layer
{
    private Tensor? _y, _dx;

    /// <summary>The same cropping on all four sides.</summary>
    public Cropping2D(int cropping = 0, string? name = null) : this(((cropping, cropping), (cropping, cropping)), name) { }

    /// <summary>Symmetric cropping: <paramref name="cropping"/>.Height rows at top and bottom, .Width columns left and right.</summary>
    public Cropping2D((int Height, int Width) cropping, string? name = null)
        : this(((cropping.Height, cropping.Height), (cropping.Width, cropping.Width)), name) { }

    /// <summary>Explicit cropping ((top, bottom), (left, right)).</summary>
    public Cropping2D(((int Top, int Bottom) Height, (int Left, int Right) Width) cropping, string? name = null) : base(name)
    {
        RowWindowCopy.Check(cropping, "Cropping2D", nameof(cropping));
        Cropping = cropping;
    }

    /// <summary>((top, bottom), (left, right)) rows and columns removed.</summary>
    public ((int Top, int Bottom) Height, (int Left, int Right) Width) Cropping { get; }

    /// <inheritdoc/>
    public override string TypeName => "Cropping2D";

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s)
    {
        if (s.Count != 3)
            throw Error("(None, height, width, channels)", Fmt(s, batch: true), $"Cropping2D needs rank-4 NHWC input, got rank {s.Count + 1}");
        // 64-bit: two large crops must not wrap around to a positive size
        long oh = (long)s[0] - Cropping.Height.Top - Cropping.Height.Bottom, ow = (long)s[1] - Cropping.Width.Left - Cropping.Width.Right;
        if (oh <= 0 || ow <= 0)
            throw Error($"(None, >{Cropping.Height.Top + Cropping.Height.Bottom}, >{Cropping.Width.Left + Cropping.Width.Right}, {s[2]})", Fmt(s, batch: true),
                $"cropping (({Cropping.Height.Top}, {Cropping.Height.Bottom}), ({Cropping.Width.Left}, {Cropping.Width.Right})) leaves nothing of a {s[0]}×{s[1]} image");
        return [(int)oh, (int)ow, s[2]];
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        var s = InputShape!; var o = OutputShape!;
        var y = Workspace(ref _y, x.Shape[0], o);
        RowWindowCopy.LargeToSmall(x.Span, y.Span, x.Shape[0], o[0], o[1], o[2], s[0], s[1], Cropping.Height.Top, Cropping.Width.Left);
        return y;
    }

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        var s = InputShape!; var o = OutputShape!;
        var dx = Workspace(ref _dx, dy.Shape[0], s);
        dx.Span.Clear();   // cropped pixels get zero gradient
        RowWindowCopy.SmallToLarge(dy.Span, dx.Span, dy.Shape[0], o[0], o[1], o[2], s[0], s[1], Cropping.Height.Top, Cropping.Width.Left);
        return dx;
    }

    internal override void WriteConfig(IDictionary<string, string> c) => c["cropping"] = RowWindowCopy.Format(Cropping);
}
