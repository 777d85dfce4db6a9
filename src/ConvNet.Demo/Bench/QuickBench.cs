using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace ConvNet.Demo.Bench;

/// <summary>Figures of one <c>convnet bench</c> run (medians).</summary>
public sealed record BenchResult(
    int Threads, int BatchSize,
    double TrainMsPerStep, double TrainImgPerS,
    double InferB32Ms, double InferB32ImgPerS, double InferB1Ms,
    double Conv2FwdGflops, long AllocBytesPerStep,
    IReadOnlyList<(string Layer, string Type, double Ms, double Gflops)> Layers)
{
    /// <summary>JSON with stable keys.</summary>
    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["threads"] = Threads,
        ["batch_size"] = BatchSize,
        ["train_ms_per_step"] = Math.Round(TrainMsPerStep, 3),
        ["train_img_per_s"] = Math.Round(TrainImgPerS, 1),
        ["infer_b32_ms"] = Math.Round(InferB32Ms, 3),
        ["infer_b32_img_per_s"] = Math.Round(InferB32ImgPerS, 1),
        ["infer_b1_ms"] = Math.Round(InferB1Ms, 3),
        ["conv2_fwd_gflops"] = Math.Round(Conv2FwdGflops, 2),
        ["alloc_bytes_per_step"] = AllocBytesPerStep,
        ["layers"] = Layers.Select(l => new Dictionary<string, object> { ["name"] = l.Layer, ["type"] = l.Type, ["fwd_ms"] = Math.Round(l.Ms, 3), ["fwd_gflops"] = Math.Round(l.Gflops, 2) }).ToArray(),
    }, new JsonSerializerOptions { WriteIndented = true });

    /// <summary>A human-readable table.</summary>
    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new System.Text.StringBuilder();
        sb.AppendLine(string.Create(c, $"Lecture model, batch {BatchSize}, {Threads} thread(s), medians:"));
        sb.AppendLine(string.Create(c, $"  training step        {TrainMsPerStep,9:F2} ms   {TrainImgPerS,9:F0} images/s"));
        sb.AppendLine(string.Create(c, $"  inference B={BatchSize,-3}      {InferB32Ms,9:F2} ms   {InferB32ImgPerS,9:F0} images/s"));
        sb.AppendLine(string.Create(c, $"  inference B=1        {InferB1Ms,9:F3} ms"));
        sb.AppendLine(string.Create(c, $"  bytes allocated per training step after warm-up: {AllocBytesPerStep}"));
        sb.AppendLine("  forward pass per layer:");
        foreach (var l in Layers)
            sb.AppendLine(string.Create(c, $"    {l.Layer,-18} {l.Type,-14} {l.Ms,8:F3} ms {(l.Gflops > 0 ? l.Gflops.ToString("F1", c) + " GFLOP/s" : "")}"));
        return sb.ToString();
    }
}

/// <summary>A quick measured run of training and inference speed (Stopwatch medians; BenchmarkDotNet lives in benchmarks/).</summary>
public static class QuickBench
{
    /// <summary>Measures <paramref name="build"/>'s model on random 0–255 inputs.</summary>
    public static BenchResult Run(Func<Sequential> build, int threads, int batchSize = 32, double secondsPerMeasure = 2.0)
    {
        var model = build();
        model.Threads = threads;
        model.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());
        var shape = model.InputShape!;
        int classes = model.OutputShape[^1];
        var rng = new Rng(42);
        var x = new Tensor([batchSize, .. shape]);
        for (int i = 0; i < x.Length; i++) x.Span[i] = rng.Uniform(0, 255);
        var y = new int[batchSize];
        for (int i = 0; i < y.Length; i++) y[i] = rng.NextInt(classes);
        var x1 = x.Slice(0, 1);

        double train = Median(() => model.TrainOnBatch(x, y), secondsPerMeasure);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) model.TrainOnBatch(x, y);
        long alloc = (GC.GetAllocatedBytesForCurrentThread() - before) / 5;
        double inferB = Median(() => model.Call(x), secondsPerMeasure);
        double infer1 = Median(() => model.Call(x1), secondsPerMeasure);

        // Forward time of each layer on its own (inputs from one forward pass).
        var inputs = new List<Tensor>();
        var h = x;
        foreach (var l in model.Layers) { inputs.Add(h); h = l.Forward(h).Clone(); }
        var layers = new List<(string, string, double, double)>();
        double conv2 = 0;
        int convIndex = 0;
        for (int i = 0; i < model.Layers.Count; i++)
        {
            var l = model.Layers[i];
            if (l is Input) continue;
            var input = inputs[i];
            double ms = Median(() => l.Forward(input), secondsPerMeasure / 4);
            double flops = Flops(l, batchSize);
            double gf = flops > 0 ? flops / (ms * 1e6) : 0;
            if (l is Conv2D && ++convIndex == 2) conv2 = gf;
            layers.Add((l.Name, l.TypeName, ms, gf));
        }
        return new BenchResult(threads, batchSize, train, batchSize / train * 1000, inferB, batchSize / inferB * 1000, infer1, conv2, alloc, layers);
    }

    /// <summary>Multiply-adds × 2 of a layer's forward pass.</summary>
    public static double Flops(Layer l, int batch) => l switch
    {
        Conv2D c => 2.0 * batch * c.OutputShape![0] * c.OutputShape[1] * c.Filters * c.KernelSize.Height * c.KernelSize.Width * c.InputShape![2],
        Dense d => 2.0 * batch * d.InputShape![0] * d.Units,
        _ => 0,
    };

    // Median milliseconds of repeated calls after warm-up, for about the given time (at least 7 samples).
    private static double Median(Action action, double seconds)
    {
        for (int i = 0; i < 3; i++) action();
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (samples.Count < 7 || total.Elapsed.TotalSeconds < seconds && samples.Count < 10_000)
        {
            long t0 = Stopwatch.GetTimestamp();
            action();
            samples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        samples.Sort();
        return samples[samples.Count / 2];
    }
}
