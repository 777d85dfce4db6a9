using System.Text.Json;
using ConvNet.Demo.Bench;

namespace ConvNet.Demo.Tests;

/// <summary>
/// <c>convnet bench</c>: keys, types and ranges of tiny runs, option validation, the load-average warning and the FLOP count.
/// No timing assertions: times are only checked to be positive and finite.
/// </summary>
public class BenchTests
{
    private static JsonElement RunJson(params string[] args)
    {
        var r = CliRunner.Run(["bench", "--json", "--seconds", "0.2", .. args]);
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Out);
        return doc.RootElement.Clone();
    }

    private static double Positive(JsonElement root, string key)
    {
        var v = root.GetProperty(key);
        Assert.True(v.ValueKind == JsonValueKind.Number, $"{key}: {v}");
        double d = v.GetDouble();
        Assert.True(d > 0 && double.IsFinite(d), $"{key} = {d}");
        return d;
    }

    private static void LoadKeys(JsonElement root)
    {
        var load = root.GetProperty("load_average_1m");
        Assert.True(load.ValueKind is JsonValueKind.Number or JsonValueKind.Null, load.ToString());
        var warning = root.GetProperty("load_warning");
        Assert.True(warning.ValueKind is JsonValueKind.String or JsonValueKind.Null, warning.ToString());
        if (warning.ValueKind == JsonValueKind.String) Assert.Contains("load average", warning.GetString());
        Assert.True(root.GetProperty("load_average_1m_end").ValueKind is JsonValueKind.Number or JsonValueKind.Null);
    }

    [Fact]
    public void BenchJsonHasEveryKeyWithSaneValuesForATinyMandarinRun()
    {
        var root = RunJson("--threads", "2", "--batch-size", "4", "--pairs", "2", "--steps", "2");
        Assert.Equal("mandarin", root.GetProperty("model").GetString());
        Assert.Equal(2, root.GetProperty("threads").GetInt32());
        Assert.Equal(4, root.GetProperty("batch_size").GetInt32());
        Assert.Equal(Environment.ProcessorCount, root.GetProperty("cores").GetInt32());
        Assert.Contains(root.GetProperty("isa").GetString(), new[] { "avx512", "fma256", "vector" });
        LoadKeys(root);
        foreach (var key in new[] { "fma_peak_gflops_cpu_1t", "fma_peak_gflops_cpu" })
            if (OperatingSystem.IsLinux()) Positive(root, key);
            else Assert.Equal(JsonValueKind.Null, root.GetProperty(key).ValueKind);
        foreach (var key in new[]
                 {
                     "fma_peak_gflops_1t", "fma_peak_gflops", "train_gflop_per_step", "train_ms_per_step", "train_img_per_s",
                     "train_ms_per_step_median", "train_gflops", "train_fraction_of_peak", "speedup_1_to_2_threads",
                     "infer_gflop_per_image", "infer_b32_ms", "infer_b32_img_per_s", "infer_b32_gflops", "infer_b1_ms", "conv2_fwd_gflops",
                 })
            Positive(root, key);
        Assert.True(Positive(root, "train_ms_per_step_spread") >= 1);
        // Mandarin at B = 4: an eighth of the B = 32 step (FlopCountMatchesAHandCountForTheMandarinModel).
        Assert.Equal(3_107_807_232 / 8 / 1e9, root.GetProperty("train_gflop_per_step").GetDouble(), 4);
        Assert.Equal(2, root.GetProperty("pairs").GetInt32());
        Assert.Equal(2, root.GetProperty("train_steps_per_run").GetInt32());
        Assert.Equal([1, 2], root.GetProperty("pair_threads").EnumerateArray().Select(e => e.GetInt32()));
        int slower = root.GetProperty("two_threads_slower_pairs").GetInt32();
        Assert.InRange(slower, 0, 2);
        foreach (var key in new[] { "train_ms_per_step_runs_1t", "train_ms_per_step_runs_2t", "pair_speedups" })
        {
            var values = root.GetProperty(key).EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(2, values.Length);
            Assert.All(values, v => Assert.True(v > 0 && double.IsFinite(v), $"{key}: {v}"));
        }
        var t1 = root.GetProperty("train_ms_per_step_runs_1t").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var t2 = root.GetProperty("train_ms_per_step_runs_2t").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(t1.Zip(t2).Count(p => p.Second > p.First), slower);
        Assert.Equal(t2.Max() / t2.Min(), root.GetProperty("train_ms_per_step_spread").GetDouble(), 2);
        Assert.Equal(0, root.GetProperty("alloc_bytes_per_step").GetInt64());
        Assert.Equal(10, root.GetProperty("layers").GetArrayLength());
    }

    [Fact]
    public void OneThreadFiguresComeFromTheOneThreadRunsAndThePairsStillUseTwo()
    {
        var root = RunJson("--threads", "1", "--batch-size", "2", "--pairs", "1", "--steps", "1");
        Assert.Equal(1, root.GetProperty("threads").GetInt32());
        Assert.Equal([1, 2], root.GetProperty("pair_threads").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(root.GetProperty("fma_peak_gflops_1t").GetDouble(), root.GetProperty("fma_peak_gflops").GetDouble());
        double run1 = root.GetProperty("train_ms_per_step_runs_1t")[0].GetDouble();
        Assert.Equal(run1, root.GetProperty("train_ms_per_step_median").GetDouble(), 3);
        Assert.Equal(1.0, root.GetProperty("train_ms_per_step_spread").GetDouble());
    }

    [Fact]
    public void LeNet5BenchReportsItsOwnModel()
    {
        var root = RunJson("--model", "lenet5", "--threads", "2", "--batch-size", "4", "--pairs", "1", "--steps", "2");
        Assert.Equal("lenet5", root.GetProperty("model").GetString());
        Positive(root, "infer_b32_ms");
        Positive(root, "train_fraction_of_peak");
        Assert.Equal(0, root.GetProperty("alloc_bytes_per_step").GetInt64());
        Assert.Equal(9, root.GetProperty("layers").GetArrayLength());
    }

    [Fact]
    public void ResNet18ImageNetBenchReportsB1AndB8Inference()
    {
        var root = RunJson("--model", "resnet18-imagenet", "--threads", "2", "--pairs", "1", "--steps", "1");
        Assert.Equal("resnet18-imagenet", root.GetProperty("model").GetString());
        Assert.Equal(8, root.GetProperty("batch_size").GetInt32());
        Positive(root, "infer_b8_ms");
        Positive(root, "infer_b8_img_per_s");
        Positive(root, "infer_b1_ms");
        Positive(root, "train_ms_per_step_median");
        // The CNTK graph: 22 convolutions, 4.09 GFLOP per 224×224 image.
        Assert.Equal(4.0895, root.GetProperty("infer_gflop_per_image").GetDouble(), 3);
        Assert.False(root.TryGetProperty("infer_b32_ms", out _));
        Assert.False(root.TryGetProperty("layers", out _));
        Assert.Equal(0, root.GetProperty("alloc_bytes_per_step").GetInt64());
    }

    [Fact]
    public void TextOutputShowsTheSameFigures()
    {
        var r = CliRunner.Run("bench", "--threads", "2", "--batch-size", "2", "--pairs", "1", "--steps", "1", "--seconds", "0.2");
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (var s in new[] { "FMA peak", "GFLOP/s on 1 thread", "training step: 0.194 GFLOP", "median ms", "spread", "of peak",
                     "1→2 thread speed-up", "runs at 1 thread", "runs at 2 threads", "bytes allocated per training step after warm-up: 0",
                     "inference B=2", "inference B=1", "forward pass per layer" })
            Assert.Contains(s, r.Out);
    }

    [Theory]
    [InlineData("resnet18")]
    [InlineData("alexnet")]
    [InlineData("Mandarin")]
    public void UnknownModelIsAnArgumentErrorNamingTheValueAndTheAcceptedOnes(string name)
    {
        var r = CliRunner.Run("bench", "--model", name);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"'{name}'", r.Err);
        Assert.Contains("mandarin, lenet5, resnet18-imagenet", r.Err);
    }

    [Theory]
    [InlineData("--pairs")]
    [InlineData("--steps")]
    [InlineData("--batch-size")]
    public void CountsBelowOneAreArgumentErrors(string option)
    {
        var r = CliRunner.Run("bench", option, "0");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"{option} must be at least 1", r.Err);
    }

    [Theory]
    [InlineData("0.82 0.88 2.73 3/96 21077\n", 0.82)]
    [InlineData("18.02 9.15 5.61 36/361 28891", 18.02)]
    [InlineData("", null)]
    [InlineData("n/a", null)]
    public void LoadAverageParsesTheFirstField(string text, double? expected) => Assert.Equal(expected, LoadAverage.Parse(text));

    [Theory]
    [InlineData(2.01, 2, true)]
    [InlineData(5.0, 2, true)]
    [InlineData(2.0, 2, false)]   // exactly one runnable thread per core: no warning
    [InlineData(0.5, 2, false)]
    [InlineData(7.9, 8, false)]
    [InlineData(null, 2, false)]  // unknown (no /proc/loadavg)
    public void LoadWarningFiresWhenTheLoadExceedsTheCoreCount(double? load, int cores, bool warns)
    {
        var w = LoadAverage.Warning(load, cores);
        Assert.Equal(warns, w is not null);
        if (warns)
        {
            Assert.Contains(load!.Value.ToString("F2", System.Globalization.CultureInfo.InvariantCulture), w);
            Assert.Contains($"{cores} core(s)", w);
        }
    }

    [Fact]
    public void AnInjectedHighLoadReachesTheJson()
    {
        var r = QuickBench.Run(new BenchSettings("lenet5", Threads: 1, BatchSize: 2, SecondsPerMeasure: 0.05, Pairs: 1, Steps: 1,
            ReadLoad: () => 1000.0));
        using var doc = JsonDocument.Parse(r.ToJson());
        Assert.Equal(1000.0, doc.RootElement.GetProperty("load_average_1m").GetDouble());
        Assert.Contains("1000.00", doc.RootElement.GetProperty("load_warning").GetString());
        Assert.Contains("warning: ", r.ToText());
    }

    [Fact]
    public void FlopCountMatchesAHandCountForTheMandarinModel()
    {
        // Per image, multiply-adds × 2:
        //   conv 1: 80·80 pixels × 16 filters × 3·3·1   × 2 =  1,843,200
        //   conv 2: 40·40 × 32 × 3·3·16                 × 2 = 14,745,600
        //   conv 3: 20·20 × 64 × 3·3·32                 × 2 = 14,745,600
        //   dense:  6,400 × 128                         × 2 =  1,638,400
        //   logits: 128 × 57                            × 2 =     14,592   → 32,987,392 forward
        // Training = 3 × forward (forward, backward-data, backward-filter) except conv 1's backward-data (its input needs no gradient):
        //   32 × (3 × 32,987,392 − 1,843,200) = 3,107,807,232 ≈ 3.1 GFLOP per B = 32 step (3 × forward alone: 3.167).
        var m = ModelZoo.Mandarin();
        var perLayer = m.Layers.Select(l => FlopCount.Forward(l, 1)).Where(f => f > 0).ToArray();
        Assert.Equal([1_843_200.0, 14_745_600, 14_745_600, 1_638_400, 14_592], perLayer);
        Assert.Equal(32_987_392.0, FlopCount.ModelForward(m, 1));
        Assert.Equal(32 * 32_987_392.0, FlopCount.ModelForward(m, 32));
        Assert.Equal(3_107_807_232.0, FlopCount.TrainStep(m, 32));
    }

    [Fact]
    public void AFrozenFirstConvCountsItsForwardOnlyAndTheNextConvSkipsBackwardData()
    {
        var m = ModelZoo.Mandarin();
        double all = FlopCount.TrainStep(m, 1);
        m.Layers.OfType<Conv2D>().First().Trainable = false;
        // conv 1: 2 × forward → 1 × (no filter gradient); conv 2: 3 × → 2 × (no trainable layer before it needs its input gradient).
        Assert.Equal(all - 1_843_200 - 14_745_600, FlopCount.TrainStep(m, 1));
    }

    [Fact]
    public void MedianAndSpread()
    {
        Assert.Equal(2.0, Stats.Median([3.0, 1.0, 2.0]));
        Assert.Equal(2.5, Stats.Median([4.0, 1.0, 2.0, 3.0]));
        Assert.Equal(4.0, Stats.Spread([2.0, 8.0, 4.0]));
        Assert.True(double.IsNaN(Stats.Median([])));
    }

    [Fact]
    public void FmaPeakIsPositiveOnOneAndTwoThreads()
    {
        foreach (int threads in new[] { 1, 2 })
        {
            var (wall, cpu) = FmaPeak.MeasureBoth(threads, 0.02);
            Assert.True(wall is > 0 and < double.PositiveInfinity, $"{threads}: {wall}");
            Assert.Equal(OperatingSystem.IsLinux(), cpu is not null);
            if (cpu is double c) Assert.True(c is > 0 and < double.PositiveInfinity, $"{threads}: {c}");
        }
    }
}
