using SixLabors.ImageSharp.PixelFormats;

namespace ConvNet.Demo.Teaching;

/// <summary>
/// Lesson 1: a 1×1 Conv2D with RGB weights (1, 1, −1) swept over the lecture's own 16×16 sprites (Pac-Man and the
/// pink ghost) lights up the yellow pixels; the ghost's pink scores 241, almost as much as white.
/// </summary>
internal static class YellowDetectorLesson
{
    public const int Size = 16;
    public static readonly float[] Weights = [1, 1, -1];

    /// <summary>The colours of the sprites: letter, name, RGB (the lecture's exact byte values).</summary>
    public static readonly (char Letter, string Name, int R, int G, int B)[] Colours =
    [
        ('Y', "yellow", 255, 255, 0),
        ('W', "white", 255, 255, 255),
        ('P', "pink", 255, 163, 177),
        ('.', "black", 0, 0, 0),
        ('U', "blue", 51, 0, 255),
    ];

    /// <summary>
    /// The lecture's sprites, transcribed letter for letter from the pixel arrays it prints
    /// (img3 = <c>imread('pr.gif')</c>, Pac-Man facing right; img4 = <c>imread('pg.bmp')</c>, the ghost).
    /// </summary>
    public static readonly (string Name, string File, string[] Rows)[] Sprites =
    [
        ("Pac-Man", "pr.gif",
        [
            "......YYYY......",
            "....YYYYYYYY....",
            "...YYYYYYYYYY...",
            "..YYYYYY.YYYYY..",
            ".YYYYYYYYYYYY...",
            ".YYYYYYYYYY.....",
            "YYYYYYYYY.......",
            "YYYYYYY.........",
            "YYYYYYY.........",
            "YYYYYYYYY.......",
            ".YYYYYYYYYY.....",
            ".YYYYYYYYYYYY...",
            "..YYYYYYYYYYYY..",
            "...YYYYYYYYYY...",
            "....YYYYYYYY....",
            "......YYYY......",
        ]),
        ("ghost", "pg.bmp",
        [
            ".....PPPPPP.....",
            "...PPPPPPPPPP...",
            "..PPPPPPPPPPPP..",
            ".PPPWWPPPPWWPPP.",
            ".PPWWWWPPWWWWPP.",
            "PPPWWWWPPWWWWPPP",
            "PPPUUWWPPUUWWPPP",
            "PPPUUWWPPUUWWPPP",
            "PPPPWWPPPPWWPPPP",
            "PPPPPPPPPPPPPPPP",
            "PPPPPPPPPPPPPPPP",
            "PPPPPPPPPPPPPPPP",
            "PPPPPPPPPPPPPPPP",
            "PPP.PPPPP.PPPPP.",
            "PP...PPP...PPP..",
            "P.....P.....P...",
        ]),
    ];

    /// <summary>The RGB of a sprite letter.</summary>
    public static (int R, int G, int B) Rgb(char letter)
    {
        var c = Colours.Single(k => k.Letter == letter);
        return (c.R, c.G, c.B);
    }

    /// <summary>A sprite as a (16, 16, 3) image of bytes 0–255.</summary>
    public static float[] Image(string[] rows)
    {
        var x = new float[Size * Size * 3];
        for (int r = 0; r < Size; r++)
            for (int c = 0; c < Size; c++)
            {
                var (R, G, B) = Rgb(rows[r][c]);
                x[Lab.At(Size, 3, r, c, 0)] = R;
                x[Lab.At(Size, 3, r, c, 1)] = G;
                x[Lab.At(Size, 3, r, c, 2)] = B;
            }
        return x;
    }

    /// <summary>The library's output map (16×16) for sprite <paramref name="i"/>.</summary>
    public static float[] OutputMap(int i)
    {
        var conv = Lab.Conv(1, (1, 1), (1, 1), Padding.Valid, (Size, Size, 3), Weights, [0]);
        return Lab.Run(conv, Image(Sprites[i].Rows));
    }

