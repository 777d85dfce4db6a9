namespace ConvNet.Demo.Teaching;

/// <summary>
/// Lesson 8: the lecture's Mandarin model layer by layer — parameter arithmetic, the shape chain, the receptive field
/// of each layer (computed, then measured with the library's backward pass) and the batch-dimension pitfall.
/// </summary>
internal static class MandarinModelLesson
{
    /// <summary>The lecture's model, exactly as the demo builds it (untrained, seed 1).</summary>
    public static Sequential Model()
    {
        var model = ModelZoo.Mandarin();
        model.Name = "mandarin";
        model.Seed = 1;
        model.Threads = 1;
        return model;
    }

    /// <summary>One row of the receptive-field table: layer, kernel, stride, receptive field r and jump j after it.</summary>
    public sealed record RfRow(string Layer, int K, int S, int R, int J);

    /// <summary>r_out = r_in + (k − 1)·j_in, j_out = j_in·s, for the spatial layers of <paramref name="model"/>.</summary>
    public static IReadOnlyList<RfRow> ReceptiveFields(Sequential model)
    {
        var rows = new List<RfRow>();
        int r = 1, j = 1;
        foreach (var l in model.Layers)
        {
            (int k, int s) = l switch
            {
                Conv2D c => (c.KernelSize.Height, c.Strides.Height),
                Pooling2D p => (p.PoolSize.Height, p.Strides.Height),
                _ => (0, 0),
            };
            if (k == 0) continue;
            r += (k - 1) * j;
            j *= s;
            rows.Add(new RfRow(l.Name, k, s, r, j));
        }
        return rows;
    }

    /// <summary>
    /// Measures the window in the 80×80 image that one unit of a layer sees: a linear twin of the model (same kernels,
    /// strides and padding; average instead of max pooling, so the gradient reaches every pixel a window reads; all
    /// weights positive) is run forward on ones, and the input gradient of one unit is nonzero exactly on its window.
    /// Returns the first and last image row and column with a nonzero gradient.
    /// </summary>
    public static (int Top, int Bottom, int Left, int Right) MeasuredWindow(int layers, int y, int x)
    {
        var model = Model();
        var twin = new List<Layer>();
        int h = 80, w = 80, c = 1;
        foreach (var l in model.Layers.Where(l => l is Conv2D or Pooling2D).Take(layers))
        {
            Layer t = l switch
            {
                Conv2D conv => Lab.Conv(1, conv.KernelSize, conv.Strides, conv.Padding, (h, w, c),
                    Enumerable.Repeat(1f, conv.KernelSize.Height * conv.KernelSize.Width * c).ToArray(), [0]),
                Pooling2D p => new AveragePooling2D(p.PoolSize, p.Strides, p.Padding) { Threads = 1 },
                _ => throw new InvalidOperationException(),
            };
            if (t is Pooling2D) t.Build([h, w, c]);
            twin.Add(t);
            var o = t.OutputShape!;
            (h, w, c) = (o[0], o[1], o[2]);
        }
        var a = new Tensor(Enumerable.Repeat(1f, 80 * 80).ToArray(), 1, 80, 80, 1);
        foreach (var t in twin) a = t.Forward(a, training: true);
        var g = new float[h * w * c];
        g[(y * w + x) * c] = 1;
        var d = new Tensor(g, 1, h, w, c);
        for (int i = twin.Count - 1; i >= 0; i--) d = twin[i].Backward(d);
        var dx = d.ToArray();
        var rowsHit = Enumerable.Range(0, 80).Where(r => Enumerable.Range(0, 80).Any(q => dx[r * 80 + q] != 0)).ToArray();
        var colsHit = Enumerable.Range(0, 80).Where(q => Enumerable.Range(0, 80).Any(r => dx[r * 80 + q] != 0)).ToArray();
        return (rowsHit.First(), rowsHit.Last(), colsHit.First(), colsHit.Last());
    }

    /// <summary>The units whose windows are measured: (layers counted, label, row, column) — near the image centre.</summary>
    public static readonly (int Layers, string Label, int Y, int X)[] Probes =
    [
        (1, "conv2d (80×80) unit (40, 40)", 40, 40),
        (3, "conv2d_1 (40×40) unit (20, 20)", 20, 20),
        (5, "conv2d_2 (20×20) unit (10, 10)", 10, 10),
        (6, "max_pooling2d_2 (10×10) unit (5, 5)", 5, 5),
    ];

