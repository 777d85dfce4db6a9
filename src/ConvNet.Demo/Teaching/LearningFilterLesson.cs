namespace ConvNet.Demo.Teaching;

/// <summary>
/// Lesson 9: learning a filter from data (d2l.ai's "learning a kernel"). The target is the output of a known edge
/// filter; a Conv2D without bias starts from zero weights and plain gradient descent on the squared error, with the
/// gradient from the library's backward pass, recovers the filter.
/// </summary>
internal static class LearningFilterLesson
{
    /// <summary>d2l's image: 6×8, ones with a band of zeros in columns 2–5.</summary>
    public static float[] EdgeImage() =>
        Enumerable.Range(0, 6 * 8).Select(i => i % 8 is >= 2 and <= 5 ? 0f : 1f).ToArray();

    /// <summary>A 8×8 image with varied values 0, 0.25, …, 1 for the 3×3 example.</summary>
    public static float[] TextureImage() =>
        Enumerable.Range(0, 8 * 8).Select(i => ((i / 8 * 7 + i % 8 * 3 + (i / 8) * (i % 8)) % 5) / 4f).ToArray();

    /// <summary>d2l's kernel [1, -1] and a 3×3 vertical-edge (Prewitt) kernel: the filters to recover.</summary>
    public static readonly float[][] TrueKernels = [[1, -1], [1, 0, -1, 1, 0, -1, 1, 0, -1]];

    /// <summary>The runs of the lesson: name, image, image size, kernel size, true kernel, learning rate, steps.</summary>
    public static readonly (string Name, Func<float[]> Image, int H, int W, int KH, int KW, int Kernel, float Lr, int Steps)[] Runs =
    [
        ("1×2 edge kernel on d2l's 6×8 image", EdgeImage, 6, 8, 1, 2, 0, 0.03f, 10),
        ("3×3 vertical-edge kernel on an 8×8 texture", TextureImage, 8, 8, 3, 3, 1, 0.008f, 100),
    ];

    /// <summary>One gradient-descent trajectory: the loss before each step and the kernel after each step.</summary>
    public sealed record Trajectory(float[] Target, float[] Loss, float[][] Kernels, float[] FirstGradient);

    /// <summary>
    /// Runs plain gradient descent: y = conv(x, w), L = Σ (y − target)², dL/dy = 2(y − target) into Conv2D.Backward,
    /// w ← w − lr·Kernel.Grad.
    /// </summary>
    public static Trajectory Learn(int run, float? lr = null, int? steps = null)
    {
        var (_, image, h, w, kh, kw, k, defaultLr, defaultSteps) = Runs[run];
        var x = image();
        var truth = Lab.Conv(1, (kh, kw), (1, 1), Padding.Valid, (h, w, 1), TrueKernels[k], [0]);
        var target = Lab.Run(truth, x);
        var conv = new Conv2D(1, (kh, kw), (1, 1), Padding.Valid, useBias: false) { Threads = 1 };
        conv.Build([h, w, 1]);
        conv.Kernel!.Value.Span.Clear();
        var o = conv.OutputShape!;
        float rate = lr ?? defaultLr;
        int n = steps ?? defaultSteps;
        var losses = new float[n + 1];
        var kernels = new float[n + 1][];
        float[] first = [];
        kernels[0] = conv.Kernel.Value.ToArray();
        for (int step = 0; step <= n; step++)
        {
            var y = conv.Forward(new Tensor((float[])x.Clone(), 1, h, w, 1), training: true).ToArray();
            var dy = new float[y.Length];
            float loss = 0;
            for (int i = 0; i < y.Length; i++)
            {
                float d = y[i] - target[i];
                loss += d * d;
                dy[i] = 2 * d;
            }
            losses[step] = loss;
            if (step == n) break;
            conv.Kernel.Grad.Span.Clear();
            conv.Backward(new Tensor(dy, 1, o[0], o[1], 1));
            var grad = conv.Kernel.Grad.Span;
            if (step == 0) first = grad.ToArray();
            var wv = conv.Kernel.Value.Span;
            for (int i = 0; i < wv.Length; i++) wv[i] -= rate * grad[i];
            kernels[step + 1] = conv.Kernel.Value.ToArray();
        }
        return new Trajectory(target, losses, kernels, first);
    }

    /// <summary>max_i |a[i] − b[i]|.</summary>
    public static float MaxError(float[] a, float[] b) => a.Zip(b, (u, v) => MathF.Abs(u - v)).Max();

