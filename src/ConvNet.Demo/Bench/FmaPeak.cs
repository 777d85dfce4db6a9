using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvNet.Demo.Bench;

/// <summary>
/// The machine's measured FMA ceiling: a register-only loop of 12 independent fused multiply-add chains (enough to hide
/// the FMA latency) on the widest vectors available — Avx512F on <see cref="Vector512{T}"/>, else Fma on
/// <see cref="Vector256{T}"/>, else <see cref="Vector{T}"/> multiply-add. No memory traffic, so it is the compute peak.
/// Compare with a C loop (<c>gcc -O3 -march=native</c>, 12 zmm chains); see the README's Performance section.
/// </summary>
public static class FmaPeak
{
    /// <summary>Which loop runs here: "avx512", "fma256" or "vector".</summary>
    public static string Isa => Avx512F.IsSupported ? "avx512" : Fma.IsSupported ? "fma256" : "vector";

    // FLOPs of one loop iteration: 12 chains × lanes × 2 (multiply and add).
    private static long FlopsPerIteration => 12L * 2 * (Avx512F.IsSupported ? Vector512<float>.Count
        : Fma.IsSupported ? Vector256<float>.Count : Vector<float>.Count);

    private static volatile float s_sink;

    /// <summary>
    /// GFLOP/s of <paramref name="threads"/> threads running the loop concurrently (the total over threads), over about
    /// <paramref name="seconds"/>: the best of several equal slices, as other processes on a shared machine can only slow it down.
    /// </summary>
    public static double Measure(int threads, double seconds = 0.25) => MeasureBoth(threads, seconds).Wall;