    public static void Write(Page p)
    {
        var model = Model();
        p.Line("The lecture's model: Input(80, 80, 1) → Rescaling(1/255) → three blocks of Conv2D(3×3, same,");
        p.Line("relu) + MaxPooling2D(2) with 16, 32 and 64 filters → Flatten → Dense(128, relu) → Dense(57).");
        p.Line();
        p.Block(model.Summary());
        p.Line();
        p.Line("Parameters, layer by layer (a 3×3 filter over c channels has 3·3·c weights and 1 bias):");
        p.Line();
        long total = 0;
        foreach (var l in model.Layers)
        {
            string? line = l switch
            {
                Conv2D c => Inv.S($"{c.Filters}·(3·3·{c.InputShape![2]} + 1) = {c.Filters}·{9 * c.InputShape[2] + 1} = {Page.Thousands(l.ParamCount)}"),
                Dense d => Inv.S($"{d.Units}·({Page.Thousands(d.InputShape![0])} + 1) = {d.Units}·{Page.Thousands(d.InputShape[0] + 1)} = {Page.Thousands(l.ParamCount)}"),
                _ => null,
            };
            if (line is null) continue;
            total += l.ParamCount;
            p.Line($"    {l.Name,-9} {line}");
        }
        p.Line($"    total     {Page.Thousands(total)} parameters · 4 bytes = {Page.Thousands(4 * total)} B = {4.0 * total / (1 << 20):F2} MB");
        long dense = model.Layers.OfType<Dense>().First().ParamCount;
        p.Line($"    the first Dense layer alone holds {Page.Thousands(dense)} ({100.0 * dense / total:F1}%)");
        p.Line();
        p.Line("The shape chain (height × width × channels after each layer):");
        p.Line();
        var chain = new List<string> { "80×80×1" };
        foreach (var l in model.Layers.Where(l => l is Conv2D or Pooling2D or Flatten or Dense))
            chain.Add(string.Join("×", l.OutputShape!.Select(v => Page.Thousands(v))));
        p.Line("    " + string.Join(" → ", chain.Take(7)));
        p.Line("    → " + string.Join(" → ", chain.Skip(7)));
        var spatial = new[] { 80 }.Concat(model.Layers.OfType<MaxPooling2D>().Select(l => l.OutputShape![0])).ToArray();
        var flat = model.Layers.OfType<Flatten>().Single().OutputShape![0];
        p.Line($"    spatial size {string.Join(" → ", spatial)}; flatten {spatial[^1]}·{spatial[^1]}·64 = {Page.Thousands(flat)}");
        p.Line();
        p.Line("Receptive field: how many image pixels (per axis) one unit depends on. Each layer adds");
        p.Line("(k - 1)·j, where j is the distance in image pixels between neighbouring units of its input:");
        p.Line();
        p.Line("    layer             k   s    r = r + (k-1)·j    j = j·s");
        int r0 = 1, j0 = 1;
        foreach (var row in ReceptiveFields(model))
        {
            string r = Inv.S($"{r0} + {row.K - 1}·{j0} = {row.R}");
            p.Line($"    {row.Layer,-16} {row.K,2} {row.S,3}    {r,-15}    {row.J}");
            (r0, j0) = (row.R, row.J);
        }
        p.Line();
        p.Line("Measured with the library: a linear twin with average pooling (same windows; the gradient");
        p.Line("then reaches every pixel a window reads), run on ones; the image pixels with a nonzero");
        p.Line("gradient for one unit:");
        p.Line();
        foreach (var (layers, label, y, x) in Probes)
        {
            var (top, bottom, left, right) = MeasuredWindow(layers, y, x);
            p.Line($"    {label,-38} rows {top,2}..{bottom,2}, columns {left,2}..{right,2}: {bottom - top + 1}×{right - left + 1}");
        }
        p.Line();
        p.Line("So conv2d sees 3×3 pixels, conv2d_1 8×8, conv2d_2 18×18, and one of the 6,400 features that");
        p.Line("Flatten passes on sees 22×22 of the 80×80 image; only the Dense layers see all of it.");
        p.Line();
        p.Line("The batch-dimension pitfall. X_test[17] is one image, shape (80, 80, 1); the model expects a");
        p.Line("batch, shape (None, 80, 80, 1). Keras fails deep inside pooling; ConvNet says:");
        p.Line();
        var image = new Tensor(new float[80 * 80], 80, 80, 1);
        try
        {
            model.Predict(image);
            p.Line("    (no error)");
        }
        catch (LayerShapeException e)
        {
            foreach (var line in Wrap(e.Message, 92)) p.Line("    " + line);
        }
        var batch = image.Reshape(1, 80, 80, 1);
        p.Line();
        p.Line($"    X_test[[17]] (shape {batch.Shape}): Predict returns shape {model.Predict(batch).Shape}");
        p.Line();
        p.Line("Exercises (answers computed by the library):");
        foreach (var (q, a) in Exercises()) p.Line($"    {q,-62} {a}");
    }

