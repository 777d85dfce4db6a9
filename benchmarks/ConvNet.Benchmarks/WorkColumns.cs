using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace ConvNet.Benchmarks;

/// <summary>FLOPs and the minimum bytes one invocation must move (each input read once, each output written once).</summary>
public readonly record struct Work(double Flops, double Bytes);

/// <summary>Default config plus GFLOP/s and GB/s columns for suites with a <c>public static Work Workload(string method, string shape)</c>.</summary>
public sealed class WorkConfig : ManualConfig
{
    /// <summary>Adds both columns.</summary>
    public WorkConfig() => AddColumn(new WorkColumn(bytes: false), new WorkColumn(bytes: true));
}

/// <summary>
/// GFLOP/s or GB/s from the mean time. GB/s counts the minimum traffic, so a two-pass implementation and a fused one are
/// compared on the same bytes (the faster one shows more GB/s); memory-bound kernels are judged by this column.
/// </summary>
public sealed class WorkColumn(bool bytes) : IColumn
{
    /// <inheritdoc/>
    public string Id => nameof(WorkColumn) + (bytes ? "Bytes" : "Flops");
    /// <inheritdoc/>
    public string ColumnName => bytes ? "GB/s" : "GFLOP/s";
    /// <inheritdoc/>
    public bool AlwaysShow => true;
    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;
    /// <inheritdoc/>
    public int PriorityInCategory => bytes ? 1 : 0;
    /// <inheritdoc/>
    public bool IsNumeric => true;
    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;
    /// <inheritdoc/>
    public string Legend => bytes ? "Minimum bytes moved (inputs read once, outputs written once) / mean time" : "FLOPs / mean time";

    /// <summary>The case's <see cref="Work"/>, from its type's static <c>Workload(method, shape)</c>.</summary>
    public static Work Of(BenchmarkCase c)
    {
        var m = c.Descriptor.Type.GetMethod("Workload", BindingFlags.Public | BindingFlags.Static)
            ?? throw new InvalidOperationException($"{c.Descriptor.Type.Name} has no static Workload(string, string)");
        string shape = c.Parameters.Items.FirstOrDefault(p => p.Name == "Shape")?.Value as string ?? "";
        return (Work)m.Invoke(null, [c.Descriptor.WorkloadMethod.Name, shape])!;
    }

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var r = summary[benchmarkCase]?.ResultStatistics;
        if (r is null) return "NA";
        var w = Of(benchmarkCase);
        return ((bytes ? w.Bytes : w.Flops) / r.Mean).ToString("F1", CultureInfo.InvariantCulture);   // per ns = G per s
    }

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;
}