    /// <summary>
    /// <see cref="Measure"/> (wall clock) and the same slices per thread-CPU-second, summed over the threads (Linux; null
    /// elsewhere): time taken by other processes does not count, so it stays at the hardware ceiling on a loaded machine
    /// (SMT siblings sharing one core's FMA units still lower it; more threads than cores, time-sliced, do not).
    /// </summary>
    public static (double Wall, double? Cpu) MeasureBoth(int threads, double seconds = 0.25)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        // Calibrate: iterations per ~10 ms on one thread (also JIT-compiles the loop).
        long iters = 1 << 16;
        while (true)
        {
            long t0 = Stopwatch.GetTimestamp();
            Run(iters);
            if (Stopwatch.GetElapsedTime(t0).TotalMilliseconds >= 10) break;
            iters *= 2;
        }
        const int slices = 5;
        long perSlice = Math.Max(1, (long)(iters * seconds * 1000 / 10 / slices));
        double flops = perSlice * FlopsPerIteration;
        double best = 0, bestCpu = 0;
        bool cpuKnown = ThreadCpu.IsSupported;
        for (int s = 0; s < slices; s++)
        {
            var (wall, cpu) = RunConcurrently(threads, perSlice);
            best = Math.Max(best, threads * flops / wall / 1e9);
            if (cpuKnown) bestCpu = Math.Max(bestCpu, cpu.Sum(c => flops / Math.Max(c, 1e-9)) / 1e9);
        }
        return (best, cpuKnown ? bestCpu : null);
    }

    // Wall-clock seconds for `threads` dedicated threads to each run `iters` iterations (started together), and each thread's CPU seconds.
    private static (double Wall, double[] Cpu) RunConcurrently(int threads, long iters)
    {
        var cpu = new double[threads];
        if (threads == 1)
        {
            long t0 = Stopwatch.GetTimestamp();
            cpu[0] = TimedRun(iters);
            return (Stopwatch.GetElapsedTime(t0).TotalSeconds, cpu);
        }
        using var start = new Barrier(threads + 1);
        var workers = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            int k = i;
            workers[i] = new Thread(() => { start.SignalAndWait(); cpu[k] = TimedRun(iters); }) { IsBackground = true, Name = "fma-peak" };
            workers[i].Start();
        }
        start.SignalAndWait();
        long t1 = Stopwatch.GetTimestamp();
        foreach (var w in workers) w.Join();
        return (Stopwatch.GetElapsedTime(t1).TotalSeconds, cpu);
    }

    // The loop on the calling thread; returns its CPU seconds (0 where unknown).
    private static double TimedRun(long iters)
    {
        double c0 = ThreadCpu.Seconds();
        Run(iters);
        return ThreadCpu.Seconds() - c0;
    }

    private static void Run(long iters)
    {
        float r = Avx512F.IsSupported ? Loop512(iters) : Fma.IsSupported ? Loop256(iters) : LoopVector(iters);
        s_sink = r;
    }

    // 12 accumulators a_i = a_i·b + c: each chain depends only on itself, so 12 FMAs are in flight per iteration.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop512(long iters)
    {
        var b = Vector512.Create(0.999f);
        var c = Vector512.Create(0.001f);
        Vector512<float> a0 = Vector512.Create(0f), a1 = Vector512.Create(1f), a2 = Vector512.Create(2f), a3 = Vector512.Create(3f),
            a4 = Vector512.Create(4f), a5 = Vector512.Create(5f), a6 = Vector512.Create(6f), a7 = Vector512.Create(7f),
            a8 = Vector512.Create(8f), a9 = Vector512.Create(9f), a10 = Vector512.Create(10f), a11 = Vector512.Create(11f);
        for (long k = 0; k < iters; k++)
        {
            a0 = Avx512F.FusedMultiplyAdd(a0, b, c); a1 = Avx512F.FusedMultiplyAdd(a1, b, c);
            a2 = Avx512F.FusedMultiplyAdd(a2, b, c); a3 = Avx512F.FusedMultiplyAdd(a3, b, c);
            a4 = Avx512F.FusedMultiplyAdd(a4, b, c); a5 = Avx512F.FusedMultiplyAdd(a5, b, c);
            a6 = Avx512F.FusedMultiplyAdd(a6, b, c); a7 = Avx512F.FusedMultiplyAdd(a7, b, c);
            a8 = Avx512F.FusedMultiplyAdd(a8, b, c); a9 = Avx512F.FusedMultiplyAdd(a9, b, c);
            a10 = Avx512F.FusedMultiplyAdd(a10, b, c); a11 = Avx512F.FusedMultiplyAdd(a11, b, c);
        }
        return Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)));
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop256(long iters)
    {
        var b = Vector256.Create(0.999f);
        var c = Vector256.Create(0.001f);
        Vector256<float> a0 = Vector256.Create(0f), a1 = Vector256.Create(1f), a2 = Vector256.Create(2f), a3 = Vector256.Create(3f),
            a4 = Vector256.Create(4f), a5 = Vector256.Create(5f), a6 = Vector256.Create(6f), a7 = Vector256.Create(7f),
            a8 = Vector256.Create(8f), a9 = Vector256.Create(9f), a10 = Vector256.Create(10f), a11 = Vector256.Create(11f);
        for (long k = 0; k < iters; k++)
        {
            a0 = Fma.MultiplyAdd(a0, b, c); a1 = Fma.MultiplyAdd(a1, b, c);
            a2 = Fma.MultiplyAdd(a2, b, c); a3 = Fma.MultiplyAdd(a3, b, c);
            a4 = Fma.MultiplyAdd(a4, b, c); a5 = Fma.MultiplyAdd(a5, b, c);
            a6 = Fma.MultiplyAdd(a6, b, c); a7 = Fma.MultiplyAdd(a7, b, c);
            a8 = Fma.MultiplyAdd(a8, b, c); a9 = Fma.MultiplyAdd(a9, b, c);
            a10 = Fma.MultiplyAdd(a10, b, c); a11 = Fma.MultiplyAdd(a11, b, c);
        }
        return Vector256.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)));
    }

    // Portable fallback: MultiplyAddEstimate fuses where the hardware has FMA (Arm64) and multiplies then adds elsewhere,
    // never taking the slow exactly-rounded software path of Vector.FusedMultiplyAdd.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float LoopVector(long iters)
    {
        var b = new Vector<float>(0.999f);
        var c = new Vector<float>(0.001f);
        Vector<float> a0 = new(0f), a1 = new(1f), a2 = new(2f), a3 = new(3f), a4 = new(4f), a5 = new(5f),
            a6 = new(6f), a7 = new(7f), a8 = new(8f), a9 = new(9f), a10 = new(10f), a11 = new(11f);
        for (long k = 0; k < iters; k++)
        {
            a0 = Vector.MultiplyAddEstimate(a0, b, c); a1 = Vector.MultiplyAddEstimate(a1, b, c);
            a2 = Vector.MultiplyAddEstimate(a2, b, c); a3 = Vector.MultiplyAddEstimate(a3, b, c);
            a4 = Vector.MultiplyAddEstimate(a4, b, c); a5 = Vector.MultiplyAddEstimate(a5, b, c);
            a6 = Vector.MultiplyAddEstimate(a6, b, c); a7 = Vector.MultiplyAddEstimate(a7, b, c);
            a8 = Vector.MultiplyAddEstimate(a8, b, c); a9 = Vector.MultiplyAddEstimate(a9, b, c);
            a10 = Vector.MultiplyAddEstimate(a10, b, c); a11 = Vector.MultiplyAddEstimate(a11, b, c);
        }
        return Vector.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)));
    }
}
