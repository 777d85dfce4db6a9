namespace ConvNet.Demo.Teaching;

/// <summary>
/// Lesson 10: backprop completed — the convolution as a matrix C (forward C·x, input gradient Cᵀ·g), backprop through
/// max and average pooling with numbers, and one SGD step that lowers a squared-error loss.
/// </summary>
internal static class BackpropCompletedLesson
{
    /// <summary>The convolution matrix of a Valid, stride-1 kernel w over an h×wd input: row = output pixel, column = input pixel.</summary>
    public static int[,] ConvMatrix(int[][] w, int h, int wd)
    {
        int k = w.Length, oh = h - k + 1, ow = wd - k + 1;
        var c = new int[oh * ow, h * wd];
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
                for (int u = 0; u < k; u++)
                    for (int v = 0; v < k; v++) c[i * ow + j, (i + u) * wd + j + v] = w[u][v];
        return c;
    }

    /// <summary>The upstream gradient for the pooled 3×3 channel of lesson 5.</summary>
    public static readonly int[][] PoolGrad = [[1, 2, 3], [4, 5, 6], [7, 8, 9]];

    /// <summary>Lesson 5's channel 0 (vertical edge, 6×6) and the library's MaxPooling2D / AveragePooling2D input gradients for <see cref="PoolGrad"/>.</summary>
    public static (float[] Map, float[] MaxDx, float[] AvgDx) PoolBackward()
    {
        var (maps, _, _) = PoolingLesson.Run();
        var map = new float[36];
        for (int i = 0; i < 36; i++) map[i] = maps[i * PoolingLesson.Filters];
        var g = PoolGrad.SelectMany(r => r.Select(v => (float)v)).ToArray();
        var max = new MaxPooling2D(2) { Threads = 1 };
        max.Build([6, 6, 1]);
        max.Forward(new Tensor((float[])map.Clone(), 1, 6, 6, 1), training: true);
        var maxDx = max.Backward(new Tensor((float[])g.Clone(), 1, 3, 3, 1)).ToArray();
        var avg = new AveragePooling2D(2) { Threads = 1 };
        avg.Build([6, 6, 1]);
        avg.Forward(new Tensor((float[])map.Clone(), 1, 6, 6, 1), training: true);
        var avgDx = avg.Backward(new Tensor((float[])g.Clone(), 1, 3, 3, 1)).ToArray();
        return (map, maxDx, avgDx);
    }

    /// <summary>The target of the SGD step: y should become this 2×2 map.</summary>
    public static readonly int[][] Target = [[4, 3], [3, 2]];
    public const float Lr = 0.01f;

    /// <summary>L(w) = Σ (conv(x, w) − t)² by the library's forward pass, its gradient by the library's backward pass.</summary>
    public static (float Loss, float[] Grad, float[] Y) LossAndGrad(float[] w)
    {
        var conv = Lab.Conv(1, (2, 2), (1, 1), Padding.Valid, (3, 3, 1), w, [0]);
        var x = BackpropLesson.X.SelectMany(r => r.Select(v => (float)v)).ToArray();
        var y = Lab.Run(conv, x, training: true);
        var t = Target.SelectMany(r => r.Select(v => (float)v)).ToArray();
        float loss = 0;
        var dy = new float[4];
        for (int i = 0; i < 4; i++)
        {
            loss += (y[i] - t[i]) * (y[i] - t[i]);
            dy[i] = 2 * (y[i] - t[i]);
        }
        conv.Backward(new Tensor(dy, 1, 2, 2, 1));
        return (loss, conv.Kernel!.Grad.ToArray(), y);
    }

    public static float[] W0 => BackpropLesson.W.SelectMany(r => r.Select(v => (float)v)).ToArray();

