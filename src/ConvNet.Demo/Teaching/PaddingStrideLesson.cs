namespace ConvNet.Demo.Teaching;

/// <summary>Lesson 3: Valid/Same output sizes, zero padding, strides and window coverage, checked against Conv2D.</summary>
internal static class PaddingStrideLesson
{
    /// <summary>(input, kernel, stride) rows of the size table.</summary>
    public static readonly (int In, int K, int S)[] Cases =
    [
        (5, 1, 1), (5, 3, 1), (4, 3, 1), (4, 2, 1), (6, 3, 2), (7, 3, 2), (10, 3, 3), (6, 3, 3), (8, 5, 3), (227, 11, 4),
    ];

    /// <summary>d2l.ai's output size with the total padding p_total: floor((n - k + p_total + s) / s).</summary>
    public static int D2lOut(int i, int k, int s, int padTotal) => (i - k + padTotal + s) / s;

    /// <summary>Dumoulin &amp; Visin's relationship 6 with p zeros on each side: floor((i + 2p - k) / s) + 1.</summary>
    public static int Relationship6(int i, int k, int s, int p) => (i + 2 * p - k) / s + 1;

    public static int ValidOut(int i, int k, int s) => (i - k) / s + 1;
    public static int SameOut(int i, int s) => (i + s - 1) / s;
    public static int SamePadTotal(int i, int k, int s) => Math.Max((SameOut(i, s) - 1) * s + k - i, 0);

    /// <summary>How many windows of a Conv2D cover each input pixel, read from the library's backward pass
    /// (kernel of ones, upstream gradient of ones: dL/dx[i,j] counts the windows that contain (i, j)).</summary>
    public static float[] Coverage(int h, int w, (int H, int W) k, (int H, int W) s, Padding padding)
    {
        var conv = Lab.Conv(1, k, s, padding, (h, w, 1), Enumerable.Repeat(1f, k.H * k.W).ToArray(), [0]);
        Lab.Run(conv, new float[h * w], training: true);
        var o = conv.OutputShape!;
        var dy = new Tensor(Enumerable.Repeat(1f, o[0] * o[1]).ToArray(), 1, o[0], o[1], 1);
        return conv.Backward(dy).ToArray();
    }

    /// <summary>The relationship-6 example (i 5, k 3, s 2, p 1) drawn in the figures.</summary>
    public const int Rel6In = 5, Rel6Out = 3;

    /// <summary>Conv2D(1, 3, strides=2, same) with weights 1 on the 5×5 input 1..25: the 3×3 window sums.</summary>
    public static float[] Relationship6Output()
    {
        var conv = Lab.Conv(1, (3, 3), (2, 2), Padding.Same, (Rel6In, Rel6In, 1), Enumerable.Repeat(1f, 9).ToArray(), [0]);
        return Lab.Run(conv, Enumerable.Range(1, Rel6In * Rel6In).Select(v => (float)v).ToArray());
    }

    /// <summary>One frame per output pixel: the padded input with the window outlined, and the output with that pixel outlined.</summary>
    public static IReadOnlyList<Figure> Relationship6Frames()
    {
        var y = Relationship6Output();
        var frames = new List<Figure>();
        for (int i = 0; i < Rel6Out; i++)
            for (int j = 0; j < Rel6Out; j++)
            {
                var f = new Figure("03-padding-strides-frame", "i 5, k 3, s 2, p 1: o = 3");
                AddRelationship6Pair(f, y, i, j);
                frames.Add(f);
            }
        return frames;
    }

    private static void AddRelationship6Pair(Figure f, float[] y, int i, int j)
    {
        int n = Rel6In + 2;
        var padded = new double[n, n];
        for (int r = 0; r < Rel6In; r++)
            for (int c = 0; c < Rel6In; c++) padded[r + 1, c + 1] = r * Rel6In + c + 1;
        var input = new GridPanel
        {
            Title = Inv.S($"window ({i},{j})"),
            Cell = 24,
            Values = padded,
            Fill = (r, c) => r == 0 || c == 0 || r == n - 1 || c == n - 1 ? Palette.Padding : Palette.White,
        };
        input.Boxes.Add((2 * i, 2 * j, 3, 3, Palette.Window));
        f.Place(input);
        var outVals = new double[Rel6Out, Rel6Out];
        for (int r = 0; r < Rel6Out; r++)
            for (int c = 0; c < Rel6Out; c++) outVals[r, c] = y[r * Rel6Out + c];
        var output = new GridPanel { Title = "output", Cell = 32, Values = outVals, Colour = v => Palette.Heat(v, 9 * Rel6In * Rel6In) };
        output.Outlines.Add((i, j, Palette.Window));
        f.Place(output);
    }

