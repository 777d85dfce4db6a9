using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ConvNet.Demo.Inspection;

/// <summary>
/// The self-contained HTML page of <c>convnet explore</c>: the page template (inline CSS and JS, embedded in the assembly)
/// plus one JSON block with the traced feature maps, the weights of the layers whose units can be clicked, and the softmax.
/// Sizes are bounded: at most <see cref="MaxChannels"/> thumbnails per layer, <see cref="MaxThumbBytes"/> bytes of
/// thumbnails and <see cref="MaxExactFloats"/> exact float values (layer inputs, outputs and weights) in all.
/// </summary>
internal static class ExplorePage
{
    /// <summary>Thumbnails drawn per layer; the rest are counted in a note.</summary>
    public const int MaxChannels = 64;

    /// <summary>Bytes of 8-bit thumbnail data in the page.</summary>
    public const int MaxThumbBytes = 4_000_000;

    /// <summary>Float values embedded for the click-a-unit view (3,000,000 floats: 16 MB of base64).</summary>
    public const int MaxExactFloats = 3_000_000;

    /// <summary>Everything the page shows besides the trace.</summary>
    public sealed record Header(string Title, string ModelText, string ImageText, IReadOnlyList<string> ClassNames, float[] Probabilities, bool Untrained);

    /// <summary>The page's HTML.</summary>
    public static string Build(Header header, GraphTrace trace, Tensor image)
    {
        var nodes = trace.Nodes;
        var exact = ChooseExact(nodes, out var exactNotes);
        long thumbBytes = 0;
        var jsonNodes = new List<Dictionary<string, object?>>();
        for (int n = 0; n < nodes.Count; n++)
        {
            var node = nodes[n];
            var layer = node.Layer;
            var shape = node.Output.Shape.SampleDims();
            var notes = new List<string>();
            var entry = new Dictionary<string, object?>
            {
                ["name"] = layer.Name,
                ["type"] = layer.TypeName,
                ["describe"] = Describe(layer),
                ["shape"] = shape,
                ["inbound"] = node.Inbound,
            };
            var thumbs = Thumbs(node.Output, shape, ref thumbBytes, notes);
            entry["thumbs"] = thumbs;
            entry["values"] = exact.Contains(n) ? Base64(node.Output.Span) : null;
            if (exactNotes.TryGetValue(n, out var why)) notes.Add(why);
            entry["unit"] = exact.Contains(n) && node.Inbound.Length == 1 && exact.Contains(node.Inbound[0]) ? Unit(layer) : null;
            entry["notes"] = notes;
            jsonNodes.Add(entry);
        }

        var data = new Dictionary<string, object?>
        {
            ["title"] = header.Title,
            ["model"] = header.ModelText,
            ["image"] = header.ImageText,
            ["untrained"] = header.Untrained,
            ["inputPng"] = InputPng(image),
            ["classes"] = header.ClassNames,
            ["probabilities"] = header.Probabilities.Select(p => (double)p).ToArray(),
            ["nodes"] = jsonNodes,
            ["limits"] = new { maxChannels = MaxChannels, maxThumbBytes = MaxThumbBytes, maxExactFloats = MaxExactFloats },
        };
        // "</" is escaped so that no string in the data can end the script element.
        string json = JsonSerializer.Serialize(data).Replace("</", "<\\/", StringComparison.Ordinal);
        return Template()
            .Replace("{{TITLE}}", System.Net.WebUtility.HtmlEncode(header.Title), StringComparison.Ordinal)
            .Replace("/*{{DATA}}*/null", json, StringComparison.Ordinal);
    }

