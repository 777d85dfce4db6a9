namespace ConvNet.Demo.Teaching;

/// <summary>Lesson 6: dL/dw of a 2×2 Valid convolution on a 3×3 input, by hand, by Conv2D.Backward and by a central finite difference.</summary>
internal static class BackpropLesson
{
    public static readonly int[][] X = [[1, 2, 0], [3, 1, 2], [0, 1, 4]];
    public static readonly int[][] W = [[1, -1], [2, 0]];
    public const int Bias = 0;
    /// <summary>The upstream gradient dL/dy (L = Σ y·g).</summary>
    public static readonly int[][] G = [[1, 2], [-1, 3]];
    public const double H = 1e-3;

    /// <summary>y = conv(x, w) + b (Valid, stride 1) in double.</summary>
    public static double[,] Forward(double[,] w, double b)
    {
        var y = new double[2, 2];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
            {
                double s = b;
                for (int u = 0; u < 2; u++)
                    for (int v = 0; v < 2; v++) s += X[i + u][j + v] * w[u, v];
                y[i, j] = s;
            }
        return y;
    }

    /// <summary>L(w) = Σ y·g in double.</summary>
    public static double Loss(double[,] w)
    {
        var y = Forward(w, Bias);
        double l = 0;
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++) l += y[i, j] * G[i][j];
        return l;
    }

    public static double[,] WeightsAsDouble()
    {
        var w = new double[2, 2];
        for (int u = 0; u < 2; u++)
            for (int v = 0; v < 2; v++) w[u, v] = W[u][v];
        return w;
    }

    /// <summary>Central difference (L(w + h·e) − L(w − h·e)) / 2h for weight (u, v).</summary>
    public static double FiniteDifference(int u, int v)
    {
        var plus = WeightsAsDouble();
        var minus = WeightsAsDouble();
        plus[u, v] += H;
        minus[u, v] -= H;
        return (Loss(plus) - Loss(minus)) / (2 * H);
    }

    public static void Write(Page p)
    {
        var x = X.SelectMany(r => r.Select(v => (float)v)).ToArray();
        var conv = Lab.Conv(1, (2, 2), (1, 1), Padding.Valid, (3, 3, 1), W.SelectMany(r => r.Select(v => (float)v)).ToArray(), [Bias]);
        var y = Lab.Run(conv, x, training: true);
        var g = new Tensor(G.SelectMany(r => r.Select(v => (float)v)).ToArray(), 1, 2, 2, 1);
        var dx = conv.Backward(g).ToArray();
        var dw = conv.Kernel!.Grad.ToArray();
        var db = conv.Bias!.Grad.ToArray();
        var yd = Forward(WeightsAsDouble(), Bias);

        p.Line("Forward: y[i,j] = Σ_u Σ_v x[i+u, j+v] · w[u,v] + b   (3×3 input, 2×2 kernel, Valid → 2×2)");
        p.Line("Loss:    L = Σ_ij y[i,j] · g[i,j], so the upstream gradient dL/dy is exactly g.");
        p.Line();
        p.Line("    x (3×3)         w (2×2)      b        g = dL/dy (2×2)");
        for (int r = 0; r < 3; r++)
        {
            string xs = string.Join(" ", X[r].Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(2)));
            string ws = r < 2 ? string.Join(" ", W[r].Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(2))) : "";
            string bs = r == 0 ? Bias.ToString(System.Globalization.CultureInfo.InvariantCulture) : "";
            string gs = r < 2 ? string.Join(" ", G[r].Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(2))) : "";
            p.Line($"    {xs,-15} {ws,-12} {bs,-8} {gs}".TrimEnd());
        }
        p.Line();
        p.Line("Forward values (library Conv2D):");
        p.Line();
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
            {
                var terms = new List<string>();
                for (int u = 0; u < 2; u++)
                    for (int v = 0; v < 2; v++) terms.Add(Inv.S($"{X[i + u][j + v]}·{Page.Factor(W[u][v])}"));
                p.Line($"    y[{i},{j}] = {string.Join(" + ", terms)} + {Bias} = {yd[i, j]}   library {Page.Num(y[i * 2 + j])}");
            }
        double loss = Loss(WeightsAsDouble());
        p.Line($"    L = {string.Join(" + ", Enumerable.Range(0, 4).Select(k => Inv.S($"{yd[k / 2, k % 2]}·{Page.Factor(G[k / 2][k % 2])}")))} = {loss}");
        p.Line();
        p.Line("Weight gradient: w[u,v] multiplies x[i+u, j+v] in every output y[i,j], so");
        p.Line("    dL/dw[u,v] = Σ_ij g[i,j] · x[i+u, j+v]   (a Valid correlation of x with g)");
        p.Line();
        var terms00 = new List<string>();
        int sum00 = 0;
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
            {
                terms00.Add(Inv.S($"x[{i},{j}]·g[{i},{j}]"));
                sum00 += X[i][j] * G[i][j];
            }
        p.Line($"    dL/dw[0,0] = {string.Join(" + ", terms00)}");
        p.Line($"               = {string.Join(" + ", Enumerable.Range(0, 4).Select(k => Inv.S($"{X[k / 2][k % 2]}·{Page.Factor(G[k / 2][k % 2])}")))}");
        p.Line($"               = {Page.SumOf(Enumerable.Range(0, 4).Select(k => X[k / 2][k % 2] * G[k / 2][k % 2]))} = {sum00}");
        p.Line();
        p.Line("All four weights: by hand, Conv2D.Backward (Kernel.Grad), central difference in double");
        p.Line(Inv.S($"(L(w + h) - L(w - h)) / 2h with h = {H}:"));
        p.Line();
        p.Line("    weight   by hand   Kernel.Grad   finite difference");
        for (int u = 0; u < 2; u++)
            for (int v = 0; v < 2; v++)
            {
                int hand = 0;
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++) hand += X[i + u][j + v] * G[i][j];
                string name = Inv.S($"w[{u},{v}]");
                p.Line($"    {name}   {hand,7}   {Page.Num(dw[u * 2 + v]),11}   {Page.Num(FiniteDifference(u, v), 6),17}");
            }
        p.Line();
        int gsum = G.Sum(r => r.Sum());
        p.Line($"Bias gradient: dL/db = Σ g = {Page.SumOf(G.SelectMany(r => r))} = {gsum}   library Bias.Grad {Page.Num(db[0])}");
        p.Line();
        p.Line("Input gradient: dL/dx[a,b] = Σ_ij g[i,j] · w[a-i, b-j]; each input pixel collects g from every");
        p.Line("window it was in. By hand vs library:");
        p.Line();
        var hx = new int[3, 3];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                for (int u = 0; u < 2; u++)
                    for (int v = 0; v < 2; v++) hx[i + u, j + v] += G[i][j] * W[u][v];
        for (int r = 0; r < 3; r++)
        {
            string hand = string.Join(" ", Enumerable.Range(0, 3).Select(c => hx[r, c].ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(3)));
            string lib = string.Join(" ", Enumerable.Range(0, 3).Select(c => Page.Num(dx[r * 3 + c]).PadLeft(3)));
            p.Line($"    {hand}      {lib}");
        }
        p.Line();
        p.Line($"    e.g. dL/dx[1,1] = g[0,0]·w[1,1] + g[0,1]·w[1,0] + g[1,0]·w[0,1] + g[1,1]·w[0,0]");
        p.Line($"                    = {G[0][0]}·{Page.Factor(W[1][1])} + {G[0][1]}·{Page.Factor(W[1][0])} + {Page.Factor(G[1][0])}·{Page.Factor(W[0][1])} + {G[1][1]}·{Page.Factor(W[0][0])} = {hx[1, 1]}");
        p.Line();
        WriteAsCorrelation(p, dx);
        p.Line();
        WriteStrided(p);
    }

    private static double[,] ToGrid(int[][] a)
    {
        var v = new double[a.Length, a[0].Length];
        for (int r = 0; r < a.Length; r++)
            for (int c = 0; c < a[0].Length; c++) v[r, c] = a[r][c];
        return v;
    }

    /// <summary>
    /// Figure 1: for each weight w[u,v], the four input pixels it multiplies (coloured by the g they meet) and its gradient.
    /// Figure 2: the stride-2 input gradient as a transposed convolution, one window shown.
    /// </summary>
    public static IEnumerable<Figure> Figures()
    {
        var fig = new Figure("06-weight-gradients", "Which input pixels each weight touches: dL/dw[u,v] = sum of x·g over them");
        fig.Place(new GridPanel { Title = "x", Cell = 40, Values = ToGrid(X), Colour = _ => Palette.White });
        fig.Place(new GridPanel { Title = "w", Cell = 40, Values = ToGrid(W), Colour = v => Palette.Signed(v, 3) });
        fig.Place(new GridPanel { Title = "g = dL/dy", Cell = 40, Values = ToGrid(G), Colour = v => Palette.Signed(v, 3) });
        fig.NewRow();
        for (int u = 0; u < 2; u++)
            for (int v = 0; v < 2; v++)
            {
                int grad = 0;
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++) grad += X[i + u][j + v] * G[i][j];
                int uu = u, vv = v;
                var panel = new GridPanel
                {
                    Title = Inv.S($"w[{u},{v}]: dL/dw = {grad}"),
                    Cell = 40,
                    Values = ToGrid(X),
                    Fill = (r, c) => r - uu is 0 or 1 && c - vv is 0 or 1 ? Palette.Signed(G[r - uu][c - vv], 3) : Palette.Padding,
                    Label = (r, c) => r - uu is 0 or 1 && c - vv is 0 or 1 ? Inv.S($"{X[r][c]}·{Page.Factor(G[r - uu][c - vv])}") : X[r][c].ToString(System.Globalization.CultureInfo.InvariantCulture),
                };
                panel.Boxes.Add((u, v, 2, 2, Palette.Window));
                fig.Place(panel);
            }
        yield return fig;

        int k = W3.Length;
        var padded = Pad(Dilate(G, Stride - 1), k - 1);
        var dx = StridedLibraryDx();
        var t = new Figure("06-transposed-convolution", "Stride 2: dL/dx = rot180(w) slid over g dilated (1 zero between) and padded (2 zeros)");
        var input = new GridPanel
        {
            Title = "g dilated and padded",
            Cell = 32,
            Values = ToGrid(padded),
            Fill = (r, c) => DilatedCell(r, c, k) switch
            {
                DilatedKind.Entry => Palette.Signed(padded[r][c], 3),
                DilatedKind.Inserted => Palette.White,
                _ => Palette.Padding,
            },
        };
        input.Boxes.Add((2, 2, k, k, Palette.Window));
        t.Place(input);
        t.Place(new GridPanel { Title = "rot180(w)", Cell = 32, Values = ToGrid(Rot180(W3)), Colour = v => Palette.Signed(v, 3) });
        var dxv = new double[StridedInput, StridedInput];
        for (int r = 0; r < StridedInput; r++)
            for (int c = 0; c < StridedInput; c++) dxv[r, c] = dx[r * StridedInput + c];
        var output = new GridPanel { Title = "dL/dx (Conv2D.Backward)", Cell = 32, Values = dxv, Colour = v => Palette.Signed(v, 8) };
        output.Outlines.Add((2, 2, Palette.Window));
        t.Place(output);
        yield return t;
    }

    /// <summary>What a cell of the dilated and padded g holds: an entry of g, an inserted zero, or padding.</summary>
    public enum DilatedKind { Entry, Inserted, Padding }

    /// <summary>Classifies cell (r, c) of <c>Pad(Dilate(G, Stride - 1), k - 1)</c>.</summary>
    public static DilatedKind DilatedCell(int r, int c, int k)
    {
        int span = Stride * (G.Length - 1);
        int dr = r - (k - 1), dc = c - (k - 1);
        if (dr < 0 || dc < 0 || dr > span || dc > span) return DilatedKind.Padding;
        return dr % Stride == 0 && dc % Stride == 0 ? DilatedKind.Entry : DilatedKind.Inserted;
    }

    /// <summary>The kernel turned by 180°: r[u][v] = w[k-1-u][k-1-v].</summary>
    public static int[][] Rot180(int[][] w) =>
        Enumerable.Range(0, w.Length).Select(u => Enumerable.Range(0, w[0].Length).Select(v => w[w.Length - 1 - u][w[0].Length - 1 - v]).ToArray()).ToArray();

    /// <summary>g with <paramref name="zeros"/> zeros between neighbouring entries (a stride-(zeros+1) dilation).</summary>
    public static int[][] Dilate(int[][] g, int zeros)
    {
        int n = g.Length, m = g[0].Length, s = zeros + 1;
        var d = Enumerable.Range(0, (n - 1) * s + 1).Select(_ => new int[(m - 1) * s + 1]).ToArray();
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++) d[i * s][j * s] = g[i][j];
        return d;
    }

    /// <summary>a with <paramref name="p"/> zeros on every side.</summary>
    public static int[][] Pad(int[][] a, int p) =>
        Enumerable.Range(-p, a.Length + 2 * p).Select(r => Enumerable.Range(-p, a[0].Length + 2 * p)
            .Select(c => r >= 0 && r < a.Length && c >= 0 && c < a[0].Length ? a[r][c] : 0).ToArray()).ToArray();

    /// <summary>A Valid, stride-1 cross-correlation of <paramref name="x"/> with <paramref name="w"/>, run by the library's Conv2D.</summary>
    public static float[] CorrelateValid(int[][] x, int[][] w)
    {
        int h = x.Length, wd = x[0].Length, k = w.Length;
        var conv = Lab.Conv(1, (k, k), (1, 1), Padding.Valid, (h, wd, 1), w.SelectMany(r => r.Select(v => (float)v)).ToArray(), [0]);
        return Lab.Run(conv, x.SelectMany(r => r.Select(v => (float)v)).ToArray());
    }

    /// <summary>The stride-2 example: a 3×3 kernel on a 5×5 input, Valid → 2×2.</summary>
    public static readonly int[][] W3 = [[1, 2, 0], [0, -1, 1], [2, 0, 1]];
    public const int StridedInput = 5, Stride = 2;

    /// <summary>dL/dx of Conv2D(1, 3, strides=2, valid) on 5×5 for upstream gradient G, from the library's backward pass.</summary>
    public static float[] StridedLibraryDx()
    {
        var conv = Lab.Conv(1, (3, 3), (Stride, Stride), Padding.Valid, (StridedInput, StridedInput, 1), W3.SelectMany(r => r.Select(v => (float)v)).ToArray(), [0]);
        Lab.Run(conv, new float[StridedInput * StridedInput], training: true);
        return conv.Backward(new Tensor(G.SelectMany(r => r.Select(v => (float)v)).ToArray(), 1, 2, 2, 1)).ToArray();
    }

    private static void SideBySide(Page p, params (string Title, int[][] A)[] blocks)
    {
        var cols = blocks.Select(b =>
        {
            var lines = b.A.Select(r => string.Join(" ", r.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(2)))).ToList();
            int width = Math.Max(b.Title.Length, lines.Max(l => l.Length));
            return (Lines: lines.Prepend(b.Title).Select(l => l.PadRight(width)).ToList(), Width: width);
        }).ToList();
        int rows = cols.Max(c => c.Lines.Count);
        for (int r = 0; r < rows; r++)
            p.Line(("    " + string.Join("     ", cols.Select(c => r < c.Lines.Count ? c.Lines[r] : new string(' ', c.Width)))).TrimEnd());
    }

    private static void WriteAsCorrelation(Page p, float[] dx)
    {
        var rot = Rot180(W);
        var padded = Pad(G, W.Length - 1);
        var y = CorrelateValid(padded, rot);
        p.Line("The same numbers as one Valid cross-correlation, the operation Conv2D computes (lesson 2):");
        p.Line("pad g with k - 1 = 1 zero on every side and slide the kernel turned by 180° over it.");
        p.Line("(Mathematicians' convolution flips the kernel itself, so they call this a \"full convolution");
        p.Line("of g with w\"; this page keeps lesson 2's cross-correlation and shows the flip.)");
        p.Line();
        SideBySide(p, ("g padded (4×4)", padded), ("rot180(w)", rot));
        p.Line();
        p.Line("    Conv2D(1, 2, valid) with kernel rot180(w) on padded g, and dL/dx from Conv2D.Backward:");
        p.Line();
        for (int r = 0; r < 3; r++)
            p.Line($"    {string.Join(" ", Enumerable.Range(0, 3).Select(c => Page.Num(y[r * 3 + c]).PadLeft(3)))}      {string.Join(" ", Enumerable.Range(0, 3).Select(c => Page.Num(dx[r * 3 + c]).PadLeft(3)))}");
        p.Line();
        p.Line($"    equal: {(y.SequenceEqual(dx) ? "yes" : "no")}");
    }

    private static void WriteStrided(Page p)
    {
        int k = W3.Length, o = (StridedInput - k) / Stride + 1;
        var rot = Rot180(W3);
        var dilated = Dilate(G, Stride - 1);
        var padded = Pad(dilated, k - 1);
        var y = CorrelateValid(padded, rot);
        var lib = StridedLibraryDx();
        p.Line($"With a stride the windows skip positions. Conv2D(1, 3, strides={Stride}, valid) on a {StridedInput}×{StridedInput} input gives");
        p.Line($"floor(({StridedInput} - {k})/{Stride}) + 1 = {o}, so g is again {o}×{o}. Output (i, j) reads input rows {Stride}i … {Stride}i + {k - 1}: in the");
        p.Line($"gradient, g[i,j] must land {Stride} pixels from its neighbours. So insert s - 1 = {Stride - 1} zero between the");
        p.Line($"entries of g (dilate it), pad with k - 1 = {k - 1} zeros, and cross-correlate with rot180(w). That is a");
        p.Line("transposed convolution (Dumoulin & Visin, relationship 12: o' = s(i' - 1) + k");
        p.Line($"= {Stride}·({o} - 1) + {k} = {Stride * (o - 1) + k}), the layer that other libraries call Conv2DTranspose.");
        p.Line();
        SideBySide(p, ("w (3×3)", W3), ("rot180(w)", rot), ("g (2×2)", G), ("g dilated (3×3)", dilated));
        p.Line();
        SideBySide(p, ("g dilated and padded (7×7)", padded));
        p.Line();
        p.Line("    Conv2D(1, 3, valid) with rot180(w) on it      Conv2D(1, 3, strides=2).Backward (dL/dx)");
        p.Line();
        int n = StridedInput;
        for (int r = 0; r < n; r++)
            p.Line($"    {string.Join(" ", Enumerable.Range(0, n).Select(c => Page.Num(y[r * n + c]).PadLeft(3)))}                         {string.Join(" ", Enumerable.Range(0, n).Select(c => Page.Num(lib[r * n + c]).PadLeft(3)))}");
        p.Line();
        p.Line($"    equal: {(y.SequenceEqual(lib) ? "yes" : "no")}. Row 2 and column 2 are read by two windows each, so x[2,2] is in all four:");
        p.Line($"    e.g. dL/dx[2,2] = g[0,0]·w[2,2] + g[0,1]·w[2,0] + g[1,0]·w[0,2] + g[1,1]·w[0,0]");
        p.Line($"                    = {G[0][0]}·{Page.Factor(W3[2][2])} + {G[0][1]}·{Page.Factor(W3[2][0])} + {Page.Factor(G[1][0])}·{Page.Factor(W3[0][2])} + {G[1][1]}·{Page.Factor(W3[0][0])} = {G[0][0] * W3[2][2] + G[0][1] * W3[2][0] + G[1][0] * W3[0][2] + G[1][1] * W3[0][0]}");
    }
}
