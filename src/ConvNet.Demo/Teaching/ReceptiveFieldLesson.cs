namespace ConvNet.Demo.Teaching;

/// <summary>
/// Lesson 11: receptive fields and stacks of 3×3 filters — growth layer by layer (computed and measured with the
/// library's backward pass), three 3×3 layers against one 7×7 (27C² vs 49C² weights), and dilation's effective kernel.
/// </summary>
internal static class ReceptiveFieldLesson
{
    public const int Size = 15;

    /// <summary>
    /// The input gradient of the centre unit after <paramref name="layers"/> stacked Conv2D(1, k, same) layers whose kernels
    /// are all ones: entry (r, c) counts the paths from input pixel (r, c) to that unit; it is nonzero exactly on the
    /// receptive field. <paramref name="kernel"/> gives each layer's kernel as (size, weights) — a dilated kernel is
    /// written with its zeros.
    /// </summary>
    public static float[] CentreGradient(IReadOnlyList<(int K, float[] Weights)> kernels)
    {
        var layers = kernels.Select(k => Lab.Conv(1, (k.K, k.K), (1, 1), Padding.Same, (Size, Size, 1), k.Weights, [0])).ToList();
        var a = new Tensor(new float[Size * Size], 1, Size, Size, 1);
        foreach (var l in layers) a = l.Forward(a, training: true);
        var g = new float[Size * Size];
        g[Size / 2 * Size + Size / 2] = 1;
        var d = new Tensor(g, 1, Size, Size, 1);
        for (int i = layers.Count - 1; i >= 0; i--) d = layers[i].Backward(d);
        return d.ToArray();
    }

    /// <summary>A k×k kernel of ones.</summary>
    public static (int K, float[] Weights) Ones(int k) => (k, Enumerable.Repeat(1f, k * k).ToArray());

