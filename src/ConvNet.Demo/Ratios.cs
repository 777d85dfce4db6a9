using System.Globalization;

namespace ConvNet.Demo;

/// <summary>Parses split ratios such as <c>5/7,1/7,1/7</c> or <c>0.8,0.1,0.1</c>.</summary>
internal static class Ratios
{
    /// <summary>The lecture's split: 5/7, 1/7, 1/7.</summary>
    public static readonly double[] Lecture = [5.0 / 7, 1.0 / 7, 1.0 / 7];

    /// <summary>The text form of <see cref="Lecture"/>.</summary>
    public const string LectureText = "5/7,1/7,1/7";

    /// <summary>Parses two or three comma-separated fractions or decimals that sum to 1; null + error message when invalid.</summary>
    public static double[]? TryParse(string text, out string? error)
    {
        error = null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length is not (2 or 3))
        {
            error = $"--ratio needs 2 (train,val) or 3 (train,val,test) values separated by commas, got '{text}'.";
            return null;
        }
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!TryParseOne(parts[i], out values[i]))
            {
                error = $"--ratio: '{parts[i]}' is not a fraction (like 5/7) or a decimal (like 0.8).";
                return null;
            }
            if (!double.IsFinite(values[i]) || values[i] < 0 || values[i] > 1)
            {
                error = $"--ratio: '{parts[i]}' must be between 0 and 1.";
                return null;
            }
        }
        double sum = values.Sum();
        if (Math.Round(sum, 5) != 1.0)
        {
            error = $"--ratio: the values {text} sum to {sum.ToString("0.#####", CultureInfo.InvariantCulture)}, not 1.";
            return null;
        }
        return values;
    }

    private static bool TryParseOne(string s, out double value)
    {
        const NumberStyles style = NumberStyles.Float;
        int slash = s.IndexOf('/');
        if (slash < 0) return double.TryParse(s, style, CultureInfo.InvariantCulture, out value);
        value = 0;
        if (!double.TryParse(s[..slash], style, CultureInfo.InvariantCulture, out double num)
            || !double.TryParse(s[(slash + 1)..], style, CultureInfo.InvariantCulture, out double den) || den == 0)
            return false;
        value = num / den;
        return true;
    }

    /// <summary>Formats ratios for messages: 0.714, 0.143, 0.143.</summary>
    public static string Format(IEnumerable<double> r) => string.Join(", ", r.Select(x => x.ToString("0.###", CultureInfo.InvariantCulture)));
}
