using System.Globalization;
using System.Text;

namespace ConvNet;

public sealed partial class Sequential
{
    /// <summary>
    /// The Keras 3 summary table as text: "Layer (type)", "Output Shape", "Param #", shapes like
    /// <c>(None, 80, 80, 16)</c>, thousands separators, and the footer with total, trainable and
    /// non-trainable parameters and their float32 size.
    /// </summary>
    public string Summary()
    {
        if (!IsBuilt) throw new InvalidOperationException($"Model '{Name}' is not built yet: add an Input layer or call Build(shape) before Summary().");
        var rows = _layers.Where(l => l is not Input)
            .Select(l => (Name: $"{l.Name} ({l.TypeName})", Shape: Layer.Fmt(l.OutputShape!, batch: true), Params: l.ParamCount.ToString("N0", CultureInfo.InvariantCulture)))
            .ToList();
        int w1 = Math.Max(31, rows.Select(r => r.Name.Length).DefaultIfEmpty(0).Max() + 1);
        int w2 = Math.Max(22, rows.Select(r => r.Shape.Length).DefaultIfEmpty(0).Max() + 1);
        int w3 = Math.Max(13, rows.Select(r => r.Params.Length).DefaultIfEmpty(0).Max() + 1);
        var sb = new StringBuilder();
        sb.Append("Model: \"").Append(Name).Append("\"\n");
        string Line(char l, char m, char r, char f) => $"{l}{new string(f, w1 + 2)}{m}{new string(f, w2 + 2)}{m}{new string(f, w3 + 2)}{r}\n";
        sb.Append(Line('┏', '┳', '┓', '━'));
        sb.Append($"┃ {"Layer (type)".PadRight(w1)} ┃ {"Output Shape".PadRight(w2)} ┃ {"Param #".PadLeft(w3)} ┃\n");
        sb.Append(Line('┡', '╇', '┩', '━'));
        for (int i = 0; i < rows.Count; i++)
        {
            sb.Append($"│ {rows[i].Name.PadRight(w1)} │ {rows[i].Shape.PadRight(w2)} │ {rows[i].Params.PadLeft(w3)} │\n");
            if (i < rows.Count - 1) sb.Append(Line('├', '┼', '┤', '─'));
        }
        sb.Append(Line('└', '┴', '┘', '─'));
        long total = CountParams(), trainable = _layers.Sum(l => l.TrainableParamCount);
        sb.Append($" Total params: {Count(total)}\n");
        sb.Append($" Trainable params: {Count(trainable)}\n");
        sb.Append($" Non-trainable params: {Count(total - trainable)}\n");
        return sb.ToString();
    }

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

public sealed partial class Sequential
{
    /// <summary>Saves architecture and weights atomically (see <see cref="ModelFile"/> for the format).</summary>
    public void Save(string path) => ModelFile.Save(this, path);

    /// <summary>Loads a model saved with <see cref="Save"/>.</summary>
    public static Sequential Load(string path) => ModelFile.Load(path);

    /// <summary>Saves the model file (weights and the architecture they belong to).</summary>
    public void SaveWeights(string path) => ModelFile.Save(this, path);

    /// <summary>Fills this model's weights from a model file; names the layer whose shape does not match.</summary>
    public void LoadWeights(string path) => ModelFile.LoadWeights(this, path);
}
