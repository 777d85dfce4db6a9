using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using ConvNet.Kernels;

namespace ConvNet.Benchmarks;

/// <summary><c>--quick</c>: Stopwatch medians (wall and thread-CPU time) for every conv pass and GEMM verb, single thread, a few seconds total.</summary>
public static class Quick
{
    private static bool All, VsAvx2;

    /// <summary>
    /// Runs the table; <c>--ref</c> adds the naive reference kernels at B=2, <c>--new</c> skips the baseline rows,
    /// <c>--avx2</c> makes the baseline the AVX2 kernels (<see cref="ConvAvx2"/>, called directly) instead of the
    /// portable Vector<T> kernels (<c>ConvPortable</c>), <c>--conv</c> stops after the conv rows, <c>--stages</c> runs only
    /// <see cref="QuickStages"/> (BatchNormalization, depthwise, separable, residual epilogue).
    /// </summary>
    public static void Run(string[] args)
    {
        bool withRef = args.Contains("--ref");
        All = !args.Contains("--new");
        VsAvx2 = args.Contains("--avx2") && ConvAvx2.IsSupported;
        Console.WriteLine($"Vector<float>.Count={System.Numerics.Vector<float>.Count} Avx2={System.Runtime.Intrinsics.X86.Avx2.IsSupported} Fma={System.Runtime.Intrinsics.X86.Fma.IsSupported} Avx512F={System.Runtime.Intrinsics.X86.Avx512F.IsSupported} (Conv uses {(ConvAvx512.IsSupported ? "AVX-512" : ConvAvx2.IsSupported ? "AVX2" : "Vector<T>")})");
        if (args.Contains("--model")) { ModelQuick.Run(); return; }
        if (args.Contains("--stages")) { QuickStages.Run(); return; }
        Console.WriteLine($"{"kernel",-28} {"shape",-34} {"median ms",10} {"GFLOP/s",9} {"cpu ms",9} {"cpu GF/s",9}");
        foreach (var name in Shapes.Names)
        {
            Conv3(name, 32, false);
            if (withRef) Conv3(name, 2, true);
        }
        if (args.Contains("--conv")) return;
        const int M = GemmBenchmarks.Bt, K = GemmBenchmarks.In, N = GemmBenchmarks.Out;
        var x = Shapes.Random(M * K, 1); var w = Shapes.Random(K * N, 2); var y = new float[M * N];
        var dy = Shapes.Random(M * N, 3); var dx = new float[M * K]; var dw = new float[K * N];
        double f = 2.0 * M * N * K;
        Row("Gemm.GemmNN", "Dense 6400→128 B=32", f, () => Gemm.GemmNN(M, N, K, x, w, y));
        Row("Gemm.GemmNT", "Dense 6400→128 B=32 (dx)", f, () => Gemm.GemmNT(M, K, N, dy, w, dx));
        Row("Gemm.GemmTN", "Dense 6400→128 B=32 (dW)", f, () => Gemm.GemmTN(K, N, M, x, dy, dw));
        QuickStages.Run();
        ModelQuick.Run();
    }

    private static void Conv3(string name, int batch, bool reference)
    {
        var g = Shapes.Get(name, batch);
        var x = Shapes.Random(g.N * g.InImage, 1); var w = Shapes.Random(g.WeightSize, 2); var b = Shapes.Random(g.K, 3);
        var y = new float[g.N * g.OutImage]; var dy = Shapes.Random(g.N * g.OutImage, 4);
        var dx = new float[g.N * g.InImage]; var dw = new float[g.WeightSize]; var db = new float[g.K];
        string shape = $"{name} B={g.N} {g.H}x{g.W}x{g.C}->{g.K}";
        double f = Shapes.Flops(g);
        if (reference)
        {
            Row("ConvReference.Forward", shape, f, () => ConvReference.ConvForward(g, x, w, b, y));
            Row("ConvReference.BackwardData", shape, f, () => ConvReference.ConvBackwardData(g, dy, w, dx));
            Row("ConvReference.BackwardFilter", shape, f, () => ConvReference.ConvBackwardFilter(g, x, dy, dw, db));
            return;
        }
        // Each pass: the baseline and the current kernel, timed interleaved so machine noise hits both alike.
        if (VsAvx2)
        {
            Pair("Forward", shape, f, () => Avx2Forward(g, x, w, b, y), () => Conv.ConvForward(g, x, w, b, y), "ConvAvx2");
            Pair("BackwardData", shape, f, () => Avx2BackwardData(g, dy, w, dx), () => Conv.ConvBackwardData(g, dy, w, dx), "ConvAvx2");
            Pair("BackwardFilter", shape, f, () => Avx2BackwardFilter(g, x, dy, dw, db), () => Conv.ConvBackwardFilter(g, x, dy, dw, db), "ConvAvx2");
            return;
        }
        Pair("Forward", shape, f, () => ConvPortable.ConvForward(g, x, w, b, y), () => Conv.ConvForward(g, x, w, b, y));
        Pair("BackwardData", shape, f, () => ConvPortable.ConvBackwardData(g, dy, w, dx), () => Conv.ConvBackwardData(g, dy, w, dx));
        Pair("BackwardFilter", shape, f, () => ConvPortable.ConvBackwardFilter(g, x, dy, dw, db), () => Conv.ConvBackwardFilter(g, x, dy, dw, db));
    }

