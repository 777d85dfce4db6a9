using System.Diagnostics;
using System.Globalization;

namespace ConvNet.Benchmarks;

/// <summary>
/// <c>--quick</c> rows for the BatchNormalization, depthwise, separable and residual-epilogue suites (one shape each:
/// ResNet-18 stage 1 and Xception's middle flow, B = 8, single thread), with GFLOP/s and GB/s (minimum traffic) from
/// the median thread-CPU time. <c>--quick --stages</c> runs only these.
/// </summary>
public static class QuickStages
{
    /// <summary>Prints the rows.</summary>
    public static void Run()
    {
        Console.WriteLine();
        Console.WriteLine($"{"kernel (B=8, 1 thread)",-44} {"shape",-12} {"median ms",10} {"cpu ms",9} {"GFLOP/s",9} {"GB/s",7}");
        const string r18 = "56x56x64", xc = "19x19x728";

        var bn = new BatchNormBenchmarks { Shape = r18 };
        bn.Setup();
        Row<BatchNormBenchmarks>(nameof(BatchNormBenchmarks.ForwardInference), r18, bn.ForwardInference);
        Row<BatchNormBenchmarks>(nameof(BatchNormBenchmarks.ForwardTraining), r18, bn.ForwardTraining);
        Row<BatchNormBenchmarks>(nameof(BatchNormBenchmarks.BackwardSums), r18, bn.BackwardSums);
        Row<BatchNormBenchmarks>(nameof(BatchNormBenchmarks.BackwardData), r18, bn.BackwardData);

        var dw = new DepthwiseConvBenchmarks { Shape = xc };
        dw.Setup();
        Row<DepthwiseConvBenchmarks>(nameof(DepthwiseConvBenchmarks.Forward), xc, dw.Forward);
        Row<DepthwiseConvBenchmarks>(nameof(DepthwiseConvBenchmarks.BackwardData), xc, dw.BackwardData);
        Row<DepthwiseConvBenchmarks>(nameof(DepthwiseConvBenchmarks.BackwardFilter), xc, dw.BackwardFilter);

        var sep = new SeparableConvBenchmarks { Shape = xc };
        sep.Setup();
        Row<SeparableConvBenchmarks>(nameof(SeparableConvBenchmarks.Forward), xc, () => sep.Forward());

        var res = new ResidualEpilogueBenchmarks { Shape = r18 };
        res.Setup();
        Row<ResidualEpilogueBenchmarks>(nameof(ResidualEpilogueBenchmarks.AddLayerThenReluLayer), r18, () => res.AddLayerThenReluLayer());
        Row<ResidualEpilogueBenchmarks>(nameof(ResidualEpilogueBenchmarks.AddThenReluKernels), r18, res.AddThenReluKernels);
        Row<ResidualEpilogueBenchmarks>(nameof(ResidualEpilogueBenchmarks.FusedOnePassYardstick), r18, res.FusedOnePassYardstick);
    }

    private static void Row<T>(string method, string shape, Action a)
    {
        var work = (Work)typeof(T).GetMethod("Workload")!.Invoke(null, [method, shape])!;
        a(); a();
        var wall = new List<double>();
        var cpu = new List<double>();
        var total = Stopwatch.StartNew();
        while (wall.Count < 5 || (total.Elapsed.TotalMilliseconds < 300 && wall.Count < 200))
        {
            double c0 = Quick.ThreadCpuMs();
            long t0 = Stopwatch.GetTimestamp();
            a();
            wall.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            cpu.Add(Quick.ThreadCpuMs() - c0);
        }
        wall.Sort(); cpu.Sort();
        double med = wall[wall.Count / 2], cmed = cpu[cpu.Count / 2];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{typeof(T).Name.Replace("Benchmarks", "") + "." + method,-44} {shape,-12} {med,10:F3} {cmed,9:F3} {work.Flops / cmed / 1e6,9:F1} {work.Bytes / cmed / 1e6,7:F1}"));
    }
}