    private static string Vec(float[] v) => "[" + string.Join(", ", v.Select(f => f.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture))) + "]";

    public static void Write(Page p)
    {
        p.Line("The target y is the output of a known filter; a Conv2D(1, kernel, use_bias=False) starts from");
        p.Line("zero weights and learns by plain gradient descent on L = Σ (conv(x, w) - y)². The gradient");
        p.Line("is the library's: dL/dy = 2·(conv(x, w) - y) goes into Conv2D.Backward, which fills");
        p.Line("Kernel.Grad (lesson 6), and each step is w ← w - lr·Kernel.Grad.");
        for (int run = 0; run < Runs.Length; run++)
        {
            var (name, image, h, w, kh, kw, k, lr, steps) = Runs[run];
            var t = Learn(run);
            var x = image();
            p.Line();
            p.Line($"{run + 1}. {name}, lr {lr.ToString(System.Globalization.CultureInfo.InvariantCulture)}:");
            p.Line();
            if (run == 0)
            {
                p.Line("    x:");
                p.Grid(h, w, (r, c) => Page.Num(x[r * w + c]), "      ");
                p.Line("    y = x correlated with [1, -1] (1 where x falls from 1 to 0, -1 where it rises):");
                p.Grid(h, w - 1, (r, c) => Page.Num(t.Target[r * (w - 1) + c]), "      ");
                p.Line();
            }
            if (run == 0)
            {
                p.Line($"    first gradient (w = 0): {Vec(t.FirstGradient)}");
                p.Line();
                p.Line("    step      loss   kernel");
                for (int s = 0; s <= steps; s++) p.Line($"    {s,4} {t.Loss[s],9:0.0000}   {Vec(t.Kernels[s])}");
            }
            else
            {
                p.Line("    x (values 0, 0.25, 0.5, 0.75, 1):");
                p.Grid(h, w, (r, c) => Page.Num(x[r * w + c]), "      ");
                p.Line();
                p.Line("    step       loss   largest |w - true|");
                for (int s = 0; s <= steps; s += steps / 10)
                    p.Line($"    {s,4} {t.Loss[s],10:0.0000}   {MaxError(t.Kernels[s], TrueKernels[k]),8:0.0000}");
                p.Line();
                p.Line($"    kernel after {steps} steps (true: 1 0 -1 in every row):");
                p.Grid(kh, kw, (r, c) => t.Kernels[steps][r * kw + c].ToString("0.000", System.Globalization.CultureInfo.InvariantCulture), "      ");
            }
        }
        p.Line();
        p.Line("Exercises (answers computed by the same code):");
        foreach (var (q, a) in Exercises()) p.Line($"    {q,-58} {a}");
    }

    /// <summary>Height fraction of a loss on the figures' log scale, 1e-4 (0) to 100 (1).</summary>
    public static double LossScale(double loss) => (Math.Log10(Math.Max(loss, 1e-30)) + 4) / 6;

    /// <summary>The loss falling (log scale) for both runs, and the 3×3 kernel learned beside the true one.</summary>
    public static IEnumerable<Figure> Figures()
    {
        var fig = new Figure("09-learning-a-filter", "Gradient descent recovers the filter: loss per step (log scale 0.0001 to 100)");
        for (int run = 0; run < Runs.Length; run++)
        {
            var t = Learn(run);
            int steps = Runs[run].Steps, every = run == 0 ? 5 : 50;
            fig.Place(new BarChart
            {
                Title = run == 0 ? "1×2 kernel, lr 0.03" : "3×3 kernel, lr 0.008",
                Values = [.. t.Loss.Select(v => (double)v)],
                Scale = LossScale,
                BarWidth = run == 0 ? 14 : 3,
                Label = i => i % every == 0 || i == steps ? i.ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
            });
        }
        fig.NewRow();
        var learned = Learn(1);
        var (_, _, _, _, kh, kw, k, _, n) = Runs[1];
        var lv = new double[kh, kw];
        var tv = new double[kh, kw];
        for (int r = 0; r < kh; r++)
            for (int c = 0; c < kw; c++)
            {
                lv[r, c] = Math.Round(learned.Kernels[n][r * kw + c], 3);
                tv[r, c] = TrueKernels[k][r * kw + c];
            }
        fig.Place(new GridPanel { Title = "true kernel", Cell = 56, Values = tv, Colour = v => Palette.Signed(v, 1) });
        fig.Place(new GridPanel { Title = Inv.S($"learned, step {n}"), Cell = 56, Values = lv, Colour = v => Palette.Signed(v, 1), Label = (r, c) => lv[r, c].ToString("0.000", System.Globalization.CultureInfo.InvariantCulture) });
        yield return fig;
    }

    /// <summary>The page's exercises and answers.</summary>
    public static IEnumerable<(string Question, string Answer)> Exercises()
    {
        var fast = Learn(0, lr: 0.3f);
        yield return ("1. loss after 10 steps with lr 0.3 instead of 0.03", fast.Loss[^1].ToString("0.####E+0", System.Globalization.CultureInfo.InvariantCulture));
        var slow = Learn(0, lr: 0.01f);
        yield return ("2. loss after 10 steps with lr 0.01", Inv.S($"{slow.Loss[^1]:0.0000}"));
        var t = Learn(0);
        int below = Array.FindIndex(t.Loss, l => l < 0.1f);
        yield return ("3. first step with loss < 0.1 (lr 0.03)", below.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var big = Learn(1, lr: 0.01f);
        yield return ("4. 3×3 run, loss after 100 steps with lr 0.01", big.Loss[^1].ToString("0.####E+0", System.Globalization.CultureInfo.InvariantCulture));
    }
}
