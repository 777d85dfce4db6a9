using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ConvNet.Demo.Bench;

/// <summary>Figures of one <c>convnet bench</c> run. "N" is <see cref="Threads"/>; the training pairs run at 1 and <see cref="PairThreads"/>.</summary>
public sealed class BenchResult
{
    /// <summary>The <c>--model</c> name.</summary>
    public string ModelName { get; init; } = "";
    /// <summary>Threads of the figures.</summary>
    public int Threads { get; init; }
    /// <summary>Batch size of training and batched inference.</summary>
    public int BatchSize { get; set; }
    /// <summary>Environment.ProcessorCount.</summary>
    public int Cores { get; init; }
    /// <summary>The FMA loop's instruction set (<see cref="FmaPeak.Isa"/>).</summary>
    public string Isa { get; init; } = "";
    /// <summary>1-minute load average at the start (null where unknown).</summary>
    public double? LoadAverage { get; set; }
    /// <summary>1-minute load average at the end.</summary>
    public double? LoadAverageEnd { get; set; }
    /// <summary>The warning when the load exceeded the core count at the start, else null.</summary>
    public string? LoadWarning { get; set; }
    /// <summary>FMA peak GFLOP/s on 1 thread.</summary>
    public double FmaPeak1t { get; set; }
    /// <summary>FMA peak GFLOP/s of N threads together.</summary>
    public double FmaPeak { get; set; }
    /// <summary>FMA peak on 1 thread per thread-CPU-second (load-independent; null where unknown).</summary>
    public double? FmaPeakCpu1t { get; set; }
    /// <summary>FMA peak of N threads, per thread-CPU-second summed over the threads.</summary>
    public double? FmaPeakCpu { get; set; }
    /// <summary>GFLOP of one training step (<see cref="FlopCount.TrainStep"/>).</summary>
    public double TrainGflopPerStep { get; set; }
    /// <summary>Forward GFLOP of one image.</summary>
    public double InferGflopPerImage { get; set; }
    /// <summary>The alternating training runs.</summary>
    public PairedTraining? Paired { get; set; }
    /// <summary>Bytes allocated per training step at N threads, after warm-up.</summary>
    public long AllocBytesPerStep { get; set; }
    /// <summary>"b32" or "b8": the name of the batched inference keys.</summary>
    public string BatchKey { get; set; } = "b32";
    /// <summary>Median ms of a batched forward pass.</summary>
    public double InferBatchMs { get; set; }
    /// <summary>Median ms of a 1-image forward pass.</summary>
    public double InferB1Ms { get; set; }
    /// <summary>GFLOP/s of the second Conv2D's forward pass (Sequential models).</summary>
    public double? Conv2FwdGflops { get; set; }
    /// <summary>Forward time of each layer on its own (Sequential models).</summary>
    public List<(string Layer, string Type, double Ms, double Gflops)> Layers { get; } = [];

    /// <summary>The second thread count of each training pair.</summary>
    public int PairThreads => Paired?.Threads ?? Math.Max(2, Threads);
    /// <summary>Mean ms per step of each run at N threads.</summary>
    public double[] RunsAtN => Paired is null ? [] : Threads == 1 ? Paired.MsPerStep1 : Paired.MsPerStepN;
    /// <summary>Median over the runs at N threads.</summary>
    public double TrainMsMedian => Stats.Median(RunsAtN);
    /// <summary>max/min over the runs at N threads.</summary>
    public double TrainMsSpread => Stats.Spread(RunsAtN);
    /// <summary>Median of every single step at N threads (the historical train_ms_per_step).</summary>
    public double TrainMsPerStep => Paired is null ? double.NaN : Stats.Median(Threads == 1 ? Paired.StepMs1 : Paired.StepMsN);
    /// <summary>GFLOP/s of the median training step at N threads.</summary>
    public double TrainGflops => TrainGflopPerStep / (TrainMsMedian / 1000);
    /// <summary>(training FLOP per step / median step time) / FMA peak at N threads.</summary>
    public double TrainFractionOfPeak => TrainGflops / FmaPeak;

