using System.CommandLine;
using ConvNet.Demo.Bench;

namespace ConvNet.Demo.Commands;

/// <summary><c>convnet bench [--json] [--threads N]</c>: a quick measured run of the lecture model's training and inference speed.</summary>
internal static class BenchCommand
{
    public static Command Create(CliHost host)
    {
        var json = new Option<bool>("--json") { Description = "Print the figures as JSON with stable keys (train_img_per_s, infer_b32_img_per_s, infer_b1_ms, conv2_fwd_gflops, alloc_bytes_per_step, …)." };
        var threads = OptionFactory.Int("--threads", "Threads for the kernels.", Environment.ProcessorCount, 1);
        var batch = OptionFactory.Int("--batch-size", "Batch size of the training step and batched inference.", 32, 1);
        var seconds = new Option<double>("--seconds") { Description = "Measuring time per figure, in seconds.", DefaultValueFactory = _ => 2.0 };
        var cmd = new Command("bench", "Measure training images/s, inference latency and throughput, per-layer GFLOP/s and bytes allocated per step (medians).")
            { json, threads, batch, seconds };
        cmd.SetAction(pr => host.Execute(pr, ctx =>
        {
            var r = QuickBench.Run(() => ModelZoo.Mandarin(), pr.GetValue(threads), pr.GetValue(batch), Math.Max(0.2, pr.GetValue(seconds)));
            ctx.Out.Write(pr.GetValue(json) ? r.ToJson() + "\n" : r.ToText());
            return ExitCodes.Success;
        }));
        return cmd;
    }
}
