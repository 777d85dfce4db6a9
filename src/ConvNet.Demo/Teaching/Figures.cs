using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.PixelFormats;

namespace ConvNet.Demo.Teaching;

/// <summary>
/// A grid of numbered cells in a figure: one value per cell, drawn as a square filled with <see cref="Fill"/> and,
/// if <see cref="ShowNumbers"/>, the value written in it. Tests read the fill back at <see cref="Probe"/>.
/// </summary>
internal sealed class GridPanel
{
    /// <summary>Title above the grid (upper case in the pixel font).</summary>
    public string Title { get; init; } = "";
    /// <summary>Top-left pixel of the grid, set by <see cref="Figure.Place"/>.</summary>
    public int X { get; set; }
    /// <summary>Top-left pixel of the grid, set by <see cref="Figure.Place"/>.</summary>
    public int Y { get; set; }
    /// <summary>Cell size in pixels (at least 14 when numbers are shown).</summary>
    public int Cell { get; init; } = 28;
    /// <summary>The numbers, [row, column].</summary>
    public required double[,] Values { get; init; }
    /// <summary>Fill colour of cell (r, c); by default <see cref="Colour"/> of its value.</summary>
    public Func<int, int, Rgb24>? Fill { get; init; }
    /// <summary>Colour of a value (used when <see cref="Fill"/> is null).</summary>
    public Func<double, Rgb24> Colour { get; init; } = v => Palette.White;
    /// <summary>Whether to draw the 1-pixel lines between cells.</summary>
    public bool GridLines { get; init; } = true;
    /// <summary>Whether to write each value in its cell.</summary>
    public bool ShowNumbers { get; init; } = true;
    /// <summary>Cells outlined in a colour: (row, column, colour).</summary>
    public List<(int R, int C, Rgb24 Colour)> Outlines { get; } = [];
    /// <summary>Rectangles of cells outlined: (row, column, rows, columns, colour).</summary>
    public List<(int R, int C, int Rows, int Cols, Rgb24 Colour)> Boxes { get; } = [];
    /// <summary>Optional text for a cell instead of its value.</summary>
    public Func<int, int, string>? Label { get; init; }

    public int Rows => Values.GetLength(0);
    public int Cols => Values.GetLength(1);
    public int Width => Cols * Cell + 1;
    public int Height => Rows * Cell + 1;

    /// <summary>The fill colour of cell (r, c).</summary>
    public Rgb24 CellColour(int r, int c) => Fill?.Invoke(r, c) ?? Colour(Values[r, c]);

    /// <summary>A pixel inside cell (r, c) that no line, outline or number covers: 4 pixels in from its top-left corner
    /// (the cell's last pixel when cells are smaller than 6).</summary>
    public (int X, int Y) Probe(int r, int c) => (X + c * Cell + Math.Min(4, Cell - 1), Y + r * Cell + Math.Min(4, Cell - 1));

    /// <summary>The text written in cell (r, c).</summary>
    public string Text(int r, int c) => Label?.Invoke(r, c) ?? Page.Num((float)Values[r, c]);

    internal void Draw(Canvas g)
    {
        if (Title.Length > 0) g.Text(X, Y - 16, Title, Palette.Ink, 2);
        int widest = 0;
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Cols; c++) widest = Math.Max(widest, Canvas.TextWidth(Text(r, c), 1));
        int scale = Cell >= 22 && 2 * widest <= Cell - 6 ? 2 : 1;
        for (int r = 0; r < Rows; r++)
            for (int c = 0; c < Cols; c++)
            {
                var fill = CellColour(r, c);
                g.Fill(X + c * Cell, Y + r * Cell, Cell, Cell, fill);
                if (!ShowNumbers) continue;
                string t = Text(r, c);
                g.Text(X + c * Cell + (Cell - Canvas.TextWidth(t, scale)) / 2 + 1, Y + r * Cell + (Cell - 5 * scale) / 2 + 1, t, Palette.TextOn(fill), scale);
            }
        if (GridLines)
        {
            for (int r = 0; r <= Rows; r++) g.Fill(X, Y + r * Cell, Cols * Cell + 1, 1, Palette.Line);
            for (int c = 0; c <= Cols; c++) g.Fill(X + c * Cell, Y, 1, Rows * Cell + 1, Palette.Line);
        }
        foreach (var (r, c, rows, cols, colour) in Boxes) g.Frame(X + c * Cell, Y + r * Cell, cols * Cell + 1, rows * Cell + 1, colour, 3);
        foreach (var (r, c, colour) in Outlines) g.Frame(X + c * Cell, Y + r * Cell, Cell + 1, Cell + 1, colour, 3);
    }
}