    public static void Write(Page p)
    {
        var x = BackpropLesson.X;
        var w = BackpropLesson.W;
        var g = BackpropLesson.G;
        var c = ConvMatrix(w, 3, 3);
        p.Line("1. The convolution as a matrix. Lesson 6's 2×2 kernel over a 3×3 input touches each output");
        p.Line("pixel's four inputs; write x as a column of 9 numbers (row by row) and y as a column of 4.");
        p.Line("Then y = C·x, where row i of C holds the kernel at the places output i reads:");
        p.Line();
        p.Line("         x00 x01 x02 x10 x11 x12 x20 x21 x22");
        for (int i = 0; i < 4; i++)
            p.Line($"    y{i / 2}{i % 2}  {string.Join(" ", Enumerable.Range(0, 9).Select(j => Page.Num(c[i, j]).PadLeft(3)))}");
        var xv = x.SelectMany(r => r).ToArray();
        var cx = Enumerable.Range(0, 4).Select(i => Enumerable.Range(0, 9).Sum(j => c[i, j] * xv[j])).ToArray();
        var lib = Lab.Run(Lab.Conv(1, (2, 2), (1, 1), Padding.Valid, (3, 3, 1), W0, [0]), xv.Select(v => (float)v).ToArray());
        p.Line();
        p.Line($"    C·x = ({string.Join(", ", cx)})   library Conv2D: ({string.Join(", ", lib.Select(v => Page.Num(v)))})");
        var gv = g.SelectMany(r => r).ToArray();
        var ctg = Enumerable.Range(0, 9).Select(j => Enumerable.Range(0, 4).Sum(i => c[i, j] * gv[i])).ToArray();
        var conv = Lab.Conv(1, (2, 2), (1, 1), Padding.Valid, (3, 3, 1), W0, [0]);
        Lab.Run(conv, xv.Select(v => (float)v).ToArray(), training: true);
        var dx = conv.Backward(new Tensor(gv.Select(v => (float)v).ToArray(), 1, 2, 2, 1)).ToArray();
        p.Line($"    Cᵀ·g = ({string.Join(", ", ctg)})");
        p.Line($"    library dL/dx = ({string.Join(", ", dx.Select(v => Page.Num(v)))})");
        p.Line();
        p.Line("The backward pass multiplies by the transpose: dL/dx = Cᵀ·g. Column j of C lists the weights");
        p.Line("that input j meets, which is why lesson 6 found the rotated kernel there. C has 36 entries,");
        p.Line($"{Enumerable.Range(0, 36).Count(i => c[i / 9, i % 9] != 0)} of them weights; a library never builds it.");
        p.Line();

        var (map, maxDx, avgDx) = PoolBackward();
        p.Line("2. Backprop through pooling. Lesson 5's channel 0 (vertical edge) and MaxPooling2D(2); an");
        p.Line("upstream gradient g for the 3×3 pooled map arrives from the layers above:");
        p.Line();
        p.Line("    channel 0 (6×6)              g (3×3)");
        for (int r = 0; r < 6; r++)
        {
            string left = string.Join(" ", Enumerable.Range(0, 6).Select(q => Page.Num(map[r * 6 + q]).PadLeft(3)));
            string right = r < 3 ? string.Join(" ", PoolGrad[r].Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(2))) : "";
            p.Line($"    {left}      {right}".TrimEnd());
        }
        p.Line();
        p.Line("Max pooling's output is one of the four inputs, so its gradient goes to that input only");
        p.Line("(the first maximum when two tie) and the other three get 0. Library MaxPooling2D.Backward:");
        p.Line();
        p.Grid(6, 6, (r, q) => Page.Num(maxDx[r * 6 + q]));
        p.Line();
        p.Line("Average pooling's output is a quarter of each input, so each gets g/4. AveragePooling2D.Backward:");
        p.Line();
        p.Grid(6, 6, (r, q) => Page.Num(avgDx[r * 6 + q]));
        p.Line();
        p.Line($"    sum of dL/dx: max {Page.Num(maxDx.Sum())}, average {Page.Num(avgDx.Sum())}, sum of g {PoolGrad.Sum(r => r.Sum())}");
        p.Line();

        var w0 = W0;
        var (l0, grad, y0) = LossAndGrad(w0);
        var w1 = w0.Select((v, i) => v - Lr * grad[i]).ToArray();
        var (l1, _, y1) = LossAndGrad(w1);
        float norm2 = grad.Sum(v => v * v);
        p.Line("3. One SGD step. Same x and w as lesson 6; the loss is now the squared error to a target t:");
        p.Line($"   L = Σ (y - t)², t = [[{string.Join(", ", Target[0])}], [{string.Join(", ", Target[1])}]], lr = {Lr.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
        p.Line();
        p.Line($"    y = ({string.Join(", ", y0.Select(v => Page.Num(v)))}), L = {Page.Num(l0)}");
        p.Line($"    dL/dw (Kernel.Grad, from dL/dy = 2(y - t)) = ({string.Join(", ", grad.Select(v => Page.Num(v)))})");
        p.Line($"    w ← w - {Lr.ToString(System.Globalization.CultureInfo.InvariantCulture)}·dL/dw = ({string.Join(", ", w1.Select(v => Page.Num(v)))})");
        p.Line($"    y = ({string.Join(", ", y1.Select(v => Page.Num(v)))}), L = {Page.Num(l1)}");
        p.Line();
        p.Line($"    L went from {Page.Num(l0)} to {Page.Num(l1)}. The first-order prediction is L - lr·|dL/dw|² = {Page.Num(l0)} - {Lr.ToString(System.Globalization.CultureInfo.InvariantCulture)}·{Page.Num(norm2)} = {Page.Num(l0 - Lr * norm2)};");
        p.Line("    the rest is the curvature of the square.");
        p.Line();
        p.Line("Exercises (answers computed by the same code):");
        foreach (var (q, a) in Exercises()) p.Line($"    {q,-64} {a}");
    }

