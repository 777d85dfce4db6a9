namespace ConvNet.Demo.Teaching;

/// <summary>Lesson 4: 1×1 convolution as a per-pixel channel mixer: 300 → 175 channels, and a tiny worked example.</summary>
internal static class PointwiseLesson
{
    public const int InChannels = 300, Filters = 175;

    /// <summary>The 2×2×3 input: [row][col] = (c0, c1, c2).</summary>
    public static readonly int[][][] Pixels =
    [
        [[3, 1, 2], [0, 4, 1]],
        [[2, 2, 2], [5, 0, 3]],
    ];

    /// <summary>Weights [filter][input channel] and biases of the two 1×1 filters.</summary>
    public static readonly int[][] FilterWeights = [[1, 1, -1], [1, 2, 1]];
    public static readonly float[] Biases = [0, 10];

    /// <summary>The library's output of the small example: (2, 2, 2).</summary>
    public static float[] SmallOutput()
    {
        var x = new float[2 * 2 * 3];
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 2; c++)
                for (int ch = 0; ch < 3; ch++) x[Lab.At(2, 3, r, c, ch)] = Pixels[r][c][ch];
        var w = new float[3 * 2];
        for (int k = 0; k < 2; k++)
            for (int ch = 0; ch < 3; ch++) w[Lab.Kw(1, 3, 2, 0, 0, ch, k)] = FilterWeights[k][ch];
        return Lab.Run(Lab.Conv(2, (1, 1), (1, 1), Padding.Valid, (2, 2, 3), w, Biases), x);
    }

    /// <summary>The three input channels of the small example beside the two output channels.</summary>
    public static IEnumerable<Figure> Figures()
    {
        var y = SmallOutput();
        var fig = new Figure("04-pointwise", "1×1 convolution: 3 channels in, 2 channels out, pixel by pixel");
        for (int ch = 0; ch < 3; ch++)
        {
            var v = new double[2, 2];
            for (int r = 0; r < 2; r++)
                for (int c = 0; c < 2; c++) v[r, c] = Pixels[r][c][ch];
            fig.Place(new GridPanel { Title = Inv.S($"in c{ch}"), Cell = 48, Values = v, Colour = x => Palette.Heat(x, 5) });
        }
        for (int k = 0; k < 2; k++)
        {
            var v = new double[2, 2];
            for (int r = 0; r < 2; r++)
                for (int c = 0; c < 2; c++) v[r, c] = y[Lab.At(2, 2, r, c, k)];
            var fw = FilterWeights[k];
            fig.Place(new GridPanel { Title = Inv.S($"out {k} = {Page.Factor(fw[0])}·c0 + {Page.Factor(fw[1])}·c1 + {Page.Factor(fw[2])}·c2 + {Page.Num(Biases[k])}"), Cell = 48, Values = v, Colour = x => Palette.Signed(x, 25) });
        }
        yield return fig;
    }

    public static void Write(Page p)
    {
        var model = new Sequential(new Input(8, 8, InChannels), new Conv2D(Filters, 1)) { Name = "pointwise" };
        var conv = (Conv2D)model.Layers[1];
        long count = conv.ParamCount;
        p.Line("A 1×1 filter looks at one pixel but at all of its channels: it is a Dense layer applied to");
        p.Line("every pixel, with the same weights everywhere. It changes the number of channels and keeps");
        p.Line("height and width.");
        p.Line();
        p.Line($"{InChannels} input channels → {Filters} filters of 1×1, each with {InChannels} weights and 1 bias:");
        p.Line();
        p.Line($"    weights {Filters}·{InChannels} = {Page.Thousands(Filters * InChannels)}, biases {Filters}, total {Filters}·({InChannels} + 1) = {Page.Thousands(Filters * (InChannels + 1))}");
        p.Line($"    library: kernel shape {Layer.Fmt(conv.Kernel!.Value.Shape.ToArray())}, ParamCount = {Page.Thousands(count)}");
        p.Line($"    (a 3×3 layer with the same channels would need {Filters}·(3·3·{InChannels} + 1) = {Page.Thousands(Filters * (9 * InChannels + 1))})");
        p.Line();
        p.Block(model.Summary());
        p.Line();

        var x = new float[2 * 2 * 3];
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 2; c++)
                for (int ch = 0; ch < 3; ch++) x[Lab.At(2, 3, r, c, ch)] = Pixels[r][c][ch];
        var w = new float[3 * 2];
        for (int k = 0; k < 2; k++)
            for (int ch = 0; ch < 3; ch++) w[Lab.Kw(1, 3, 2, 0, 0, ch, k)] = FilterWeights[k][ch];
        var small = Lab.Conv(2, (1, 1), (1, 1), Padding.Valid, (2, 2, 3), w, Biases);
        var y = Lab.Run(small, x);

        p.Line("A small example: a 2×2×3 input and Conv2D(2, 1) with hand-set weights.");
        p.Line($"    filter 0: weights ({string.Join(", ", FilterWeights[0])}), bias {Page.Num(Biases[0])}   (lesson 1's yellow detector)");
        p.Line($"    filter 1: weights ({string.Join(", ", FilterWeights[1])}), bias {Page.Num(Biases[1])}");
        p.Line();
        p.Line("    pixel  input (c0, c1, c2)  filter 0                          filter 1");
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 2; c++)
            {
                var v = Pixels[r][c];
                var cells = new string[2];
                for (int k = 0; k < 2; k++)
                {
                    var fw = FilterWeights[k];
                    int sum = fw[0] * v[0] + fw[1] * v[1] + fw[2] * v[2];
                    cells[k] = Inv.S($"{Page.Factor(fw[0])}·{v[0]} + {Page.Factor(fw[1])}·{v[1]} + {Page.Factor(fw[2])}·{v[2]} + {Page.Num(Biases[k])} = {Page.Num(sum + Biases[k])}");
                }
                string input = Inv.S($"({v[0]}, {v[1]}, {v[2]})");
                p.Line($"    ({r},{c})  {input,-18}  {cells[0],-32}  {cells[1]}");
            }
        p.Line();
        p.Line($"Library output {Page.Shape(small.OutputShape!)}, one 2×2 map per filter:");
        for (int k = 0; k < 2; k++)
        {
            p.Line();
            p.Line($"  channel {k}:");
            p.Grid(2, 2, (r, c) => Page.Num(y[Lab.At(2, 2, r, c, k)]));
        }
    }
}
