namespace ConvNet.Demo.Teaching;

/// <summary>Lesson 5: 6×6×1 → Conv2D(3, 3, same) → 6×6×3 → MaxPooling2D(2) → 3×3×3, and average vs max on one block.</summary>
internal static class PoolingLesson
{
    public const int Size = 6, Filters = 3;

    public static readonly int[][] Input =
    [
        [1, 0, 2, 0, 3, 1],
        [0, 4, 1, 2, 0, 2],
        [3, 1, 0, 5, 1, 0],
        [0, 2, 6, 1, 0, 4],
        [1, 0, 1, 3, 2, 1],
        [2, 3, 0, 1, 4, 0],
    ];

    public static readonly string[] FilterNames = ["vertical edge", "horizontal edge", "box sum"];

    /// <summary>The three 3×3 filters: [filter][row][col]; biases are 0.</summary>
    public static readonly int[][][] Filters3 =
    [
        [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
        [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
        [[1, 1, 1], [1, 1, 1], [1, 1, 1]],
    ];

    /// <summary>(input, pool, stride) rows of the relationship-7 table: this lesson's pooling and AlexNet's three.</summary>
    public static readonly (int In, int K, int S)[] PoolCases = [(6, 2, 2), (55, 3, 2), (27, 3, 2), (13, 3, 2), (7, 2, 3)];

    /// <summary>Dumoulin &amp; Visin's relationship 7: floor((i - k) / s) + 1.</summary>
    public static int PoolOut(int i, int k, int s) => (i - k) / s + 1;

    public static float[] Image() => Input.SelectMany(r => r.Select(v => (float)v)).ToArray();

    public static float[] Kernel()
    {
        var w = new float[9 * Filters];
        for (int k = 0; k < Filters; k++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) w[Lab.Kw(3, 1, Filters, i, j, 0, k)] = Filters3[k][i][j];
        return w;
    }

    /// <summary>The conv maps (6, 6, 3) and the max-pooled maps (3, 3, 3) from the library, as in the lesson.</summary>
    public static (float[] Maps, float[] Pooled, float[] Averaged) Run()
    {
        var model = new Sequential(new Input(Size, Size, 1), new Conv2D(Filters, 3, padding: Padding.Same), new MaxPooling2D(2)) { Threads = 1 };
        var conv = (Conv2D)model.Layers[1];
        Kernel().CopyTo(conv.Kernel!.Value.Span);
        conv.Bias!.Value.Span.Clear();
        var x = new Tensor(Image(), 1, Size, Size, 1);
        var maps = conv.Forward(x).ToArray();
        var pooled = model.Call(x).ToArray();
        var averaged = new AveragePooling2D(2) { Threads = 1 }.Forward(new Tensor((float[])maps.Clone(), 1, Size, Size, Filters)).ToArray();
        return (maps, pooled, averaged);
    }

    /// <summary>Each channel's 6×6 map with its 2×2 blocks boxed and each block's maximum outlined, beside the pooled 3×3.</summary>
    public static IEnumerable<Figure> Figures()
    {
        var (maps, pooled, averaged) = Run();
        int ph = Size / 2;
        double maxAbs = maps.Max(v => Math.Abs(v));
        var fig = new Figure("05-pooling", "2×2 max pooling, stride 2: each block gives its largest value");
        for (int k = 0; k < Filters; k++)
        {
            var m = new double[Size, Size];
            for (int r = 0; r < Size; r++)
                for (int c = 0; c < Size; c++) m[r, c] = maps[Lab.At(Size, Filters, r, c, k)];
            var conv = new GridPanel { Title = Inv.S($"channel {k} ({FilterNames[k]})"), Cell = 28, Values = m, Colour = v => Palette.Signed(v, maxAbs) };
            for (int br = 0; br < ph; br++)
                for (int bc = 0; bc < ph; bc++)
                {
                    conv.Boxes.Add((2 * br, 2 * bc, 2, 2, Palette.Ink));
                    var (wr, wc) = Winner(m, br, bc);
                    conv.Outlines.Add((wr, wc, Palette.Highlight));
                }
            fig.Place(conv);
            var pv = new double[ph, ph];
            for (int r = 0; r < ph; r++)
                for (int c = 0; c < ph; c++) pv[r, c] = pooled[Lab.At(ph, Filters, r, c, k)];
            fig.Place(new GridPanel { Title = "max pooled", Cell = 56, Values = pv, Colour = v => Palette.Signed(v, maxAbs) });
            if (k == 2)
            {
                var av = new double[ph, ph];
                for (int r = 0; r < ph; r++)
                    for (int c = 0; c < ph; c++) av[r, c] = averaged[Lab.At(ph, Filters, r, c, k)];
                fig.Place(new GridPanel { Title = "average pooled", Cell = 56, Values = av, Colour = v => Palette.Signed(v, maxAbs) });
            }
            fig.NewRow();
        }
        yield return fig;
    }

    /// <summary>The first maximum of block (br, bc) in row-major order, as MaxPooling2D picks it.</summary>
    public static (int R, int C) Winner(double[,] m, int br, int bc)
    {
        (int R, int C) best = (2 * br, 2 * bc);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                if (m[2 * br + i, 2 * bc + j] > m[best.R, best.C]) best = (2 * br + i, 2 * bc + j);
        return best;
    }

    public static void Write(Page p)
    {
        var model = new Sequential(new Input(Size, Size, 1), new Conv2D(Filters, 3, padding: Padding.Same), new MaxPooling2D(2)) { Name = "pool_demo", Threads = 1 };
        var conv = (Conv2D)model.Layers[1];
        Kernel().CopyTo(conv.Kernel!.Value.Span);
        conv.Bias!.Value.Span.Clear();
        var x = new Tensor(Image(), 1, Size, Size, 1);
        var maps = conv.Forward(x).ToArray();
        var pooled = model.Call(x).ToArray();
        var avg = new AveragePooling2D(2) { Threads = 1 };
        var averaged = avg.Forward(new Tensor((float[])maps.Clone(), 1, Size, Size, Filters)).ToArray();
        int ph = Size / 2;

        p.Line("Pooling shrinks each channel on its own: every k×k window becomes one number, its maximum");
        p.Line("(MaxPooling2D) or its mean (AveragePooling2D). No weights, channel count unchanged. The window");
        p.Line("moves by the stride s (Keras default: s = k), and the output size is Dumoulin & Visin's");
        p.Line("relationship 7, o = floor((i - k)/s) + 1:");
        p.Line();
        p.Line("      i   k   s  o = floor((i-k)/s)+1  MaxPooling2D(k, s)  windows");
        foreach (var (i, k, s) in PoolCases)
        {
            int o = PoolOut(i, k, s);
            int lib = new MaxPooling2D(k, s).ComputeOutputShape([i, i, 1])[0];
            string formula = Inv.S($"floor({i - k}/{s})+1 = {o}");
            string kind = s < k ? "overlap" : s == k ? "tile" : "skip pixels";
            p.Line($"    {i,3} {k,3} {s,3}  {formula,-20} {lib,18}  {kind}");
        }
        p.Line();
        p.Line("This lesson uses 2×2 windows with stride 2: they tile the map and halve height and width.");
        p.Line("AlexNet (lesson 7) uses 3×3 windows with stride 2, which overlap by one pixel (27 → 13).");
        p.Line();
        p.Line("The lecture's pipeline: a 6×6×1 input, zero padding (same), three 3×3 filters → 6×6×3,");
        p.Line("then 2×2 max pooling → 3×3×3.");
        p.Line();
        p.Block(model.Summary());
        p.Line();
        p.Line("Input 6×6×1:");
        p.Line();
        p.Grid(Size, Size, (r, c) => Input[r][c].ToString(System.Globalization.CultureInfo.InvariantCulture));
        for (int k = 0; k < Filters; k++)
        {
            p.Line();
            p.Line($"Filter {k} ({FilterNames[k]}), bias 0:");
            p.Line();
            p.Grid(3, 3, (r, c) => Filters3[k][r][c].ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        p.Line();
        p.Line("Conv2D output 6×6×3 and, beside it, MaxPooling2D(2) of that channel (3×3):");
        for (int k = 0; k < Filters; k++)
        {
            p.Line();
            p.Line($"  channel {k} ({FilterNames[k]})");
            var left = new Page();
            left.Grid(Size, Size, (r, c) => Page.Num(maps[Lab.At(Size, Filters, r, c, k)]));
            var right = new Page();
            right.Grid(ph, ph, (r, c) => Page.Num(pooled[Lab.At(ph, Filters, r, c, k)]));
            var l = left.ToString().TrimEnd('\n').Split('\n');
            var rr = right.ToString().TrimEnd('\n').Split('\n');
            int width = l.Max(s => s.Length);
            for (int i = 0; i < l.Length; i++)
            {
                string tail = i % 2 == 0 && i / 2 < rr.Length ? (i == 0 ? "   max →" : "        ") + rr[i / 2] : "";
                p.Line((l[i].PadRight(width) + tail).TrimEnd());
            }
        }
        p.Line();
        // One block, both poolings.
        const int k0 = 2, br = 0, bc = 0;
        var block = new float[4];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++) block[i * 2 + j] = maps[Lab.At(Size, Filters, 2 * br + i, 2 * bc + j, k0)];
        float mx = block.Max(), mean = block.Sum() / 4;
        p.Line($"Average vs max on one 2×2 block: channel {k0} ({FilterNames[k0]}), rows {2 * br}-{2 * br + 1}, columns {2 * bc}-{2 * bc + 1}:");
        p.Line();
        p.Grid(2, 2, (r, c) => Page.Num(block[r * 2 + c]));
        p.Line();
        p.Line($"    max     = max({string.Join(", ", block.Select(v => Page.Num(v)))}) = {Page.Num(mx)}      library MaxPooling2D     {Page.Num(pooled[Lab.At(ph, Filters, br, bc, k0)])}");
        p.Line($"    average = ({string.Join(" + ", block.Select(v => Page.Num(v)))}) / 4 = {Page.Num(block.Sum())} / 4 = {Page.Num(mean)}      library AveragePooling2D {Page.Num(averaged[Lab.At(ph, Filters, br, bc, k0)])}");
        p.Line();
        p.Line($"AveragePooling2D(2) of channel {k0}, for comparison with the max-pooled map above:");
        p.Line();
        p.Grid(ph, ph, (r, c) => Page.Num(averaged[Lab.At(ph, Filters, r, c, k0)]));
        p.Line();
        p.Line("Max keeps the strongest response in each block (\"is the feature anywhere here?\"); average");
        p.Line("blurs it with its neighbours. Both cut the pixels by 4 and add no parameters.");
    }
}