/// <summary>A box with a fill, up to two lines of text and an optional bar (e.g. a share of the parameters).</summary>
internal sealed class TextBox
{
    public int X { get; set; }
    public int Y { get; set; }
    public int Width { get; init; } = 420;
    public int Height { get; init; } = 40;
    public required Rgb24 Fill { get; init; }
    public required string Line1 { get; init; }
    public string Line2 { get; init; } = "";
    /// <summary>Length of a dark bar along the bottom edge, 0 to 1 of the width.</summary>
    public double Bar { get; init; }

    /// <summary>A pixel inside the box that no text, frame or bar covers.</summary>
    public (int X, int Y) Probe => (X + 4, Y + 4);

    /// <summary>The bar's length in pixels (the bar is 3 pixels high, just inside the bottom frame).</summary>
    public int BarPixels => (int)Math.Round(Bar * (Width - 6));

    internal void Draw(Canvas g)
    {
        g.Fill(X, Y, Width, Height, Fill);
        g.Frame(X, Y, Width, Height, Palette.Ink, 2);
        g.Text(X + 8, Y + 7, Line1, Palette.TextOn(Fill), 2);
        if (Line2.Length > 0) g.Text(X + 8, Y + 21, Line2, Palette.TextOn(Fill), 2);
        if (BarPixels > 0) g.Fill(X + 3, Y + Height - 6, BarPixels, 3, Palette.Ink);
    }
}

/// <summary>A bar chart: one bar per value, height from <see cref="Scale"/> (0 to 1 of <see cref="Height"/>), labels under some bars.</summary>
internal sealed class BarChart
{
    public string Title { get; init; } = "";
    public required double[] Values { get; init; }
    /// <summary>Maps a value to a height fraction 0–1 (clamped).</summary>
    public required Func<double, double> Scale { get; init; }
    /// <summary>Text under bar i, or null.</summary>
    public Func<int, string?> Label { get; init; } = _ => null;
    public int BarWidth { get; init; } = 6;
    public int Height { get; init; } = 160;
    public Rgb24 Colour { get; init; } = Palette.Window;
    public int X { get; set; }
    public int Y { get; set; }
    public int Width => Values.Length * (BarWidth + 2) + 2;

    /// <summary>Optional interval per bar (same scale as the values), drawn as a whisker through the bar's middle.</summary>
    public (double Lo, double Hi)[]? Intervals { get; init; }

    /// <summary>The first pixel column of bar i.</summary>
    public int BarLeft(int i) => X + 2 + i * (BarWidth + 2);

    /// <summary>Height in pixels of bar i.</summary>
    public int BarPixels(int i) => (int)Math.Round(Height * Math.Clamp(Scale(Values[i]), 0, 1));

    /// <summary>The pixel column through the middle of bar i.</summary>
    public int BarColumn(int i) => X + 2 + i * (BarWidth + 2) + BarWidth / 2;

    /// <summary>The pixel row of the chart's baseline (bars grow upwards from the row above it).</summary>
    public int Baseline => Y + Height;

    internal void Draw(Canvas g)
    {
        if (Title.Length > 0) g.Text(X, Y - 16, Title, Palette.Ink, 2);
        g.Fill(X, Baseline, Width, 1, Palette.Ink);
        g.Fill(X, Y, 1, Height + 1, Palette.Ink);
        for (int i = 0; i < Values.Length; i++)
        {
            int h = BarPixels(i);
            g.Fill(X + 2 + i * (BarWidth + 2), Baseline - h, BarWidth, h, Colour);
            if (Label(i) is { } text) g.Text(BarColumn(i) - Canvas.TextWidth(text, 1) / 2, Baseline + 4, text, Palette.Ink, 1);
            if (Intervals is { } iv)
            {
                int lo = (int)Math.Round(Height * Math.Clamp(Scale(iv[i].Lo), 0, 1)), hi = (int)Math.Round(Height * Math.Clamp(Scale(iv[i].Hi), 0, 1));
                g.Fill(BarColumn(i) - 1, Baseline - hi, 2, hi - lo + 1, Palette.Ink);
                g.Fill(BarColumn(i) - 5, Baseline - hi, 10, 2, Palette.Ink);
                g.Fill(BarColumn(i) - 5, Baseline - lo - 1, 10, 2, Palette.Ink);
            }
        }
    }
}

