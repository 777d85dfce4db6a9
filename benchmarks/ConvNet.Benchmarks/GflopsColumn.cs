using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace ConvNet.Benchmarks;

/// <summary>Adds a GFLOP/s column (FLOPs of the case ÷ mean time).</summary>
public sealed class GflopsConfig : ManualConfig
{
    /// <summary>Default config plus the column.</summary>
    public GflopsConfig() => AddColumn(new GflopsColumn());
}

/// <summary>GFLOP/s = FLOPs / mean; conv FLOPs = 2·N·OH·OW·K·KH·KW·C, GEMM FLOPs = 2·M·N·K.</summary>
public sealed class GflopsColumn : IColumn
{
    /// <inheritdoc/>
    public string Id => nameof(GflopsColumn);
    /// <inheritdoc/>
    public string ColumnName => "GFLOP/s";
    /// <inheritdoc/>
    public bool AlwaysShow => true;
    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;
    /// <inheritdoc/>
    public int PriorityInCategory => 0;
    /// <inheritdoc/>
    public bool IsNumeric => true;
    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;
    /// <inheritdoc/>
    public string Legend => "Single-thread GFLOP/s from the mean time";

    /// <summary>FLOPs of one invocation of a case.</summary>
    public static double Flops(BenchmarkCase c)
    {
        var type = c.Descriptor.Type;
        if (type == typeof(GemmBenchmarks)) return 2.0 * GemmBenchmarks.Bt * GemmBenchmarks.In * GemmBenchmarks.Out;
        string layer = c.Parameters.Items.FirstOrDefault(p => p.Name == "Layer")?.Value as string ?? "conv2";
        int batch = type == typeof(ConvReferenceBenchmarks) ? 2 : 32;
        return Shapes.Flops(Shapes.Get(layer, batch));
    }

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var r = summary[benchmarkCase]?.ResultStatistics;
        return r is null ? "NA" : (Flops(benchmarkCase) / r.Mean).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;
}