    public static void Write(Page p)
    {
        var conv = Lab.Conv(1, (1, 1), (1, 1), Padding.Valid, (Size, Size, 3), Weights, [0]);
        p.Line("A filter is one neuron with a few weights. A convolution slides (sweeps) that same neuron");
        p.Line("over every pixel, so all positions share the weights. Here the neuron is 1×1 and sees one");
        p.Line("pixel's three channels (R, G, B):");
        p.Line();
        p.Line("    y = 1·R + 1·G + (-1)·B + 0        Conv2D(filters=1, kernel_size=1), bias 0");
        p.Line($"    kernel shape {Layer.Fmt(conv.Kernel!.Value.Shape.ToArray())}, parameters {conv.ParamCount} (3 weights + 1 bias)");
        p.Line();
        p.Line("Why each colour of the lecture's sprites gives its value:");
        p.Line();
        p.Line("    colour   R    G    B    1·R + 1·G + (-1)·B     output   Pac-Man  ghost");
        var maps = Enumerable.Range(0, Sprites.Length).Select(OutputMap).ToArray();
        foreach (var col in Colours)
        {
            string sum = Inv.S($"{col.R} + {col.G} - {col.B}");
            var counts = Sprites.Select(s => s.Rows.Sum(r => r.Count(ch => ch == col.Letter))).ToArray();
            // The output is read back from the library's map at the first pixel of this colour.
            int si = Array.FindIndex(counts, n => n > 0);
            int first = Enumerable.Range(0, Size * Size).First(i => Sprites[si].Rows[i / Size][i % Size] == col.Letter);
            p.Line($"    {col.Name,-6} {col.R,3}  {col.G,3}  {col.B,3}    {sum,-18} = {Page.Num(maps[si][first]),6}  {counts[0],8} {counts[1],6}");
        }
        for (int s = 0; s < Sprites.Length; s++)
        {
            var (name, file, rows) = Sprites[s];
            var y = maps[s];
            p.Line();
            p.Line($"{name} (the lecture's {file}), 16×16×3; Y yellow, P pink, W white, U blue, . black:");
            p.Line();
            foreach (var row in rows) p.Line("    " + string.Join(" ", row.ToCharArray()));
            p.Line();
            p.Line($"Output map from the library, shape {Page.Shape(conv.OutputShape!)}:");
            p.Line();
            p.Grid(Size, Size, (r, c) => Page.Num(y[r * Size + c]));
        }
        p.Line();
        var pac = maps[0];
        float max = pac.Max();
        int lit = pac.Count(v => v == max);
        int yellow = Sprites[0].Rows.Sum(r => r.Count(ch => ch == 'Y'));
        bool same = Enumerable.Range(0, Size * Size).All(i => (pac[i] == max) == (Sprites[0].Rows[i / Size][i % Size] == 'Y'));
        p.Line($"Pac-Man: {lit} pixels reach {Page.Num(max)}; the sprite has {yellow} yellow pixels; same set: {(same ? "yes" : "no")}.");
        var ghost = maps[1];
        p.Line($"Ghost: nothing reaches 510. Its maximum is {Page.Num(ghost.Max())} (the white eyes), and its pink body scores");
        p.Line($"{Page.Num(ghost[Lab.At(Size, 1, 9, 0, 0)])}, almost as much: the filter says \"bright red and green, little blue\", and pink is");
        p.Line("that too. Only a threshold above 255 separates yellow from the ghost, e.g. a bias of -300");
        int above = ghost.Count(v => v - 300 > 0), pacAbove = pac.Count(v => v - 300 > 0);
        p.Line($"followed by ReLU: Pac-Man keeps {pacAbove} pixels, the ghost {above}. The pupils (51, 0, 255) go to");
        p.Line($"{Page.Num(ghost.Min())}; a ReLU would zero that negative response.");
    }

    /// <summary>The colour input beside the output map, for both sprites.</summary>
    public static IEnumerable<Figure> Figures()
    {
        var fig = new Figure("01-pacman-and-ghost", "Yellow detector y = R + G - B on the lecture's sprites");
        for (int s = 0; s < Sprites.Length; s++)
        {
            var rows = Sprites[s].Rows;
            var y = OutputMap(s);
            var values = new double[Size, Size];
            for (int r = 0; r < Size; r++)
                for (int c = 0; c < Size; c++) values[r, c] = y[r * Size + c];
            fig.Place(new GridPanel
            {
                Title = Sprites[s].Name + " input (RGB)",
                Cell = 16,
                Values = values,
                ShowNumbers = false,
                Fill = (r, c) => { var (R, G, B) = Rgb(rows[r][c]); return new Rgb24((byte)R, (byte)G, (byte)B); },
            });
            fig.Place(new GridPanel
            {
                Title = "output map (-255 black to 510 white)",
                Cell = 24,
                Values = values,
                Colour = v => OutputGray(v),
            });
            fig.NewRow();
        }
        yield return fig;
    }

    /// <summary>The gray of an output value in the figure: -255 black, 510 white.</summary>
    public static Rgb24 OutputGray(double v) => Palette.Gray(v, -255, 510);
}