/// <summary>One PNG figure: grid panels, bar charts and labelled boxes under a title, drawn on white.</summary>
internal sealed class Figure(string name, string title) : IFigureFile
{
    /// <inheritdoc/>
    public string FileName => Name + ".png";

    private int _x = Margin, _y = Margin + 24 + 20, _rowHeight;

    private const int Margin = 16, Gap = 28;

    /// <summary>File name without extension, e.g. "01-pacman-and-ghost".</summary>
    public string Name { get; } = name;
    /// <summary>Title across the top.</summary>
    public string Title { get; } = title;
    /// <summary>The grids, in placement order.</summary>
    public List<GridPanel> Panels { get; } = [];
    /// <summary>Canvas width and height, grown by <see cref="Place"/>.</summary>
    public int Width { get; private set; } = 2 * Margin + Canvas.TextWidth(title, 3);
    public int Height { get; private set; }

    /// <summary>Places a panel to the right of the previous one and returns it.</summary>
    public GridPanel Place(GridPanel p)
    {
        int titleWidth = Canvas.TextWidth(p.Title, 2);
        p.X = _x;
        p.Y = _y;
        Panels.Add(p);
        _x += Math.Max(p.Width, titleWidth) + Gap;
        _rowHeight = Math.Max(_rowHeight, p.Height);
        Width = Math.Max(Width, _x - Gap + Margin);
        Height = Math.Max(Height, _y + p.Height + Margin);
        return p;
    }

    /// <summary>Starts a new row of panels below the current one.</summary>
    public void NewRow()
    {
        _y += _rowHeight + 20 + Gap;
        _x = Margin;
        _rowHeight = 0;
    }

    /// <summary>Bar charts, in placement order.</summary>
    public List<BarChart> Charts { get; } = [];

    /// <summary>Places a bar chart to the right of the previous element.</summary>
    public BarChart Place(BarChart chart)
    {
        chart.X = _x;
        chart.Y = _y;
        Charts.Add(chart);
        int w = Math.Max(chart.Width, Canvas.TextWidth(chart.Title, 2));
        _x += w + Gap;
        _rowHeight = Math.Max(_rowHeight, chart.Height + 12);
        Width = Math.Max(Width, _x - Gap + Margin);
        Height = Math.Max(Height, _y + chart.Height + 12 + Margin);
        return chart;
    }

    /// <summary>Whether stacked boxes are joined by arrows (a chain of layers) or not (parallel branches).</summary>
    public bool StackArrows { get; init; } = true;

    /// <summary>Labelled boxes (block diagrams), in placement order.</summary>
    public List<TextBox> Blocks { get; } = [];

    /// <summary>Places a labelled box below the previous one in the current column (starting a column at the current position).</summary>
    public TextBox Stack(TextBox box, bool newColumn = false)
    {
        if (newColumn || _stackX < 0)
        {
            _stackX = _x;
            _stackY = _y;
            _x += box.Width + Gap;
        }
        box.X = _stackX;
        box.Y = _stackY;
        _stackY += box.Height + StackGap;
        Blocks.Add(box);
        Width = Math.Max(Width, box.X + box.Width + Margin);
        Height = Math.Max(Height, box.Y + box.Height + Margin);
        _rowHeight = Math.Max(_rowHeight, _stackY - _y);
        return box;
    }

    private int _stackX = -1, _stackY;
    private const int StackGap = 14;

    /// <summary>Draws the figure.</summary>
    public Image<Rgb24> Render()
    {
        var g = new Canvas(Width, Height);
        g.Text(Margin, Margin, Title, Palette.Ink, 3);
        foreach (var p in Panels) p.Draw(g);
        foreach (var c in Charts) c.Draw(g);
        for (int i = 0; i < Blocks.Count; i++)
        {
            var b = Blocks[i];
            b.Draw(g);
            if (StackArrows && i + 1 < Blocks.Count && Blocks[i + 1].X == b.X && Blocks[i + 1].Y == b.Y + b.Height + StackGap)
            {
                int cx = b.X + 40;
                g.Fill(cx, b.Y + b.Height, 2, StackGap - 4, Palette.Ink);
                g.Fill(cx - 3, b.Y + b.Height + StackGap - 5, 8, 2, Palette.Ink);
            }
        }
        return g.Image;
    }

