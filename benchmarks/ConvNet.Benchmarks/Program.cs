namespace ConvNet.Benchmarks;

/// <summary>
/// Entry point. <c>--quick [--ref]</c>: Stopwatch table (median ms, GFLOP/s, single thread).
/// <c>--verify [n]</c>: Conv vs ConvReference over random shapes. Otherwise BenchmarkDotNet's switcher
/// (e.g. <c>--filter *ConvSimd*</c>).
/// </summary>
public static class Program
{
    /// <summary>Dispatches on the first argument.</summary>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--quick") { Quick.Run(args); return 0; }
        if (args.Length > 0 && args[0] == "--verify") return Verify.Run(args) == 0 ? 0 : 1;
        BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