    private static unsafe void Avx2Forward(in ConvGeometry g, float[] x, float[] w, float[] b, float[] y)
    {
        fixed (float* xp = x) fixed (float* wp = w) fixed (float* bp = b) fixed (float* yp = y) ConvAvx2.Forward(g, xp, wp, bp, yp);
    }

    private static unsafe void Avx2BackwardData(in ConvGeometry g, float[] dy, float[] w, float[] dx)
    {
        fixed (float* dyp = dy) fixed (float* wp = w) fixed (float* dxp = dx)
            if (!ConvAvx2.BackwardData(g, dyp, wp, dxp)) throw new InvalidOperationException("AVX2 backward-data does not cover this shape.");
    }

    private static unsafe void Avx2BackwardFilter(in ConvGeometry g, float[] x, float[] dy, float[] dw, float[] db)
    {
        fixed (float* xp = x) fixed (float* dyp = dy) fixed (float* dwp = dw) fixed (float* dbp = db) ConvAvx2.BackwardFilter(g, xp, dyp, dwp, dbp);
    }

    private static void Pair(string pass, string shape, double flops, Action before, Action after, string baseline = "ConvPortable")
    {
        if (!All) { Row($"Conv.{pass}", shape, flops, after); return; }
        var (tb, ta) = (new List<(double, double)>(), new List<(double, double)>());
        before(); after(); before(); after();
        var total = Stopwatch.StartNew();
        while (ta.Count < 5 || (total.Elapsed.TotalMilliseconds < 600 && ta.Count < 200))
        {
            tb.Add(Time(before)); ta.Add(Time(after));
        }
        Print($"{baseline}.{pass}", shape, flops, tb);
        Print($"Conv.{pass}", shape, flops, ta);
    }

    private static (double Wall, double Cpu) Time(Action a)
    {
        double c0 = ThreadCpuMs();
        long t0 = Stopwatch.GetTimestamp();
        a();
        return (Stopwatch.GetElapsedTime(t0).TotalMilliseconds, ThreadCpuMs() - c0);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec { public long Sec, Nsec; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec ts);

    /// <summary>This thread's CPU time (Linux CLOCK_THREAD_CPUTIME_ID) — robust when other processes share the cores; NaN elsewhere.</summary>
    internal static double ThreadCpuMs()
    {
        if (!OperatingSystem.IsLinux()) return double.NaN;
        ClockGetTime(3, out var ts);
        return ts.Sec * 1e3 + ts.Nsec * 1e-6;
    }

    private static void Print(string kernel, string shape, double flops, List<(double Wall, double Cpu)> times)
    {
        var wall = times.Select(t => t.Wall).Order().ToList();
        var cpu = times.Select(t => t.Cpu).Order().ToList();
        double med = wall[wall.Count / 2], cmed = cpu[cpu.Count / 2];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{kernel,-28} {shape,-34} {med,10:F3} {flops / med / 1e6,9:F1} {cmed,9:F3} {flops / cmed / 1e6,9:F1}"));
    }

    private static void Row(string kernel, string shape, double flops, Action a)
    {
        a(); a();                                   // JIT tiering + warm caches
        var times = new List<(double, double)>();
        var total = Stopwatch.StartNew();
        while (times.Count < 5 || (total.Elapsed.TotalMilliseconds < 300 && times.Count < 200)) times.Add(Time(a));
        Print(kernel, shape, flops, times);
    }
}