    /// <summary>Writes <c>DIR/Name.png</c> and returns its path.</summary>
    public string Save(string dir)
    {
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, Name + ".png");
        using var img = Render();
        img.SaveAsPng(path);
        return path;
    }
}

/// <summary>An animated GIF made of figures of equal size (one per frame).</summary>
internal sealed class Animation(string name, IReadOnlyList<Figure> frames, int delayCentiseconds) : IFigureFile
{
    /// <inheritdoc/>
    public string FileName => Name + ".gif";

    public string Name { get; } = name;
    public IReadOnlyList<Figure> Frames { get; } = frames;

    /// <summary>Writes <c>DIR/Name.gif</c> (looping) and returns its path.</summary>
    public string Save(string dir)
    {
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, Name + ".gif");
        using var gif = Frames[0].Render();
        gif.Metadata.GetGifMetadata().RepeatCount = 0;
        gif.Frames.RootFrame.Metadata.GetGifMetadata().FrameDelay = delayCentiseconds;
        foreach (var f in Frames.Skip(1))
        {
            using var img = f.Render();
            var frame = gif.Frames.AddFrame(img.Frames.RootFrame);
            frame.Metadata.GetGifMetadata().FrameDelay = delayCentiseconds;
        }
        gif.SaveAsGif(path);
        return path;
    }
}

/// <summary>A figure file a lesson writes: a PNG or an animated GIF.</summary>
internal interface IFigureFile
{
    /// <summary>File name with extension, e.g. "01-pacman-and-ghost.png".</summary>
    string FileName { get; }
    /// <summary>Writes the file into <paramref name="dir"/> and returns its path.</summary>
    string Save(string dir);
}

/// <summary>The colours of the figures. Every mapping is integer arithmetic, so tests can recompute a pixel exactly.</summary>
internal static class Palette
{
    public static readonly Rgb24 White = new(255, 255, 255);
    public static readonly Rgb24 Ink = new(20, 20, 20);
    public static readonly Rgb24 Line = new(150, 150, 150);
    public static readonly Rgb24 Padding = new(225, 225, 225);
    public static readonly Rgb24 Window = new(0, 110, 220);
    public static readonly Rgb24 Highlight = new(230, 60, 20);
    public static readonly Rgb24 Accent = new(255, 200, 60);

    /// <summary>Gray level of v on [lo, hi]: black at lo, white at hi, clamped.</summary>
    public static Rgb24 Gray(double v, double lo, double hi)
    {
        byte b = (byte)Math.Clamp((int)Math.Round(255 * (v - lo) / (hi - lo)), 0, 255);
        return new Rgb24(b, b, b);
    }

    /// <summary>Blue (negative) – white (0) – red (positive), full strength at |v| = maxAbs.</summary>
    public static Rgb24 Signed(double v, double maxAbs)
    {
        int t = (int)Math.Round(200 * Math.Min(1, Math.Abs(v) / maxAbs));
        byte fade = (byte)(255 - t);
        return v >= 0 ? new Rgb24(255, fade, fade) : new Rgb24(fade, fade, 255);
    }

    /// <summary>White (0) to orange-red (max) for counts and other non-negative values.</summary>
    public static Rgb24 Heat(double v, double max)
    {
        double t = max <= 0 ? 0 : Math.Clamp(v / max, 0, 1);
        return new Rgb24(255, (byte)(255 - (int)Math.Round(155 * t)), (byte)(255 - (int)Math.Round(235 * t)));
    }

    /// <summary>Black or white text, whichever reads on <paramref name="fill"/>.</summary>
    public static Rgb24 TextOn(Rgb24 fill) => 299 * fill.R + 587 * fill.G + 114 * fill.B >= 128_000 ? Ink : White;
}

/// <summary>A white RGB canvas with rectangles and a 3×5 pixel font.</summary>
internal sealed class Canvas
{
    public Image<Rgb24> Image { get; }

    public Canvas(int width, int height)
    {
        Image = new Image<Rgb24>(width, height, Palette.White);
    }

    public void Fill(int x, int y, int w, int h, Rgb24 c)
    {
        for (int j = Math.Max(0, y); j < Math.Min(Image.Height, y + h); j++)
            for (int i = Math.Max(0, x); i < Math.Min(Image.Width, x + w); i++) Image[i, j] = c;
    }

