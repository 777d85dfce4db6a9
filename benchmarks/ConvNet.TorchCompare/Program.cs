// Side-by-side libtorch (TorchSharp-cpu) reference benchmark for ConvNet.
// Times the lecture's Keras CNN (80x80x1 -> 57 classes, 849,977 parameters) and its hot kernels
// on libtorch's CPU backend so ConvNet's own numbers have a yardstick on the same machine.
//
// Usage: ConvNet.TorchCompare [--json] [--seconds S] [--repeat R] [--threads 2,1] [--out FILE]
//   --json       print only the JSON document (stable keys) on stdout
//   --seconds S  minimum measuring time per measurement (default 2)
//   --repeat R   run the whole suite R times in-process; reported values are medians over the runs (default 1)
//   --threads L  comma-separated intra-op thread counts to measure (default 2,1)
//   --out FILE   also write the JSON document to FILE
//   --lenet5     instead of the suite: LeNet-5 MNIST-sized epochs (see LeNet5Epoch.cs), R per thread count
//
// On Debian 12 this must run through shared/tools/newer-libc.sh (see run.sh and README.md).

using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace ConvNet.TorchCompare;

/// <summary>The lecture's Keras model in PyTorch NCHW form.</summary>
internal sealed class LectureCnn : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> body;

    public LectureCnn() : base(nameof(LectureCnn))
    {
        body = Sequential(
            ("conv1", Conv2d(1, 16, 3, padding: 1)), ("relu1", ReLU()), ("pool1", MaxPool2d(2)),
            ("conv2", Conv2d(16, 32, 3, padding: 1)), ("relu2", ReLU()), ("pool2", MaxPool2d(2)),
            ("conv3", Conv2d(32, 64, 3, padding: 1)), ("relu3", ReLU()), ("pool3", MaxPool2d(2)),
            ("flatten", Flatten()),
            ("fc1", Linear(6400, 128)), ("relu4", ReLU()),
            ("fc2", Linear(128, 57)));
        RegisterComponents();
    }

    // Rescaling(1/255) is a plain multiply, as in Keras.
    public override Tensor forward(Tensor x) => body.forward(x.mul(1.0f / 255.0f));
}

/// <summary>
/// libtorch's at::Context NNPACK switch (TorchSharp does not expose torch.backends.nnpack).
/// NNPACK cannot initialise on this CPU; with it enabled, every small-batch convolution retries the
/// check and logs "Could not initialize NNPACK! Reason: Unsupported hardware." to stderr, which costs
/// time inside the measured region. Disabling it selects the very same fallback kernels, silently.
/// </summary>
internal static partial class LibtorchContext
{
    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static partial void SetUserEnabledNNPACK(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    public static bool TryDisableNnpack()
    {
        try
        {
            SetUserEnabledNNPACK(GlobalContext(), false);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Console.Error.WriteLine($"warning: could not disable NNPACK ({e.GetType().Name}); expect NNPACK warnings on stderr");
            return false;
        }
    }
}

internal readonly record struct Stats(double MedianMs, double MinMs, double MaxMs, int Iterations);

internal static class Program
{
    private const int Classes = 57;
    private const long ExpectedParameters = 849_977;

    private static double seconds = 2.0;
    private static bool jsonOnly;
    private static bool nnpackDisabled;
    private static string loadAvgStart = "";
    private static string loadAvgEnd = "";

    private static int Main(string[] args)
    {
        int repeat = 1;
        string? outFile = null;
        bool lenet5 = false;
        int[] threadCounts = [2, 1];
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--json": jsonOnly = true; break;
                case "--seconds": seconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--repeat": repeat = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--out": outFile = args[++i]; break;
                case "--lenet5": lenet5 = true; break;
                case "--threads":
                    threadCounts = args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                    break;
                case "-h" or "--help":
                    Console.WriteLine("ConvNet.TorchCompare [--json] [--seconds S] [--repeat R] [--threads 2,1] [--out FILE] [--lenet5]");
                    return 0;
                default:
                    Console.Error.WriteLine($"unknown argument: {args[i]}");
                    return 2;
            }
        }

