using System.Globalization;

namespace ConvNet.Demo.Bench;

/// <summary>The 1-minute load average (Linux <c>/proc/loadavg</c>) and the warning that timings will be noisy.</summary>
public static class LoadAverage
{
    /// <summary>The 1-minute load average, or null where <c>/proc/loadavg</c> is missing or unreadable.</summary>
    public static double? Read(string path = "/proc/loadavg")
    {
        try { return File.Exists(path) ? Parse(File.ReadAllText(path)) : null; }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>The first field of a <c>/proc/loadavg</c> line ("0.82 0.88 2.73 3/96 21077"), or null.</summary>
    public static double? Parse(string text)
    {
        var first = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : null;
    }

    /// <summary>The warning when <paramref name="load"/> exceeds <paramref name="cores"/> (more runnable threads than cores), else null.</summary>
    public static string? Warning(double? load, int cores) => load is double l && l > cores
        ? string.Create(CultureInfo.InvariantCulture,
            $"the 1-minute load average is {l:F2}, above the {cores} core(s): other processes compete for the CPU, so the timings will be noisy (compare medians and spreads; fma_peak_gflops_cpu is unaffected).")
        : null;
}
