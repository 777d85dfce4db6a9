namespace ConvNet.Demo.Bench;

/// <summary>Median and spread of a sample.</summary>
public static class Stats
{
    /// <summary>The median (mean of the middle two for an even count); NaN when empty.</summary>
    public static double Median(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var s = values.Order().ToArray();
        int n = s.Length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /// <summary>max/min (1 = no spread); NaN when empty.</summary>
    public static double Spread(IReadOnlyCollection<double> values) => values.Count == 0 ? double.NaN : values.Max() / values.Min();
}
