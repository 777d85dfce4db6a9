using System.CommandLine;
using ConvNet.Demo.Bench;

namespace ConvNet.Demo.Commands;

/// <summary>
/// <c>convnet bench [--model mandarin|lenet5|resnet18-imagenet] [--json] [--threads N] [--pairs P] [--steps S]</c>: the FMA peak,
/// training-step times over alternating 1/N-thread runs, inference latency and throughput, per-layer GFLOP/s and bytes allocated per step.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(CliHost host)
    {
        var json = new Option<bool>("--json")
        {
            Description = "Print the figures as JSON with stable keys (fma_peak_gflops, train_ms_per_step_median, speedup_1_to_2_threads, " +
                "train_fraction_of_peak, infer_b32_ms / infer_b8_ms, infer_b1_ms, alloc_bytes_per_step, …; see the README's Performance section).",
        };
        var model = new Option<string>("--model")
        {
            Description = "mandarin (the lecture's CNN, B = 32), lenet5 (B = 32) or resnet18-imagenet (the pretrained ImageNet ResNet-18 from NuGet, 224×224×3, B = 8).",
            HelpName = string.Join("|", BenchModel.Names),
            DefaultValueFactory = _ => "mandarin",
        };
        model.Validators.Add(r =>
        {
            if (r.Tokens.Count == 1 && BenchModel.Validate(r.Tokens[0].Value) is string error) r.AddError(error);
        });
        var threads = OptionFactory.Int("--threads", "Threads of the figures (N); training alternates runs at 1 and N threads (2 when N is 1).", Environment.ProcessorCount, 1);
        var batch = OptionFactory.OptionalInt("--batch-size", "Batch size of the training step and batched inference (default 32; 8 for resnet18-imagenet).", 1);
        var seconds = new Option<double>("--seconds") { Description = "Measuring time of each inference figure, in seconds (a quarter of it per layer).", DefaultValueFactory = _ => 2.0 };
        var pairs = OptionFactory.OptionalInt("--pairs", "Alternating pairs of training runs (1 thread, N threads); default 10 (1 for resnet18-imagenet).", 1);
        var steps = OptionFactory.OptionalInt("--steps", "Timed training steps per run (default 15 for mandarin, 100 for lenet5, 1 for resnet18-imagenet).", 1);
        var cmd = new Command("bench", "Measure the FMA peak, training-step time and 1→N-thread speed-up (alternating runs), inference latency and throughput, " +
            "per-layer GFLOP/s and bytes allocated per step (medians).")
            { model, json, threads, batch, seconds, pairs, steps };
        cmd.SetAction(pr => host.Execute(pr, ctx =>
        {
            bool asJson = pr.GetValue(json);
            var settings = new BenchSettings(pr.GetValue(model)!, pr.GetValue(threads), pr.GetValue(batch), Math.Max(0.2, pr.GetValue(seconds)),
                pr.GetValue(pairs), pr.GetValue(steps),
                Progress: ctx.Interactive && !asJson ? line => ctx.Err.WriteLine(line) : null);
            var load = LoadAverage.Read();
            if (LoadAverage.Warning(load, Environment.ProcessorCount) is string warning) ctx.Err.WriteLine("warning: " + warning);
            BenchResult r;
            try { r = QuickBench.Run(settings with { ReadLoad = FirstThenRead(load) }); }
            catch (FileNotFoundException e) { throw new CliException(e.Message); }
            ctx.Out.Write(asJson ? r.ToJson() + "\n" : r.ToText());
            return ExitCodes.Success;
        }));
        return cmd;
    }

    // The load average already read (for the warning) on the first call, /proc/loadavg afterwards.
    private static Func<double?> FirstThenRead(double? first)
    {
        bool used = false;
        return () =>
        {
            if (used) return LoadAverage.Read();
            used = true;
            return first;
        };
    }
}
