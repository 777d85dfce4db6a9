using System.Diagnostics;

namespace ConvNet.Demo.Bench;

/// <summary>
/// Training-step times over alternating runs at 1 thread and at N threads (1, N, 1, N, …), so that a change in the
/// machine's load hits both counts alike. One untimed pair runs first (the JIT's tiered compilation and the caches settle:
/// without it the first pair ran ≈ 25 % slower than the rest). Each run: a fixed number of warm-up steps after switching
/// the thread count, then <see cref="Steps"/> timed steps.
/// </summary>
public sealed class PairedTraining
{
    private PairedTraining(int threads, int steps, double[] ms1, double[] msN, double[] stepMs1, double[] stepMsN)
    {
        Threads = threads; Steps = steps; MsPerStep1 = ms1; MsPerStepN = msN; StepMs1 = stepMs1; StepMsN = stepMsN;
    }

    /// <summary>N, the second thread count of each pair.</summary>
    public int Threads { get; }
    /// <summary>Timed steps per run.</summary>
    public int Steps { get; }
    /// <summary>Mean ms per step of each 1-thread run, in pair order.</summary>
    public double[] MsPerStep1 { get; }
    /// <summary>Mean ms per step of each N-thread run, in pair order.</summary>
    public double[] MsPerStepN { get; }
    /// <summary>Every single 1-thread step, in ms.</summary>
    public double[] StepMs1 { get; }
    /// <summary>Every single N-thread step, in ms.</summary>
    public double[] StepMsN { get; }

    /// <summary>t1/tN of each pair.</summary>
    public double[] Speedups => MsPerStep1.Zip(MsPerStepN, (a, b) => a / b).ToArray();
    /// <summary>Median over the pairs of t1/tN.</summary>
    public double MedianSpeedup => Stats.Median(Speedups);
    /// <summary>Pairs whose N-thread run was slower than its 1-thread run.</summary>
    public int SlowerPairs => MsPerStep1.Zip(MsPerStepN).Count(p => p.Second > p.First);

    /// <summary>Runs <paramref name="pairs"/> pairs of <paramref name="steps"/> timed steps each, at 1 and <paramref name="threads"/> threads.</summary>
    public static PairedTraining Run(Model model, Action step, int pairs, int steps, int threads, int warmupSteps = 2)
    {
        var ms1 = new double[pairs];
        var msN = new double[pairs];
        var each1 = new List<double>(pairs * steps);
        var eachN = new List<double>(pairs * steps);
        var untimed = new List<double>(steps);
        TimedRun(model, step, 1, steps, warmupSteps, untimed);
        TimedRun(model, step, threads, steps, warmupSteps, untimed);
        for (int p = 0; p < pairs; p++)
        {
            ms1[p] = TimedRun(model, step, 1, steps, warmupSteps, each1);
            msN[p] = TimedRun(model, step, threads, steps, warmupSteps, eachN);
        }
        return new PairedTraining(threads, steps, ms1, msN, each1.ToArray(), eachN.ToArray());
    }

    // Mean ms per step of one run; each step's time goes to `each`.
    private static double TimedRun(Model model, Action step, int threads, int steps, int warmup, List<double> each)
    {
        model.Threads = threads;
        for (int i = 0; i < warmup; i++) step();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < steps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            step();
            each.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds / steps;
    }
}
