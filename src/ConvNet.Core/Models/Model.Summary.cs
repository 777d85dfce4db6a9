using System.Globalization;
using System.Text;

namespace ConvNet;

public partial class Model
{
    /// <summary>
    /// The Keras 3 summary table as text: "Layer (type)", "Output Shape", "Param #", shapes like
    /// <c>(None, 80, 80, 16)</c>, thousands separators, and the footer with total, trainable and
    /// non-trainable parameters and their float32 size.
    /// </summary>
    public string Summary()
    {
        if (!IsBuilt) throw new InvalidOperationException($"Model '{Name}' is not built yet: add an Input layer or call Build(shape) before Summary().");
        bool functional = this is not Sequential;
        var rows = _layers.Where(l => functional || l is not Input)
            .Select(l => (Name: $"{l.Name} ({l.TypeName})", Shape: Layer.Fmt(l.OutputShape!, batch: true),
                Params: l.ParamCount.ToString("N0", CultureInfo.InvariantCulture), Inbound: functional ? ConnectedTo(l) : []))
            .ToList();
        int w1 = Math.Max(31, rows.Select(r => r.Name.Length).DefaultIfEmpty(0).Max() + 1);
        int w2 = Math.Max(22, rows.Select(r => r.Shape.Length).DefaultIfEmpty(0).Max() + 1);
        int w3 = Math.Max(13, rows.Select(r => r.Params.Length).DefaultIfEmpty(0).Max() + 1);
        int w4 = Math.Max(20, rows.SelectMany(r => r.Inbound).Select(c => c.Length).DefaultIfEmpty(0).Max() + 1);
        var sb = new StringBuilder();
        sb.Append("Model: \"").Append(Name).Append("\"\n");
        string Line(char l, char m, char r, char f) =>
            $"{l}{new string(f, w1 + 2)}{m}{new string(f, w2 + 2)}{m}{new string(f, w3 + 2)}{(functional ? $"{m}{new string(f, w4 + 2)}" : "")}{r}\n";
        string Row(char bar, string a, string b, string c, string d) =>
            $"{bar} {a.PadRight(w1)} {bar} {b.PadRight(w2)} {bar} {c.PadLeft(w3)} {bar}{(functional ? $" {d.PadRight(w4)} {bar}" : "")}\n";
        sb.Append(Line('┏', '┳', '┓', '━'));
        sb.Append(Row('┃', "Layer (type)", "Output Shape", "Param #", "Connected to"));
        sb.Append(Line('┡', '╇', '┩', '━'));
        for (int i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            string[] inbound = r.Inbound.Length == 0 ? ["-"] : r.Inbound;
            sb.Append(Row('│', r.Name, r.Shape, r.Params, inbound[0]));
            for (int k = 1; k < inbound.Length; k++) sb.Append(Row('│', "", "", "", inbound[k]));
            if (i < rows.Count - 1) sb.Append(Line('├', '┼', '┤', '─'));
        }
        sb.Append(Line('└', '┴', '┘', '─'));
        long total = CountParams(), trainable = TrainableParamCount;
        sb.Append($" Total params: {Count(total)}\n");
        sb.Append($" Trainable params: {Count(trainable)}\n");
        sb.Append($" Non-trainable params: {Count(total - trainable)}\n");
        return sb.ToString();
    }

    // Keras' "Connected to" entries: name[node][tensor] of each inbound layer (every layer here has one node and one output).
    private static string[] ConnectedTo(Layer l) =>
        l.CallOutput is { } t ? t.Inputs.Select(i => $"{i.Layer.Name}[0][0]").ToArray() : [];

    private static string Count(long n) => $"{n.ToString("N0", CultureInfo.InvariantCulture)} ({Bytes(n * 4)})";

    /// <summary>Keras' <c>readable_memory_size</c>: 3,399,908 bytes → "3.24 MB" (powers of 1024, two decimals).</summary>
    internal static string Bytes(double bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB", "PB"];
        int i = 0;
        while (bytes >= 1024 && i < units.Length - 1) { bytes /= 1024; i++; }
        return bytes.ToString("0.00", CultureInfo.InvariantCulture) + " " + units[i];
    }
}
