using System.Diagnostics;

namespace ConvNet.OrtCompare;

/// <summary>ms/iteration of one runner over the repeats, with its summary statistics.</summary>
internal sealed record Series(string Name, double[] Ms)
{
    public double Median => Stats.Median(Ms);
    public double Min => Ms.Min();
    public double Max => Ms.Max();
    /// <summary>max / min over the repeats.</summary>
    public double Spread => Max / Min;
}

/// <summary>How far one ORT output is from ConvNet's: max |a − b| and that relative to max |ConvNet|.</summary>
internal sealed record Agreement(string Name, double MaxAbs, double Relative);

/// <summary>Everything measured for one (case, threads).</summary>
internal sealed record CaseResult(string Case, string Model, int Batch, int Threads, int ItersPerBlock, string LoadAvg,
    IReadOnlyList<Agreement> Agreement, IReadOnlyList<Series> Series)
{
    public Series ConvNet => Series[0];

    /// <summary>ORT/ConvNet per repeat (the pairs were timed next to each other); &gt; 1 = ConvNet faster.</summary>
    public double[] Ratios(Series ort) => ort.Ms.Zip(ConvNet.Ms, (o, c) => o / c).ToArray();
}

/// <summary>Checks that the runners agree, warms them up, then times them alternately.</summary>
internal static class Measurement
{
    /// <summary>Largest tolerated max |ORT − ConvNet| / max |ConvNet|.</summary>
    public const double Tolerance = 1e-3;

    /// <summary>The outputs of every ORT runner against ConvNet's (runners[0]); throws when one is off by more than <see cref="Tolerance"/>.</summary>
    public static List<Agreement> Check(string label, IReadOnlyList<IRunner> runners)
    {
        runners[0].Run();
        var reference = runners[0].Output();
        double scale = reference.Max(MathF.Abs);
        var result = new List<Agreement>();
        foreach (var r in runners.Skip(1))
        {
            r.Run();
            var y = r.Output();
            if (y.Length != reference.Length)
                throw new InvalidOperationException($"{label}: {r.Name} gives {y.Length} values, ConvNet {reference.Length}");
            double maxAbs = 0;
            for (int i = 0; i < y.Length; i++)
            {
                double d = Math.Abs(y[i] - (double)reference[i]);
                maxAbs = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(maxAbs, d);
            }
            var a = new Agreement(r.Name, maxAbs, scale > 0 ? maxAbs / scale : maxAbs);
            result.Add(a);
            if (!(a.Relative <= Tolerance))
                throw new InvalidOperationException($"{label}: {r.Name} disagrees with ConvNet: max abs diff {a.MaxAbs:E3}, relative {a.Relative:E3} > {Tolerance:E0}");
        }
        return result;
    }

    /// <summary>
    /// Warm-up (each runner ≥ 2 iterations and ≥ 0.25 s), k from ConvNet's warm-up median so one block lasts about
    /// <paramref name="blockMs"/>, then <paramref name="repeats"/> rounds; each round times k iterations of every runner in
    /// turn (order reversed every other round so drift hits both sides alike) and records ms/iteration.
    /// </summary>
    public static (int K, List<Series> Series) Time(IReadOnlyList<IRunner> runners, int repeats, double blockMs)
    {
        double convnetMs = 0;
        foreach (var r in runners)
        {
            var samples = new List<double>();
            var sw = Stopwatch.StartNew();
            while (samples.Count < 2 || sw.Elapsed.TotalSeconds < 0.25)
            {
                long t0 = Stopwatch.GetTimestamp();
                r.Run();
                samples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
            if (r == runners[0]) convnetMs = Stats.Median(samples);
        }
        int k = (int)Math.Clamp(Math.Round(blockMs / convnetMs), 1, 100_000);
        var ms = runners.Select(_ => new double[repeats]).ToArray();
        for (int rep = 0; rep < repeats; rep++)
        {
            for (int j = 0; j < runners.Count; j++)
            {
                int i = rep % 2 == 0 ? j : runners.Count - 1 - j;
                long t0 = Stopwatch.GetTimestamp();
                for (int it = 0; it < k; it++) runners[i].Run();
                ms[i][rep] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds / k;
            }
        }
        return (k, runners.Select((r, i) => new Series(r.Name, ms[i])).ToList());
    }
}

/// <summary>Order statistics.</summary>
internal static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var s = values.Order().ToArray();
        int n = s.Length;
        return n == 0 ? double.NaN : n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }
}