    /// <summary>The page's exercises and their answers, each computed from a built model.</summary>
    public static IEnumerable<(string Question, string Answer)> Exercises()
    {
        var five = new Sequential(
            new Input(80, 80, 1),
            new Conv2D(16, 5, padding: Padding.Same), new MaxPooling2D(),
            new Conv2D(32, 5, padding: Padding.Same), new MaxPooling2D(),
            new Conv2D(64, 5, padding: Padding.Same), new MaxPooling2D(),
            new Flatten(), new Dense(128), new Dense(57));
        yield return ("1. conv2d_1's parameters with 5×5 kernels", Page.Thousands(five.Layers.OfType<Conv2D>().ElementAt(1).ParamCount));
        yield return ("2. receptive field of a max_pooling2d_2 unit with 5×5 kernels", Inv.S($"{ReceptiveFields(five)[^1].R}×{ReceptiveFields(five)[^1].R}"));
        var big = ModelZoo.Mandarin(96, 96);
        yield return ("3. flatten size and first Dense parameters for 96×96 input",
            Inv.S($"{Page.Thousands(big.Layers.OfType<Flatten>().Single().OutputShape![0])}, {Page.Thousands(big.Layers.OfType<Dense>().First().ParamCount)}"));
        var four = new Sequential(
            new Input(80, 80, 1),
            new Conv2D(16, 3, padding: Padding.Same), new MaxPooling2D(),
            new Conv2D(32, 3, padding: Padding.Same), new MaxPooling2D(),
            new Conv2D(64, 3, padding: Padding.Same), new MaxPooling2D(),
            new Conv2D(128, 3, padding: Padding.Same), new MaxPooling2D(),
            new Flatten(), new Dense(128), new Dense(57));
        yield return ("4. total parameters with a fourth block Conv2D(128) + pool", Page.Thousands(four.CountParams()));
    }

    private static IEnumerable<string> Wrap(string text, int width)
    {
        var line = new System.Text.StringBuilder();
        foreach (var word in text.Split(' '))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                yield return line.ToString();
                line.Clear();
            }
            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }
        if (line.Length > 0) yield return line.ToString();
    }

    /// <summary>Figures: the model as blocks, and the nested windows one unit of each layer sees in the image.</summary>
    public static IEnumerable<Figure> Figures()
    {
        var model = Model();
        long total = model.CountParams();
        var blocks = new Figure("08-mandarin-model", "The lecture's Mandarin model (bar = share of parameters)");
        blocks.Stack(new TextBox { Fill = Palette.White, Line1 = "mandarin: input 80×80×1", Line2 = Inv.S($"{Page.Thousands(total)} params"), Width = 520, Height = 44 }, newColumn: true);
        foreach (var l in ArchitecturesLesson.DiagramLayers(model))
            blocks.Stack(new TextBox
            {
                Fill = ArchitecturesLesson.BlockColour(l),
                Line1 = l is Rescaling ? l.Name + ": rescaling 1/255" : ArchitecturesLesson.BlockTitle(l),
                Line2 = ArchitecturesLesson.BlockShape(l),
                Bar = (double)l.ParamCount / total,
                Width = 520,
                Height = 44,
            });
        yield return blocks;

        var level = new double[80, 80];
        for (int i = Probes.Length - 1; i >= 0; i--)
        {
            var (layers, _, y, x) = Probes[i];
            var (top, bottom, left, right) = MeasuredWindow(layers, y, x);
            for (int r = top; r <= bottom; r++)
                for (int c = left; c <= right; c++) level[r, c] = Probes.Length - i;
        }
        var rf = new Figure("08-receptive-fields", "What one unit sees in the 80×80 image: 3, 8, 18 and 22 pixels wide");
        rf.Place(new GridPanel { Title = "conv2d 3×3 · conv2d_1 8×8 · conv2d_2 18×18 · pool 22×22", Cell = 6, Values = level, ShowNumbers = false, GridLines = false, Colour = v => RfColour(v) });
        yield return rf;
    }

    /// <summary>Colour of a nesting level in the receptive-field figure: 0 outside, 1 = the pooled unit's window … 4 = conv2d's.</summary>
    public static SixLabors.ImageSharp.PixelFormats.Rgb24 RfColour(double level) => level switch
    {
        0 => Palette.Padding,
        _ => Palette.Heat(level, 4),
    };
}