    /// <summary>JSON with stable keys (the batched inference keys are infer_b32_* for the small models, infer_b8_* for ResNet-18).</summary>
    public string ToJson()
    {
        var p = Paired;
        var d = new Dictionary<string, object?>
        {
            ["model"] = ModelName,
            ["threads"] = Threads,
            ["batch_size"] = BatchSize,
            ["cores"] = Cores,
            ["isa"] = Isa,
            ["load_average_1m"] = LoadAverage,
            ["load_warning"] = LoadWarning,
            ["fma_peak_gflops_1t"] = R(FmaPeak1t, 1),
            ["fma_peak_gflops"] = R(FmaPeak, 1),
            ["fma_peak_gflops_cpu_1t"] = FmaPeakCpu1t is double c1 ? R(c1, 1) : null,
            ["fma_peak_gflops_cpu"] = FmaPeakCpu is double cn ? R(cn, 1) : null,
            ["train_gflop_per_step"] = S(TrainGflopPerStep, 6),
            ["train_ms_per_step"] = R(TrainMsPerStep, 3),
            ["train_img_per_s"] = R(BatchSize / TrainMsPerStep * 1000, 1),
            ["train_ms_per_step_median"] = R(TrainMsMedian, 3),
            ["train_ms_per_step_spread"] = R(TrainMsSpread, 3),
            ["train_gflops"] = S(TrainGflops, 4),
            ["train_fraction_of_peak"] = S(TrainFractionOfPeak, 3),
            ["speedup_1_to_2_threads"] = S(p?.MedianSpeedup ?? double.NaN, 3),
            ["two_threads_slower_pairs"] = p?.SlowerPairs,
            ["pairs"] = p?.MsPerStep1.Length,
            ["pair_threads"] = new[] { 1, PairThreads },
            ["train_steps_per_run"] = p?.Steps,
            ["train_ms_per_step_runs_1t"] = p?.MsPerStep1.Select(v => R(v, 3)).ToArray(),
            ["train_ms_per_step_runs_2t"] = p?.MsPerStepN.Select(v => R(v, 3)).ToArray(),
            ["pair_speedups"] = p?.Speedups.Select(v => S(v, 3)).ToArray(),
            ["alloc_bytes_per_step"] = AllocBytesPerStep,
            ["infer_gflop_per_image"] = S(InferGflopPerImage, 5),
            [$"infer_{BatchKey}_ms"] = R(InferBatchMs, 3),
            [$"infer_{BatchKey}_img_per_s"] = R(BatchSize / InferBatchMs * 1000, 1),
            [$"infer_{BatchKey}_gflops"] = S(InferGflopPerImage * BatchSize / (InferBatchMs / 1000), 4),
            ["infer_b1_ms"] = R(InferB1Ms, 3),
        };
        if (Conv2FwdGflops is double c2) d["conv2_fwd_gflops"] = R(c2, 2);
        if (Layers.Count > 0)
            d["layers"] = Layers.Select(l => new Dictionary<string, object?> { ["name"] = l.Layer, ["type"] = l.Type, ["fwd_ms"] = R(l.Ms, 3), ["fwd_gflops"] = R(l.Gflops, 2) }).ToArray();
        d["load_average_1m_end"] = LoadAverageEnd;
        return JsonSerializer.Serialize(d, new JsonSerializerOptions { WriteIndented = true });
    }

    // Rounded, or null for NaN/∞ (JSON has no such numbers).
    private static double? R(double v, int digits) => double.IsFinite(v) ? Math.Round(v, digits) : null;

    // Rounded to `significant` digits (small ratios and GFLOP counts stay non-zero), or null for NaN/∞.
    private static double? S(double v, int significant) => !double.IsFinite(v) ? null : v == 0 ? 0
        : Math.Round(v, Math.Clamp(significant - 1 - (int)Math.Floor(Math.Log10(Math.Abs(v))), 0, 15));

