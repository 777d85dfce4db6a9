using System.Globalization;
using System.Text.RegularExpressions;
using ConvNet.Demo.Teaching;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace ConvNet.Demo.Tests;

/// <summary>
/// The walkthrough figures: each lesson renders them from the same numbers it prints, the pages link them, the
/// committed copies under docs/images/walkthroughs are pixel-identical to a fresh render (so a changed number
/// cannot leave a stale picture), and every numbered cell's colour is the colour of its number.
/// </summary>
public sealed class WalkthroughFigureTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "convnet-figures-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    internal static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ConvNet.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No folder containing ConvNet.sln above {AppContext.BaseDirectory}.");
    }

    private static string PageText(int n)
    {
        var files = Directory.GetFiles(Path.Combine(RepoRoot(), "docs", "walkthroughs"), n.ToString("00", CultureInfo.InvariantCulture) + "-*.md");
        return File.ReadAllText(Assert.Single(files));
    }

    public static TheoryData<int> Numbers() => [.. Lessons.All.Select(l => l.Number).Where(n => Lessons.Figures(n).Count > 0)];

    private static Rgb24[][] Pixels(Image<Rgb24> img)
    {
        var frames = new List<Rgb24[]>();
        foreach (ImageFrame<Rgb24> frame in img.Frames)
        {
            var px = new Rgb24[img.Width * img.Height];
            for (int y = 0; y < img.Height; y++)
                for (int x = 0; x < img.Width; x++) px[y * img.Width + x] = frame[x, y];
            frames.Add(px);
        }
        return [.. frames];
    }

    [Theory]
    [MemberData(nameof(Numbers))]
    public void Walkthrough_figures_are_written_linked_and_committed_up_to_date(int n)
    {
        string md = PageText(n);
        foreach (var f in Lessons.Figures(n))
        {
            string path = f.Save(_dir);
            Assert.True(new FileInfo(path).Length > 0, path);
            Assert.Contains($"](../images/walkthroughs/{f.FileName})", md, StringComparison.Ordinal);
            string committed = Path.Combine(RepoRoot(), Lessons.FigureFolder, f.FileName);
            Assert.True(File.Exists(committed), $"{Lessons.FigureFolder}/{f.FileName} is missing; run: convnet lesson {n} --figures {Lessons.FigureFolder}");
            using var fresh = Image.Load<Rgb24>(path);
            using var onDisk = Image.Load<Rgb24>(committed);
            Assert.True(fresh.Width == onDisk.Width && fresh.Height == onDisk.Height && fresh.Frames.Count == onDisk.Frames.Count,
                $"{f.FileName} is stale (size or frame count changed); run: convnet lesson {n} --figures {Lessons.FigureFolder}");
            var a = Pixels(fresh);
            var b = Pixels(onDisk);
            for (int i = 0; i < a.Length; i++)
                Assert.True(a[i].AsSpan().SequenceEqual(b[i]), $"{f.FileName} frame {i} is stale; run: convnet lesson {n} --figures {Lessons.FigureFolder}");
        }
    }

    [Fact]
    public void Walkthrough_figure_folder_holds_only_figures_a_lesson_makes()
    {
        Assert.All(Lessons.All, l => Assert.NotEmpty(Lessons.Figures(l.Number)));
        var made = Lessons.All.SelectMany(l => Lessons.Figures(l.Number)).Select(f => f.FileName).ToHashSet();
        foreach (var file in Directory.GetFiles(Path.Combine(RepoRoot(), Lessons.FigureFolder)))
            Assert.Contains(Path.GetFileName(file), made);
    }

    [Theory]
    [MemberData(nameof(Numbers))]
    public void Walkthrough_figure_cells_have_the_colour_of_their_number(int n)
    {
        var figures = Lessons.Figures(n).OfType<Figure>().Concat(Lessons.Figures(n).OfType<Animation>().SelectMany(a => a.Frames));
        foreach (var f in figures)
        {
            using var img = f.Render();
            foreach (var p in f.Panels)
                for (int r = 0; r < p.Rows; r++)
                    for (int c = 0; c < p.Cols; c++)
                    {
                        var (x, y) = p.Probe(r, c);
                        Assert.True(p.CellColour(r, c) == img[x, y], $"{f.Name}, panel '{p.Title}', cell ({r},{c}): pixel {img[x, y]} is not the colour of {p.Values[r, c]}");
                    }
        }
    }

    [Fact]
    public void Walkthrough_1_figure_shows_the_lessons_output_maps_and_the_sprites_colours()
    {
        var fig = (Figure)Assert.Single(Lessons.Figures(1));
        Assert.Equal(4, fig.Panels.Count);
        string text = Lessons.Render(1);
        var lines = text.Split('\n');
        int from = 0;
        for (int s = 0; s < 2; s++)
        {
            var rows = YellowDetectorLesson.Sprites[s].Rows;
            var input = fig.Panels[2 * s];
            var output = fig.Panels[2 * s + 1];
            from = Array.FindIndex(lines, from, l => l.StartsWith("Output map from the library", StringComparison.Ordinal)) + 2;
            for (int r = 0; r < 16; r++)
            {
                var printed = lines[from + r].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                for (int c = 0; c < 16; c++)
                {
                    var (R, G, B) = YellowDetectorLesson.Rgb(rows[r][c]);
                    Assert.Equal(R + G - B, printed[c]);
                    Assert.Equal(printed[c], output.Values[r, c]);
                    Assert.Equal(new Rgb24((byte)R, (byte)G, (byte)B), input.CellColour(r, c));
                    byte gray = (byte)Math.Round(255.0 * (printed[c] + 255) / 765);
                    Assert.Equal(new Rgb24(gray, gray, gray), output.CellColour(r, c));
                }
            }
        }
        // The ghost: pink 241 is almost white's 255 in the picture too (gray 165 vs 170).
        Assert.Equal(165, YellowDetectorLesson.OutputGray(241).R);
        Assert.Equal(170, YellowDetectorLesson.OutputGray(255).R);
    }

    /// <summary>Rows of integers after the first line starting with <paramref name="header"/> (blank lines skipped).</summary>
    private static int[][] GridAfter(string text, string header, int rows)
    {
        var lines = text.Split('\n');
        int at = Array.FindIndex(lines, l => l.StartsWith(header, StringComparison.Ordinal));
        Assert.True(at >= 0, $"No line starting with '{header}'.");
        int first = Array.FindIndex(lines, at + 1, l => l.Trim().Length > 0);
        return [.. lines.Skip(first).Take(rows).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray())];
    }

    private static void AssertPanelEquals(int[][] printed, GridPanel panel)
    {
        Assert.Equal(printed.Length, panel.Rows);
        for (int r = 0; r < panel.Rows; r++)
        {
            Assert.Equal(printed[r].Length, panel.Cols);
            for (int c = 0; c < panel.Cols; c++) Assert.Equal(printed[r][c], panel.Values[r, c]);
        }
    }

    [Fact]
    public void Walkthrough_3_figures_show_the_printed_output_windows_and_coverage()
    {
        string text = Lessons.Render(3);
        var figs = Lessons.Figures(3);
        var grid = (Figure)figs[0];
        var printed = GridAfter(text, "covers input rows 2i - 1", 3);
        Assert.Equal(18, grid.Panels.Count);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                var input = grid.Panels[2 * (3 * i + j)];
                var output = grid.Panels[2 * (3 * i + j) + 1];
                AssertPanelEquals(printed, output);
                Assert.Equal((i, j), (output.Outlines.Single().R, output.Outlines.Single().C));
                // The window outlined on the padded input starts at padded row/column 2i, 2j and its numbers sum to the output.
                var box = input.Boxes.Single();
                Assert.Equal((2 * i, 2 * j, 3, 3), (box.R, box.C, box.Rows, box.Cols));
                double sum = 0;
                for (int u = 0; u < 3; u++)
                    for (int v = 0; v < 3; v++) sum += input.Values[2 * i + u, 2 * j + v];
                Assert.Equal(printed[i][j], sum);
                Assert.Equal(Palette.Padding, input.CellColour(0, 3));
                Assert.Equal(Palette.White, input.CellColour(1, 1));
            }
        var gif = (Animation)figs[1];
        Assert.Equal(9, gif.Frames.Count);
        string path = gif.Save(_dir);
        using (var img = Image.Load<Rgb24>(path)) Assert.Equal(9, img.Frames.Count);

        var cov = (Figure)figs[2];
        AssertPanelEquals(GridAfter(text, "How many valid windows cover each input pixel", 7), cov.Panels[0]);
        AssertPanelEquals(GridAfter(text, "A 3×3 filter with stride 3 on 6×6", 6), cov.Panels[1]);
        AssertPanelEquals(GridAfter(text, "The same filter with stride 1", 6), cov.Panels[2]);
        Assert.Equal(9, cov.Panels[2].Values[2, 2]);
        Assert.Equal(Palette.Heat(9, 9), cov.Panels[2].CellColour(2, 2));
        Assert.Equal(Palette.White, cov.Panels[0].CellColour(0, 9));   // column 9 is never read
    }

    [Fact]
    public void Walkthrough_5_figure_keeps_each_blocks_maximum_as_printed()
    {
        string text = Lessons.Render(5);
        var lines = text.Split('\n');
        var fig = (Figure)Assert.Single(Lessons.Figures(5));
        Assert.Equal(7, fig.Panels.Count);
        for (int k = 0; k < 3; k++)
        {
            var conv = fig.Panels[2 * k];
            var pooled = fig.Panels[2 * k + 1];
            int at = Array.FindIndex(lines, l => l.StartsWith($"  channel {k} (", StringComparison.Ordinal));
            var pooledRows = new List<int[]>();
            for (int r = 0; r < 6; r++)
            {
                var nums = lines[at + 1 + r].Replace("max →", " ", StringComparison.Ordinal)
                    .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                for (int c = 0; c < 6; c++) Assert.Equal(nums[c], conv.Values[r, c]);
                if (nums.Length > 6) pooledRows.Add(nums[6..]);
            }
            AssertPanelEquals([.. pooledRows], pooled);
            Assert.Equal(9, conv.Boxes.Count);
            Assert.Equal(9, conv.Outlines.Count);
            foreach (var (r, c, colour) in conv.Outlines)
            {
                Assert.Equal(Palette.Highlight, colour);
                Assert.Equal(pooled.Values[r / 2, c / 2], conv.Values[r, c]);
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++) Assert.True(conv.Values[r / 2 * 2 + i, c / 2 * 2 + j] <= conv.Values[r, c]);
            }
        }
        int avgAt = Array.FindIndex(lines, l => l.StartsWith("AveragePooling2D(2) of channel 2", StringComparison.Ordinal));
        var average = fig.Panels[6];
        for (int r = 0; r < 3; r++)
        {
            var nums = lines[avgAt + 2 + r].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            for (int c = 0; c < 3; c++) Assert.Equal(nums[c], average.Values[r, c]);
        }
        Assert.Equal(8.5, average.Values[0, 0]);
        Assert.Equal(Palette.Signed(22, 22), fig.Panels[5].CellColour(1, 1));
    }

    [Fact]
    public void Walkthrough_6_figures_touch_the_right_pixels_and_show_the_library_gradient()
    {
        string text = Lessons.Render(6);
        var figs = Lessons.Figures(6).Cast<Figure>().ToArray();
        var w = figs[0];
        Assert.Equal(7, w.Panels.Count);
        for (int u = 0; u < 2; u++)
            for (int v = 0; v < 2; v++)
            {
                var panel = w.Panels[3 + 2 * u + v];
                var box = panel.Boxes.Single();
                Assert.Equal((u, v, 2, 2), (box.R, box.C, box.Rows, box.Cols));
                int sum = 0;
                for (int r = 0; r < 3; r++)
                    for (int c = 0; c < 3; c++)
                    {
                        bool touched = r - u is 0 or 1 && c - v is 0 or 1;
                        Assert.Equal(touched, panel.CellColour(r, c) != Palette.Padding);
                        if (!touched) continue;
                        int g = BackpropLesson.G[r - u][c - v];
                        Assert.Equal(Palette.Signed(g, 3), panel.CellColour(r, c));
                        sum += (int)panel.Values[r, c] * g;
                    }
                // The title's gradient is the table's "by hand" and Kernel.Grad column.
                Assert.EndsWith($"dL/dw = {sum}", panel.Title, StringComparison.Ordinal);
                Assert.Matches($@"\n    w\[{u},{v}\]\s+{sum}\s+{sum}\s+", text);
            }

        var t = figs[1];
        var printed = GridAfter(text, "    Conv2D(1, 3, valid) with rot180(w) on it", 5);
        var dx = t.Panels[2];
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 5; c++) Assert.Equal(printed[r][5 + c], dx.Values[r, c]);
        var input = t.Panels[0];
        var rot = t.Panels[1];
        var window = input.Boxes.Single();
        var outline = dx.Outlines.Single();
        Assert.Equal((window.R, window.C), (outline.R, outline.C));
        double acc = 0;
        for (int u = 0; u < 3; u++)
            for (int v = 0; v < 3; v++) acc += input.Values[window.R + u, window.C + v] * rot.Values[u, v];
        Assert.Equal(dx.Values[outline.R, outline.C], acc);
        Assert.Equal(8, acc);
        Assert.Equal(Palette.White, input.CellColour(2, 3));      // an inserted zero
        Assert.Equal(Palette.Padding, input.CellColour(0, 0));    // padding
        Assert.Equal(Palette.Signed(3, 3), input.CellColour(4, 4));
    }

    [Fact]
    public void Walkthrough_7_block_diagrams_match_the_summaries()
    {
        string text = Lessons.Render(7);
        var fig = (Figure)Assert.Single(Lessons.Figures(7));
        using var img = fig.Render();
        var models = new[] { ArchitecturesLesson.LeNet5(), ArchitecturesLesson.AlexNet() };
        Assert.Equal(models.Sum(m => m.Layers.Count(l => l is not Input) + 1), fig.Blocks.Count);
        int at = 0;
        foreach (var model in models)
        {
            long total = model.CountParams();
            Assert.EndsWith($"{total:N0} params", fig.Blocks[at++].Line2, StringComparison.Ordinal);
            foreach (var l in model.Layers.Where(l => l is not Input))
            {
                var b = fig.Blocks[at++];
                Assert.StartsWith(l.Name + ":", b.Line1, StringComparison.Ordinal);
                // The summary row of this layer shows the same shape and parameter count as the block.
                string shape = "(None, " + string.Join(", ", l.OutputShape!) + ")";
                Assert.Matches($@"│ {Regex.Escape(l.Name)} \({l.TypeName}\)\s+│ {Regex.Escape(shape)}\s+│\s+{Regex.Escape(l.ParamCount.ToString("N0", CultureInfo.InvariantCulture))} │", text);
                Assert.Equal($"{string.Join("×", l.OutputShape!)}   {l.ParamCount.ToString("N0", CultureInfo.InvariantCulture)} params", b.Line2);
                Assert.Equal(ArchitecturesLesson.BlockColour(l), img[b.Probe.X, b.Probe.Y]);
                Assert.Equal((int)Math.Round((double)l.ParamCount / total * (b.Width - 6)), b.BarPixels);
                int dark = 0;
                for (int x = b.X + 3; x < b.X + b.Width - 3; x++)
                    if (img[x, b.Y + b.Height - 5] == Palette.Ink) dark++;
                Assert.Equal(b.BarPixels, dark);
            }
        }
        // AlexNet's three Dense layers: 94.0 % of the parameters, as the lesson prints.
        int alexBlocks = models[1].Layers.Count(l => l is not Input) + 1;
        double dense = fig.Blocks.Skip(fig.Blocks.Count - alexBlocks).Where(b => b.Line1.Contains(": dense", StringComparison.Ordinal)).Sum(b => b.Bar);
        Assert.Equal(3, fig.Blocks.Skip(fig.Blocks.Count - alexBlocks).Count(b => b.Line1.Contains(": dense", StringComparison.Ordinal)));
        Assert.Contains($"({100 * dense:F1}%)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_2_figure_products_add_up_to_the_printed_pixel()
    {
        string text = Lessons.Render(2);
        var fig = Assert.Single(Lessons.Figures(2).OfType<Figure>());
        const int r0 = MultichannelLesson.OutRow, c0 = MultichannelLesson.OutCol;
        int total = 0;
        for (int ch = 0; ch < 3; ch++)
        {
            int baseIndex = ch == 0 ? 0 : 4 + 3 * (ch - 1);
            var chan = fig.Panels[baseIndex];
            var slice = fig.Panels[baseIndex + 1];
            var prods = fig.Panels[baseIndex + 2];
            var box = chan.Boxes.Single();
            Assert.Equal((r0, c0, 3, 3), (box.R, box.C, box.Rows, box.Cols));
            int sum = 0;
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                {
                    Assert.Equal(chan.Values[r0 + i, c0 + j] * slice.Values[i, j], prods.Values[i, j]);
                    Assert.Equal(MultichannelLesson.Filter[ch][i][j], slice.Values[i, j]);
                    sum += (int)prods.Values[i, j];
                }
            Assert.EndsWith($"sum {sum}", prods.Title, StringComparison.Ordinal);
            Assert.Contains($"    sum over channel {MultichannelLesson.ChannelNames[ch]} = {sum}\n", text, StringComparison.Ordinal);
            total += sum;
        }
        var output = fig.Panels[3];
        AssertPanelEquals(GridAfter(text, "Library Conv2D(1, 3, valid)", 3), output);
        Assert.Equal((r0, c0), (output.Outlines.Single().R, output.Outlines.Single().C));
        Assert.Equal(total + MultichannelLesson.Bias, output.Values[r0, c0]);
    }

    [Fact]
    public void Walkthrough_4_figure_shows_the_printed_output_channels()
    {
        string text = Lessons.Render(4);
        var fig = (Figure)Assert.Single(Lessons.Figures(4));
        Assert.Equal(5, fig.Panels.Count);
        for (int ch = 0; ch < 3; ch++)
            for (int r = 0; r < 2; r++)
                for (int c = 0; c < 2; c++) Assert.Equal(PointwiseLesson.Pixels[r][c][ch], fig.Panels[ch].Values[r, c]);
        AssertPanelEquals(GridAfter(text, "  channel 0:", 2), fig.Panels[3]);
        AssertPanelEquals(GridAfter(text, "  channel 1:", 2), fig.Panels[4]);
        Assert.Equal("out 0 = 1·c0 + 1·c1 + (-1)·c2 + 0", fig.Panels[3].Title);
    }

    [Fact]
    public void Walkthrough_8_figures_show_the_measured_windows_and_the_summary()
    {
        string text = Lessons.Render(8);
        var figs = Lessons.Figures(8).Cast<Figure>().ToArray();
        var model = MandarinModelLesson.Model();
        var blocks = figs[0].Blocks;
        var layers = ArchitecturesLesson.DiagramLayers(model).ToArray();
        Assert.Equal(layers.Length + 1, blocks.Count);
        for (int i = 0; i < layers.Length; i++)
        {
            Assert.Equal(ArchitecturesLesson.BlockShape(layers[i]), blocks[i + 1].Line2);
            Assert.Matches($@"│ {Regex.Escape(layers[i].Name)} \(.*│ \(None, {string.Join(", ", layers[i].OutputShape!)}\)\s+│\s+{layers[i].ParamCount.ToString("N0", CultureInfo.InvariantCulture)} │", text);
        }
        var level = figs[1].Panels.Single();
        // Level 1 is the pooled feature's window, 4 the innermost conv2d's: the cells at level ≥ n form the n-th window.
        int[] sizes = [22, 18, 8, 3];
        for (int n = 1; n <= 4; n++)
        {
            var cells = Enumerable.Range(0, 80 * 80).Where(i => level.Values[i / 80, i % 80] >= n).ToArray();
            int rows = cells.Max(i => i / 80) - cells.Min(i => i / 80) + 1, cols = cells.Max(i => i % 80) - cells.Min(i => i % 80) + 1;
            Assert.Equal((sizes[n - 1], sizes[n - 1]), (rows, cols));
            Assert.Equal(sizes[n - 1] * sizes[n - 1], cells.Length);
            Assert.Contains($": {sizes[n - 1]}×{sizes[n - 1]}\n", text, StringComparison.Ordinal);
        }
        Assert.Equal(MandarinModelLesson.RfColour(4), level.CellColour(40, 40));
        Assert.Equal(Palette.Padding, level.CellColour(0, 0));
    }

    [Fact]
    public void Walkthrough_9_figure_bars_are_the_losses_and_the_kernel_is_the_learned_one()
    {
        var fig = (Figure)Assert.Single(Lessons.Figures(9));
        using var img = fig.Render();
        Assert.Equal(2, fig.Charts.Count);
        for (int run = 0; run < 2; run++)
        {
            var chart = fig.Charts[run];
            var t = LearningFilterLesson.Learn(run);
            Assert.Equal(t.Loss.Select(v => (double)v), chart.Values);
            for (int i = 0; i < chart.Values.Length; i++)
            {
                int expected = (int)Math.Round(chart.Height * Math.Clamp((Math.Log10(t.Loss[i]) + 4) / 6, 0, 1));
                Assert.Equal(expected, chart.BarPixels(i));
                int filled = 0;
                for (int y = chart.Baseline - 1; y >= chart.Y && img[chart.BarColumn(i), y] == chart.Colour; y--) filled++;
                Assert.Equal(expected, filled);
            }
        }
        var learned = fig.Panels[1];
        var t3 = LearningFilterLesson.Learn(1);
        string text = Lessons.Render(9);
        var lines = text.Split('\n');
        int at = Array.FindIndex(lines, l => l.StartsWith("    kernel after 100 steps", StringComparison.Ordinal));
        for (int r = 0; r < 3; r++)
        {
            var printed = lines[at + 1 + r].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            for (int c = 0; c < 3; c++)
            {
                Assert.Equal(printed[c], learned.Text(r, c));
                Assert.Equal(Math.Round(t3.Kernels[^1][r * 3 + c], 3), learned.Values[r, c]);
            }
        }
    }

    [Fact]
    public void Walkthrough_10_figures_show_C_and_the_pooling_gradients()
    {
        var figs = Lessons.Figures(10).Cast<Figure>().ToArray();
        var c = BackpropCompletedLesson.ConvMatrix(BackpropLesson.W, 3, 3);
        var cPanel = figs[0].Panels[0];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 9; j++) Assert.Equal(c[i, j], cPanel.Values[i, j]);
        Assert.Equal(new double[] { 1, 1, -2, 1, 8, -3, -2, 6, 0 }, Enumerable.Range(0, 9).Select(j => figs[0].Panels[1].Values[j, 0]));
        var (map, maxDx, avgDx) = BackpropCompletedLesson.PoolBackward();
        var input = figs[1].Panels[0];
        var maxPanel = figs[1].Panels[2];
        var avgPanel = figs[1].Panels[3];
        for (int r = 0; r < 6; r++)
            for (int q = 0; q < 6; q++)
            {
                Assert.Equal(map[r * 6 + q], input.Values[r, q]);
                Assert.Equal(maxDx[r * 6 + q], maxPanel.Values[r, q]);
                Assert.Equal(avgDx[r * 6 + q], avgPanel.Values[r, q]);
            }
        // The outlined winners are exactly the cells where the max-pooling gradient is not 0.
        var winners = input.Outlines.Select(o => (o.R, o.C)).OrderBy(p => p).ToArray();
        var nonzero = Enumerable.Range(0, 36).Where(i => maxDx[i] != 0).Select(i => (i / 6, i % 6)).OrderBy(p => p).ToArray();
        Assert.Equal(nonzero, winners);
    }

    [Fact]
    public void Walkthrough_11_figure_panels_are_the_measured_gradients()
    {
        var fig = (Figure)Assert.Single(Lessons.Figures(11));
        Assert.Equal(5, fig.Panels.Count);
        int[] widths = [3, 5, 7, 5, 15];
        for (int i = 0; i < 5; i++)
        {
            var p = fig.Panels[i];
            var cols = Enumerable.Range(0, 15).Where(c => Enumerable.Range(0, 15).Any(r => p.Values[r, c] != 0)).ToArray();
            Assert.Equal(widths[i], cols[^1] - cols[0] + 1);
            for (int r = 0; r < 15; r++)
                for (int c = 0; c < 15; c++)
                    Assert.Equal(p.Values[r, c] == 0, p.CellColour(r, c) == Palette.Padding);
        }
        Assert.Equal(49, fig.Panels[2].Values[7, 7]);
        Assert.Equal(9, Enumerable.Range(0, 225).Count(i => fig.Panels[3].Values[i / 15, i % 15] != 0));
    }

    [Fact]
    public void Walkthrough_12_figures_bars_are_the_parameters_and_gradients()
    {
        var figs = Lessons.Figures(12).Cast<Figure>().ToArray();
        var convs = Applications.InceptionModule3a().Layers.OfType<Conv2D>().Concat(InceptionResidualLesson.WithoutBottlenecks().Layers.OfType<Conv2D>()).ToArray();
        Assert.Equal(convs.Length, figs[0].Blocks.Count);
        double max = convs.Max(c => c.ParamCount);
        Assert.Equal(221_312, max);
        for (int i = 0; i < convs.Length; i++)
        {
            Assert.EndsWith(convs[i].ParamCount.ToString("N0", CultureInfo.InvariantCulture), figs[0].Blocks[i].Line2, StringComparison.Ordinal);
            Assert.Equal(convs[i].ParamCount / max, figs[0].Blocks[i].Bar);
        }
        var (plain, res) = (figs[1].Charts[0], figs[1].Charts[1]);
        for (int n = 1; n <= 10; n++)
        {
            Assert.Equal(Math.Pow(0.1, n), plain.Values[n - 1], Math.Pow(0.1, n) * 1e-5);
            Assert.Equal(Math.Pow(1.1, n), res.Values[n - 1], 1e-5);
        }
    }

    [Fact]
    public void Walkthrough_13_figure_bars_and_whiskers_are_the_accuracies_and_intervals()
    {
        var fig = (Figure)Assert.Single(Lessons.Figures(13));
        using var img = fig.Render();
        var chart = fig.Charts.Single();
        var runs = ErrorAnalysisLesson.Runs;
        Assert.Equal(runs.Length, chart.Values.Length);
        for (int i = 0; i < runs.Length; i++)
        {
            Assert.Equal(runs[i].Correct / 57.0, chart.Values[i]);
            int expected = (int)Math.Round(chart.Height * runs[i].Correct / 57.0);
            int filled = 0;
            for (int y = chart.Baseline - 1; y >= chart.Y && img[chart.BarLeft(i) + 2, y] == chart.Colour; y--) filled++;
            Assert.Equal(expected, filled);
            var (lo, hi) = ErrorAnalysisLesson.Wilson(runs[i].Correct, 57);
            Assert.Equal((lo, hi), chart.Intervals![i]);
            Assert.Equal(Palette.Ink, img[chart.BarColumn(i), chart.Baseline - (int)Math.Round(chart.Height * (lo + hi) / 2)]);
        }
    }

    [Fact]
    public void Walkthrough_lesson_command_writes_the_figures_and_prints_the_same_page()
    {
        var r = CliRunner.Run("lesson", "3", "--figures", _dir);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(Lessons.Render(3), r.Out);
        foreach (var f in Lessons.Figures(3))
        {
            Assert.True(File.Exists(Path.Combine(_dir, f.FileName)), f.FileName);
            Assert.Contains(f.FileName, r.Err, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Walkthrough_2_animation_fills_the_printed_output_one_pixel_per_frame()
    {
        string text = Lessons.Render(2);
        var printed = GridAfter(text, "Library Conv2D(1, 3, valid)", 3);
        var gif = Lessons.Figures(2).OfType<Animation>().Single();
        Assert.Equal(9, gif.Frames.Count);
        for (int k = 0; k < 9; k++)
        {
            var frame = gif.Frames[k];
            var output = frame.Panels[3];
            AssertPanelEquals(printed, output);
            Assert.Equal((k / 3, k % 3), (output.Outlines.Single().R, output.Outlines.Single().C));
            for (int cell = 0; cell < 9; cell++)
                Assert.Equal(cell <= k, output.Text(cell / 3, cell % 3).Length > 0);
            foreach (var chan in frame.Panels.Take(3))
                Assert.Equal((k / 3, k % 3, 3, 3), (chan.Boxes.Single().R, chan.Boxes.Single().C, chan.Boxes.Single().Rows, chan.Boxes.Single().Cols));
            Assert.EndsWith($"= {printed[k / 3][k % 3]}", frame.Title, StringComparison.Ordinal);
        }
        using var img = Image.Load<Rgb24>(gif.Save(_dir));
        Assert.Equal(9, img.Frames.Count);
    }
}
