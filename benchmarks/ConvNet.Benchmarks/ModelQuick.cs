using System.Diagnostics;
using System.Globalization;

namespace ConvNet.Benchmarks;

/// <summary>
/// <c>--quick</c> model part: the lecture model (80×80×1 → … → Dense(57), B=32) layer by layer, single thread,
/// median thread-CPU ms per layer forward/backward, then <c>TrainOnBatch</c> ms/step for Threads = 1 and 2
/// (CPU time: thread CPU for 1 thread, process CPU for 2; wall clock alongside).
/// </summary>
public static class ModelQuick
{
    private const int Batch = 32;

    /// <summary>The lecture model (same as the demo's model zoo <c>mandarin</c>).</summary>
    public static Sequential Lecture(int threads, bool fusion)
    {
        var m = new Sequential(
            new Input(80, 80, 1), new Rescaling(1f / 255),
            new Conv2D(16, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
            new Conv2D(32, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
            new Conv2D(64, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
            new Flatten(), new Dense(128, Activation.Relu), new Dense(57)) { Threads = threads, Seed = 1 };
        m.EnableFusion = fusion;
        m.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());
        return m;
    }

    private static (Tensor X, int[] Y) Data()
    {
        var r = new Random(7);
        var x = new Tensor(Batch, 80, 80, 1);
        for (int i = 0; i < x.Length; i++) x.Span[i] = (float)(r.NextDouble() * 255);
        var y = new int[Batch];
        for (int i = 0; i < Batch; i++) y[i] = r.Next(57);
        return (x, y);
    }

    /// <summary>Prints the per-layer table (fusion off and on) and the TrainOnBatch rows.</summary>
    public static void Run()
    {
        Console.WriteLine();
        Console.WriteLine($"Lecture model, B={Batch}, Threads=1: median thread-CPU ms per layer (training forward / backward)");
        var unfused = Layers(fusion: false);
        var fused = Layers(fusion: true);
        Console.WriteLine($"{"layer",-38} {"fwd",8} {"bwd",8} {"fwd fused",10} {"bwd fused",10}");
        double[] tot = new double[4];
        foreach (var step in Lecture(1, true).Plan().Steps)
        {
            double uf = 0, ub = 0;
            var names = step.Fused is { } f ? new[] { f.Conv.Name, f.Pool.Name } : [step.Name];
            foreach (var lname in names)
            {
                var (fw, bw) = unfused[lname];
                uf += fw; ub += bw;
                if (step.Fused is null) { var (ff, fb) = fused[lname]; Line(lname, fw, bw, ff, fb); tot[2] += ff; tot[3] += fb; }
                else Line(lname, fw, bw, double.NaN, double.NaN);
            }
            tot[0] += uf; tot[1] += ub;
            if (step.Fused is not null) { var (ff, fb) = fused[step.Name]; Line($"  = {step.Name}", uf, ub, ff, fb); tot[2] += ff; tot[3] += fb; }
        }
        Line("total (layers only)", tot[0], tot[1], tot[2], tot[3]);
        Console.WriteLine();
        SparseVsDense();
        Console.WriteLine();
        Console.WriteLine($"{"TrainOnBatch B=32",-28} {"threads",8} {"fusion",7} {"cpu ms/step",12} {"wall ms/step",13}   (cpu: thread CPU for 1 thread, process CPU for 2)");
        foreach (int threads in new[] { 1, 2 })
        foreach (bool fusion in new[] { false, true })
        {
            var (cpu, wall) = TrainSteps(threads, fusion);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"",-28} {threads,8} {(fusion ? "on" : "off"),7} {cpu,12:F2} {wall,13:F2}"));
        }
    }

    // Fused backward of each conv+pool pair: sparse (ConvPoolBackward) vs dense (scatter dz + dense backward convolutions),
    // on the activations of the last training step.
    private static void SparseVsDense()
    {
        var m = Lecture(1, true);
        var (x, y) = Data();
        for (int i = 0; i < 2; i++) m.TrainOnBatch(x, y);
        Console.WriteLine($"{"fused backward, Threads=1",-38} {"dense",8} {"sparse",8}   (median thread-CPU ms)");
        foreach (var step in m.Plan().Steps)
        {
            if (step.Fused is not { } fused) continue;
            var conv = fused.Conv;
            var dy = new Tensor(Batch, fused.Pool.OutputShape![0], fused.Pool.OutputShape[1], fused.Pool.OutputShape[2]);
            var r = new Random(conv.Filters);
            for (int i = 0; i < dy.Length; i++) dy.Span[i] = (float)(r.NextDouble() - 0.5);
            var t = new List<double>[2] { [], [] };
            var sw = Stopwatch.StartNew();
            for (int rep = 0; rep < 7 || (sw.Elapsed.TotalSeconds < 1.5 && rep < 40); rep++)
                for (int v = 0; v < 2; v++)
                {
                    fused.SparseBackward = v == 1;
                    double c0 = Quick.ThreadCpuMs();
                    fused.Backward(dy);
                    t[v].Add(Quick.ThreadCpuMs() - c0);
                }
            fused.SparseBackward = null;
            string used = conv.InputShape![2] >= FusedConvPool.SparseBackwardMinChannels ? "sparse" : "dense";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{step.Name,-38} {Median(t[0]),8:F2} {Median(t[1]),8:F2}   (C={conv.InputShape![2]}, needs dx: {conv.NeedsInputGradient}; the layer uses {used})"));
        }
    }

    private static void Line(string name, double f, double b, double ff, double fb) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-38} {Fmt(f),8} {Fmt(b),8} {Fmt(ff),10} {Fmt(fb),10}"));