    /// <summary>The figures: the relationship-6 frames (PNG grid and animated GIF) and the window coverage heat maps.</summary>
    public static IEnumerable<IFigureFile> Figures()
    {
        var y = Relationship6Output();
        var grid = new Figure("03-padding-strides", "Same padding, stride 2: i 5, k 3, s 2, p 1 (gray = zero padding)");
        for (int i = 0; i < Rel6Out; i++)
        {
            for (int j = 0; j < Rel6Out; j++) AddRelationship6Pair(grid, y, i, j);
            grid.NewRow();
        }
        yield return grid;
        yield return new Animation("03-padding-strides", Relationship6Frames(), 80);

        var cov = new Figure("03-coverage", "How many windows read each input pixel (k 3, valid)");
        foreach (var (title, h, w, s) in CoverageCases)
        {
            var counts = Coverage(h, w, (3, 3), s, Padding.Valid);
            var v = new double[h, w];
            for (int r = 0; r < h; r++)
                for (int c = 0; c < w; c++) v[r, c] = counts[r * w + c];
            cov.Place(new GridPanel { Title = title, Cell = 28, Values = v, Colour = x => Palette.Heat(x, 9) });
        }
        yield return cov;
    }

    /// <summary>The coverage maps of the lesson: title, input height and width, strides.</summary>
    public static readonly (string Title, int H, int W, (int H, int W) S)[] CoverageCases =
    [
        ("7×10, strides (2, 3)", 7, 10, (2, 3)),
        ("6×6, stride 3", 6, 6, (3, 3)),
        ("6×6, stride 1", 6, 6, (1, 1)),
    ];

