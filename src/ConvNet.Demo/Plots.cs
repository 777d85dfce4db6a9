using ScottPlot;

namespace ConvNet.Demo;

/// <summary>The training run's figures, drawn with ScottPlot (no console output).</summary>
internal static class Plots
{
    private static readonly Color TrainColor = Colors.C0, ValColor = Colors.C1;

    /// <summary>Accuracy and loss per epoch, train vs val, side by side (like the lecture); marks the restored best epoch.</summary>
    public static void Curves(History history, string path, int? bestEpoch)
    {
        var left = CurvePlot(history, "accuracy", "Accuracy", bestEpoch);
        var right = CurvePlot(history, "loss", "Loss", bestEpoch);
        Save(path, 1200, 450, 1, 2, left, right);
    }

    private static Plot CurvePlot(History history, string key, string title, int? bestEpoch)
    {
        var plot = new Plot();
        double[] xs = Enumerable.Range(1, history.Epochs).Select(e => (double)e).ToArray();
        foreach (var (k, label, color) in new[] { (key, "train", TrainColor), ("val_" + key, "val", ValColor) })
        {
            if (!history.Contains(k)) continue;
            var line = plot.Add.Scatter(xs, history[k].ToArray());
            line.LegendText = label;
            line.Color = color;
            line.LineWidth = 2;
            line.MarkerSize = history.Epochs <= 30 ? 5 : 0;
        }
        if (bestEpoch is int best)
        {
            var v = plot.Add.VerticalLine(best);
            v.LinePattern = LinePattern.Dashed;
            v.Color = Colors.Gray;
            v.LegendText = $"best epoch {best}";
        }
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel(title.ToLowerInvariant());
        plot.ShowLegend(Alignment.MiddleRight);
        if (key == "accuracy") plot.Axes.SetLimitsY(-0.02, 1.02);
        else plot.Axes.SetLimitsY(0, Math.Max(1e-3, Max(history, key) * 1.05));
        if (history.Epochs == 1) plot.Axes.SetLimitsX(0.5, 1.5);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        return plot;
    }

    private static double Max(History h, string key) =>
        new[] { key, "val_" + key }.Where(h.Contains).SelectMany(k => h[k]).Where(double.IsFinite).DefaultIfEmpty(1).Max();

    /// <summary>One misclassified sample for <see cref="Errors"/>.</summary>
    public sealed record Mistake(float[] Image, string Guessed, string True, float[]? Example);

    /// <summary>
    /// Each misclassified image beside a real training image of the guessed class, titled "Guessed 'x' True 'y'"
    /// (two pairs per row; at most <paramref name="max"/> pairs).
    /// </summary>
    public static void Errors(IReadOnlyList<Mistake> mistakes, int height, int width, int channels, string path, string setName, int max = 24)
    {
        if (mistakes.Count == 0)
        {
            var plot = new Plot();
            plot.Title($"No misclassified {setName} images");
            plot.HideAxesAndGrid();
            plot.Add.Text("every prediction was right", 0, 0).LabelFontSize = 18;
            plot.SavePng(path, 600, 300);
            return;
        }
        var shown = mistakes.Take(max).ToList();
        int pairsPerRow = Math.Min(2, shown.Count);
        int rows = (shown.Count + pairsPerRow - 1) / pairsPerRow;
        var plots = new List<Plot>();
        for (int i = 0; i < rows * pairsPerRow; i++)
        {
            if (i < shown.Count)
            {
                var m = shown[i];
                plots.Add(ImagePlot(m.Image, height, width, channels, $"Guessed '{m.Guessed}' True '{m.True}'", Colors.DarkRed, first: true));
                plots.Add(m.Example is null
                    ? Blank($"(no training '{m.Guessed}')")
                    : ImagePlot(m.Example, height, width, channels, $"A real '{m.Guessed}'", Colors.Black, first: false));
            }
            else
            {
                plots.Add(Blank(""));
                plots.Add(Blank(""));
            }
        }
        Save(path, 2 * pairsPerRow * 260, rows * 268, rows, 2 * pairsPerRow, plots.ToArray()); // 233×234-pixel images inside the margins
    }

    // The first image of a pair gets a wide left margin and the second a wide right margin, so pairs stand apart.
    private static Plot ImagePlot(float[] image, int height, int width, int channels, string title, Color titleColor, bool first)
    {
        var data = new double[height, width];
        for (int r = 0; r < height; r++)
            for (int c = 0; c < width; c++)
            {
                double sum = 0;
                for (int k = 0; k < Math.Min(channels, 3); k++) sum += image[(r * width + c) * channels + k];
                data[r, c] = sum / Math.Min(channels, 3);
            }
        var plot = new Plot();
        var hm = plot.Add.Heatmap(data);
        hm.Colormap = new ScottPlot.Colormaps.Grayscale();
        hm.ManualRange = new ScottPlot.Range(0, 255);
        plot.HideAxesAndGrid();
        plot.Axes.Margins(0, 0);
        plot.Title(title, 14);
        plot.Axes.Title.Label.ForeColor = titleColor;
        plot.Layout.Fixed(first ? new PixelPadding(24, 3, 8, 26) : new PixelPadding(3, 24, 8, 26));
        return plot;
    }

    private static Plot Blank(string title)
    {
        var plot = new Plot();
        plot.HideAxesAndGrid();
        if (title.Length > 0) plot.Title(title, 12);
        return plot;
    }

    /// <summary>Histograms of the winning softmax probability when the prediction was right and when it was wrong.</summary>
    public static void Confidence(IReadOnlyList<double> maxProbability, IReadOnlyList<bool> correct, string path, string setName)
    {
        var right = maxProbability.Where((_, i) => correct[i]).ToArray();
        var wrong = maxProbability.Where((_, i) => !correct[i]).ToArray();
        Save(path, 1200, 450, 1, 2,
            HistogramPlot(right, $"Correct ({right.Length} {setName} images)", Colors.SeaGreen),
            HistogramPlot(wrong, $"Wrong ({wrong.Length} {setName} images)", Colors.Crimson));
    }

    private static Plot HistogramPlot(double[] values, string title, Color color)
    {
        const int bins = 20;
        var counts = new int[bins];
        foreach (double v in values) counts[Math.Clamp((int)(v * bins), 0, bins - 1)]++;
        var plot = new Plot();
        var bars = Enumerable.Range(0, bins).Select(b => new Bar
        {
            Position = (b + 0.5) / bins,
            Value = counts[b],
            Size = 1.0 / bins * 0.9,
            FillColor = color,
            LineWidth = 0,
        }).ToArray();
        plot.Add.Bars(bars);
        plot.Title(title);
        plot.XLabel("max softmax probability (confidence)");
        plot.YLabel("images");
        plot.Axes.SetLimitsX(0, 1);
        plot.Axes.SetLimitsY(0, Math.Max(1, counts.Max()) * 1.1);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        return plot;
    }

    private static void Save(string path, int width, int height, int rows, int columns, params Plot[] plots)
    {
        var multi = new Multiplot(plots[0]);
        foreach (var p in plots.Skip(1)) multi.AddPlot(p);
        multi.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        multi.SavePng(path, width, height);
    }
}