    private static string Template()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("ConvNet.Demo.Inspection.ExplorePage.html")
            ?? throw new InvalidOperationException("The explore page template is missing from the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>True for the layers whose units the page takes apart (products, sum, bias, activation).</summary>
    public static bool Explainable(Layer layer) => layer is Conv2D or Dense { InputShape.Count: 1 };

    // The nodes whose exact values are embedded: inputs and outputs of explainable layers, in graph order, while the budget lasts.
    private static HashSet<int> ChooseExact(IReadOnlyList<GraphTrace.Node> nodes, out Dictionary<int, string> notes)
    {
        var chosen = new HashSet<int>();
        notes = [];
        long used = 0;
        for (int n = 0; n < nodes.Count; n++)
        {
            var node = nodes[n];
            if (!Explainable(node.Layer) || node.Inbound.Length != 1) continue;
            long need = node.Layer.ParamCount;
            if (!chosen.Contains(n)) need += node.Output.Length;
            if (!chosen.Contains(node.Inbound[0])) need += nodes[node.Inbound[0]].Output.Length;
            if (used + need > MaxExactFloats)
            {
                notes[n] = $"Units are not clickable: their inputs, weights and outputs ({need.ToString("N0", CultureInfo.InvariantCulture)} floats) " +
                           $"would take the page past its bound of {MaxExactFloats.ToString("N0", CultureInfo.InvariantCulture)} floats.";
                continue;
            }
            used += need;
            chosen.Add(n);
            chosen.Add(node.Inbound[0]);
        }
        return chosen;
    }

    private static object? Thumbs(Tensor output, int[] shape, ref long budget, List<string> notes)
    {
        var v = output.Span;
        int h, w, c;
        bool flat = shape.Length != 3;
        if (flat)
        {
            int len = v.Length;
            w = (int)Math.Ceiling(Math.Sqrt(len));
            h = (len + w - 1) / w;
            c = 1;
        }
        else (h, w, c) = (shape[0], shape[1], shape[2]);
        int shown = Math.Min(c, MaxChannels);
        long bytes = (long)shown * h * w;
        if (budget + bytes > MaxThumbBytes)
        {
            notes.Add($"No thumbnails: {bytes.ToString("N0", CultureInfo.InvariantCulture)} more bytes would pass the page's bound of {MaxThumbBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes of thumbnails.");
            return null;
        }
        budget += bytes;
        if (shown < c) notes.Add($"Showing the first {shown} of {c} channels.");
        var data = new byte[bytes];
        var min = new double[shown];
        var max = new double[shown];
        int len2 = v.Length;
        for (int ch = 0; ch < shown; ch++)
        {
            double lo = double.MaxValue, hi = double.MinValue;
            int count = flat ? len2 : h * w;
            for (int i = 0; i < count; i++) { double x = v[flat ? i : i * c + ch]; lo = Math.Min(lo, x); hi = Math.Max(hi, x); }
            min[ch] = lo; max[ch] = hi;
            for (int i = 0; i < count; i++)
            {
                double x = v[flat ? i : i * c + ch];
                data[ch * h * w + i] = hi > lo ? (byte)Math.Round((x - lo) / (hi - lo) * 255) : (byte)0;
            }
        }
        return new { h, w, c, shown, flat, count = flat ? len2 : h * w, min, max, data = Convert.ToBase64String(data) };
    }

    private static object? Unit(Layer layer)
    {
        switch (layer)
        {
            case Conv2D conv:
            {
                var s = conv.InputShape!;
                var (_, padTop) = Kernels.ConvGeometry.Axis(s[0], conv.KernelSize.Height, conv.Strides.Height, conv.Padding);
                var (_, padLeft) = Kernels.ConvGeometry.Axis(s[1], conv.KernelSize.Width, conv.Strides.Width, conv.Padding);
                return new
                {
                    kind = "conv", kh = conv.KernelSize.Height, kw = conv.KernelSize.Width, sh = conv.Strides.Height, sw = conv.Strides.Width,
                    padTop, padLeft, cin = s[2], filters = conv.Filters, activation = ActName(conv.Activation), useBias = conv.UseBias,
                    kernel = Base64(conv.Kernel!.Value.Span), bias = conv.Bias is { } b ? Base64(b.Value.Span) : null,
                };
            }
            case Dense dense when dense.InputShape!.Count == 1:
                return new
                {
                    kind = "dense", n = dense.InputShape![0], units = dense.Units, activation = ActName(dense.Activation), useBias = dense.UseBias,
                    kernel = Base64(dense.Kernel!.Value.Span), bias = dense.Bias is { } b2 ? Base64(b2.Value.Span) : null,
                };
            default:
                return null;
        }
    }

    /// <summary>Keras' activation names (relu, tanh, softmax, …; linear for none).</summary>
    public static string ActName(Activation a) => a == Activation.None ? "linear" : a switch
    {
        Activation.LeakyRelu => "leaky_relu",
        Activation.GeluApproximate => "gelu_approximate",
        _ => a.ToString().ToLowerInvariant(),
    };

    private static string Describe(Layer layer) => layer switch
    {
        Conv2D c => $"{c.Filters} filters of {c.KernelSize.Height}×{c.KernelSize.Width}×{c.InputShape![2]}, strides {c.Strides.Height}×{c.Strides.Width}, " +
                    $"padding {(c.Padding == Padding.Same ? "same" : "valid")}, activation {ActName(c.Activation)}{(c.UseBias ? "" : ", no bias")}",
        Dense d => $"{d.Units} units, activation {ActName(d.Activation)}{(d.UseBias ? "" : ", no bias")}",
        Pooling2D p => $"pool {p.PoolSize.Height}×{p.PoolSize.Width}, strides {p.Strides.Height}×{p.Strides.Width}",
        ActivationLayer a => ActName(a.Activation),
        _ => "",
    };

    private static string Base64(ReadOnlySpan<float> values) => Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));

    // The image as the model receives it (before any Rescaling layer), as a PNG data URI; gray when it has one channel.
    private static string InputPng(Tensor image)
    {
        var s = image.Shape.SampleDims();
        int h = s[0], w = s[1], c = s[2];
        var x = image.Span;
        using var img = new Image<Rgb24>(w, h);
        for (int r = 0; r < h; r++)
            for (int q = 0; q < w; q++)
            {
                int i = (r * w + q) * c;
                byte red = Byte(x[i]), green = c >= 3 ? Byte(x[i + 1]) : red, blue = c >= 3 ? Byte(x[i + 2]) : red;
                img[q, r] = new Rgb24(red, green, blue);
            }
        using var ms = new MemoryStream();
        img.SaveAsPng(ms);
        return "data:image/png;base64," + Convert.ToBase64String(ms.ToArray());
    }

    private static byte Byte(float v) => (byte)Math.Clamp(Math.Round(v), 0, 255);
}
