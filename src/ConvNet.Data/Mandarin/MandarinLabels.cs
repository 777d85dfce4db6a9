using System.Globalization;
using System.Reflection;

namespace ConvNet.Data.Mandarin;

/// <summary>One class of the stand-in Mandarin data set: its folder label, the character and its code point.</summary>
/// <param name="Label">The class label used as folder and file-name prefix (e.g. <c>bai</c>, <c>fu2</c>).</param>
/// <param name="Character">The Chinese character as a string (e.g. <c>白</c>).</param>
/// <param name="CodePoint">The Unicode scalar value of <paramref name="Character"/> (e.g. 0x767D).</param>
public sealed record MandarinLabel(string Label, string Character, int CodePoint);

/// <summary>
/// The 57 classes of the lecture's Mandarin character set, read from the embedded resource
/// <c>ConvNet.Data.Mandarin.labels.tsv</c>, in ordinal-sorted label order (the order Keras uses for class indices).
/// </summary>
public static class MandarinLabels
{
    /// <summary>The logical name of the embedded labels table.</summary>
    public const string ResourceName = "ConvNet.Data.Mandarin.labels.tsv";

    private static readonly Lazy<IReadOnlyList<MandarinLabel>> s_all = new(Load);

    /// <summary>All 57 classes in ordinal-sorted label order.</summary>
    public static IReadOnlyList<MandarinLabel> All => s_all.Value;

    /// <summary>The 57 labels (folder names) in ordinal-sorted order; index = class index.</summary>
    public static IReadOnlyList<string> Names => All.Select(l => l.Label).ToArray();

    /// <summary>Number of classes (57).</summary>
    public static int Count => All.Count;

    /// <summary>Returns the class index of <paramref name="label"/>, or −1 when it is not a known label.</summary>
    /// <param name="label">A label such as <c>kou</c>.</param>
    public static int IndexOf(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        var all = All;
        for (int i = 0; i < all.Count; i++)
        {
            if (string.Equals(all[i].Label, label, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Returns the entry for <paramref name="label"/>.</summary>
    /// <param name="label">A label such as <c>kou</c>.</param>
    /// <exception cref="ArgumentException">The label is not one of the 57 classes.</exception>
    public static MandarinLabel Get(string label)
    {
        int i = IndexOf(label);
        if (i < 0)
        {
            throw new ArgumentException($"Unknown Mandarin label '{label}'. Known labels: {string.Join(", ", Names)}.", nameof(label));
        }
        return All[i];
    }

    private static IReadOnlyList<MandarinLabel> Load()
    {
        var text = ReadResourceText(ResourceName);
        var list = new List<MandarinLabel>();
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var parts = line.Split('\t');
            if (parts.Length < 3)
            {
                throw new InvalidDataException($"Malformed line in {ResourceName}: '{line}'.");
            }
            var code = parts[2].Trim();
            if (code.StartsWith("U+", StringComparison.OrdinalIgnoreCase))
            {
                code = code[2..];
            }
            int cp = int.Parse(code, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var ch = parts[1].Trim();
            if (char.ConvertToUtf32(ch, 0) != cp)
            {
                throw new InvalidDataException($"In {ResourceName}, character '{ch}' does not match code point U+{cp:X4}.");
            }
            list.Add(new MandarinLabel(parts[0].Trim(), ch, cp));
        }
        list.Sort((a, b) => string.CompareOrdinal(a.Label, b.Label));
        return list.AsReadOnly();
    }

    internal static string ReadResourceText(string name)
    {
        var asm = typeof(MandarinLabels).Assembly;
        using var stream = asm.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Embedded resource '{name}' not found in {asm.GetName().Name}.");
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        return reader.ReadToEnd();
    }

    internal static Assembly Assembly => typeof(MandarinLabels).Assembly;
}