    /// <summary>A rectangle outline <paramref name="t"/> pixels thick, drawn inside (x, y, w, h).</summary>
    public void Frame(int x, int y, int w, int h, Rgb24 c, int t)
    {
        Fill(x, y, w, t, c);
        Fill(x, y + h - t, w, t, c);
        Fill(x, y, t, h, c);
        Fill(x + w - t, y, t, h, c);
    }

    /// <summary>Width in pixels of <paramref name="s"/> at <paramref name="scale"/> (4 pixels per glyph at scale 1, no trailing gap).</summary>
    public static int TextWidth(string s, int scale) => s.Length == 0 ? 0 : (4 * s.Length - 1) * scale;

    public void Text(int x, int y, string s, Rgb24 c, int scale)
    {
        foreach (char ch in s.ToUpperInvariant())
        {
            var rows = Glyph(ch);
            for (int r = 0; r < 5; r++)
                for (int q = 0; q < 3; q++)
                    if (rows[r][q] == '1') Fill(x + q * scale, y + r * scale, scale, scale, c);
            x += 4 * scale;
        }
    }

    private static string[] Glyph(char ch) => ch switch
    {
        '0' => ["111", "101", "101", "101", "111"],
        '1' => ["010", "110", "010", "010", "111"],
        '2' => ["111", "001", "111", "100", "111"],
        '3' => ["111", "001", "111", "001", "111"],
        '4' => ["101", "101", "111", "001", "001"],
        '5' => ["111", "100", "111", "001", "111"],
        '6' => ["111", "100", "111", "101", "111"],
        '7' => ["111", "001", "001", "001", "001"],
        '8' => ["111", "101", "111", "101", "111"],
        '9' => ["111", "101", "111", "001", "111"],
        'A' => ["010", "101", "111", "101", "101"],
        'B' => ["110", "101", "110", "101", "110"],
        'C' => ["011", "100", "100", "100", "011"],
        'D' => ["110", "101", "101", "101", "110"],
        'E' => ["111", "100", "110", "100", "111"],
        'F' => ["111", "100", "110", "100", "100"],
        'G' => ["011", "100", "101", "101", "011"],
        'H' => ["101", "101", "111", "101", "101"],
        'I' => ["111", "010", "010", "010", "111"],
        'J' => ["001", "001", "001", "101", "010"],
        'K' => ["101", "101", "110", "101", "101"],
        'L' => ["100", "100", "100", "100", "111"],
        'M' => ["101", "111", "111", "101", "101"],
        'N' => ["110", "101", "101", "101", "101"],
        'O' => ["010", "101", "101", "101", "010"],
        'P' => ["110", "101", "110", "100", "100"],
        'Q' => ["010", "101", "101", "110", "011"],
        'R' => ["110", "101", "110", "101", "101"],
        'S' => ["011", "100", "010", "001", "110"],
        'T' => ["111", "010", "010", "010", "010"],
        'U' => ["101", "101", "101", "101", "111"],
        'V' => ["101", "101", "101", "101", "010"],
        'W' => ["101", "101", "111", "111", "101"],
        'X' => ["101", "101", "010", "101", "101"],
        'Y' => ["101", "101", "010", "010", "010"],
        'Z' => ["111", "001", "010", "100", "111"],
        '-' => ["000", "000", "111", "000", "000"],
        '.' => ["000", "000", "000", "000", "010"],
        ',' => ["000", "000", "000", "010", "100"],
        ':' => ["000", "010", "000", "010", "000"],
        '=' => ["000", "111", "000", "111", "000"],
        '+' => ["000", "010", "111", "010", "000"],
        '×' => ["000", "101", "010", "101", "000"],
        '(' => ["010", "100", "100", "100", "010"],
        ')' => ["010", "001", "001", "001", "010"],
        '[' => ["110", "100", "100", "100", "110"],
        ']' => ["011", "001", "001", "001", "011"],
        '/' => ["001", "001", "010", "100", "100"],
        '\'' => ["010", "010", "000", "000", "000"],
        '→' => ["000", "001", "111", "001", "000"],
        '_' => ["000", "000", "000", "000", "111"],
        '%' => ["101", "001", "010", "100", "101"],
        '^' => ["010", "101", "000", "000", "000"],
        '·' => ["000", "000", "010", "000", "000"],
        ' ' => ["000", "000", "000", "000", "000"],
        _ => ["111", "001", "010", "000", "010"],
    };
}