    /// <summary>A k×k kernel of ones with dilation d, written as its (k + (k − 1)(d − 1))² footprint with zeros between the taps.</summary>
    public static (int K, float[] Weights) Dilated(int k, int d)
    {
        int e = EffectiveKernel(k, d);
        var w = new float[e * e];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) w[i * d * e + j * d] = 1;
        return (e, w);
    }

    /// <summary>Effective kernel size of a k×k kernel with dilation d: k + (k − 1)(d − 1).</summary>
    public static int EffectiveKernel(int k, int d) => k + (k - 1) * (d - 1);

    /// <summary>Width of the nonzero region of a centre gradient.</summary>
    public static int Width(float[] g)
    {
        var cols = Enumerable.Range(0, Size).Where(c => Enumerable.Range(0, Size).Any(r => g[r * Size + c] != 0)).ToArray();
        return cols.Length == 0 ? 0 : cols[^1] - cols[0] + 1;
    }

    public static void Write(Page p)
    {
        p.Line("1. Growth. Each 3×3 layer with stride 1 widens what one unit sees by 2 pixels: r = 1 + 2n after");
        p.Line($"n layers. Measured: stack n Conv2D(1, 3, same) with kernels of ones on a {Size}×{Size} input, and");
        p.Line("count the input pixels with a nonzero gradient for the centre unit of the last layer.");
        p.Line();
        p.Line("    layers   r = 1 + 2n   measured width");
        for (int n = 1; n <= 4; n++)
        {
            var g = CentreGradient(Enumerable.Repeat(Ones(3), n).ToList());
            p.Line($"    {n,6}   {1 + 2 * n,10}   {Width(g),14}");
        }
        p.Line();
        var three = CentreGradient([Ones(3), Ones(3), Ones(3)]);
        p.Line("The gradient itself (three layers; the centre 7×7 of the 15×15 map) counts the paths from each");
        p.Line("input pixel to the unit: the centre pixel has 7·7 = 49, a corner 1. The receptive field is 7×7,");
        p.Line("but the pixels near its centre weigh most (the \"effective\" receptive field is smaller).");
        p.Line();
        int o = Size / 2 - 3;
        p.Grid(7, 7, (r, c) => Page.Num(three[(o + r) * Size + o + c]));
        p.Line();
        p.Line("The edge row is [1, 3, 6, 7, 6, 3, 1], the 1-D box [1, 1, 1] convolved with itself three times,");
        p.Line("and every entry is its row's edge value times its column's (1·1 = 1 at a corner, 7·7 = 49).");
        p.Line();

        const int C = 64;
        var stack = new Sequential(new Input(32, 32, C),
            new Conv2D(C, 3, padding: Padding.Same, activation: Activation.Relu),
            new Conv2D(C, 3, padding: Padding.Same, activation: Activation.Relu),
            new Conv2D(C, 3, padding: Padding.Same, activation: Activation.Relu)) { Name = "three_3x3" };
        var single = new Sequential(new Input(32, 32, C), new Conv2D(C, 7, padding: Padding.Same, activation: Activation.Relu)) { Name = "one_7x7" };
        p.Line($"2. Three 3×3 layers or one 7×7? Both see 7×7 pixels. With C = {C} channels in and out:");
        p.Line();
        p.Line($"    three 3×3: 3·(3·3·C·C) = 27C² = {Page.Thousands(27L * C * C)} weights, + 3·C biases = {Page.Thousands(stack.CountParams())}   library {Page.Thousands(stack.CountParams())}");
        p.Line($"    one 7×7:     7·7·C·C   = 49C² = {Page.Thousands(49L * C * C)} weights, +   C biases = {Page.Thousands(single.CountParams())}   library {Page.Thousands(single.CountParams())}");
        p.Line();
        p.Line($"The stack needs 27/49 = {100.0 * 27 / 49:F0}% of the weights and puts three ReLUs where the 7×7 has one, so it");
        p.Line("can compute more kinds of functions. This is VGG's argument (Simonyan & Zisserman, 2014).");
        p.Line();

        p.Line("3. Dilation. A k×k kernel with dilation d leaves d - 1 pixels out between its taps, so it spans");
        p.Line("k + (k - 1)(d - 1) pixels with the same k·k weights:");
        p.Line();
        foreach (var (k, d) in new[] { (3, 1), (3, 2), (3, 4), (5, 2) })
            p.Line($"    k = {k}, d = {d}: {k} + {k - 1}·{d - 1} = {EffectiveKernel(k, d),2}");
        p.Line();
        var dil = CentreGradient([Dilated(3, 2)]);
        p.Line("The pixels one unit of a 3×3 layer with d = 2 reads (measured as above; centre 5×5):");
        p.Line();
        p.Grid(5, 5, (r, c) => Page.Num(dil[(Size / 2 - 2 + r) * Size + Size / 2 - 2 + c]));
        p.Line();
        p.Line("Stacking 3×3 layers with d = 1, 2, 4 grows the receptive field to 3, 7, 15: it doubles per layer");
        p.Line("instead of growing by 2, which is how WaveNet and DeepLab see far with few layers. Measured:");
        p.Line();
        var rates = new[] { 1, 2, 4 };
        for (int n = 1; n <= rates.Length; n++)
        {
            var g = CentreGradient(rates.Take(n).Select(d => Dilated(3, d)).ToList());
            int r = 1 + rates.Take(n).Sum(d => 2 * d);
            p.Line($"    d = {string.Join(", ", rates.Take(n)),-8}  r = 1 + {string.Join(" + ", rates.Take(n).Select(d => Inv.S($"2·{d}")))} = {r,2}   measured width {Width(g)}");
        }
        p.Line();
        p.Line("Exercises (answers computed by the same code):");
        foreach (var (q, a) in Exercises()) p.Line($"    {q,-60} {a}");
    }

    /// <summary>The page's exercises and answers.</summary>
    public static IEnumerable<(string Question, string Answer)> Exercises()
    {
        yield return ("1. receptive field of five stacked 3×3 layers (stride 1)", Inv.S($"{Width(CentreGradient(Enumerable.Repeat(Ones(3), 5).ToList()))}×{Width(CentreGradient(Enumerable.Repeat(Ones(3), 5).ToList()))}"));
        var two = new Sequential(new Input(8, 8, 128), new Conv2D(128, 3, useBias: false), new Conv2D(128, 3, useBias: false));
        var five = new Sequential(new Input(8, 8, 128), new Conv2D(128, 5, useBias: false));
        yield return ("2. weights: two 3×3 layers vs one 5×5, C = 128", Inv.S($"{Page.Thousands(two.CountParams())} vs {Page.Thousands(five.CountParams())}"));
        yield return ("3. effective kernel of k = 5, d = 3", EffectiveKernel(5, 3).ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return ("4. receptive field of 3×3 layers with d = 1, 2, 4, 8", Inv.S($"{1 + 2 * (1 + 2 + 4 + 8)}"));
    }

    /// <summary>Figures: the path counts of three stacked 3×3 layers, and the footprint of stacked dilated layers.</summary>
    public static IEnumerable<Figure> Figures()
    {
        var fig = new Figure("11-receptive-fields", "Receptive fields: paths from each input pixel to one unit");
        foreach (var (title, kernels) in new (string, List<(int, float[])>)[]
        {
            ("one 3×3", [Ones(3)]),
            ("two 3×3", [Ones(3), Ones(3)]),
            ("three 3×3", [Ones(3), Ones(3), Ones(3)]),
            ("3×3, d = 2", [Dilated(3, 2)]),
            ("3×3, d = 1, 2, 4", [Dilated(3, 1), Dilated(3, 2), Dilated(3, 4)]),
        })
        {
            var g = CentreGradient(kernels);
            var v = new double[Size, Size];
            for (int r = 0; r < Size; r++)
                for (int c = 0; c < Size; c++) v[r, c] = g[r * Size + c];
            double max = g.Max();
            fig.Place(new GridPanel { Title = title, Cell = 14, Values = v, ShowNumbers = false, Colour = x => x == 0 ? Palette.Padding : Palette.Heat(x, max) });
        }
        yield return fig;
    }
}
