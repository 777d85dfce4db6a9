using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace ConvNet.OrtCompare;

/// <summary>What the JSON records about the machine: CPU, runtime, load average.</summary>
internal static class Machine
{
    /// <summary>/proc/loadavg as it reads ("?" where there is none).</summary>
    public static string LoadAvg()
    {
        try { return File.ReadAllText("/proc/loadavg").Trim(); }
        catch (IOException) { return "?"; }
        catch (UnauthorizedAccessException) { return "?"; }
    }

    /// <summary>The 1-minute load average, NaN when unknown.</summary>
    public static double Load1(string loadAvg) =>
        double.TryParse(loadAvg.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : double.NaN;

    /// <summary>A warning line when the 1-minute load average exceeds the core count, else null.</summary>
    public static string? LoadWarning(string loadAvg)
    {
        double l = Load1(loadAvg);
        return l > Environment.ProcessorCount
            ? string.Create(CultureInfo.InvariantCulture, $"warning: 1-min load average {l:F2} exceeds the {Environment.ProcessorCount} cores; other processes compete for the CPU, expect noisy times (the per-pair ratios are the robust figure)")
            : null;
    }

    /// <summary>"model name (family F model M)" from /proc/cpuinfo.</summary>
    public static string CpuModel()
    {
        try
        {
            var lines = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0).ToList();
            string Field(string name) => lines.FirstOrDefault(l => l.Split(':', 2)[0].Trim() == name)?.Split(':', 2)[1].Trim() ?? "?";
            return $"{Field("model name")} (family {Field("cpu family")} model {Field("model")})";
        }
        catch (IOException) { return RuntimeInformation.ProcessArchitecture.ToString(); }
    }

    /// <summary>The SIMD instruction sets .NET reports.</summary>
    public static string Isa() => string.Join(' ', new (string, bool)[]
    {
        ("avx2", Avx2.IsSupported), ("fma", Fma.IsSupported), ("avx512f", Avx512F.IsSupported),
    }.Where(f => f.Item2).Select(f => f.Item1));

    /// <summary>RuntimeInformation fields.</summary>
    public static IReadOnlyDictionary<string, string> Runtime() => new Dictionary<string, string>
    {
        ["framework"] = RuntimeInformation.FrameworkDescription,
        ["os"] = RuntimeInformation.OSDescription,
        ["os_architecture"] = RuntimeInformation.OSArchitecture.ToString(),
        ["process_architecture"] = RuntimeInformation.ProcessArchitecture.ToString(),
        ["runtime_identifier"] = RuntimeInformation.RuntimeIdentifier,
    };
}
