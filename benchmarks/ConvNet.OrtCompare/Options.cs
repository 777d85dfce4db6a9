using System.Globalization;

namespace ConvNet.OrtCompare;

/// <summary>Command-line options.</summary>
internal sealed record Options
{
    public const string Usage =
        """
        ConvNet.OrtCompare [--repeat R] [--threads 2,1] [--out FILE] [--cases mandarin-b1,mandarin-b32,resnet18-b1,resnet18-b8]
                           [--block-ms MS] [--models-dir DIR] [--fold-bn]
          --repeat R       timed repeats per case, each alternating ConvNet and the ORT sessions (default 10)
          --threads L      thread counts, in order (default 2,1); ORT IntraOpNumThreads = ConvNet Threads = t
          --out FILE       write the per-run values as JSON
          --cases L        which cases (default all four)
          --block-ms MS    target time of one timed block; k = iterations per block comes from the warm-up (default 200)
          --models-dir DIR the ResNet-18 package's tools/DnnImageModels folder (default: the NuGet packages folder)
          --fold-bn        ConvNet imports ResNet-18 with BatchNormalization folded into the convs (default: as imported)
        """;

    public static readonly string[] AllCases = ["mandarin-b1", "mandarin-b32", "resnet18-b1", "resnet18-b8"];

    public int Repeat { get; init; } = 10;
    public int[] Threads { get; init; } = [2, 1];
    public string? Out { get; init; }
    public string[] Cases { get; init; } = AllCases;
    public double BlockMs { get; init; } = 200;
    public string? ModelsDir { get; init; }
    public bool FoldBatchNorm { get; init; }

    /// <summary>Parses <paramref name="args"/>; throws <see cref="ArgumentException"/> with a one-line message on bad input.</summary>
    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
            o = a switch
            {
                "--repeat" => o with { Repeat = Positive(a, Value()) },
                "--threads" => o with { Threads = Value().Split(',').Select(s => Positive(a, s)).ToArray() },
                "--out" => o with { Out = Value() },
                "--cases" => o with { Cases = Value().Split(',').Select(c => AllCases.Contains(c) ? c : throw new ArgumentException($"unknown case '{c}'; use {string.Join(",", AllCases)}")).ToArray() },
                "--block-ms" => o with { BlockMs = Positive(a, Value()) },
                "--models-dir" => o with { ModelsDir = Value() },
                "--fold-bn" => o with { FoldBatchNorm = true },
                _ => throw new ArgumentException($"unknown argument '{a}'"),
            };
        }
        return o;
    }

    private static int Positive(string option, string s) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0 ? v
            : throw new ArgumentException($"{option}: '{s}' is not a positive integer");
}
