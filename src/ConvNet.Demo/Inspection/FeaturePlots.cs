using ScottPlot;

namespace ConvNet.Demo.Inspection;

/// <summary>Titled grids of small heatmaps (filters, feature maps) drawn with ScottPlot.</summary>
internal static class FeaturePlots
{
    /// <summary>One heatmap tile: values (row 0 at the top), its label, the colour scale and colormap.</summary>
    public sealed record Tile(double[,] Data, string Label, double Min, double Max, IColormap Colormap);

    private const int TileTitle = 18, Band = 64;

    /// <summary>Saves the tiles as a grid of <paramref name="columns"/> columns under a (one- or two-line) title.</summary>
    public static void Grid(string path, string title, IReadOnlyList<Tile> tiles, int columns, int tilePixels)
    {
        if (tiles.Count == 0) throw new ArgumentException("No tiles to draw.", nameof(tiles));
        columns = Math.Clamp(columns, 1, tiles.Count);
        int rows = (tiles.Count + columns - 1) / columns;
        int cellW = tilePixels + 6, cellH = tilePixels + TileTitle + 6;
        int longest = title.Split('\n').Max(l => l.Length);
        int width = Math.Max(Math.Max(columns * cellW, 720), 9 * longest + 40), height = Band + rows * cellH;

        var head = new Plot();
        head.HideAxesAndGrid();
        head.Title(title, 15);
        head.Layout.Fixed(new PixelPadding(0, 0, 0, Band - 4));

        var multi = new Multiplot(head);
        foreach (var t in tiles) multi.AddPlot(TilePlot(t));
        multi.Layout = new TitledGrid(rows, columns, Band, cellW, cellH);
        multi.SavePng(path, width, height);
    }

    private static Plot TilePlot(Tile t)
    {
        var plot = new Plot();
        var hm = plot.Add.Heatmap(t.Data);
        hm.Colormap = t.Colormap;
        hm.ManualRange = new ScottPlot.Range(t.Min, t.Max > t.Min ? t.Max : t.Min + 1);
        plot.HideAxesAndGrid();
        plot.Axes.Margins(0, 0);
        plot.Title(t.Label, 12);
        plot.Layout.Fixed(new PixelPadding(3, 3, 3, TileTitle + 3));
        return plot;
    }

    /// <summary>The first subplot fills a title band across the top; the others fill a grid of fixed-size cells, centred.</summary>
    private sealed class TitledGrid(int rows, int columns, int band, int cellW, int cellH) : IMultiplotLayout
    {
        public PixelRect[] GetSubplotRectangles(SubplotCollection subplots, PixelRect figureRect)
        {
            var rects = new PixelRect[subplots.Count];
            rects[0] = new PixelRect(figureRect.Left, figureRect.Right, figureRect.Top + band, figureRect.Top);
            float left0 = figureRect.Left + Math.Max(0, (figureRect.Width - columns * cellW) / 2);
            for (int i = 1; i < rects.Length; i++)
            {
                int r = (i - 1) / columns, c = (i - 1) % columns;
                if (r >= rows) { rects[i] = PixelRect.Zero; continue; }
                float left = left0 + c * cellW, top = figureRect.Top + band + r * cellH;
                rects[i] = new PixelRect(left, left + cellW, top + cellH, top);
            }
            return rects;
        }
    }

    /// <summary>A diverging blue–white–red colormap for signed weights.</summary>
    public static IColormap Signed => new ScottPlot.Colormaps.CustomInterpolated(
        [new Color(33, 72, 196), new Color(120, 160, 235), Colors.White, new Color(240, 140, 120), new Color(190, 30, 30)]);

    /// <summary>Gray (black = low, white = high).</summary>
    public static IColormap Gray => new ScottPlot.Colormaps.Grayscale();
}
