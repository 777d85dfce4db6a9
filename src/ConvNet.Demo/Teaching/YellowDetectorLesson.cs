namespace ConvNet.Demo.Teaching;

/// <summary>Lesson 1: a 1×1 Conv2D with RGB weights (1, 1, −1) swept over a 16×16 smiley lights up the yellow pixels.</summary>
internal static class YellowDetectorLesson
{
    public const int Size = 16;
    public static readonly float[] Weights = [1, 1, -1];

    /// <summary>The colours of the sprite: letter, name, RGB.</summary>
    public static readonly (char Letter, string Name, int R, int G, int B)[] Colours =
    [
        ('Y', "yellow", 255, 255, 0),
        ('W', "white", 255, 255, 255),
        ('R', "red", 255, 0, 0),
        ('.', "black", 0, 0, 0),
        ('B', "blue", 0, 0, 255),
    ];

    /// <summary>The sprite as 16 rows of colour letters: a yellow smiley with white eyes, a red mouth and blue corner stars, on black.</summary>
    public static string[] SpriteRows()
    {
        var rows = new char[Size][];
        for (int r = 0; r < Size; r++)
        {
            rows[r] = new char[Size];
            for (int c = 0; c < Size; c++)
            {
                int dr = 2 * r - (Size - 1), dc = 2 * c - (Size - 1);
                rows[r][c] = dr * dr + dc * dc <= 13 * 13 ? 'Y' : '.';
            }
        }
        foreach (var (r, c) in new[] { (4, 5), (5, 5), (4, 10), (5, 10) }) rows[r][c] = 'W';
        foreach (var (r, c) in new[] { (9, 4), (10, 5), (11, 6), (11, 7), (11, 8), (11, 9), (10, 10), (9, 11) }) rows[r][c] = 'R';
        foreach (var (r, c) in new[] { (0, 0), (0, 15), (15, 0), (15, 15), (1, 1), (14, 14) }) rows[r][c] = 'B';
        return rows.Select(r => new string(r)).ToArray();
    }

    /// <summary>The sprite as a (16, 16, 3) image of bytes 0–255.</summary>
    public static float[] Image()
    {
        var rows = SpriteRows();
        var x = new float[Size * Size * 3];
        for (int r = 0; r < Size; r++)
            for (int c = 0; c < Size; c++)
            {
                var col = Colours.Single(k => k.Letter == rows[r][c]);
                x[Lab.At(Size, 3, r, c, 0)] = col.R;
                x[Lab.At(Size, 3, r, c, 1)] = col.G;
                x[Lab.At(Size, 3, r, c, 2)] = col.B;
            }
        return x;
    }

    public static void Write(Page p)
    {
        var rows = SpriteRows();
        var x = Image();
        var conv = Lab.Conv(1, (1, 1), (1, 1), Padding.Valid, (Size, Size, 3), Weights, [0]);
        var y = Lab.Run(conv, x);

        p.Line("A filter is one neuron with a few weights. A convolution slides (sweeps) that same neuron");
        p.Line("over every pixel, so all positions share the weights. Here the neuron is 1×1 and sees one");
        p.Line("pixel's three channels (R, G, B):");
        p.Line();
        p.Line("    y = 1·R + 1·G + (-1)·B + 0        Conv2D(filters=1, kernel_size=1), bias 0");
        p.Line($"    kernel shape {Layer.Fmt(conv.Kernel!.Value.Shape.ToArray())}, parameters {conv.ParamCount} (3 weights + 1 bias)");
        p.Line();
        p.Line("Input sprite, 16×16×3 (Y yellow 255,255,0  W white 255,255,255  R red 255,0,0");
        p.Line("B blue 0,0,255  . black 0,0,0):");
        p.Line();
        foreach (var row in rows) p.Line("    " + string.Join(" ", row.ToCharArray()));
        p.Line();
        p.Line($"Output map from the library, shape {Page.Shape(conv.OutputShape!)}:");
        p.Line();
        p.Grid(Size, Size, (r, c) => Page.Num(y[r * Size + c]));
        p.Line();
        p.Line("Why each colour gives its value (one row per colour, read back from the output map):");
        p.Line();
        p.Line("    colour   R    G    B    1·R + 1·G + (-1)·B     output  pixels");
        foreach (var col in Colours)
        {
            int first = Enumerable.Range(0, Size * Size).First(i => rows[i / Size][i % Size] == col.Letter);
            int count = Enumerable.Range(0, Size * Size).Count(i => rows[i / Size][i % Size] == col.Letter);
            string sum = Inv.S($"{col.R} + {col.G} - {col.B}");
            p.Line($"    {col.Name,-6} {col.R,3}  {col.G,3}  {col.B,3}    {sum,-18} = {Page.Num(y[first]),6}  {count,6}");
        }
        p.Line();
        float max = y.Max();
        int lit = y.Count(v => v == max);
        int yellow = rows.Sum(r => r.Count(ch => ch == 'Y'));
        p.Line($"Pixels that light up (output = {Page.Num(max)}, the maximum), marked #:");
        p.Line();
        for (int r = 0; r < Size; r++)
            p.Line("    " + string.Join(" ", Enumerable.Range(0, Size).Select(c => y[r * Size + c] == max ? '#' : '.')));
        p.Line();
        p.Line($"{lit} pixels reach {Page.Num(max)}; the sprite has {yellow} yellow pixels; same set: {(Enumerable.Range(0, Size * Size).All(i => (y[i] == max) == (rows[i / Size][i % Size] == 'Y')) ? "yes" : "no")}.");
        p.Line("White and red reach only 255, black stays 0 and blue is pushed to -255: the detector");
        p.Line("answers \"how yellow is this pixel\". A ReLU after it would zero the negative blue response.");
    }
}
