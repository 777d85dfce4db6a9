using System.Collections.Concurrent;
using System.Numerics;
using System.Text.Json;

namespace ConvNet.Data.Mandarin;

/// <summary>
/// The stroke skeleton of one character: for every stroke, in writing order, the pen path ("median")
/// as a polyline. Data from the npm package <c>hanzi-writer-data</c> 2.0.1 (Arphic Public License,
/// see <see cref="LicenseText"/>), embedded as <c>ConvNet.Data.Mandarin.Strokes.&lt;label&gt;.json</c>.
/// </summary>
public sealed class StrokeCharacter
{
    /// <summary>Side of the square design box of the stroke data (1024 units).</summary>
    public const float BoxSize = 1024f;

    /// <summary>The data's baseline constant: a raw y is converted to a y-down coordinate as 900 − y.</summary>
    public const float YFlip = 900f;

    private static readonly ConcurrentDictionary<string, StrokeCharacter> s_cache = new(StringComparer.Ordinal);

    private StrokeCharacter(MandarinLabel label, IReadOnlyList<IReadOnlyList<Vector2>> medians)
    {
        Label = label;
        Medians = medians;
    }

    /// <summary>The class this character belongs to.</summary>
    public MandarinLabel Label { get; }

    /// <summary>
    /// The pen path of each stroke in writing order, in the 1024-unit design box with y pointing DOWN
    /// (already converted: y = 900 − raw y), so (0,0) is the top-left of the box.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<Vector2>> Medians { get; }

    /// <summary>Number of strokes.</summary>
    public int StrokeCount => Medians.Count;

    /// <summary>The text of the Arphic Public License that covers the embedded stroke data.</summary>
    public static string LicenseText => MandarinLabels.ReadResourceText("ConvNet.Data.Mandarin.ARPHICPL.TXT");

    /// <summary>Loads (and caches) the stroke data of <paramref name="label"/>.</summary>
    /// <param name="label">One of the 57 labels, e.g. <c>kou</c>.</param>
    /// <exception cref="ArgumentException">Unknown label.</exception>
    public static StrokeCharacter Load(string label)
    {
        var entry = MandarinLabels.Get(label);
        return s_cache.GetOrAdd(entry.Label, _ => Parse(entry));
    }

    /// <summary>Loads the stroke data of all 57 classes in label order.</summary>
    public static IReadOnlyList<StrokeCharacter> LoadAll() => MandarinLabels.All.Select(l => Load(l.Label)).ToArray();

    private static StrokeCharacter Parse(MandarinLabel entry)
    {
        var json = MandarinLabels.ReadResourceText($"ConvNet.Data.Mandarin.Strokes.{entry.Label}.json");
        using var doc = JsonDocument.Parse(json);
        if (!doc.RootElement.TryGetProperty("medians", out var medians) || medians.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"Stroke data for '{entry.Label}' has no 'medians' array.");
        }
        var strokes = new List<IReadOnlyList<Vector2>>();
        foreach (var stroke in medians.EnumerateArray())
        {
            var pts = new List<Vector2>();
            foreach (var p in stroke.EnumerateArray())
            {
                float x = p[0].GetSingle();
                float y = p[1].GetSingle();
                pts.Add(new Vector2(x, YFlip - y));
            }
            if (pts.Count == 0)
            {
                throw new InvalidDataException($"Stroke data for '{entry.Label}' has an empty median.");
            }
            strokes.Add(pts.AsReadOnly());
        }
        if (strokes.Count == 0)
        {
            throw new InvalidDataException($"Stroke data for '{entry.Label}' has no strokes.");
        }
        return new StrokeCharacter(entry, strokes.AsReadOnly());
    }
}
