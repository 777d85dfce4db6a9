using System.Globalization;
using System.Text;
using ConvNet.Kernels;

namespace ConvNet.Demo.Inspection;

/// <summary>
/// Writes out, for one output value of a Conv2D, Dense or pooling layer, every number that goes into it — input patch,
/// weights, products, sum, bias, activation — and checks the hand computation against the layer's real forward pass.
/// </summary>
internal static class Explainer
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Products above which a Conv2D patch is summarised per input channel unless <c>--full</c>.</summary>
    public const int MaxDetailedConvProducts = 600;

    /// <summary>Dense inputs above which only the largest products are listed unless <c>--full</c>.</summary>
    public const int MaxDetailedDenseInputs = 64;

    private const int LargestShown = 16;
    private const double RelativeTolerance = 1e-4;

    /// <summary>True for the layer types <c>explain</c> can take apart.</summary>
    public static bool CanExplain(Layer layer) => layer is Conv2D or Dense or Pooling2D;

    /// <summary>The outcome of the hand computation, compared with the layer's output by the caller.</summary>
    public readonly record struct Result(double Value, double LayerValue, double Scale)
    {
        public double Diff => Math.Abs(Value - LayerValue);
        public bool Matches => Diff <= RelativeTolerance * Math.Max(Math.Max(Math.Abs(LayerValue), Scale), 1e-12);
    }

    /// <summary>Checks <paramref name="at"/> against the layer's output shape; throws a one-line <see cref="CliException"/> otherwise.</summary>
    public static void CheckIndex(Layer layer, int[] at)
    {
        var shape = layer.OutputShape!;
        string what = shape.Count == 1 ? "one index u (0…" + (shape[0] - 1) + ")" : "y,x,c";
        if (at.Length != shape.Count)
            throw new CliException($"--at {string.Join(",", at)} has {at.Length} coordinate(s) but layer '{layer.Name}' ({layer.TypeName}) has output shape {Layer.Fmt(shape)}: give {what}.");
        for (int i = 0; i < at.Length; i++)
            if (at[i] >= shape[i])
                throw new CliException($"--at {string.Join(",", at)} is outside layer '{layer.Name}' ({layer.TypeName}) output shape {Layer.Fmt(shape)}: " +
                    (shape.Count == 1 ? $"the unit must be 0…{shape[0] - 1}." : $"y must be 0…{shape[0] - 1}, x 0…{shape[1] - 1}, c 0…{shape[2] - 1}."));
    }

    /// <summary>Writes the explanation of output value <paramref name="at"/> of layer <paramref name="index"/> and returns the comparison.</summary>
    public static Result Explain(TextWriter o, Sequential model, int index, Tensor input, Tensor output, int[] at, bool full)
    {
        var layer = model.Layers[index];
        var prev = index > 0 ? model.Layers[index - 1] : null;
        string from = prev is null ? "the model input" : $"'{prev.Name}' ({prev.TypeName})";
        o.WriteLine($"Layer '{layer.Name}' ({layer.TypeName}), layer {index + 1} of {model.Layers.Count}: {Describe(layer)}");
        o.WriteLine($"  input {Layer.Fmt(layer.InputShape!)} from {from} → output {Layer.Fmt(layer.OutputShape!)}");
        if (prev is Rescaling rescaling)
            o.WriteLine($"  input values are shown as this layer sees them: after '{prev.Name}', i.e. pixel value × {rescaling.Scale.ToString("G6", Inv)}" +
                        (rescaling.Offset != 0 ? $" + {rescaling.Offset.ToString("G6", Inv)}" : ""));
        else if (prev is not null and not Input)
            o.WriteLine($"  input values are shown as this layer sees them: the output of '{prev.Name}'");
        return layer switch
        {
            Conv2D conv => ExplainConv(o, conv, input, output, at, full, model.Layers.Take(index).ToArray()),
            Dense dense => ExplainDense(o, dense, prev, input, output, at[0], full),
            Pooling2D pool => ExplainPool(o, pool, input, output, at),
            _ => throw new CliException($"Layer '{layer.Name}' ({layer.TypeName}) cannot be explained."),
        };
    }

    /// <summary>
    /// The image window behind rows r0…r1, columns c0…c1 of a layer's input: walks back through the earlier convolution and
    /// pooling layers (window [a, b] of an output maps to [a·s − p, b·s − p + k − 1] of its input), clipped to the image.
    /// Null when the layer reads the image directly (its window is already in image pixels).
    /// </summary>
    internal static (int R0, int R1, int C0, int C1, int H, int W)? ImageWindow(IReadOnlyList<Layer> before, int r0, int r1, int c0, int c1)
    {
        bool moved = false;
        for (int i = before.Count - 1; i >= 0; i--)
        {
            var (kh, kw, sh, sw, pad) = before[i] switch
            {
                Conv2D c => (c.KernelSize.Height, c.KernelSize.Width, c.Strides.Height, c.Strides.Width, c.Padding),
                Pooling2D p => (p.PoolSize.Height, p.PoolSize.Width, p.Strides.Height, p.Strides.Width, p.Padding),
                _ => (0, 0, 0, 0, Padding.Valid),
            };
            if (kh == 0) continue;
            var s = before[i].InputShape!;
            int pt = ConvGeometry.Axis(s[0], kh, sh, pad).PadBefore, pl = ConvGeometry.Axis(s[1], kw, sw, pad).PadBefore;
            (r0, r1, c0, c1) = (r0 * sh - pt, r1 * sh - pt + kh - 1, c0 * sw - pl, c1 * sw - pl + kw - 1);
            moved = true;
        }
        if (!moved || before.Count == 0) return null;
        var image = before[0].InputShape!;
        int h = image[0], w = image[1];
        return (Math.Max(r0, 0), Math.Min(r1, h - 1), Math.Max(c0, 0), Math.Min(c1, w - 1), h, w);
    }

    private static string Describe(Layer layer) => layer switch
    {
        Conv2D c => $"{c.Filters} filters of {c.KernelSize.Height}×{c.KernelSize.Width}×{c.InputShape![2]}, strides {c.Strides.Height}×{c.Strides.Width}, " +
                    $"padding {Pad(c.Padding)}, activation {ActName(c.Activation)}{(c.UseBias ? "" : ", no bias")}",
        Dense d => $"{d.Units} units, activation {ActName(d.Activation)}{(d.UseBias ? "" : ", no bias")}",
        Pooling2D p => $"pool {p.PoolSize.Height}×{p.PoolSize.Width}, strides {p.Strides.Height}×{p.Strides.Width}, padding {Pad(p.Padding)}",
        _ => layer.TypeName,
    };

    private static string Pad(Padding p) => p == Padding.Same ? "same" : "valid";

    private static string ActName(Activation a) => a switch
    {
        Activation.None => "linear",
        Activation.Relu => "relu",
        Activation.Tanh => "tanh",
        _ => "softmax",
    };

    // ---------------------------------------------------------------------------------------------------------
    // Conv2D
    // ---------------------------------------------------------------------------------------------------------

    private static Result ExplainConv(TextWriter o, Conv2D conv, Tensor input, Tensor output, int[] at, bool full, Layer[] before)
    {
        var s = conv.InputShape!;
        int h = s[0], w = s[1], c = s[2], k = conv.Filters;
        int kh = conv.KernelSize.Height, kw = conv.KernelSize.Width, sh = conv.Strides.Height, sw = conv.Strides.Width;
        var (oh, padTop) = ConvGeometry.Axis(h, kh, sh, conv.Padding);
        var (ow, padLeft) = ConvGeometry.Axis(w, kw, sw, conv.Padding);
        int y = at[0], x = at[1], f = at[2];
        int r0 = y * sh - padTop, c0 = x * sw - padLeft;
        var xs = input.Span;
        var ws = conv.Kernel!.Value.Span;
        double bias = conv.Bias is { } b ? b.Value.Span[f] : 0;
        string act = ActName(conv.Activation);

        o.WriteLine($"Explaining output value y[{y}, {x}, {f}] (row {y}, column {x}, filter {f}):");
        o.WriteLine($"  y[{y}, {x}, {f}] = {act}( Σ over kh, kw, ci of x[{r0} + kh, {c0} + kw, ci] · w[kh, kw, ci, {f}]  +  b[{f}] )," +
                    $"  kh 0…{kh - 1}, kw 0…{kw - 1}, ci 0…{c - 1}");
        o.WriteLine($"  receptive field: input rows {r0}…{r0 + kh - 1}, columns {c0}…{c0 + kw - 1}, all {c} input channel(s)" +
                    $"  (row = {y}·{sh} − {padTop}, column = {x}·{sw} − {padLeft})");
        if (ImageWindow(before, r0, r0 + kh - 1, c0, c0 + kw - 1) is var (ir0, ir1, ic0, ic1, ih, iw))
            o.WriteLine($"  in the image: rows {ir0}…{ir1}, columns {ic0}…{ic1} ({ir1 - ir0 + 1}×{ic1 - ic0 + 1} pixels of the {ih}×{iw} image)");
        int outside = 0;
        for (int i = 0; i < kh; i++)
            for (int j = 0; j < kw; j++)
                if (!Inside(r0 + i, c0 + j, h, w)) outside++;
        if (conv.Padding == Padding.Same)
            o.WriteLine($"  'same' padding surrounds the {h}×{w} input with zeros ({padTop} row(s) above, {padLeft} column(s) left); " +
                        (outside > 0 ? $"{outside} of the {kh * kw} window positions fall on padding, shown as ·0 (their products are 0)."
                                     : "this window lies entirely inside the input."));

        int products = kh * kw * c;
        bool detailed = full || products <= MaxDetailedConvProducts;
        double sum = 0, scale = Math.Abs(bias);
        var channelSums = new double[c];
        for (int ci = 0; ci < c; ci++)
        {
            double cs = 0;
            for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++)
                {
                    int r = r0 + i, q = c0 + j;
                    if (!Inside(r, q, h, w)) continue;
                    double p = (double)xs[(r * w + q) * c + ci] * ws[((i * kw + j) * c + ci) * k + f];
                    cs += p;
                    scale += Math.Abs(p);
                }
            channelSums[ci] = cs;
            sum += cs;
        }

        if (detailed)
        {
            o.WriteLine();
            int block = Math.Max(kw * Cell, 24);
            for (int ci = 0; ci < c; ci++)
            {
                var head = new StringBuilder();
                head.Append(c == 1 ? "  input patch x".PadRight(RowLabel + 2) : $"  channel {ci}: x".PadRight(RowLabel + 2));
                head.Append(ColumnHeader(c0, kw).PadRight(block)).Append(" |  ");
                head.Append($"kernel w[kh, kw, {ci}, {f}]".PadRight(block)).Append(" |  ");
                head.Append("products x·w");
                o.WriteLine(head.ToString().TrimEnd());
                for (int i = 0; i < kh; i++)
                {
                    int r = r0 + i;
                    var line = new StringBuilder();
                    line.Append($"    row {r}".PadRight(RowLabel + 2));
                    var px = new StringBuilder(); var pw = new StringBuilder(); var pp = new StringBuilder();
                    for (int j = 0; j < kw; j++)
                    {
                        int q = c0 + j;
                        float wv = ws[((i * kw + j) * c + ci) * k + f];
                        pw.Append(Num(wv));
                        if (Inside(r, q, h, w))
                        {
                            float xv = xs[(r * w + q) * c + ci];
                            px.Append(Num(xv));
                            pp.Append(Num((double)xv * wv));
                        }
                        else
                        {
                            px.Append(PadCell);
                            pp.Append(PadCell);
                        }
                    }
                    line.Append(px.ToString().PadRight(block)).Append(" |  ").Append(pw.ToString().PadRight(block)).Append(" |  ").Append(pp);
                    if (i == kh - 1) line.Append($"   Σ = {F6(channelSums[ci])}");
                    o.WriteLine(line.ToString());
                }
            }
        }
        else
        {
            o.WriteLine($"  {products} products: the sum per input channel (pass --full to print every patch, kernel and product):");
            for (int ci = 0; ci < c; ci += 4)
                o.WriteLine("   " + string.Concat(Enumerable.Range(ci, Math.Min(4, c - ci)).Select(q => $"  ch {q,3}: {F6(channelSums[q]),11}")));
        }

        o.WriteLine();
        string what = c == 1 ? $"sum of the {products} products" : $"sum of the {c} channel sums ({products} products)";
        o.WriteLine(Line(what, sum));
        double z = sum + bias;
        return Finish(o, conv.Activation, conv.UseBias, $"b[{f}]", bias, z, () => AllConvPre(conv, input, r0, c0),
            $"y[{y}, {x}, {f}]", output.Span[(y * ow + x) * k + f], scale);
    }

    // The pre-activations of every filter at one position (for a softmax over channels).
    private static double[] AllConvPre(Conv2D conv, Tensor input, int r0, int c0)
    {
        var s = conv.InputShape!;
        int h = s[0], w = s[1], c = s[2], k = conv.Filters, kh = conv.KernelSize.Height, kw = conv.KernelSize.Width;
        var xs = input.Span; var ws = conv.Kernel!.Value.Span;
        var z = new double[k];
        for (int f = 0; f < k; f++)
        {
            double acc = conv.Bias is { } b ? b.Value.Span[f] : 0;
            for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++)
                {
                    int r = r0 + i, q = c0 + j;
                    if (!Inside(r, q, h, w)) continue;
                    for (int ci = 0; ci < c; ci++) acc += (double)xs[(r * w + q) * c + ci] * ws[((i * kw + j) * c + ci) * k + f];
                }
            z[f] = acc;
        }
        return z;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Dense
    // ---------------------------------------------------------------------------------------------------------

    private static Result ExplainDense(TextWriter o, Dense dense, Layer? prev, Tensor input, Tensor output, int u, bool full)
    {
        int n = dense.InputShape![0], units = dense.Units;
        var xs = input.Span;
        var ws = dense.Kernel!.Value.Span;
        double bias = dense.Bias is { } b ? b.Value.Span[u] : 0;
        string act = ActName(dense.Activation);
        // Where each input comes from when the previous layer flattens an image-shaped tensor.
        IReadOnlyList<int>? source = prev is Flatten && prev.InputShape is { Count: 3 } fs ? fs : null;

        o.WriteLine($"Explaining output value y[{u}] (unit {u}):");
        o.WriteLine($"  y[{u}] = {act}( Σ over i of x[i] · W[i, {u}]  +  b[{u}] ),  i 0…{n - 1}");
        if (source is not null)
            o.WriteLine($"  x is '{prev!.Name}' of a {Layer.Fmt(source)} tensor: x[i] is (row, col, ch) with i = (row·{source[1]} + col)·{source[2]} + ch");

        var prod = new double[n];
        double sum = 0, scale = Math.Abs(bias);
        int zeros = 0;
        for (int i = 0; i < n; i++)
        {
            prod[i] = (double)xs[i] * ws[i * units + u];
            sum += prod[i];
            scale += Math.Abs(prod[i]);
            if (xs[i] == 0) zeros++;
        }
        if (zeros > 0) o.WriteLine($"  {zeros} of the {n} inputs are exactly 0 (e.g. switched off by a ReLU), so their products are 0.");
        bool all = full || n <= MaxDetailedDenseInputs;
        var shown = all ? Enumerable.Range(0, n).ToArray()
            : Enumerable.Range(0, n).OrderByDescending(i => Math.Abs(prod[i])).ThenBy(i => i).Take(LargestShown).ToArray();
        o.WriteLine();
        o.WriteLine(all ? $"  all {n} products:" : $"  the {shown.Length} largest products by size (pass --full to list all {n}):");
        string srcHead = source is not null ? "  (row, col, ch)" : "";
        o.WriteLine($"  {"i",6}{srcHead}  {"x[i]",10}  {"W[i," + u + "]",10}  {"x·W",10}");
        foreach (int i in shown)
        {
            string src = "";
            if (source is not null)
            {
                int ch = i % source[2], col = i / source[2] % source[1], row = i / source[2] / source[1];
                src = $"  {$"({row}, {col}, {ch})",-14}";
            }
            o.WriteLine($"  {i,6}{src}  {F6(xs[i]),10}  {F6(ws[i * units + u]),10}  {F6(prod[i]),10}");
        }
        if (!all)
        {
            double rest = sum - shown.Sum(i => prod[i]);
            o.WriteLine($"  the other {n - shown.Length} products sum to {F6(rest)}");
        }
        o.WriteLine();
        o.WriteLine(Line($"sum of the {n} products", sum));
        double z = sum + bias;
        return Finish(o, dense.Activation, dense.UseBias, $"b[{u}]", bias, z, () => AllDensePre(dense, input),
            $"y[{u}]", output.Span[u], scale);
    }

    private static double[] AllDensePre(Dense dense, Tensor input)
    {
        int n = dense.InputShape![0], units = dense.Units;
        var xs = input.Span; var ws = dense.Kernel!.Value.Span;
        var z = new double[units];
        for (int j = 0; j < units; j++)
        {
            double acc = dense.Bias is { } b ? b.Value.Span[j] : 0;
            for (int i = 0; i < n; i++) acc += (double)xs[i] * ws[i * units + j];
            z[j] = acc;
        }
        return z;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Pooling
    // ---------------------------------------------------------------------------------------------------------

    private static Result ExplainPool(TextWriter o, Pooling2D pool, Tensor input, Tensor output, int[] at)
    {
        var s = pool.InputShape!;
        int h = s[0], w = s[1], c = s[2];
        int ph = pool.PoolSize.Height, pw = pool.PoolSize.Width, sh = pool.Strides.Height, sw = pool.Strides.Width;
        var (_, padTop) = ConvGeometry.Axis(h, ph, sh, pool.Padding);
        var (ow, padLeft) = ConvGeometry.Axis(w, pw, sw, pool.Padding);
        int y = at[0], x = at[1], ch = at[2];
        int r0 = y * sh - padTop, c0 = x * sw - padLeft;
        bool max = pool is MaxPooling2D;
        var xs = input.Span;

        // Real (non-padding) cells in row-major window order; max takes the first maximum, as the layer does.
        var cells = new List<(int R, int C, float V)>();
        for (int i = 0; i < ph; i++)
            for (int j = 0; j < pw; j++)
                if (Inside(r0 + i, c0 + j, h, w)) cells.Add((r0 + i, c0 + j, xs[((r0 + i) * w + c0 + j) * c + ch]));
        int best = 0;
        for (int i = 1; i < cells.Count; i++) if (cells[i].V > cells[best].V) best = i;

        o.WriteLine($"Explaining output value y[{y}, {x}, {ch}] (row {y}, column {x}, channel {ch}):");
        o.WriteLine($"  y[{y}, {x}, {ch}] = {(max ? "max" : "average")} of input channel {ch} over rows {r0}…{r0 + ph - 1}, columns {c0}…{c0 + pw - 1}" +
                    $"  (row = {y}·{sh} − {padTop}, column = {x}·{sw} − {padLeft}); pooling treats every channel separately and has no weights");
        int outside = ph * pw - cells.Count;
        if (outside > 0)
            o.WriteLine($"  {outside} window cell(s) fall outside the {h}×{w} input ('same' padding), shown as ·; they are ignored" +
                        (max ? "." : " and not counted in the average (as in TensorFlow/Keras)."));
        o.WriteLine();
        o.WriteLine(("  window".PadRight(RowLabel + 2) + ColumnHeader(c0, pw)).TrimEnd());
        for (int i = 0; i < ph; i++)
        {
            var line = new StringBuilder($"    row {r0 + i}".PadRight(RowLabel + 2));
            for (int j = 0; j < pw; j++)
            {
                int r = r0 + i, q = c0 + j;
                if (!Inside(r, q, h, w)) { line.Append("·".PadLeft(Cell)); continue; }
                string v = Num(xs[(r * w + q) * c + ch]);
                if (max && r == cells[best].R && q == cells[best].C) v = v.TrimStart() + "*";
                line.Append(v.PadLeft(Cell));
            }
            o.WriteLine(line.ToString().TrimEnd());
        }
        o.WriteLine();
        double value, scale;
        if (max)
        {
            var m = cells[best];
            o.WriteLine($"  (* marks the largest value; ties keep the first in row-major order)");
            value = m.V;
            scale = Math.Abs(m.V);
            o.WriteLine(Line($"max of the {cells.Count} values (row {m.R}, column {m.C})", value));
        }
        else
        {
            double sum = cells.Sum(q => (double)q.V);
            scale = cells.Sum(q => Math.Abs((double)q.V)) / cells.Count;
            o.WriteLine(Line($"sum of the {cells.Count} values", sum));
            value = sum / cells.Count;
            o.WriteLine(Line($"÷ {cells.Count} (the number of real cells) = average", value));
        }
        o.WriteLine(Line($"final value y[{y}, {x}, {ch}]", value));
        return new Result(value, output.Span[(y * ow + x) * c + ch], scale);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Shared pieces
    // ---------------------------------------------------------------------------------------------------------

    private static Result Finish(TextWriter o, Activation activation, bool useBias, string biasName, double bias, double z,
        Func<double[]> allPre, string yName, float layerValue, double scale)
    {
        o.WriteLine(Line(useBias ? $"+ bias {biasName}" : "+ bias (none: use_bias=False)", bias));
        o.WriteLine(Line("= pre-activation z", z));
        double value;
        switch (activation)
        {
            case Activation.Relu:
                value = Math.Max(z, 0);
                o.WriteLine(Line($"relu: max(z, 0){(z < 0 ? " (z < 0, so 0)" : "")}", value));
                break;
            case Activation.Tanh:
                value = Math.Tanh(z);
                o.WriteLine(Line("tanh(z)", value));
                break;
            case Activation.Softmax:
                var all = allPre();
                double m = all.Max(), denom = all.Sum(q => Math.Exp(q - m));
                value = Math.Exp(z - m) / denom;
                o.WriteLine(Line($"softmax over the {all.Length} values: exp(z − {F6(m)}) / {F6(denom)}", value));
                scale = 1;
                break;
            default:
                value = z;
                o.WriteLine(Line("linear activation (none): z", value));
                break;
        }
        o.WriteLine(Line($"final value {yName}", value));
        return new Result(value, layerValue, activation == Activation.Tanh ? Math.Min(scale, 1) : scale);
    }

    private const int Cell = 9, RowLabel = 14, LineLabel = 58;
    private const string PadCell = "       ·0";

    private static bool Inside(int r, int q, int h, int w) => r >= 0 && r < h && q >= 0 && q < w;

    private static string ColumnHeader(int c0, int count) =>
        string.Concat(Enumerable.Range(c0, count).Select(q => ("col " + q.ToString(Inv)).PadLeft(Cell)));

    private static string Num(double v)
    {
        string s = v.ToString("0.0000", Inv);
        if (s == "-0.0000") s = "0.0000";
        return s.PadLeft(Cell);
    }

    /// <summary>Six decimals, invariant culture.</summary>
    public static string F6(double v)
    {
        string s = v.ToString("0.000000", Inv);
        return s == "-0.000000" ? "0.000000" : s;
    }

    private static string Line(string label, double value) => "  " + (label + " ").PadRight(LineLabel, ' ') + "= " + F6(value).PadLeft(11);
}