    private static string Fmt(double v) => double.IsNaN(v) ? "" : v.ToString("F2", CultureInfo.InvariantCulture);

    // Median thread-CPU ms per layer (or fused pair) over repeated training steps, timed by the plan's step clock.
    private static Dictionary<string, (double Fwd, double Bwd)> Layers(bool fusion)
    {
        var m = Lecture(1, fusion);
        var (x, y) = Data();
        for (int i = 0; i < 3; i++) m.TrainOnBatch(x, y);
        var plan = m.Plan();
        var steps = plan.Steps;
        var fwd = steps.Select(_ => new List<double>()).ToArray();
        var bwd = steps.Select(_ => new List<double>()).ToArray();
        plan.StepClock = Quick.ThreadCpuMs;
        var sw = Stopwatch.StartNew();
        for (int rep = 0; rep < 7 || (sw.Elapsed.TotalSeconds < 4 && rep < 40); rep++)
        {
            m.TrainOnBatch(x, y);
            for (int s = 0; s < steps.Count; s++) { fwd[s].Add(plan.ForwardMs[s]); bwd[s].Add(plan.BackwardMs[s]); }
        }
        plan.StepClock = null;
        var result = new Dictionary<string, (double, double)>();
        for (int s = 0; s < steps.Count; s++) result[steps[s].Name] = (Median(fwd[s]), Median(bwd[s]));
        return result;
    }

    private static double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }

    private static (double Cpu, double Wall) TrainSteps(int threads, bool fusion)
    {
        var m = Lecture(threads, fusion);
        var (x, y) = Data();
        for (int i = 0; i < 3; i++) m.TrainOnBatch(x, y);
        var cpu = new List<double>(); var wall = new List<double>();
        var proc = Process.GetCurrentProcess();
        var sw = Stopwatch.StartNew();
        for (int rep = 0; rep < 7 || (sw.Elapsed.TotalSeconds < 4 && rep < 40); rep++)
        {
            proc.Refresh();
            double c0 = threads == 1 ? Quick.ThreadCpuMs() : proc.TotalProcessorTime.TotalMilliseconds;
            long t0 = Stopwatch.GetTimestamp();
            m.TrainOnBatch(x, y);
            wall.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            proc.Refresh();
            cpu.Add((threads == 1 ? Quick.ThreadCpuMs() : proc.TotalProcessorTime.TotalMilliseconds) - c0);
        }
        return (Median(cpu), Median(wall));
    }
}