    /// <summary>The same figures as a human-readable table.</summary>
    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        void Line(FormattableString s) => sb.AppendLine(s.ToString(c));
        string load = LoadAverage is double l ? string.Create(c, $"{l:F2}") + (LoadAverageEnd is double e ? string.Create(c, $" → {e:F2}") : "") : "unknown";
        Line($"{ModelName}, batch {BatchSize}, {Threads} thread(s) on {Cores} core(s); 1-min load average {load}");
        Line($"  FMA peak ({Isa}, register-only): {FmaPeak1t,7:F1} GFLOP/s on 1 thread, {FmaPeak,7:F1} on {Threads}");
        if (FmaPeakCpu1t is double pc1 && FmaPeakCpu is double pcn)
            Line($"    per thread-CPU-second (other processes' time excluded): {pc1:F1} on 1 thread, {pcn:F1} on {Threads}");
        if (Paired is { } p)
        {
            Line($"  training step: {TrainGflopPerStep:F3} GFLOP; {p.MsPerStep1.Length} alternating pair(s) of runs, {p.Steps} step(s) each");
            Line($"    {"threads",-8} {"median ms",10} {"spread",7} {"min–max ms",-18} {"GFLOP/s",8} {"of peak",8}");
            TrainRow(sb, c, 1, p.MsPerStep1, Threads == 1 ? FmaPeak : FmaPeak1t);
            TrainRow(sb, c, p.Threads, p.MsPerStepN, p.Threads == Threads ? FmaPeak : double.NaN);
            var sp = p.Speedups;
            Line($"    1→{p.Threads} thread speed-up: {p.MedianSpeedup:F2}× (median of pairs; per pair {sp.Min():F2}–{sp.Max():F2}×); {p.Threads} threads slower in {p.SlowerPairs} pair(s)");
            Line($"    runs at 1 thread (ms/step):  {string.Join(" ", p.MsPerStep1.Select(v => v.ToString("F1", c)))}");
            Line($"    runs at {p.Threads} threads (ms/step): {string.Join(" ", p.MsPerStepN.Select(v => v.ToString("F1", c)))}");
            Line($"  training step at {Threads} thread(s), median of all steps: {TrainMsPerStep,8:F2} ms {BatchSize / TrainMsPerStep * 1000,9:F0} images/s; {TrainFractionOfPeak:P0} of the FMA peak");
        }
        Line($"  bytes allocated per training step after warm-up: {AllocBytesPerStep}");
        Line($"  inference B={BatchSize,-4} {InferBatchMs,9:F2} ms {BatchSize / InferBatchMs * 1000,9:F0} images/s {InferGflopPerImage * BatchSize / (InferBatchMs / 1000),7:F1} GFLOP/s");
        Line($"  inference B=1    {InferB1Ms,9:F3} ms");
        if (Layers.Count > 0)
        {
            sb.AppendLine("  forward pass per layer:");
            foreach (var x in Layers)
                Line($"    {x.Layer,-20} {x.Type,-18} {x.Ms,8:F3} ms {(x.Gflops > 0 ? x.Gflops.ToString("F1", c) + " GFLOP/s" : "")}");
        }
        if (LoadWarning is not null) sb.AppendLine("  warning: " + LoadWarning);
        return sb.ToString();
    }

    private void TrainRow(StringBuilder sb, CultureInfo c, int threads, double[] runs, double peak)
    {
        double med = Stats.Median(runs), gf = TrainGflopPerStep / (med / 1000);
        string ofPeak = double.IsFinite(peak) ? (gf / peak).ToString("P0", c) : "";
        string range = string.Create(c, $"{runs.Min():F1}–{runs.Max():F1}");
        sb.AppendLine(string.Create(c, $"    {threads,-8} {med,10:F2} {Stats.Spread(runs),7:F2} {range,-18} {gf,8:F1} {ofPeak,8}"));
    }
}
