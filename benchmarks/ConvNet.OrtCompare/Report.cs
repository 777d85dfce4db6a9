using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace ConvNet.OrtCompare;

/// <summary>The console table and the JSON file of per-run values.</summary>
internal static class Report
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    /// <summary>One row per (case, threads, runner): median, min, max, spread; ORT rows add the median ORT/ConvNet ratio.</summary>
    public static string Table(IReadOnlyList<CaseResult> results)
    {
        var sb = new StringBuilder();
        sb.AppendLine(C, $"{"case",-13} {"thr",3} {"k",4} {"runner",-13} {"median ms",10} {"min",9} {"max",9} {"spread",7} {"ORT/ConvNet",12} {"ratio min–max",15}");
        sb.AppendLine(new string('-', 103));
        foreach (var r in results)
        {
            foreach (var s in r.Series)
            {
                string ratio = "", range = "";
                if (s != r.ConvNet)
                {
                    var q = r.Ratios(s);
                    ratio = Stats.Median(q).ToString("F2", C) + "×";
                    range = $"{q.Min().ToString("F2", C)}–{q.Max().ToString("F2", C)}";
                }
                sb.AppendLine(C, $"{r.Case,-13} {r.Threads,3} {r.ItersPerBlock,4} {s.Name,-13} {s.Median,10:F3} {s.Min,9:F3} {s.Max,9:F3} {s.Spread,7:F2} {ratio,12} {range,15}");
            }
        }
        sb.AppendLine("ORT/ConvNet = median over repeats of (ORT ms / ConvNet ms) of the same repeat; > 1 = ConvNet faster.");
        return sb.ToString();
    }

    /// <summary>The JSON document: machine, options, and per case every repeat's ms/iteration and ratio.</summary>
    public static string Json(Options o, IReadOnlyList<CaseResult> results, string loadStart, string loadEnd, IReadOnlyDictionary<string, string> variants)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("benchmark", "ConvNet.OrtCompare");
            w.WriteString("date_utc", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", C));
            w.WriteString("onnxruntime_version", OrtEnv.Instance().GetVersionString());
            w.WriteString("cpu", Machine.CpuModel());
            w.WriteString("cpu_isa", Machine.Isa());
            w.WriteNumber("processor_count", Environment.ProcessorCount);
            w.WriteStartObject("runtime");
            foreach (var kv in Machine.Runtime()) w.WriteString(kv.Key, kv.Value);
            w.WriteEndObject();
            w.WriteString("loadavg_start", loadStart);
            w.WriteString("loadavg_end", loadEnd);
            w.WriteNumber("repeat", o.Repeat);
            w.WriteNumber("block_ms", o.BlockMs);
            w.WriteBoolean("resnet18_fold_batchnorm", o.FoldBatchNorm);
            w.WriteString("ort_session", "IntraOpNumThreads = threads, InterOpNumThreads = 1, ORT_SEQUENTIAL, ORT_ENABLE_ALL, preallocated input/output OrtValues");
            w.WriteString("note", "ms = wall ms per iteration of one block of k iterations; a repeat times every runner once, alternating (order reversed on odd repeats); ratio = ORT ms / ConvNet ms of the same repeat, > 1 = ConvNet faster; agreement relative = max|ORT - ConvNet| / max|ConvNet|");
            w.WriteStartObject("runners");
            foreach (var kv in variants) w.WriteString(kv.Key, kv.Value);
            w.WriteEndObject();
            w.WriteStartArray("cases");
            foreach (var r in results)
            {
                w.WriteStartObject();
                w.WriteString("case", r.Case);
                w.WriteString("model", r.Model);
                w.WriteNumber("batch", r.Batch);
                w.WriteNumber("threads", r.Threads);
                w.WriteNumber("iterations_per_block", r.ItersPerBlock);
                w.WriteString("loadavg", r.LoadAvg);
                w.WriteStartObject("agreement");
                foreach (var a in r.Agreement)
                {
                    w.WriteStartObject(a.Name);
                    w.WriteNumber("max_abs_diff", a.MaxAbs);
                    w.WriteNumber("relative", a.Relative);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                w.WriteStartObject("runners");
                foreach (var s in r.Series)
                {
                    w.WriteStartObject(s.Name);
                    Num(w, "median_ms", s.Median);
                    Num(w, "min_ms", s.Min);
                    Num(w, "max_ms", s.Max);
                    Num(w, "spread", s.Spread);
                    Array(w, "ms", s.Ms);
                    if (s != r.ConvNet)
                    {
                        var q = r.Ratios(s);
                        Num(w, "ratio_ort_over_convnet_median", Stats.Median(q));
                        Array(w, "ratio_ort_over_convnet", q);
                    }
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void Num(Utf8JsonWriter w, string key, double v) => w.WriteNumber(key, Math.Round(v, 4));

    private static void Array(Utf8JsonWriter w, string key, IEnumerable<double> values)
    {
        w.WriteStartArray(key);
        foreach (double v in values) w.WriteNumberValue(Math.Round(v, 4));
        w.WriteEndArray();
    }
}