        // Interop threads can only be set once, before any parallel work.
        torch.set_num_interop_threads(1);
        torch.manual_seed(1234);
        nnpackDisabled = LibtorchContext.TryDisableNnpack();
        loadAvgStart = LoadAvg();
        if (lenet5) return RunLeNet5(threadCounts, repeat, outFile);

        var runs = new List<List<KeyValuePair<string, double>>>();
        for (int r = 0; r < repeat; r++)
        {
            Log($"== run {r + 1}/{repeat} ==");
            runs.Add(RunSuite(threadCounts));
        }

        loadAvgEnd = LoadAvg();

        // Aggregate: median over runs for every key (keys are identical and in the same order in every run).
        var keys = runs[0].Select(kv => kv.Key).ToList();
        var agg = keys.Select(k => new KeyValuePair<string, double>(k,
            Median(runs.Select(run => run.First(kv => kv.Key == k).Value).ToList()))).ToList();

        if (!jsonOnly)
        {
            PrintTable(agg, threadCounts, repeat);
        }

        string json = ToJson(agg, runs, threadCounts, repeat);
        if (jsonOnly)
        {
            Console.WriteLine(json);
        }

        if (outFile is not null)
        {
            File.WriteAllText(outFile, json + "\n");
            Log($"wrote {outFile}");
        }