    public static void Write(Page p)
    {
        p.Line("Output size of one spatial axis, as TensorFlow/Keras compute it (in = input, k = kernel,");
        p.Line("s = stride):");
        p.Line();
        p.Line("    Valid:  out = floor((in - k) / s) + 1                  no padding");
        p.Line("    Same:   out = ceil(in / s)");
        p.Line("            padTotal  = max((out - 1)·s + k - in, 0)");
        p.Line("            padBefore = floor(padTotal / 2), padAfter = padTotal - padBefore (the extra zero goes after)");
        p.Line();
        p.Line("     in   k   s | Valid: floor((in-k)/s)+1 | Same: ceil(in/s)  padTotal  before  after | Conv2D Valid / Same");
        foreach (var (i, k, s) in Cases)
        {
            int v = ValidOut(i, k, s), so = SameOut(i, s), pt = SamePadTotal(i, k, s);
            var lv = new Conv2D(1, (k, k), (s, s), Padding.Valid).ComputeOutputShape([i, i, 1]);
            var ls = new Conv2D(1, (k, k), (s, s), Padding.Same).ComputeOutputShape([i, i, 1]);
            string valid = Inv.S($"floor({i - k}/{s})+1 = {v}");
            string sameText = Inv.S($"ceil({i}/{s}) = {so}");
            p.Line($"    {i,3} {k,3} {s,3} | {valid,24} | {sameText,15} {pt,9} {pt / 2,7} {pt - pt / 2,6} | {lv[0],6} / {ls[0]}");
        }
        p.Line();
        p.Line($"Valid loses k - 1 pixels per axis at stride 1, so a 1×1 kernel keeps the size ({5} → {ValidOut(5, 1, 1)}); every");
        p.Line("larger kernel shrinks the image.");
        p.Line();
        p.Line("The same sizes in the notation of Dumoulin & Visin, \"A guide to convolution arithmetic for");
        p.Line("deep learning\" (2016): i input, k kernel, s stride, p zeros on each side:");
        p.Line();
        (string When, string Formula, string Example)[] relations =
        [
            ("1  s = 1, p = 0", "o = (i - k) + 1", Inv.S($"i=5, k=3:      o = {(5 - 3) + 1}")),
            ("2  s = 1, padding p", "o = (i - k) + 2p + 1", Inv.S($"i=5, k=4, p=2: o = {(5 - 4) + 2 * 2 + 1}")),
            ("3  s = 1, half: k odd, p = floor(k/2)", "o = i", Inv.S($"i=4, k=3, p=1: o = {(4 - 3) + 2 * 1 + 1}")),
            ("4  s = 1, full: p = k - 1", "o = i + (k - 1)", Inv.S($"i=5, k=3, p=2: o = {5 + (3 - 1)}")),
            ("5  p = 0, stride s", "o = floor((i - k)/s) + 1", Inv.S($"i=7, k=3, s=2: o = {(7 - 3) / 2 + 1}")),
            ("6  padding p, stride s", "o = floor((i + 2p - k)/s) + 1", Inv.S($"i=5, k=3, s=2, p=1: o = {(5 + 2 - 3) / 2 + 1}")),
        ];
        foreach (var (when, formula, example) in relations)
            p.Line($"    Relationship {when,-38} {formula,-30} {example}");
        p.Line();
        p.Line("These are the first six of the guide's 15 relationships (7 is pooling, 8-14 transposed");
        p.Line("convolution, 15 dilated convolution).");
        p.Line();
        p.Line("Keras \"valid\" is relationship 5 (p = 0). Keras \"same\" with an even padTotal is relationship 6");
        p.Line("with p = padTotal/2; it is relationship 3 (o = i) only when s = 1 and k is odd:");
        p.Line($"    in=7, k=3, s=2: padTotal = {SamePadTotal(7, 3, 2)}, p = 1, o = floor((7 + 2 - 3)/2) + 1 = {Relationship6(7, 3, 2, 1)} = ceil(7/2), not i = 7");
        p.Line("With an odd padTotal TensorFlow puts the extra zero after (bottom/right). At s > 1 a symmetric");
        p.Line("p = ceil(padTotal/2) gives the same size; what differs is where the windows sit:");
        p.Line($"    in=6, k=3, s=2: padTotal = {SamePadTotal(6, 3, 2)} (before 0, after 1); p = 1: o = floor((6 + 2 - 3)/2) + 1 = {Relationship6(6, 3, 2, 1)} = ceil(6/2)");
        p.Line($"    first input row of each window: TensorFlow {string.Join(", ", Enumerable.Range(0, SameOut(6, 2)).Select(j => j * 2 - SamePadTotal(6, 3, 2) / 2))}; symmetric p = 1: {string.Join(", ", Enumerable.Range(0, Relationship6(6, 3, 2, 1)).Select(j => j * 2 - 1))}");
        p.Line("At s = 1 an odd padTotal needs an even k, and then no symmetric p gives the size:");
        p.Line($"    in=4, k=2, s=1: padTotal = {SamePadTotal(4, 2, 1)}; p = 0 gives {Relationship6(4, 2, 1, 0)}, p = 1 gives {Relationship6(4, 2, 1, 1)}, Same gives {SameOut(4, 1)}");
        p.Line("d2l.ai's formula with the total padding p_total = padTotal fits every case:");
        p.Line();
        p.Line("    o = floor((in - k + p_total + s) / s)");
        p.Line();
        p.Line("     in   k   s  padTotal | d2l floor((in-k+pt+s)/s) | rel. 6, p = ceil(pt/2) | Same ceil(in/s)");
        foreach (var (i, k, s) in Cases)
        {
            int pt = SamePadTotal(i, k, s);
            string d2l = Inv.S($"floor({i - k + pt + s}/{s}) = {D2lOut(i, k, s, pt)}");
            p.Line($"    {i,3} {k,3} {s,3} {pt,9} | {d2l,24} | {Relationship6(i, k, s, (pt + 1) / 2),22} | {SameOut(i, s),14}");
        }
        p.Line();

        // Zero padding drawn.
        const int n = 4;
        var x = Enumerable.Range(1, n * n).Select(v => (float)v).ToArray();
        var same = Lab.Conv(1, (3, 3), (1, 1), Padding.Same, (n, n, 1), Enumerable.Repeat(1f, 9).ToArray(), [0]);
        var ys = Lab.Run(same, x);
        int pad = SamePadTotal(n, 3, 1);
        p.Line($"Zero padding: a 4×4 input for a 3×3 Same convolution gets padTotal = (4-1)·1 + 3 - 4 = {pad}, one zero on");
        p.Line("every side (6×6), so the filter can be centred on the edge pixels:");
        p.Line();
        // Cells are 4 wide; in the input rows the first character of cells 1 and n+1 is the frame.
        string zeros = "    " + string.Concat(Enumerable.Repeat("   0", n + 2));
        string bar = "    " + new string(' ', 4) + "+" + new string('-', 4 * n - 1) + "+";
        p.Line(zeros);
        p.Line(bar);
        for (int r = 0; r < n; r++)
            p.Line("    " + "   0" + string.Concat(Enumerable.Range(0, n).Select(c => (c == 0 ? "|" : " ") + Page.Num(x[r * n + c]).PadLeft(3))) + "|  0");
        p.Line(bar);
        p.Line(zeros);
        p.Line();
        p.Line($"Conv2D(1, 3, same) with all nine weights 1 sums each 3×3 neighbourhood; output {Page.Shape(same.OutputShape!)}:");
        p.Line();
        p.Grid(n, n, (r, c) => Page.Num(ys[r * n + c]));
        p.Line();
        p.Line($"    corner (0,0): 0+0+0 + 0+1+2 + 0+5+6 = {1 + 2 + 5 + 6}   library {Page.Num(ys[0])}");
        p.Line($"    edge   (0,1): 0+0+0 + 1+2+3 + 5+6+7 = {1 + 2 + 3 + 5 + 6 + 7}   library {Page.Num(ys[1])}");
        p.Line($"    inside (1,1): 1+2+3 + 5+6+7 + 9+10+11 = {1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11}   library {Page.Num(ys[n + 1])}");
        p.Line();

        // Different strides per axis.
        var strided = new Conv2D(1, (3, 3), (2, 3), Padding.Valid) { Threads = 1 };
        strided.Build([7, 10, 1]);
        var stridedSame = new Conv2D(1, (3, 3), (2, 3), Padding.Same);
        stridedSame.Build([7, 10, 1]);
        p.Line("Stride 2 vertically and 3 horizontally: Conv2D(1, 3, strides=(2, 3)) on a 7×10×1 input:");
        p.Line();
        p.Line($"    valid: rows floor((7-3)/2)+1 = {ValidOut(7, 3, 2)}, columns floor((10-3)/3)+1 = {ValidOut(10, 3, 3)}  library output {Page.Shape(strided.OutputShape!)}");
        p.Line($"    same:  rows ceil(7/2) = {SameOut(7, 2)}, columns ceil(10/3) = {SameOut(10, 3)}              library output {Page.Shape(stridedSame.OutputShape!)}");
        p.Line();
        var rel6 = Relationship6Output();
        p.Line($"Relationship 6 run by the library: Conv2D(1, 3, strides=2, same) on the {Rel6In}×{Rel6In} input 1 … {Rel6In * Rel6In},");
        p.Line($"all nine weights 1. padTotal = {SamePadTotal(Rel6In, 3, 2)}, so p = 1 zero per side; output (None, {Rel6Out}, {Rel6Out}, 1), window (i, j)");
        p.Line("covers input rows 2i - 1 … 2i + 1 and columns 2j - 1 … 2j + 1 (row and column -1 are zeros):");
        p.Line();
        p.Grid(Rel6Out, Rel6Out, (r, c) => Page.Num(rel6[r * Rel6Out + c]));
        p.Line();

        var cov = Coverage(7, 10, (3, 3), (2, 3), Padding.Valid);
        p.Line("How many valid windows cover each input pixel (from the library's backward pass):");
        p.Line();
        p.Grid(7, 10, (r, c) => Page.Num(cov[r * 10 + c]));
        p.Line();
        p.Line("Rows 2 and 4 are read twice (stride 2 < kernel 3); column 9 is never read (10 - 3 = 7 is not");
        p.Line("a multiple of 3), so valid padding silently drops it.");
        p.Line();

        var cov3 = Coverage(6, 6, (3, 3), (3, 3), Padding.Valid);
        var cov1 = Coverage(6, 6, (3, 3), (1, 1), Padding.Valid);
        p.Line($"A 3×3 filter with stride 3 on 6×6 → {ValidOut(6, 3, 3)}×{ValidOut(6, 3, 3)} windows that tile the input: each pixel is used exactly once:");
        p.Line();
        p.Grid(6, 6, (r, c) => Page.Num(cov3[r * 6 + c]));
        p.Line();
        p.Line($"    all ones: {(cov3.All(v => v == 1) ? "yes" : "no")}");
        p.Line();
        p.Line($"The same filter with stride 1 (→ {ValidOut(6, 3, 1)}×{ValidOut(6, 3, 1)}) reuses the middle pixels up to 9 times:");
        p.Line();
        p.Grid(6, 6, (r, c) => Page.Num(cov1[r * 6 + c]));
    }
}