    /// <summary>The page's exercises and answers.</summary>
    public static IEnumerable<(string Question, string Answer)> Exercises()
    {
        var big = ConvMatrix([[1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]], 28, 28);
        int nonzero = 0;
        for (int j = 0; j < big.GetLength(1); j++)
            if (big[0, j] != 0) nonzero++;
        yield return ("1. size of C for a 5×5 Valid kernel on 28×28, weights per row",
            Inv.S($"{big.GetLength(0)}×{big.GetLength(1)}, {nonzero}"));
        var (_, maxDx, _) = PoolBackward();
        yield return ("2. entries of the max-pooling gradient that are not 0", maxDx.Count(v => v != 0).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var w0 = W0;
        var (l0, grad, _) = LossAndGrad(w0);
        var (lBig, _, _) = LossAndGrad(w0.Select((v, i) => v - 0.1f * grad[i]).ToArray());
        var (lHuge, _, _) = LossAndGrad(w0.Select((v, i) => v - 0.5f * grad[i]).ToArray());
        yield return ("3. L after one step with lr 0.1, and with lr 0.5 (before: " + Page.Num(l0) + ")", Page.Num(lBig) + ", " + Page.Num(lHuge));
    }

    /// <summary>Figures: C and Cᵀ·g; the max- and average-pooling gradients with the winners outlined.</summary>
    public static IEnumerable<Figure> Figures()
    {
        var c = ConvMatrix(BackpropLesson.W, 3, 3);
        var cv = new double[4, 9];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 9; j++) cv[i, j] = c[i, j];
        var fig = new Figure("10-conv-matrix", "The convolution as a matrix: y = C·x, dL/dx = C transposed · g");
        fig.Place(new GridPanel { Title = "C (4 outputs × 9 inputs)", Cell = 36, Values = cv, Colour = v => Palette.Signed(v, 2) });
        var g = BackpropLesson.G.SelectMany(r => r).ToArray();
        var ctg = new double[9, 1];
        for (int j = 0; j < 9; j++)
            for (int i = 0; i < 4; i++) ctg[j, 0] += c[i, j] * g[i];
        fig.Place(new GridPanel { Title = "C transposed · g", Cell = 36, Values = ctg, Colour = v => Palette.Signed(v, 8) });
        yield return fig;

        var (map, maxDx, avgDx) = PoolBackward();
        var pool = new Figure("10-pooling-gradients", "Backprop through 2×2 pooling: max routes g to the winner, average spreads g/4");
        var m = new double[6, 6];
        var mx = new double[6, 6];
        var av = new double[6, 6];
        for (int r = 0; r < 6; r++)
            for (int q = 0; q < 6; q++)
            {
                m[r, q] = map[r * 6 + q];
                mx[r, q] = maxDx[r * 6 + q];
                av[r, q] = avgDx[r * 6 + q];
            }
        var input = new GridPanel { Title = "channel 0", Cell = 32, Values = m, Colour = v => Palette.Signed(v, 7) };
        var maxPanel = new GridPanel { Title = "max: dL/dx", Cell = 32, Values = mx, Colour = v => Palette.Heat(v, 9) };
        for (int br = 0; br < 3; br++)
            for (int bc = 0; bc < 3; bc++)
            {
                input.Boxes.Add((2 * br, 2 * bc, 2, 2, Palette.Ink));
                maxPanel.Boxes.Add((2 * br, 2 * bc, 2, 2, Palette.Ink));
                var (wr, wc) = PoolingLesson.Winner(m, br, bc);
                input.Outlines.Add((wr, wc, Palette.Highlight));
            }
        pool.Place(input);
        var gp = new double[3, 3];
        for (int r = 0; r < 3; r++)
            for (int q = 0; q < 3; q++) gp[r, q] = PoolGrad[r][q];
        pool.Place(new GridPanel { Title = "g", Cell = 64, Values = gp, Colour = v => Palette.Heat(v, 9) });
        pool.Place(maxPanel);
        pool.Place(new GridPanel { Title = "average: dL/dx", Cell = 32, Values = av, Colour = v => Palette.Heat(v, 9) });
        yield return pool;
    }
}
