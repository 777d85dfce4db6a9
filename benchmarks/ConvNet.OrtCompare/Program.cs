using System.Globalization;
using ConvNet.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace ConvNet.OrtCompare;

/// <summary>
/// ConvNet vs ONNX Runtime inference on the same graphs (ConvNet's own ONNX exports), timed alternately in one process.
/// Exit codes: 0 done, 1 missing input or outputs that disagree, 2 bad arguments.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Contains("-h") || args.Contains("--help")) { Console.WriteLine(Options.Usage); return 0; }
        Options o;
        try { o = Options.Parse(args); }
        catch (ArgumentException e) { Console.Error.WriteLine($"error: {e.Message}\n{Options.Usage}"); return 2; }

        string loadStart = Machine.LoadAvg();
        Console.WriteLine($"ONNX Runtime {OrtEnv.Instance().GetVersionString()} vs ConvNet | {Machine.CpuModel()} | {Environment.ProcessorCount} cores | {Machine.Isa()} | {Machine.Runtime()["framework"]}");
        Console.WriteLine($"load average {loadStart} | repeat {o.Repeat} | threads {string.Join(",", o.Threads)} | block ≈ {o.BlockMs.ToString(CultureInfo.InvariantCulture)} ms");
        if (Machine.LoadWarning(loadStart) is { } warn) Console.Error.WriteLine(warn);

        var models = new List<Contestants>();
        try
        {
            if (o.Cases.Any(c => c.StartsWith("mandarin", StringComparison.Ordinal))) models.Add(Contestants.Mandarin());
            if (o.Cases.Any(c => c.StartsWith("resnet18", StringComparison.Ordinal))) models.Add(Contestants.ResNet18(o.ModelsDir, o.FoldBatchNorm));
        }
        catch (FileNotFoundException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine($"Restore NuGet package {PretrainedModels.ResNet18Package} {PretrainedModels.ResNet18PackageVersion} (`dotnet restore benchmarks/ConvNet.OrtCompare`, whose PackageDownload fetches it), " +
                "pass --models-dir DIR (its tools/DnnImageModels folder), or leave ResNet-18 out with --cases mandarin-b1,mandarin-b32.");
            return 1;
        }

        var results = new List<CaseResult>();
        try
        {
            foreach (int t in o.Threads)
                foreach (string c in o.Cases)
                {
                    var model = models.Single(m => c.StartsWith(m.Name, StringComparison.Ordinal));
                    int batch = int.Parse(c[(c.LastIndexOf('b') + 1)..], CultureInfo.InvariantCulture);
                    string load = Machine.LoadAvg();
                    if (load != loadStart && Machine.LoadWarning(load) is { } w) Console.Error.WriteLine($"{c} threads={t}: {w}");
                    var runners = model.Create(batch, t);
                    try
                    {
                        string label = $"{c} threads={t}";
                        var agreement = Measurement.Check(label, runners);
                        Console.WriteLine($"{label}: outputs agree with ConvNet: " + string.Join(", ", agreement.Select(a =>
                            string.Create(CultureInfo.InvariantCulture, $"{a.Name} max abs {a.MaxAbs:E2} (rel {a.Relative:E2})"))));
                        var (k, series) = Measurement.Time(runners, o.Repeat, o.BlockMs);
                        var r = new CaseResult(c, model.Name, batch, t, k, load, agreement, series);
                        results.Add(r);
                        Console.WriteLine($"{label}: k = {k}, " + string.Join(", ", series.Select(s => s.Name + " " + s.Median.ToString("F3", CultureInfo.InvariantCulture) + " ms"
                            + (s == r.ConvNet ? "" : " (" + Stats.Median(r.Ratios(s)).ToString("F2", CultureInfo.InvariantCulture) + "×)"))));
                    }
                    finally
                    {
                        foreach (var r in runners) r.Dispose();
                    }
                }
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }

        string loadEnd = Machine.LoadAvg();
        Console.WriteLine();
        Console.Write(Report.Table(results));
        Console.WriteLine($"load average: start {loadStart}, end {loadEnd}");
        if (o.Out is not null)
        {
            var variants = models.SelectMany(m => m.Variants).DistinctBy(kv => kv.Key).ToDictionary();
            File.WriteAllText(o.Out, Report.Json(o, results, loadStart, loadEnd, variants) + "\n");
            Console.WriteLine($"wrote {o.Out}");
        }
        return 0;
    }
}