        return 0;
    }

    // --lenet5: R alternating epochs per thread count; JSON with every epoch's seconds and the medians.
    private static int RunLeNet5(int[] threadCounts, int repeat, string? outFile)
    {
        var epochs = threadCounts.ToDictionary(t => t, _ => new List<(double Train, double Val)>());
        for (int r = 0; r < repeat; r++)
            foreach (int t in threadCounts)
            {
                torch.set_num_threads(t);
                var e = LeNet5Epoch.Run();
                epochs[t].Add(e);
                Log(string.Create(CultureInfo.InvariantCulture, $"lenet5 epoch {r + 1}/{repeat}, {t} thread(s): train {e.Train:F2} s + validation {e.Val:F2} s"));
            }

        loadAvgEnd = LoadAvg();
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("benchmark", "ConvNet.TorchCompare --lenet5");
            w.WriteString("date_utc", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            w.WriteString("libtorch_version", LibtorchVersion());
            w.WriteString("cpu", CpuModel());
            w.WriteString("loadavg_start", loadAvgStart);
            w.WriteString("loadavg_end", loadAvgEnd);
            w.WriteNumber("train_images", LeNet5Epoch.Train);
            w.WriteNumber("val_images", LeNet5Epoch.Val);
            w.WriteNumber("batch_size", LeNet5Epoch.Batch);
            foreach (int t in threadCounts)
            {
                var total = epochs[t].Select(e => e.Train + e.Val).ToList();
                WriteNum(w, $"torch_lenet5_epoch_s_t{t}", Median(total));
                WriteNum(w, $"torch_lenet5_epoch_s_min_t{t}", total.Min());
                WriteNum(w, $"torch_lenet5_epoch_s_max_t{t}", total.Max());
                w.WriteStartArray($"torch_lenet5_epochs_t{t}");
                foreach (var e in epochs[t])
                {
                    w.WriteStartObject();
                    WriteNum(w, "train_s", e.Train);
                    WriteNum(w, "val_s", e.Val);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        string json = Encoding.UTF8.GetString(ms.ToArray());
        Console.WriteLine(json);
        if (outFile is not null) File.WriteAllText(outFile, json + "\n");
        return 0;
    }

    private static List<KeyValuePair<string, double>> RunSuite(int[] threadCounts)
    {
        var res = new List<KeyValuePair<string, double>>();
        void Add(string key, double value) => res.Add(new(key, value));
        void AddStats(string name, string sfx, Stats s)
        {
            Add(name + "_ms" + sfx, s.MedianMs);
            Add(name + "_ms_min" + sfx, s.MinMs);
            Add(name + "_ms_max" + sfx, s.MaxMs);
            Add(name + "_iters" + sfx, s.Iterations);
        }

        foreach (int t in threadCounts)
        {
            torch.set_num_threads(t);
            string sfx = "_t" + t;
            Log($"-- threads={torch.get_num_threads()} --");

            // 1. Training step at batch 32.
            var train = TrainStep(32);
            AddStats("torch_train", sfx, train);
            Add("torch_train_img_per_s" + sfx, 32 * 1000.0 / train.MedianMs);

            // 2. Inference at batch 32 and batch 1.
            var infer32 = Inference(32);
            AddStats("torch_infer_b32", sfx, infer32);
            Add("torch_infer_b32_img_per_s" + sfx, 32 * 1000.0 / infer32.MedianMs);
            var infer1 = Inference(1);
            AddStats("torch_infer_b1", sfx, infer1);
            Add("torch_infer_b1_img_per_s" + sfx, 1000.0 / infer1.MedianMs);

            // 3. conv2-shaped forward: (32,16,40,40) -> Conv2d(16,32,3,pad 1).
            double convFlops = 2.0 * 32 * 40 * 40 * 32 * 3 * 3 * 16;
            var convF = Conv2Forward();
            AddStats("torch_conv2_fwd", sfx, convF);
            Add("torch_conv2_fwd_gflops" + sfx, convFlops / (convF.MedianMs * 1e6));

            // 4a. conv2 backward (input grad + filter grad; each costs as many FLOPs as the forward).
            var convB = Conv2Backward();
            AddStats("torch_conv2_bwd", sfx, convB);
            Add("torch_conv2_bwd_gflops" + sfx, 2 * convFlops / (convB.MedianMs * 1e6));

            // 4b. Dense 6400 -> 128 forward at B=32.
            double denseFlops = 2.0 * 32 * 6400 * 128;
            var dense = DenseForward();
            AddStats("torch_dense_fwd", sfx, dense);
            Add("torch_dense_fwd_gflops" + sfx, denseFlops / (dense.MedianMs * 1e6));

            // Peak anchor: square SGEMM 1024^3, to see how close the model kernels get to the machine's ceiling.
            double gemmFlops = 2.0 * 1024 * 1024 * 1024;
            var gemm = Sgemm1024();
            AddStats("torch_sgemm1024", sfx, gemm);
            Add("torch_sgemm1024_gflops" + sfx, gemmFlops / (gemm.MedianMs * 1e6));
        }

        // Unsuffixed headline keys (2 threads when measured, else the first thread count).
        int head = threadCounts.Contains(2) ? 2 : threadCounts[0];
        double Get(string k) => res.First(kv => kv.Key == k).Value;
        foreach (string k in new[]
                 {
                     "torch_train_ms", "torch_train_img_per_s",
                     "torch_infer_b32_ms", "torch_infer_b32_img_per_s", "torch_infer_b1_ms",
                     "torch_conv2_fwd_gflops", "torch_conv2_bwd_gflops", "torch_dense_fwd_gflops", "torch_sgemm1024_gflops",
                 })
        {
            Add(k, Get($"{k}_t{head}"));
        }

        return res;
    }

    private static Stats TrainStep(int batch)
    {
        using var model = new LectureCnn();
        long nParams = model.parameters().Sum(p => p.numel());
        if (nParams != ExpectedParameters)
        {
            throw new InvalidOperationException($"parameter count {nParams} != {ExpectedParameters}");
        }

        model.train();
        using var opt = torch.optim.Adam(model.parameters(), lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-7);
        using var lossFn = CrossEntropyLoss();
        using var x = RandomImages(batch);
        using var y = torch.randint(0, Classes, [batch], dtype: ScalarType.Int64);

        return Measure($"train step B={batch}", 2, 10, () =>
        {
            using var scope = torch.NewDisposeScope();
            opt.zero_grad();
            var logits = model.forward(x);
            var loss = lossFn.forward(logits, y);
            loss.backward();
            opt.step();
        });
    }

    private static Stats Inference(int batch)
    {
        using var model = new LectureCnn();
        model.eval();
        using var x = RandomImages(batch);
        return Measure($"inference B={batch}", 5, batch == 1 ? 200 : 30, () =>
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            var logits = model.forward(x);
            _ = logits.argmax(1);
        });
    }

    private static Stats Conv2Forward()
    {
        using var conv = Conv2d(16, 32, 3, padding: 1);
        conv.eval();
        using var x = torch.rand(32, 16, 40, 40);
        return Measure("conv2 forward", 5, 50, () =>
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            _ = conv.forward(x);
        });
    }

    private static Stats Conv2Backward()
    {
        using var conv = Conv2d(16, 32, 3, padding: 1);
        conv.train();
        using var x = torch.rand(32, 16, 40, 40).requires_grad_(true);
        using var gy = torch.rand(32, 32, 40, 40);
        // Only the backward call is timed; the forward building the graph runs untimed before it.
        return MeasureWithSetup("conv2 backward", 5, 50,
            setup: () =>
            {
                var scope = torch.NewDisposeScope();
                x.grad?.Dispose();
                x.grad = null;
                conv.zero_grad();
                var yOut = conv.forward(x);
                return (scope, yOut);
            },
            timed: state => state.yOut.backward([gy]),
            teardown: state => state.scope.Dispose());
    }

    private static Stats DenseForward()
    {
        using var fc = Linear(6400, 128);
        fc.eval();
        using var x = torch.rand(32, 6400);
        return Measure("dense 6400->128 forward", 20, 200, () =>
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            _ = fc.forward(x);
        });
    }

    private static Stats Sgemm1024()
    {
        using var a = torch.rand(1024, 1024);
        using var b = torch.rand(1024, 1024);
        return Measure("sgemm 1024^3", 3, 20, () =>
        {
            using var scope = torch.NewDisposeScope();
            _ = torch.mm(a, b);
        });
    }

    private static Tensor RandomImages(int batch) =>
        torch.randint(0, 256, [batch, 1, 80, 80], dtype: ScalarType.Float32);

    private static Stats Measure(string name, int warmup, int minIters, Action body) =>
        MeasureWithSetup<int>(name, warmup, minIters, () => 0, _ => body(), _ => { });

    private static Stats MeasureWithSetup<TState>(string name, int warmup, int minIters,
        Func<TState> setup, Action<TState> timed, Action<TState> teardown)
    {
        // Warm-up: fixed count plus at least 0.3 s, so allocator/thread pools/JIT are settled.
        var wsw = Stopwatch.StartNew();
        for (int i = 0; i < warmup || wsw.Elapsed.TotalSeconds < 0.3; i++)
        {
            var s = setup();
            timed(s);
            teardown(s);
        }

        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < minIters || total.Elapsed.TotalSeconds < seconds)
        {
            var s = setup();
            long t0 = Stopwatch.GetTimestamp();
            timed(s);
            long t1 = Stopwatch.GetTimestamp();
            teardown(s);
            times.Add((t1 - t0) * 1000.0 / Stopwatch.Frequency);
        }

        var st = new Stats(Median(times), times.Min(), times.Max(), times.Count);
        Log($"  {name,-26} median {st.MedianMs,9:F3} ms  min {st.MinMs,9:F3}  max {st.MaxMs,9:F3}  n={st.Iterations}");
        return st;
    }

    private static double Median(List<double> v)
    {
        var s = v.OrderBy(d => d).ToList();
        int n = s.Count;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }

    private static void Log(string msg)
    {
        if (!jsonOnly)
        {
            Console.WriteLine(msg);
        }
        else
        {
            Console.Error.WriteLine(msg);
        }
    }

    private static void PrintTable(List<KeyValuePair<string, double>> agg, int[] threadCounts, int repeat)
    {
        double G(string k) => agg.First(kv => kv.Key == k).Value;
        var sb = new StringBuilder();
        sb.AppendLine();
        sb.Append(CultureInfo.InvariantCulture,
            $"libtorch {LibtorchVersion()} via TorchSharp {TorchSharpVersion()}, interop threads 1, {Environment.ProcessorCount} logical CPUs");
        sb.AppendLine(repeat > 1 ? $", values = median of {repeat} runs" : "");
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"measurement",-34} {"threads",7} {"median",10} {"min",10} {"max",10}  {"rate",14}");
        sb.AppendLine(new string('-', 92));
        foreach (int t in threadCounts)
        {
            string s = "_t" + t;
            Row("train step B=32 (ms)", t, "torch_train", s, $"{G("torch_train_img_per_s" + s),9:F1} img/s");
            Row("inference B=32 (ms)", t, "torch_infer_b32", s, $"{G("torch_infer_b32_img_per_s" + s),9:F1} img/s");
            Row("inference B=1 latency (ms)", t, "torch_infer_b1", s, $"{G("torch_infer_b1_img_per_s" + s),9:F1} img/s");
            Row("conv2 fwd (32,16,40,40) (ms)", t, "torch_conv2_fwd", s, $"{G("torch_conv2_fwd_gflops" + s),9:F1} GFLOP/s");
            Row("conv2 bwd data+filter (ms)", t, "torch_conv2_bwd", s, $"{G("torch_conv2_bwd_gflops" + s),9:F1} GFLOP/s");
            Row("dense 6400->128 fwd B=32 (ms)", t, "torch_dense_fwd", s, $"{G("torch_dense_fwd_gflops" + s),9:F1} GFLOP/s");
            Row("sgemm 1024^3 (peak anchor) (ms)", t, "torch_sgemm1024", s, $"{G("torch_sgemm1024_gflops" + s),9:F1} GFLOP/s");
        }

        Console.Write(sb.ToString());

        void Row(string label, int t, string name, string s, string rate) =>
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{label,-34} {t,7} {G(name + "_ms" + s),10:F3} {G(name + "_ms_min" + s),10:F3} {G(name + "_ms_max" + s),10:F3}  {rate}"));
    }

    private static string ToJson(List<KeyValuePair<string, double>> agg, List<List<KeyValuePair<string, double>>> runs,
        int[] threadCounts, int repeat)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("benchmark", "ConvNet.TorchCompare");
            w.WriteString("date_utc", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            w.WriteString("torchsharp_version", TorchSharpVersion());
            w.WriteString("libtorch_version", LibtorchVersion());
            w.WriteString("dotnet_version", Environment.Version.ToString());
            w.WriteNumber("processor_count", Environment.ProcessorCount);
            w.WriteString("cpu", CpuModel());
            w.WriteString("cpu_isa", CpuIsa());
            w.WriteString("env_ONEDNN_MAX_CPU_ISA", Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") ?? "");
            w.WriteString("env_ATEN_CPU_CAPABILITY", Environment.GetEnvironmentVariable("ATEN_CPU_CAPABILITY") ?? "");
            w.WriteNumber("interop_threads", 1);
            w.WriteBoolean("nnpack_disabled", nnpackDisabled);
            w.WriteString("loadavg_start", loadAvgStart);
            w.WriteString("loadavg_end", loadAvgEnd);
            w.WriteStartArray("threads");
            foreach (int t in threadCounts)
            {
                w.WriteNumberValue(t);
            }

            w.WriteEndArray();
            w.WriteNumber("seconds_per_measurement", seconds);
            w.WriteNumber("repeat", repeat);
            w.WriteNumber("parameters", ExpectedParameters);
            w.WriteString("note", "values are medians of per-iteration times (and of runs when repeat > 1); _ms_min/_ms_max are per-iteration extremes");
            foreach (var kv in agg)
            {
                WriteNum(w, kv.Key, kv.Value);
            }

            if (repeat > 1)
            {
                w.WriteStartArray("runs");
                foreach (var run in runs)
                {
                    w.WriteStartObject();
                    foreach (var kv in run)
                    {
                        WriteNum(w, kv.Key, kv.Value);
                    }

                    w.WriteEndObject();
                }

                w.WriteEndArray();
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void WriteNum(Utf8JsonWriter w, string key, double v)
    {
        if (key.EndsWith("_iters", StringComparison.Ordinal))
        {
            w.WriteNumber(key, (long)Math.Round(v));
        }
        else
        {
            w.WriteNumber(key, Math.Round(v, 4));
        }
    }

    private static string TorchSharpVersion() =>
        typeof(torch).Assembly.GetName().Version?.ToString() ?? "?";

    private static string LibtorchVersion()
    {
        try
        {
            return torch.__version__;
        }
        catch (Exception)
        {
            return "?";
        }
    }

    private static string LoadAvg()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static string CpuIsa()
    {
        try
        {
            var flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
            if (flags is null)
            {
                return "?";
            }

            var set = flags.Split(':', 2)[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
            string[] interesting = ["avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile"];
            return string.Join(' ', interesting.Where(set.Contains));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static string CpuModel()
    {
        try
        {
            var lines = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0).ToList();
            string Field(string name) =>
                lines.FirstOrDefault(l => l.Split(':', 2)[0].Trim() == name)?.Split(':', 2)[1].Trim() ?? "?";
            return $"{Field("model name")} (family {Field("cpu family")} model {Field("model")})";
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
