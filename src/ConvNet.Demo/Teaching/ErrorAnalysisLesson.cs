namespace ConvNet.Demo.Teaching;

/// <summary>
/// Lesson 13: error analysis and confidence — what one image is worth on 57 validation (or test) images: accuracies as
/// counts, standard errors and Wilson intervals for the runs reported in the README and the lecture.
/// </summary>
internal static class ErrorAnalysisLesson
{
    public const int N = 57;

    /// <summary>
    /// Runs with their reported accuracies: the README's default run (2026-11-25) and <c>convnet calibrate</c> seeds 1–3
    /// on the stand-in set, and the lecture's Keras run on the real set. Each accuracy is a count out of 57.
    /// </summary>
    public static readonly (string Run, string Set, int Correct, string Reported)[] Runs =
    [
        ("demo default run", "val", 41, "0.719"),
        ("demo default run", "test", 38, "0.667"),
        ("calibrate seed 1", "val", 49, "0.860"),
        ("calibrate seed 2", "val", 47, "0.825"),
        ("calibrate seed 3", "val", 44, "0.772"),
        ("lecture (Keras, real data)", "val", 44, "0.772"),
        ("lecture (Keras, real data)", "test", 52, "0.912"),
    ];

    /// <summary>sqrt(p(1 − p)/n).</summary>
    public static double StandardError(double p, int n) => Math.Sqrt(p * (1 - p) / n);

    /// <summary>The Wilson score interval for k successes out of n at z = 1.96.</summary>
    public static (double Lo, double Hi) Wilson(int k, int n, double z = 1.96)
    {
        double p = (double)k / n, z2 = z * z;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        double half = z / (1 + z2 / n) * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        return (centre - half, centre + half);
    }

    /// <summary>Images needed so that 1.96 standard errors are at most <paramref name="margin"/> at accuracy p.</summary>
    public static int ImagesFor(double p, double margin) => (int)Math.Ceiling(1.96 * 1.96 * p * (1 - p) / (margin * margin));

    public static void Write(Page p)
    {
        p.Line($"The stand-in set, like the lecture's, has 57 validation and 57 test images (one per character).");
        p.Line($"One image is 1/57 = {100.0 / N:F2} percentage points of accuracy, and every accuracy is a count:");
        p.Line();
        p.Line("    run                          set   reported  = k/57    std. error   Wilson 95% interval");
        foreach (var (run, set, k, reported) in Runs)
        {
            double acc = (double)k / N;
            var (lo, hi) = Wilson(k, N);
            string frac = Inv.S($"{k}/57");
            p.Line($"    {run,-28} {set,-5} {reported,8}  = {frac,-6} {StandardError(acc, N),9:0.000}     {lo:0.000} - {hi:0.000}");
        }
        p.Line();
        double p1 = 49.0 / N, p3 = 44.0 / N;
        double seDiff = Math.Sqrt(p1 * (1 - p1) / N + p3 * (1 - p3) / N);
        p.Line("Seeds 1 and 3 differ by 49 - 44 = 5 images, 8.8 points. The standard error of a difference");
        p.Line($"of two such runs is sqrt(se1² + se3²) = {seDiff:0.000}, so two standard errors are {200 * seDiff:0.0} points: the");
        p.Line("difference is within the noise of 57 images, and so is the lecture's val 0.772 against the");
        p.Line("stand-in's 0.719 to 0.860. The lecture's test 0.912 (52/57) is above its val 0.772 (44/57) by");
        p.Line("8 images, again about two standard errors: one split of 57 images cannot rank two models that");
        p.Line("close.");
        p.Line();
        p.Line("Images needed for a 95% margin of ±m points at accuracy 0.8 (n = 1.96²·p(1 - p)/m²):");
        p.Line();
        foreach (double m in new[] { 0.10, 0.05, 0.02, 0.01 })
            p.Line($"    ±{100 * m,2:0} {(m == 0.01 ? "point: " : "points:")} {Page.Thousands(ImagesFor(0.8, m)),6} images");
        p.Line();
        p.Line("Exercises (answers computed by the same code):");
        foreach (var (q, a) in Exercises()) p.Line($"    {q,-62} {a}");
    }

    /// <summary>The page's exercises and answers.</summary>
    public static IEnumerable<(string Question, string Answer)> Exercises()
    {
        yield return ("1. images for one image to be worth 0.5 points", Inv.S($"{100 / 0.5:0}"));
        var (lo, hi) = Wilson(38, N);
        yield return ("2. Wilson 95% interval of the demo's test accuracy 38/57", Inv.S($"{lo:0.000} - {hi:0.000}"));
        yield return ("3. test accuracy if 5 of the 19 wrong test images were right", Inv.S($"{(38 + 5) / (double)N:0.000}"));
        yield return ("4. images for ±1 point at accuracy 0.95", Page.Thousands(ImagesFor(0.95, 0.01)));
    }

    /// <summary>Figure: each run's accuracy as a bar with its Wilson 95% interval.</summary>
    public static IEnumerable<Figure> Figures()
    {
        var fig = new Figure("13-accuracy-intervals", "Accuracy out of 57 images, with Wilson 95% intervals");
        fig.Place(new BarChart
        {
            Title = "val/test accuracy, 0 to 1",
            Values = [.. Runs.Select(r => (double)r.Correct / N)],
            Scale = v => v,
            BarWidth = 40,
            Height = 200,
            Intervals = [.. Runs.Select(r => Wilson(r.Correct, N))],
            Label = i => Inv.S($"{Runs[i].Correct}/57"),
        });
        yield return fig;
    }
}
