using System.Diagnostics;

namespace ConvNet.Demo.Bench;

/// <summary>What <c>convnet bench</c> measures and for how long.</summary>
/// <param name="Model">One of <see cref="BenchModel.Names"/>.</param>
/// <param name="Threads">Threads of the figures (N); the training pairs alternate 1 and N threads (N = 2 when this is 1).</param>
/// <param name="BatchSize">Null: the model's default (<see cref="BenchModel.DefaultBatch"/>).</param>
/// <param name="SecondsPerMeasure">Time of each inference median (a quarter of it per layer).</param>
/// <param name="Pairs">Alternating (1 thread, N threads) training runs; null: <see cref="BenchModel.DefaultPairs"/>.</param>
/// <param name="Steps">Timed training steps per run; null: <see cref="BenchModel.DefaultSteps"/>.</param>
/// <param name="ReadLoad">The 1-minute load average (injectable for tests); null reads /proc/loadavg.</param>
/// <param name="Progress">Called with a short line before each phase, or null.</param>
public sealed record BenchSettings(
    string Model = "mandarin", int Threads = 2, int? BatchSize = null, double SecondsPerMeasure = 2.0,
    int? Pairs = null, int? Steps = null, Func<double?>? ReadLoad = null, Action<string>? Progress = null);

/// <summary>A quick measured run of training and inference speed (Stopwatch medians; BenchmarkDotNet lives in benchmarks/).</summary>
public static class QuickBench
{
    /// <summary>Measures the FMA peak, then the model's training (alternating thread counts) and inference on random 0–255 inputs.</summary>
    /// <exception cref="FileNotFoundException">resnet18-imagenet's package is not restored.</exception>
    public static BenchResult Run(BenchSettings s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var progress = s.Progress ?? (_ => { });
        var readLoad = s.ReadLoad ?? (() => LoadAverage.Read());
        var r = new BenchResult { ModelName = s.Model, Threads = s.Threads, Cores = Environment.ProcessorCount, Isa = FmaPeak.Isa };
        r.LoadAverage = readLoad();
        r.LoadWarning = LoadAverage.Warning(r.LoadAverage, r.Cores);

        // The model first (a missing package fails fast), then the peak before any training or inference work.
        progress($"building {s.Model}…");
        var bm = BenchModel.Create(s.Model, s.Threads, s.BatchSize ?? BenchModel.DefaultBatch(s.Model));
        progress("FMA peak (register-only loop)…");
        (r.FmaPeak1t, r.FmaPeakCpu1t) = FmaPeak.MeasureBoth(1);
        (r.FmaPeak, r.FmaPeakCpu) = s.Threads == 1 ? (r.FmaPeak1t, r.FmaPeakCpu1t) : FmaPeak.MeasureBoth(s.Threads);

        var model = bm.Model;
        int batch = r.BatchSize = bm.BatchSize;
        r.BatchKey = bm.BatchKey;
        r.TrainGflopPerStep = FlopCount.TrainStep(model, batch) / 1e9;
        r.InferGflopPerImage = FlopCount.ModelForward(model, 1) / 1e9;

        // Training: warm-up at N threads, then alternating pairs.
        progress("training warm-up…");
        int warmup = BenchModel.WarmupSteps(s.Model);
        for (int i = 0; i <= warmup; i++) bm.TrainStep();
        int steps = s.Steps ?? BenchModel.DefaultSteps(s.Model);
        int pairs = s.Pairs ?? BenchModel.DefaultPairs(s.Model);
        int pairThreads = Math.Max(2, s.Threads);
        progress($"training: {pairs} pair(s) of runs at 1 and {pairThreads} threads, {steps} step(s) each…");
        r.Paired = PairedTraining.Run(model, bm.TrainStep, pairs, steps, pairThreads, warmup);

        // Bytes allocated per step at N threads (after a step at that count if the last run was not: switching threads may size buffers).
        if (model.Threads != s.Threads)
        {
            model.Threads = s.Threads;
            bm.TrainStep();
        }
        // This thread's allocations: the process total would count whatever else the host runs (e.g. parallel tests).
        // Threads claim parts of the work, so the first time this thread runs a part it had not run before, its kernel
        // scratch grows once; the steady state is the smallest of several windows.
        int allocSteps = Math.Clamp(steps, 1, 5);
        r.AllocBytesPerStep = long.MaxValue;
        for (int window = 0; window < 4; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < allocSteps; i++) bm.TrainStep();
            r.AllocBytesPerStep = Math.Min(r.AllocBytesPerStep, (GC.GetAllocatedBytesForCurrentThread() - before) / allocSteps);
        }

        progress("inference…");
        var x1 = bm.X.Slice(0, 1);
        r.InferBatchMs = Median(() => model.Call(bm.X), s.SecondsPerMeasure);
        r.InferB1Ms = Median(() => model.Call(x1), s.SecondsPerMeasure);

        if (!bm.IsGraph)
        {
            progress("forward pass per layer…");
            MeasureLayers(r, model, bm.X, s.SecondsPerMeasure / 4);
        }
        r.LoadAverageEnd = readLoad();
        return r;
    }

    // Forward time of each layer on its own (inputs from one forward pass); conv2_fwd_gflops is the second Conv2D's.
    private static void MeasureLayers(BenchResult r, Model model, Tensor x, double seconds)
    {
        var inputs = new List<Tensor>();
        var h = x;
        foreach (var l in model.Layers) { inputs.Add(h); h = l.Forward(h).Clone(); }
        int convIndex = 0;
        for (int i = 0; i < model.Layers.Count; i++)
        {
            var l = model.Layers[i];
            if (l is Input) continue;
            var input = inputs[i];
            double ms = Median(() => l.Forward(input), seconds);
            double flops = FlopCount.Forward(l, r.BatchSize);
            double gf = flops > 0 ? flops / (ms * 1e6) : 0;
            if (l is Conv2D && ++convIndex == 2) r.Conv2FwdGflops = gf;
            r.Layers.Add((l.Name, l.TypeName, ms, gf));
        }
    }

    private static double Time(Action action)
    {
        long t0 = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }

    // Median milliseconds of repeated calls after warm-up, for about the given time (at least 7 samples).
    private static double Median(Action action, double seconds)
    {
        for (int i = 0; i < 3; i++) action();
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (samples.Count < 7 || total.Elapsed.TotalSeconds < seconds && samples.Count < 10_000)
            samples.Add(Time(action));
        return Stats.Median(samples);
    }
}
