using System.Globalization;
using System.Text;

namespace ConvNet.Demo.Teaching;

/// <summary>A text page built line by line ('\n' endings, invariant culture).</summary>
internal sealed class Page
{
    private readonly StringBuilder _sb = new();

    /// <summary>Appends one line; an interpolated string is formatted with the invariant culture.</summary>
    public void Line(Inv text) => Line(text.ToStringAndClear());

    /// <summary>Appends one line.</summary>
    public void Line(string text = "") => _sb.Append(text).Append('\n');

    /// <summary>Appends a rows×cols table of cells, right-aligned to a common width, each row indented.</summary>
    public void Grid(int rows, int cols, Func<int, int, string> cell, string indent = "    ")
    {
        int width = 1;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) width = Math.Max(width, cell(r, c).Length);
        for (int r = 0; r < rows; r++)
        {
            var row = new StringBuilder(indent);
            for (int c = 0; c < cols; c++)
            {
                if (c > 0) row.Append(' ');
                row.Append(cell(r, c).PadLeft(width));
            }
            Line(row.ToString().TrimEnd());
        }
    }

    /// <summary>Appends a multi-line block (e.g. a model summary) without its trailing newline duplicated.</summary>
    public void Block(string text)
    {
        foreach (var line in text.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n').Split('\n')) Line(line.TrimEnd());
    }

    /// <inheritdoc/>
    public override string ToString() => _sb.ToString();

    /// <summary>An integer-valued float as an integer, otherwise up to four decimals ("2.25"); never "-0".</summary>
    public static string Num(float v)
    {
        if (v == 0) return "0";
        if (v == MathF.Round(v) && MathF.Abs(v) < 1e9f) return ((long)v).ToString(CultureInfo.InvariantCulture);
        return v.ToString("0.####", CultureInfo.InvariantCulture);
    }

    /// <summary>A double with fixed decimals, invariant.</summary>
    public static string Num(double v, int decimals) =>
        (Math.Abs(v) < 0.5 * Math.Pow(10, -decimals) ? 0.0 : v).ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>An integer as a factor in a product: negatives in parentheses, "(-1)".</summary>
    public static string Factor(int v) => v < 0 ? "(" + v.ToString(CultureInfo.InvariantCulture) + ")" : v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Integers joined with " + ", negatives in parentheses: "1 + 4 + (-3)".</summary>
    public static string SumOf(IEnumerable<int> terms) => string.Join(" + ", terms.Select(Factor));

    /// <summary>An integer with thousands separators: 52,675.</summary>
    public static string Thousands(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A per-sample shape with the batch dimension, Keras style: (None, 6, 6, 3).</summary>
    public static string Shape(IReadOnlyList<int> shape) => Layer.Fmt(shape, batch: true);
}

/// <summary>Interpolated-string handler that formats with <see cref="CultureInfo.InvariantCulture"/>.</summary>
[System.Runtime.CompilerServices.InterpolatedStringHandler]
internal ref struct Inv
{
    private System.Runtime.CompilerServices.DefaultInterpolatedStringHandler _h;

    /// <summary>Called by the compiler.</summary>
    public Inv(int literalLength, int formattedCount) =>
        _h = new System.Runtime.CompilerServices.DefaultInterpolatedStringHandler(literalLength, formattedCount, CultureInfo.InvariantCulture);

    /// <summary>Called by the compiler.</summary>
    public void AppendLiteral(string s) => _h.AppendLiteral(s);
    /// <summary>Called by the compiler.</summary>
    public void AppendFormatted<T>(T value) => _h.AppendFormatted(value);
    /// <summary>Called by the compiler.</summary>
    public void AppendFormatted<T>(T value, string? format) => _h.AppendFormatted(value, format);
    /// <summary>Called by the compiler.</summary>
    public void AppendFormatted<T>(T value, int alignment) => _h.AppendFormatted(value, alignment);
    /// <summary>Called by the compiler.</summary>
    public void AppendFormatted<T>(T value, int alignment, string? format) => _h.AppendFormatted(value, alignment, format);
    /// <summary>The formatted text.</summary>
    public string ToStringAndClear() => _h.ToStringAndClear();

    /// <summary>Formats an interpolated string with the invariant culture.</summary>
    public static string S(Inv text) => text.ToStringAndClear();
}

/// <summary>Small helpers that run real ConvNet layers on one image with hand-set weights.</summary>
internal static class Lab
{
    /// <summary>A single-threaded Conv2D built for (h, w, c) with the given kernel (KH, KW, C, K) and bias.</summary>
    public static Conv2D Conv(int filters, (int H, int W) kernel, (int H, int W) strides, Padding padding,
        (int H, int W, int C) input, float[]? weights = null, float[]? bias = null)
    {
        var layer = new Conv2D(filters, kernel, strides, padding, useBias: true) { Threads = 1 };
        layer.Build([input.H, input.W, input.C]);
        if (weights is not null)
        {
            if (weights.Length != layer.Kernel!.Value.Length)
                throw new ArgumentException($"Kernel needs {layer.Kernel.Value.Length} weights, got {weights.Length}.", nameof(weights));
            weights.CopyTo(layer.Kernel.Value.Span);
        }
        else layer.Kernel!.Value.Span.Clear();
        if (bias is not null) bias.CopyTo(layer.Bias!.Value.Span);
        else layer.Bias!.Value.Span.Clear();
        return layer;
    }

    /// <summary>Forward pass of one (h, w, c) image; returns a copy of the (oh, ow, k) output.</summary>
    public static float[] Run(Layer layer, float[] image, bool training = false)
    {
        var s = layer.InputShape!;
        return layer.Forward(new Tensor((float[])image.Clone(), 1, s[0], s[1], s[2]), training).ToArray();
    }

    /// <summary>Index into an (H, W, C) image stored row-major.</summary>
    public static int At(int w, int c, int row, int col, int ch) => (row * w + col) * c + ch;

    /// <summary>Index into a (KH, KW, C, K) kernel.</summary>
    public static int Kw(int kw, int c, int k, int kh, int kwi, int ci, int ki) => ((kh * kw + kwi) * c + ci) * k + ki;
}
