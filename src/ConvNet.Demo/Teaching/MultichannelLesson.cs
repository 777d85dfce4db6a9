namespace ConvNet.Demo.Teaching;

/// <summary>Lesson 2: one 3×3×3 filter over a 5×5×3 input; the 27 products of one output pixel, by hand and by Conv2D.</summary>
internal static class MultichannelLesson
{
    public const int Size = 5, K = 3, Channels = 3;
    public const float Bias = 2;
    public const int OutRow = 1, OutCol = 2;
    public static readonly string[] ChannelNames = ["R", "G", "B"];

    /// <summary>Channel value at (row, col, ch): small integers 0–4.</summary>
    public static int Pixel(int r, int c, int ch) => ch switch
    {
        0 => (r + 2 * c) % 5,
        1 => (3 * r + c + 1) % 4,
        _ => (r + c * c) % 3,
    };

    /// <summary>The filter, one 3×3 slice per input channel: [channel][row][col].</summary>
    public static readonly int[][][] Filter =
    [
        [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
        [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
        [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    ];

    public static float[] Image()
    {
        var x = new float[Size * Size * Channels];
        for (int r = 0; r < Size; r++)
            for (int c = 0; c < Size; c++)
                for (int ch = 0; ch < Channels; ch++) x[Lab.At(Size, Channels, r, c, ch)] = Pixel(r, c, ch);
        return x;
    }

    /// <summary>The filter as a Keras kernel (3, 3, 3, 1).</summary>
    public static float[] Kernel()
    {
        var w = new float[K * K * Channels];
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++)
                for (int ch = 0; ch < Channels; ch++) w[Lab.Kw(K, Channels, 1, i, j, ch, 0)] = Filter[ch][i][j];
        return w;
    }

    /// <summary>
    /// One row per channel: the 5×5 channel with the window boxed, its filter slice, the nine products and their sum;
    /// then the library's 3×3 output with the explained pixel outlined.
    /// </summary>
    public static IEnumerable<Figure> Figures()
    {
        var conv = Lab.Conv(1, (K, K), (1, 1), Padding.Valid, (Size, Size, Channels), Kernel(), [Bias]);
        var y = Lab.Run(conv, Image());
        var fig = new Figure("02-multichannel", Inv.S($"Output ({OutRow},{OutCol}) = sum over R, G, B of window × slice, plus bias {Page.Num(Bias)}"));
        int total = 0;
        for (int ch = 0; ch < Channels; ch++)
        {
            var xs = new double[Size, Size];
            for (int r = 0; r < Size; r++)
                for (int c = 0; c < Size; c++) xs[r, c] = Pixel(r, c, ch);
            var chan = new GridPanel { Title = Inv.S($"channel {ChannelNames[ch]}"), Cell = 28, Values = xs, Colour = v => Palette.Gray(v, 8, -2) };
            chan.Boxes.Add((OutRow, OutCol, K, K, Palette.Window));
            fig.Place(chan);
            var ws = new double[K, K];
            var prods = new double[K, K];
            int sum = 0;
            for (int i = 0; i < K; i++)
                for (int j = 0; j < K; j++)
                {
                    ws[i, j] = Filter[ch][i][j];
                    prods[i, j] = Pixel(OutRow + i, OutCol + j, ch) * Filter[ch][i][j];
                    sum += (int)prods[i, j];
                }
            total += sum;
            fig.Place(new GridPanel { Title = Inv.S($"slice {ChannelNames[ch]}"), Cell = 28, Values = ws, Colour = v => Palette.Signed(v, 4) });
            fig.Place(new GridPanel { Title = Inv.S($"products, sum {sum}"), Cell = 28, Values = prods, Colour = v => Palette.Signed(v, 8) });
            if (ch == 0)
            {
                int oh = conv.OutputShape![0], ow = conv.OutputShape[1];
                var ys = new double[oh, ow];
                for (int r = 0; r < oh; r++)
                    for (int c = 0; c < ow; c++) ys[r, c] = y[r * ow + c];
                var outp = new GridPanel { Title = "library output", Cell = 40, Values = ys, Colour = v => Palette.Signed(v, 16) };
                outp.Outlines.Add((OutRow, OutCol, Palette.Window));
                fig.Place(outp);
            }
            fig.NewRow();
        }
        yield return fig;
    }

    /// <summary>
    /// The sliding window as an animation: one frame per output pixel, the window boxed on all three channels and the
    /// output filled in up to that pixel (cells not yet computed are blank).
    /// </summary>
    public static Animation SlidingWindow()
    {
        var conv = Lab.Conv(1, (K, K), (1, 1), Padding.Valid, (Size, Size, Channels), Kernel(), [Bias]);
        var y = Lab.Run(conv, Image());
        int oh = conv.OutputShape![0], ow = conv.OutputShape[1];
        var frames = new List<Figure>();
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                var f = new Figure("02-sliding-window-frame", Inv.S($"y[{i},{j}] = sum of 27 products + bias {Page.Num(Bias)} = {Page.Num(y[i * ow + j])}"));
                for (int ch = 0; ch < Channels; ch++)
                {
                    var xs = new double[Size, Size];
                    for (int r = 0; r < Size; r++)
                        for (int c = 0; c < Size; c++) xs[r, c] = Pixel(r, c, ch);
                    var chan = new GridPanel { Title = Inv.S($"channel {ChannelNames[ch]}"), Cell = 28, Values = xs, Colour = v => Palette.Gray(v, 8, -2) };
                    chan.Boxes.Add((i, j, K, K, Palette.Window));
                    f.Place(chan);
                }
                int done = i * ow + j;
                var ys = new double[oh, ow];
                for (int r = 0; r < oh; r++)
                    for (int c = 0; c < ow; c++) ys[r, c] = y[r * ow + c];
                var output = new GridPanel
                {
                    Title = "output",
                    Cell = 40,
                    Values = ys,
                    Fill = (r, c) => r * ow + c <= done ? Palette.Signed(ys[r, c], 16) : Palette.Padding,
                    Label = (r, c) => r * ow + c <= done ? Page.Num((float)ys[r, c]) : "",
                };
                output.Outlines.Add((i, j, Palette.Window));
                f.Place(output);
                frames.Add(f);
            }
        return new Animation("02-sliding-window", frames, 90);
    }

    public static void Write(Page p)
    {
        var conv = Lab.Conv(1, (K, K), (1, 1), Padding.Valid, (Size, Size, Channels), Kernel(), [Bias]);
        var y = Lab.Run(conv, Image());
        int oh = conv.OutputShape![0], ow = conv.OutputShape[1];

        p.Line("A 3×3 filter over a 3-channel input has 3·3·3 = 27 weights: one 3×3 slice per input");
        p.Line("channel. Each channel is multiplied by its own slice, the three partial sums are added,");
        p.Line("then the bias. The filter's channel count must equal the input's.");
        p.Line();
        p.Line("Input 5×5×3, one channel at a time:");
        for (int ch = 0; ch < Channels; ch++)
        {
            p.Line();
            p.Line($"  channel {ChannelNames[ch]}:");
            p.Grid(Size, Size, (r, c) => Pixel(r, c, ch).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        p.Line();
        p.Line($"Filter 3×3×3 (Keras kernel shape {Layer.Fmt(conv.Kernel!.Value.Shape.ToArray())}), bias {Page.Num(Bias)}:");
        for (int ch = 0; ch < Channels; ch++)
        {
            p.Line();
            p.Line($"  slice for {ChannelNames[ch]}:");
            p.Grid(K, K, (r, c) => Filter[ch][r][c].ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        p.Line();
        p.Line($"Output pixel ({OutRow}, {OutCol}) (Valid, stride 1) reads input rows {OutRow}..{OutRow + K - 1}, columns {OutCol}..{OutCol + K - 1}:");
        var sums = new int[Channels];
        for (int ch = 0; ch < Channels; ch++)
        {
            p.Line();
            for (int i = 0; i < K; i++)
                for (int j = 0; j < K; j++)
                {
                    int xv = Pixel(OutRow + i, OutCol + j, ch), wv = Filter[ch][i][j];
                    sums[ch] += xv * wv;
                    p.Line($"    {ChannelNames[ch]}  x[{OutRow + i},{OutCol + j}] · w[{i},{j}] = {xv,2} · {Page.Factor(wv),4} = {xv * wv,3}");
                }
            p.Line($"    sum over channel {ChannelNames[ch]} = {sums[ch]}");
        }
        int total = sums.Sum();
        p.Line();
        p.Line($"    27 products: {Page.SumOf(sums)} = {total}");
        p.Line($"    plus bias {Page.Num(Bias)}: {total} + {Page.Num(Bias)} = {total + Bias}");
        p.Line();
        p.Line($"Library Conv2D(1, 3, valid), output {Page.Shape(conv.OutputShape!)}, {conv.ParamCount} parameters (27 + 1):");
        p.Line();
        p.Grid(oh, ow, (r, c) => Page.Num(y[r * ow + c]));
        p.Line();
        float lib = y[OutRow * ow + OutCol];
        p.Line($"Library y[{OutRow},{OutCol}] = {Page.Num(lib)}, by hand {Page.Num(total + Bias)}: {(lib == total + Bias ? "match" : "MISMATCH")}.");
    }
}
