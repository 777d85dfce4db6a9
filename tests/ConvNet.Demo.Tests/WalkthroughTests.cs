using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using ConvNet.Demo.Teaching;
using Xunit;

namespace ConvNet.Demo.Tests;

/// <summary>
/// Each docs/walkthroughs page embeds the exact text of <c>convnet lesson N</c>; these tests fail when the
/// page and <see cref="Lessons.Render"/> drift apart, and recompute the key numbers by plain arithmetic
/// so that the code cannot drift from the maths either.
/// </summary>
public class WalkthroughTests
{
    private static readonly ConcurrentDictionary<int, string> Rendered = new();

    private static string Render(int n) => Rendered.GetOrAdd(n, Lessons.Render);

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ConvNet.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No folder containing ConvNet.sln above {AppContext.BaseDirectory}.");
    }

    private static string WalkthroughDir => Path.Combine(RepoRoot(), "docs", "walkthroughs");

    private static string PagePath(int n)
    {
        var files = Directory.GetFiles(WalkthroughDir, n.ToString("00", CultureInfo.InvariantCulture) + "-*.md");
        Assert.True(files.Length == 1, $"Expected exactly one docs/walkthroughs/{n:00}-*.md, found {files.Length}.");
        return files[0];
    }

    /// <summary>The fenced block after the line <c>&lt;!-- output of: convnet lesson N --&gt;</c>, with '\n' line ends.</summary>
    private static string EmbeddedOutput(int n)
    {
        var lines = File.ReadAllText(PagePath(n)).Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        string marker = $"<!-- output of: convnet lesson {n} -->";
        int at = Array.FindIndex(lines, l => l.Trim() == marker);
        Assert.True(at >= 0, $"Page {n} has no line '{marker}'.");
        Assert.Equal("```text", lines[at + 1].Trim());
        int end = Array.FindIndex(lines, at + 2, l => l.TrimEnd() == "```");
        Assert.True(end > at, $"Page {n}: the output block is not closed.");
        return string.Concat(lines[(at + 2)..end].Select(l => l + "\n"));
    }

    /// <summary>Rows of integers that follow the first line starting with <paramref name="header"/> (blank lines skipped).</summary>
    private static int[][] GridAfter(string text, string header, int rows)
    {
        var lines = text.Split('\n');
        int at = Array.FindIndex(lines, l => l.StartsWith(header, StringComparison.Ordinal));
        Assert.True(at >= 0, $"No line starting with '{header}'.");
        int first = Array.FindIndex(lines, at + 1, l => l.Trim().Length > 0);
        return lines.Skip(first).Take(rows)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray())
            .ToArray();
    }

    public static TheoryData<int> AllLessons() => [.. Lessons.All.Select(l => l.Number)];

    [Theory]
    [MemberData(nameof(AllLessons))]
    public void Walkthrough_page_embeds_exactly_what_the_lesson_prints(int n)
    {
        string expected = Render(n);
        string actual = EmbeddedOutput(n);
        if (expected != actual)
        {
            var e = expected.Split('\n');
            var a = actual.Split('\n');
            int i = 0;
            while (i < Math.Min(e.Length, a.Length) && e[i] == a[i]) i++;
            Assert.Fail($"docs page {Path.GetFileName(PagePath(n))} drifted from `convnet lesson {n}` at block line {i + 1}:\n" +
                        $"  lesson prints: {(i < e.Length ? e[i] : "<end>")}\n  page shows:    {(i < a.Length ? a[i] : "<end>")}\n" +
                        $"Regenerate the block with: dotnet run --project src/ConvNet.Demo -c Release -- lesson {n}");
        }
    }

    [Theory]
    [MemberData(nameof(AllLessons))]
    public void Walkthrough_page_shows_the_command_and_the_title(int n)
    {
        string md = File.ReadAllText(PagePath(n));
        Assert.Contains($"dotnet run --project src/ConvNet.Demo -c Release -- lesson {n}", md, StringComparison.Ordinal);
        string title = Lessons.All.Single(l => l.Number == n).Title;
        Assert.StartsWith($"# {n}. {title}", md, StringComparison.Ordinal);
        Assert.StartsWith($"Lesson {n}: {title}\n", Render(n), StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_index_links_every_page()
    {
        string index = File.ReadAllText(Path.Combine(WalkthroughDir, "README.md"));
        Assert.Equal(Enumerable.Range(1, Lessons.All.Count), Lessons.All.Select(l => l.Number));
        foreach (var (n, _) in Lessons.All)
            Assert.Contains($"({Path.GetFileName(PagePath(n))})", index, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)] [InlineData(99)] [InlineData(-1)]
    public void Walkthrough_unknown_lesson_is_a_clear_error(int n)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Lessons.Render(n));
        Assert.Contains($"1 to {Lessons.All.Count}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_render_is_deterministic() => Assert.Equal(Lessons.Render(1), Lessons.Render(1));

    [Fact]
    public void Walkthrough_1_yellow_detector_map_is_R_plus_G_minus_B()
    {
        Assert.Equal(510, 1 * 255 + 1 * 255 - 1 * 0);
        Assert.Equal(241, 255 + 163 - 177);
        string text = Render(1);
        var lines = text.Split('\n');
        int from = 0;
        var maps = new List<int[][]>();
        foreach (var (_, _, rows) in YellowDetectorLesson.Sprites)
        {
            from = Array.FindIndex(lines, from, l => l.StartsWith("Output map from the library", StringComparison.Ordinal)) + 1;
            var map = GridAfter(string.Join('\n', lines[(from - 1)..]), "Output map from the library", 16);
            for (int r = 0; r < 16; r++)
                for (int c = 0; c < 16; c++)
                {
                    var (R, G, B) = YellowDetectorLesson.Rgb(rows[r][c]);
                    Assert.Equal(R + G - B, map[r][c]);
                }
            maps.Add(map);
        }
        var pac = YellowDetectorLesson.Sprites[0].Rows;
        int yellow = pac.Sum(r => r.Count(ch => ch == 'Y'));
        Assert.Equal(143, yellow);
        Assert.Equal(yellow, maps[0].SelectMany(r => r).Count(v => v == 510));
        Assert.Contains($"Pac-Man: {yellow} pixels reach 510; the sprite has {yellow} yellow pixels; same set: yes.", text, StringComparison.Ordinal);
        var ghost = maps[1].SelectMany(r => r).ToArray();
        Assert.Equal(255, ghost.Max());
        Assert.Equal(-204, ghost.Min());
        Assert.Equal(YellowDetectorLesson.Sprites[1].Rows.Sum(r => r.Count(ch => ch == 'P')), ghost.Count(v => v == 241));
        Assert.Contains("Its maximum is 255 (the white eyes), and its pink body scores\n241, almost as much", text, StringComparison.Ordinal);
        Assert.Contains($"Pac-Man keeps {yellow} pixels, the ghost 0.", text, StringComparison.Ordinal);
        Assert.Contains("    pink   255  163  177    255 + 163 - 177    =    241         0    168", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_2_one_output_pixel_is_27_products_plus_bias()
    {
        string text = Render(2);
        const int r0 = MultichannelLesson.OutRow, c0 = MultichannelLesson.OutCol;
        var lib = GridAfter(text, "Library Conv2D(1, 3, valid)", 3);
        for (int oh = 0; oh < 3; oh++)
            for (int ow = 0; ow < 3; ow++)
            {
                int sum = (int)MultichannelLesson.Bias;
                for (int ch = 0; ch < 3; ch++)
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 3; j++)
                            sum += MultichannelLesson.Pixel(oh + i, ow + j, ch) * MultichannelLesson.Filter[ch][i][j];
                Assert.Equal(sum, lib[oh][ow]);
            }
        Assert.Equal(27, Regex.Matches(text, @"^    [RGB]  x\[\d,\d\] · w\[\d,\d\] =", RegexOptions.Multiline).Count);
        int v = lib[r0][c0];
        Assert.Contains($"Library y[{r0},{c0}] = {v}, by hand {v}: match.", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_3_output_sizes_follow_the_formulas()
    {
        string text = Render(3);
        foreach (var (i, k, s) in PaddingStrideLesson.Cases)
        {
            int valid = (int)Math.Floor((i - k) / (double)s) + 1;
            int same = (int)Math.Ceiling(i / (double)s);
            int padTotal = Math.Max((same - 1) * s + k - i, 0);
            var line = text.Split('\n').Single(l => Regex.IsMatch(l, $@"^\s+{i}\s+{k}\s+{s} \|"));
            Assert.Matches($@"floor\({i - k}/{s}\)\+1 = {valid} \|\s+ceil\({i}/{s}\) = {same}\s+{padTotal}\s+{padTotal / 2}\s+{padTotal - padTotal / 2} \|\s+{valid} / {same}$", line);
        }
        // Dumoulin & Visin relationship 6 with p = 1: floor((5 + 2 - 3)/2) + 1 = 3.
        Assert.Contains("i=5, k=3, s=2, p=1: o = 3", text, StringComparison.Ordinal);
        Assert.Contains("library output (None, 3, 3, 1)", text, StringComparison.Ordinal);
        Assert.Contains("library output (None, 4, 4, 1)", text, StringComparison.Ordinal);
        var once = GridAfter(text, "A 3×3 filter with stride 3 on 6×6", 6);
        Assert.All(once.SelectMany(r => r), v => Assert.Equal(1, v));
        Assert.Contains("all ones: yes", text, StringComparison.Ordinal);
        var same3 = GridAfter(text, "Conv2D(1, 3, same) with all nine weights 1", 4);
        Assert.Equal(1 + 2 + 5 + 6, same3[0][0]);
        Assert.Equal(11 + 12 + 15 + 16, same3[3][3]);
        Assert.Equal(6 + 7 + 8 + 10 + 11 + 12 + 14 + 15 + 16, same3[2][2]);
    }

    [Fact]
    public void Walkthrough_4_pointwise_parameter_count_and_values()
    {
        string text = Render(4);
        Assert.Equal(52_675, 175 * (300 + 1));
        Assert.Contains("ParamCount = 52,675", text, StringComparison.Ordinal);
        var c0 = GridAfter(text, "  channel 0:", 2);
        var c1 = GridAfter(text, "  channel 1:", 2);
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 2; c++)
            {
                var p = PointwiseLesson.Pixels[r][c];
                Assert.Equal(p[0] + p[1] - p[2], c0[r][c]);
                Assert.Equal(p[0] + 2 * p[1] + p[2] + 10, c1[r][c]);
            }
    }

    [Fact]
    public void Walkthrough_5_conv_then_max_pool_by_plain_loops()
    {
        string text = Render(5);
        var x = PoolingLesson.Input;
        int P(int r, int c) => r is >= 0 and < 6 && c is >= 0 and < 6 ? x[r][c] : 0;
        var lines = text.Split('\n');
        for (int k = 0; k < 3; k++)
        {
            var conv = new int[6, 6];
            for (int r = 0; r < 6; r++)
                for (int c = 0; c < 6; c++)
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 3; j++) conv[r, c] += P(r - 1 + i, c - 1 + j) * PoolingLesson.Filters3[k][i][j];
            int at = Array.FindIndex(lines, l => l.StartsWith($"  channel {k} (", StringComparison.Ordinal));
            var pooledRows = new List<int[]>();
            for (int r = 0; r < 6; r++)
            {
                var nums = lines[at + 1 + r].Replace("max →", " ", StringComparison.Ordinal)
                    .Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                for (int c = 0; c < 6; c++) Assert.Equal(conv[r, c], nums[c]);
                if (nums.Length > 6) pooledRows.Add(nums[6..]);
            }
            Assert.Equal(3, pooledRows.Count);
            for (int r = 0; r < 3; r++)
                for (int c = 0; c < 3; c++)
                {
                    int max = new[] { conv[2 * r, 2 * c], conv[2 * r, 2 * c + 1], conv[2 * r + 1, 2 * c], conv[2 * r + 1, 2 * c + 1] }.Max();
                    Assert.Equal(max, pooledRows[r][c]);
                }
        }
        Assert.Contains("Total params: 30", text, StringComparison.Ordinal);
        Assert.Contains("(None, 3, 3, 3)", text, StringComparison.Ordinal);
        // Box sum of the top-left 2×2 block of outputs: 5, 8, 9, 12 → max 12, mean 8.5.
        Assert.Contains("= 12      library MaxPooling2D     12", text, StringComparison.Ordinal);
        Assert.Contains(FormattableString.Invariant($"= {(5 + 8 + 9 + 12) / 4.0:0.##}      library AveragePooling2D 8.5"), text, StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_6_weight_gradient_is_sum_of_x_times_g()
    {
        string text = Render(6);
        var x = BackpropLesson.X;
        var g = BackpropLesson.G;
        int dw00 = x[0][0] * g[0][0] + x[0][1] * g[0][1] + x[1][0] * g[1][0] + x[1][1] * g[1][1];
        Assert.Equal(1 * 1 + 2 * 2 + 3 * -1 + 1 * 3, dw00);
        Assert.Contains($"= 1 + 4 + (-3) + 3 = {dw00}", text, StringComparison.Ordinal);
        for (int u = 0; u < 2; u++)
            for (int v = 0; v < 2; v++)
            {
                int hand = 0;
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++) hand += x[i + u][j + v] * g[i][j];
                Assert.Matches($@"\n    w\[{u},{v}\]\s+{hand}\s+{hand}\s+{hand}\.000000\n", text);
            }
        Assert.Contains($"dL/db = Σ g = 1 + 2 + (-1) + 3 = {g.Sum(r => r.Sum())}   library Bias.Grad {g.Sum(r => r.Sum())}", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_7_classic_parameter_counts()
    {
        string text = Render(7);
        long lenet = 6 * (5 * 5 * 1 + 1) + 16 * (5 * 5 * 6 + 1) + 120 * (5 * 5 * 16 + 1) + 84 * (120 + 1) + 10 * (84 + 1);
        long alex = 96L * (11 * 11 * 3 + 1) + 256L * (5 * 5 * 96 + 1) + 384L * (3 * 3 * 256 + 1) + 384L * (3 * 3 * 384 + 1)
                    + 256L * (3 * 3 * 384 + 1) + 4096L * (6 * 6 * 256 + 1) + 4096L * (4096 + 1) + 1000L * (4096 + 1);
        Assert.Equal(61_706, lenet);
        Assert.Equal(62_378_344, alex);
        Assert.Contains(" Total params: 61,706 (241.04 KB)", text, StringComparison.Ordinal);
        Assert.Contains(" Total params: 62,378,344 (237.95 MB)", text, StringComparison.Ordinal);
        long grouped = alex - (256L * 5 * 5 * 96 + 384L * 3 * 3 * 384 + 256L * 3 * 3 * 384) / 2;
        Assert.Equal(60_965_224, grouped);
        Assert.Contains("60,965,224", text, StringComparison.Ordinal);
        Assert.Contains("(None, 55, 55, 96)", text, StringComparison.Ordinal);
        Assert.Contains("(None, 6, 6, 256)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("LeNet-6 ", text.Split("Corrections")[0], StringComparison.Ordinal);
    }

    private static string PageText(int n) => File.ReadAllText(PagePath(n)).Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>Page text outside the embedded lesson output, with line breaks turned into spaces (prose only).</summary>
    private static string Prose(int n)
    {
        string md = PageText(n);
        string block = EmbeddedOutput(n);
        return Regex.Replace(md.Replace(block, "", StringComparison.Ordinal), @"\s+", " ");
    }

    [Fact]
    public void Walkthrough_3_same_is_relationship_6_and_d2l_total_padding_fits_every_case()
    {
        // Issue 17 item 1: in 7, k 3, s 2 has an even padTotal (2) but output 4, not i = 7: relationship 6 with p = 1.
        string text = Render(3);
        Assert.Equal(2, PaddingStrideLesson.SamePadTotal(7, 3, 2));
        Assert.Equal(4, (7 + 2 * 1 - 3) / 2 + 1);
        Assert.Contains("in=7, k=3, s=2: padTotal = 2, p = 1, o = floor((7 + 2 - 3)/2) + 1 = 4 = ceil(7/2), not i = 7", text, StringComparison.Ordinal);
        Assert.DoesNotContain("relationship 3 when padTotal is even", text, StringComparison.Ordinal);
        Assert.DoesNotContain("relationship 3 when padTotal is even", Prose(3), StringComparison.Ordinal);
        // Item 2: the guide has 15 relationships; the page means the first six.
        Assert.Contains("first six of the guide's 15 relationships", text, StringComparison.Ordinal);
        Assert.Contains("numbers 15 relationships", Prose(3), StringComparison.Ordinal);
        // Item 3: d2l's floor((n - k + p_total + s)/s) is the library's Same size everywhere; at s > 1 so is the
        // symmetric p = ceil(padTotal/2); at s = 1 an odd padTotal has no symmetric p.
        for (int i = 1; i <= 24; i++)
            for (int k = 1; k <= Math.Min(i, 7); k++)
                for (int s = 1; s <= 4; s++)
                {
                    int lib = new Conv2D(1, (k, k), (s, s), Padding.Same).ComputeOutputShape([i, i, 1])[0];
                    int pt = PaddingStrideLesson.SamePadTotal(i, k, s);
                    Assert.Equal(lib, (i - k + pt + s) / s);
                    Assert.Equal(lib, PaddingStrideLesson.D2lOut(i, k, s, pt));
                    if (s > 1) Assert.Equal(lib, (i + 2 * ((pt + 1) / 2) - k) / s + 1);
                    else if (pt % 2 == 1)
                    {
                        Assert.Equal(0, k % 2);
                        Assert.NotEqual(lib, (i + 2 * (pt / 2) - k) / s + 1);
                        Assert.NotEqual(lib, (i + 2 * (pt / 2 + 1) - k) / s + 1);
                    }
                }
        foreach (var (i, k, s) in PaddingStrideLesson.Cases)
        {
            int pt = PaddingStrideLesson.SamePadTotal(i, k, s);
            Assert.Matches($@"\n\s+{i}\s+{k}\s+{s}\s+{pt} \|\s+floor\({i - k + pt + s}/{s}\) = {(i - k + pt + s) / s} \|\s+{(i + 2 * ((pt + 1) / 2) - k) / s + 1} \|\s+{(i + s - 1) / s}\n", text);
        }
        Assert.Contains("first input row of each window: TensorFlow 0, 2, 4; symmetric p = 1: -1, 1, 3", text, StringComparison.Ordinal);
        Assert.Contains("in=4, k=2, s=1: padTotal = 1; p = 0 gives 3, p = 1 gives 5, Same gives 4", text, StringComparison.Ordinal);
        Assert.Contains("floor((in − k + p_total + s) / s)", Prose(3), StringComparison.Ordinal);
        Assert.DoesNotContain("no single symmetric p can describe", Prose(3), StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_3_a_1x1_valid_convolution_keeps_the_size()
    {
        // Issue 17 item 4: "every Valid convolution shrinks the image" is false for k = 1.
        Assert.Equal(5, new Conv2D(1, 1).ComputeOutputShape([5, 5, 1])[0]);
        Assert.Matches(@"\n\s+5\s+1\s+1 \|\s+floor\(4/1\)\+1 = 5 \|.*\|\s+5 / 5\n", Render(3));
        Assert.Contains("a 1×1 kernel keeps the size (5 → 5)", Render(3), StringComparison.Ordinal);
        Assert.DoesNotContain("every Valid convolution shrinks", Prose(3), StringComparison.Ordinal);
        Assert.Contains("only a 1×1 kernel keeps the size", Prose(3), StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_5_pooling_size_is_relationship_7_and_alexnet_windows_overlap()
    {
        // Issue 17 item 7: o = floor((i - k)/s) + 1, and AlexNet's 3×3/2 pooling overlaps (27 → 13).
        string text = Render(5);
        foreach (var (i, k, s) in PoolingLesson.PoolCases)
        {
            int o = (i - k) / s + 1;
            Assert.Equal(o, new MaxPooling2D(k, s).ComputeOutputShape([i, i, 1])[0]);
            string kind = s < k ? "overlap" : s == k ? "tile" : "skip pixels";
            Assert.Matches($@"\n\s+{i}\s+{k}\s+{s}  floor\({i - k}/{s}\)\+1 = {o}\s+{o}  {kind}\n", text);
        }
        Assert.Equal(13, (27 - 3) / 2 + 1);
        Assert.Contains("overlap by one pixel and take 27 → 13", Prose(5), StringComparison.Ordinal);
        Assert.DoesNotContain("summarises each non-overlapping", Prose(5), StringComparison.Ordinal);
        Assert.Contains("(None, 13, 13, 256)", Render(7), StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_5_and_7_agree_on_LeNet5_pooling_and_the_published_60000()
    {
        // Issue 17 item 8: average pooling vs trainable coefficients, reconciled; the published total is 60,000.
        var rows = ArchitecturesLesson.PublishedLeNet5;
        Assert.Equal(new long[] { 156, 12, 1_516, 32, 48_120, 10_164 }, rows.Select(r => r.Count));
        Assert.Equal(60_000, rows.Sum(r => r.Count));
        Assert.Equal(1_516, 25 * (6 * 3 + 9 * 4 + 1 * 6) + 16);
        Assert.Equal(61_706, 60_000 + (2_416 - 1_516) - (12 + 32) + 850);
        string text = Render(7);
        Assert.Contains("    sum                                      60,000", text, StringComparison.Ordinal);
        Assert.Contains("60,000 + 900 - 44 + 850 = 61,706", text, StringComparison.Ordinal);
        Assert.Contains("S2   6·(coefficient + bias)             =     12", text, StringComparison.Ordinal);
        Assert.DoesNotContain("is what LeNet-5 used", Prose(5), StringComparison.Ordinal);
        Assert.Contains("trainable coefficient", Prose(5), StringComparison.Ordinal);
        Assert.Contains("60,000 trainable parameters", Prose(7), StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_7_alexnet_55_from_227_or_from_224_with_two_zeros()
    {
        // Issue 17 item 9.
        Assert.Equal(55, (227 - 11) / 4 + 1);
        Assert.Equal(55, (224 + 2 * 2 - 11) / 4 + 1);
        Assert.Equal(55, new Conv2D(96, 11, 4).ComputeOutputShape([224 + 4, 224 + 4, 3])[0]);
        string text = Render(7);
        Assert.Contains("227×227, no padding:            floor((227 - 11)/4) + 1 = 55   library Conv2D(96, 11, 4) on 227: 55", text, StringComparison.Ordinal);
        Assert.Contains("224×224, 2 zeros on each side:  floor((224 + 4 - 11)/4) + 1 = 55   library Conv2D(96, 11, 4) on 228: 55", text, StringComparison.Ordinal);
        Assert.Contains("ceil(224/4) = 56", text, StringComparison.Ordinal);
        Assert.DoesNotContain("227 is what makes", Prose(7), StringComparison.Ordinal);
        Assert.Contains("torchvision", Prose(7), StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_7_lists_the_five_further_lecture_typos()
    {
        string text = Render(7);
        string corrections = text[text.IndexOf("Corrections to the lecture's typos", StringComparison.Ordinal)..];
        foreach (var fix in new[] { "C1, S2, C3, S4, C5, F6", "won ILSVRC 2014, top-5 error 6.67%", "Inception v1", "ResNet won ILSVRC 2015, top-5 error 3.57%", "dx₁" })
        {
            Assert.Contains(fix, corrections, StringComparison.Ordinal);
        }
        string prose = Prose(7);
        foreach (var fix in new[] { "**C1, S2, C3, S4, C5, F6**", "ILSVRC **2014** (top-5 error 6.67 %)", "Inception **v1**", "ILSVRC **2015** (top-5 error 3.57 %)", "**dx₁**" })
            Assert.Contains(fix, prose, StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_6_input_gradient_is_a_correlation_with_the_rotated_kernel()
    {
        // Issue 17 item 5: rot180(w) over g padded by k - 1 zeros equals dL/dx, by plain loops and in the lesson.
        var w = BackpropLesson.W;
        var g = BackpropLesson.G;
        var rot = BackpropLesson.Rot180(w);
        Assert.Equal(new[] { new[] { 0, 2 }, new[] { -1, 1 } }, rot);
        var padded = BackpropLesson.Pad(g, 1);
        var byLoops = new int[3, 3];
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
                for (int u = 0; u < 2; u++)
                    for (int v = 0; v < 2; v++) byLoops[a, b] += padded[a + u][b + v] * rot[u][v];
        var direct = new int[3, 3];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                for (int u = 0; u < 2; u++)
                    for (int v = 0; v < 2; v++) direct[i + u, j + v] += g[i][j] * w[u][v];
        Assert.Equal(direct, byLoops);
        string text = Render(6);
        Assert.Contains("g padded (4×4)     rot180(w)", text, StringComparison.Ordinal);
        Assert.Contains("     0  2", text, StringComparison.Ordinal);
        var grid = GridAfter(text, "    Conv2D(1, 2, valid) with kernel rot180(w)", 3);
        for (int a = 0; a < 3; a++)
        {
            Assert.Equal(new[] { byLoops[a, 0], byLoops[a, 1], byLoops[a, 2], byLoops[a, 0], byLoops[a, 1], byLoops[a, 2] }, grid[a]);
        }
        Assert.Contains("    equal: yes\n", text, StringComparison.Ordinal);
        Assert.Contains("turned by 180°", Prose(6), StringComparison.Ordinal);
        Assert.DoesNotContain("a Full convolution of g with the kernel", Prose(6), StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_6_strided_input_gradient_is_a_transposed_convolution()
    {
        // Issue 17 item 6: with stride s, g is dilated with s - 1 zeros; the result equals Conv2D.Backward.
        var w = BackpropLesson.W3;
        var g = BackpropLesson.G;
        const int n = BackpropLesson.StridedInput, s = BackpropLesson.Stride, k = 3;
        var direct = new int[n, n];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                for (int u = 0; u < k; u++)
                    for (int v = 0; v < k; v++) direct[s * i + u, s * j + v] += g[i][j] * w[u][v];
        var dilated = BackpropLesson.Dilate(g, s - 1);
        Assert.Equal(new[] { new[] { 1, 0, 2 }, new[] { 0, 0, 0 }, new[] { -1, 0, 3 } }, dilated);
        var padded = BackpropLesson.Pad(dilated, k - 1);
        Assert.Equal(7, padded.Length);
        Assert.Equal(s * (2 - 1) + k, padded.Length - k + 1);   // relationship 12: o' = s(i' - 1) + k = 5
        var rot = BackpropLesson.Rot180(w);
        var lib = BackpropLesson.StridedLibraryDx();
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++)
            {
                int sum = 0;
                for (int u = 0; u < k; u++)
                    for (int v = 0; v < k; v++) sum += padded[a + u][b + v] * rot[u][v];
                Assert.Equal(direct[a, b], sum);
                Assert.Equal(direct[a, b], (int)lib[a * n + b]);
            }
        string text = Render(6);
        var grid = GridAfter(text, "    Conv2D(1, 3, valid) with rot180(w) on it", n);
        for (int a = 0; a < n; a++)
            Assert.Equal(Enumerable.Range(0, 2 * n).Select(c => direct[a, c % n]), grid[a]);
        Assert.Contains("transposed convolution (Dumoulin & Visin, relationship 12", text, StringComparison.Ordinal);
        Assert.Contains($"= 1·1 + 2·2 + (-1)·0 + 3·1 = {direct[2, 2]}", text, StringComparison.Ordinal);
        Assert.Contains("**transposed convolution**", Prose(6), StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_8_mandarin_parameters_shapes_and_receptive_fields()
    {
        string text = Render(8);
        long[] counts = [16 * (3 * 3 * 1 + 1), 32 * (3 * 3 * 16 + 1), 64 * (3 * 3 * 32 + 1), 128 * (10 * 10 * 64 + 1), 57 * (128 + 1)];
        Assert.Equal(new long[] { 160, 4_640, 18_496, 819_328, 7_353 }, counts);
        Assert.Equal(849_977, counts.Sum());
        Assert.Contains(" Total params: 849,977 (3.24 MB)", text, StringComparison.Ordinal);
        Assert.Contains("    conv2d    16·(3·3·1 + 1) = 16·10 = 160\n", text, StringComparison.Ordinal);
        Assert.Contains("    dense_1   57·(128 + 1) = 57·129 = 7,353\n", text, StringComparison.Ordinal);
        Assert.Contains("    total     849,977 parameters · 4 bytes = 3,399,908 B = 3.24 MB", text, StringComparison.Ordinal);
        Assert.Contains($"({100.0 * 819_328 / 849_977:F1}%)", text, StringComparison.Ordinal);
        Assert.Contains("    spatial size 80 → 40 → 20 → 10; flatten 10·10·64 = 6,400", text, StringComparison.Ordinal);
        Assert.Contains("    → 6,400 → 128 → 57", text, StringComparison.Ordinal);

        // Receptive field by the recurrence r += (k - 1)·j, j *= s, over conv(3,1), pool(2,2) ×3: 3, 4, 8, 10, 18, 22.
        int r = 1, j = 1;
        var expected = new List<int>();
        foreach (var (k, st) in new[] { (3, 1), (2, 2), (3, 1), (2, 2), (3, 1), (2, 2) })
        {
            r += (k - 1) * j;
            j *= st;
            expected.Add(r);
        }
        Assert.Equal(new[] { 3, 4, 8, 10, 18, 22 }, expected);
        Assert.Equal(expected, MandarinModelLesson.ReceptiveFields(MandarinModelLesson.Model()).Select(x => x.R));
        foreach (var (size, label) in new[] { (3, "conv2d (80×80)"), (8, "conv2d_1 (40×40)"), (18, "conv2d_2 (20×20)"), (22, "max_pooling2d_2 (10×10)") })
            Assert.Matches($@"\n    {Regex.Escape(label)} unit .* rows\s+\d+\.\.\s*\d+, columns\s+\d+\.\.\s*\d+: {size}×{size}\n", text);
        foreach (var (layers, _, y, x) in MandarinModelLesson.Probes)
        {
            var (top, bottom, left, right) = MandarinModelLesson.MeasuredWindow(layers, y, x);
            Assert.Equal(bottom - top, right - left);
        }
    }

    [Fact]
    public void Walkthrough_8_batch_pitfall_and_exercises()
    {
        string text = Render(8);
        Assert.Contains("the batch dimension is missing", text, StringComparison.Ordinal);
        Assert.Contains("X_test[[17]], not X_test[17]", text, StringComparison.Ordinal);
        Assert.Contains("X_test[[17]] (shape (1, 80, 80, 1)): Predict returns shape (1, 57)", text, StringComparison.Ordinal);
        var answers = MandarinModelLesson.Exercises().Select(e => e.Answer).ToArray();
        Assert.Equal(Page.Thousands(32 * (5 * 5 * 16 + 1)), answers[0]);
        Assert.Equal("36×36", answers[1]);
        Assert.Equal($"{Page.Thousands(12 * 12 * 64)}, {Page.Thousands(128 * (12 * 12 * 64 + 1))}", answers[2]);
        long four = 160 + 4_640 + 18_496 + 128 * (9 * 64 + 1) + 128 * (5 * 5 * 128 + 1) + 57 * 129;
        Assert.Equal(Page.Thousands(four), answers[3]);
        string md = File.ReadAllText(PagePath(8));
        foreach (var a in new[] { "**12,832**", "**36**", "**9,216**", "**1,179,776**", "**514,233**" })
            Assert.Contains(a, md, StringComparison.Ordinal);
        foreach (var a in answers) Assert.Contains(a, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_9_loss_follows_the_closed_form_and_the_filters_are_recovered()
    {
        string text = Render(9);
        // 1×2 run: w = (a, -a), L = 12·(1 - a)², the error 1 - a shrinks by 1 - 12·lr per step.
        var t = LearningFilterLesson.Learn(0);
        Assert.Equal(new[] { -12f, 12f }, t.FirstGradient);
        for (int n = 0; n <= 10; n++)
        {
            double a = 1 - Math.Pow(0.64, n);
            Assert.Equal(12 * Math.Pow(0.4096, n), t.Loss[n], 4);
            Assert.Equal(a, t.Kernels[n][0], 4);
            Assert.Equal(-a, t.Kernels[n][1], 4);
            string row = FormattableString.Invariant($"    {n,4} {12 * Math.Pow(0.4096, n),9:0.0000}   [{a:0.0000}, {-a:0.0000}]\n");
            Assert.Contains(row.Replace("-0.0000", "0.0000", StringComparison.Ordinal), text.Replace("-0.0000", "0.0000", StringComparison.Ordinal), StringComparison.Ordinal);
        }
        // 3×3 run: ends within 0.004 of the Prewitt kernel.
        var t3 = LearningFilterLesson.Learn(1);
        Assert.True(LearningFilterLesson.MaxError(t3.Kernels[^1], LearningFilterLesson.TrueKernels[1]) < 0.004f);
        Assert.True(t3.Loss[^1] < 2e-4f);
        for (int i = 1; i < t3.Loss.Length; i++) Assert.True(t3.Loss[i] < t3.Loss[i - 1]);
        Assert.Contains("    kernel after 100 steps (true: 1 0 -1 in every row):", text, StringComparison.Ordinal);
        // Exercises, by the closed form where there is one.
        var answers = LearningFilterLesson.Exercises().Select(e => e.Answer).ToArray();
        Assert.Equal((12 * Math.Pow(2.6, 20)).ToString("0.####E+0", CultureInfo.InvariantCulture), answers[0]);
        Assert.Equal((12 * Math.Pow(0.88, 20)).ToString("0.0000", CultureInfo.InvariantCulture), answers[1]);
        Assert.Equal("6", answers[2]);
        Assert.Equal(6, (int)Math.Ceiling(Math.Log(120) / Math.Log(1 / 0.4096)));
        Assert.True(double.Parse(answers[3], CultureInfo.InvariantCulture) > 1e20);
        foreach (var a in answers) Assert.Contains(a, text, StringComparison.Ordinal);
        string md = File.ReadAllText(PagePath(9));
        foreach (var a in new[] { "**2.39·10⁹**", "**0.93**", "**6**", "**3.5·10²⁵**" }) Assert.Contains(a, md, StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_10_matrix_view_pooling_gradients_and_one_sgd_step()
    {
        string text = Render(10);
        var c = BackpropCompletedLesson.ConvMatrix(BackpropLesson.W, 3, 3);
        var x = BackpropLesson.X.SelectMany(r => r).ToArray();
        var g = BackpropLesson.G.SelectMany(r => r).ToArray();
        var cx = Enumerable.Range(0, 4).Select(i => Enumerable.Range(0, 9).Sum(j => c[i, j] * x[j])).ToArray();
        Assert.Equal(new[] { 5, 4, 2, 1 }, cx);   // lesson 6's forward values
        var ctg = Enumerable.Range(0, 9).Select(j => Enumerable.Range(0, 4).Sum(i => c[i, j] * g[i])).ToArray();
        Assert.Equal(new[] { 1, 1, -2, 1, 8, -3, -2, 6, 0 }, ctg);   // lesson 6's dL/dx
        Assert.Contains("    C·x = (5, 4, 2, 1)   library Conv2D: (5, 4, 2, 1)", text, StringComparison.Ordinal);
        Assert.Contains($"    Cᵀ·g = ({string.Join(", ", ctg)})\n    library dL/dx = ({string.Join(", ", ctg)})", text, StringComparison.Ordinal);

        // Pooling: by plain loops over lesson 5's channel 0.
        var (map, maxDx, avgDx) = BackpropCompletedLesson.PoolBackward();
        var maxExpected = new float[36];
        var avgExpected = new float[36];
        for (int br = 0; br < 3; br++)
            for (int bc = 0; bc < 3; bc++)
            {
                int best = 2 * br * 6 + 2 * bc;
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++)
                    {
                        int at = (2 * br + i) * 6 + 2 * bc + j;
                        if (map[at] > map[best]) best = at;
                        avgExpected[at] = BackpropCompletedLesson.PoolGrad[br][bc] / 4f;
                    }
                maxExpected[best] = BackpropCompletedLesson.PoolGrad[br][bc];
            }
        Assert.Equal(maxExpected, maxDx);
        Assert.Equal(avgExpected, avgDx);
        AssertGrid(GridAfter(text, "(the first maximum when two tie)", 6), maxExpected);
        Assert.Contains("    sum of dL/dx: max 45, average 45, sum of g 45", text, StringComparison.Ordinal);

        // SGD: y - t = (1, 1, -1, -1), dL/dw[u,v] = Σ 2(y - t)·x[i+u, j+v].
        var t = BackpropCompletedLesson.Target.SelectMany(r => r).ToArray();
        var d = cx.Zip(t, (a, b) => 2 * (a - b)).ToArray();
        var grad = new int[4];
        for (int u = 0; u < 2; u++)
            for (int v = 0; v < 2; v++)
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++) grad[u * 2 + v] += d[i * 2 + j] * BackpropLesson.X[i + u][j + v];
        Assert.Equal(new[] { -2, -2, 6, -4 }, grad);
        Assert.Contains("dL/dw (Kernel.Grad, from dL/dy = 2(y - t)) = (-2, -2, 6, -4)", text, StringComparison.Ordinal);
        double L(double[] w) => Enumerable.Range(0, 4).Sum(k =>
        {
            int i = k / 2, j = k % 2;
            double y = w[0] * BackpropLesson.X[i][j] + w[1] * BackpropLesson.X[i][j + 1] + w[2] * BackpropLesson.X[i + 1][j] + w[3] * BackpropLesson.X[i + 1][j + 1];
            return (y - t[k]) * (y - t[k]);
        });
        double[] w0 = [1, -1, 2, 0];
        double Step(double lr) => L([.. w0.Select((w, k) => w - lr * grad[k])]);
        Assert.Equal(4, L(w0), 6);
        Assert.Equal(3.45, Step(0.01), 6);
        Assert.Equal(3, Step(0.1), 6);
        Assert.Equal(99, Step(0.5), 6);
        Assert.Contains("    L went from 4 to 3.45. The first-order prediction is L - lr·|dL/dw|² = 4 - 0.01·60 = 3.4;", text, StringComparison.Ordinal);
        Assert.Contains("576×784, 25", text, StringComparison.Ordinal);
        Assert.Matches(@"2\. entries of the max-pooling gradient that are not 0\s+9\n", text);
        Assert.Matches(@"\(before: 4\)\s+3, 99\n", text);
    }

    private static void AssertGrid(int[][] printed, float[] values)
    {
        int w = printed[0].Length;
        for (int r = 0; r < printed.Length; r++)
            for (int c = 0; c < w; c++) Assert.Equal(values[r * w + c], printed[r][c]);
    }

    [Fact]
    public void Walkthrough_11_receptive_fields_parameters_and_dilation()
    {
        string text = Render(11);
        for (int n = 1; n <= 4; n++)
            Assert.Matches($@"\n\s+{n}\s+{1 + 2 * n}\s+{1 + 2 * n}\n", text);
        // Path counts of three 3×3 box layers: outer product of [1,1,1]*[1,1,1]*[1,1,1] = [1,3,6,7,6,3,1].
        int[] row = [1, 3, 6, 7, 6, 3, 1];
        var grid = GridAfter(text, "but the pixels near its centre weigh most", 7);
        for (int r = 0; r < 7; r++)
            for (int c = 0; c < 7; c++) Assert.Equal(row[r] * row[c], grid[r][c]);
        var g = ReceptiveFieldLesson.CentreGradient([ReceptiveFieldLesson.Ones(3), ReceptiveFieldLesson.Ones(3), ReceptiveFieldLesson.Ones(3)]);
        Assert.Equal(49, g.Max());
        Assert.Equal(Math.Pow(9, 3), g.Sum());   // every path: 9 choices per layer
        Assert.Equal(110_592, 27 * 64 * 64);
        Assert.Equal(200_704, 49 * 64 * 64);
        Assert.Contains("three 3×3: 3·(3·3·C·C) = 27C² = 110,592 weights, + 3·C biases = 110,784   library 110,784", text, StringComparison.Ordinal);
        Assert.Contains("one 7×7:     7·7·C·C   = 49C² = 200,704 weights, +   C biases = 200,768   library 200,768", text, StringComparison.Ordinal);
        foreach (var (k, d, e) in new[] { (3, 1, 3), (3, 2, 5), (3, 4, 9), (5, 2, 9), (5, 3, 13) })
            Assert.Equal(e, ReceptiveFieldLesson.EffectiveKernel(k, d));
        var dil = GridAfter(text, "The pixels one unit of a 3×3 layer with d = 2 reads", 5);
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 5; c++) Assert.Equal(r % 2 == 0 && c % 2 == 0 ? 1 : 0, dil[r][c]);
        Assert.Contains("d = 1, 2, 4   r = 1 + 2·1 + 2·2 + 2·4 = 15   measured width 15", text, StringComparison.Ordinal);
        var answers = ReceptiveFieldLesson.Exercises().Select(e => e.Answer).ToArray();
        Assert.Equal(new[] { "11×11", "294,912 vs 409,600", "13", "31" }, answers);
        Assert.Equal(294_912, 2 * 9 * 128 * 128);
        Assert.Equal(409_600, 25 * 128 * 128);
        string md = File.ReadAllText(PagePath(11));
        foreach (var a in new[] { "**11**", "**294,912**", "**409,600**", "**13**", "**31**", "**27C²**", "**49C²**" }) Assert.Contains(a, md, StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_12_bottleneck_arithmetic_and_gradient_through_shortcuts()
    {
        string text = Render(12);
        long[] with = [64 * 193, 96 * 193, 128 * (9 * 96 + 1), 16 * 193, 32 * (25 * 16 + 1), 32 * 193];
        Assert.Equal(new long[] { 12_352, 18_528, 110_720, 3_088, 12_832, 6_176 }, with);
        Assert.Equal(163_696, with.Sum());
        long[] without = [64 * 193, 128 * (9 * 192 + 1), 32 * (25 * 192 + 1), 32 * 193];
        Assert.Equal(393_472, without.Sum());
        Assert.Contains(" Total params: 163,696 (639.44 KB)", text, StringComparison.Ordinal);
        Assert.Contains("    total                        393,472   library CountParams 393,472, output (None, 28, 28, 256)", text, StringComparison.Ordinal);
        Assert.Contains($"    parameters 393,472 / 163,696 = {393_472.0 / 163_696:F2}×", text, StringComparison.Ordinal);
        long macs = (with.Sum() - (64 + 96 + 128 + 16 + 32 + 32)) * 784L, naiveMacs = (without.Sum() - (64 + 128 + 32 + 32)) * 784L;
        Assert.Contains($"{naiveMacs:N0} / {macs:N0} = {(double)naiveMacs / macs:F2}×", text, StringComparison.Ordinal);
        Assert.Equal(15_920, 16 * 193 + 32 * (25 * 16 + 1));

        for (int n = 1; n <= 10; n++)
        {
            Assert.Equal(Math.Pow(0.1, n), InceptionResidualLesson.InputGradient(InceptionResidualLesson.Chain(n, false)), Math.Pow(0.1, n) * 1e-5);
            Assert.Equal(Math.Pow(1.1, n), InceptionResidualLesson.InputGradient(InceptionResidualLesson.Chain(n, true)), 1e-5);
        }
        Assert.Matches(@"\n\s+10   1\.000E-10\s+1\.000E-10\s+2\.5937   2\.5937\n", text);
        var answers = InceptionResidualLesson.Exercises().Select(e => e.Answer).ToArray();
        long b = 128 * 257 + 128 * 257 + 192 * (9 * 128 + 1) + 32 * 257 + 96 * (25 * 32 + 1) + 64 * 257;
        Assert.Equal(388_736, b);
        Assert.Equal(new[] { "388,736", "480", "303,616", $"1.000E-10, {Math.Pow(0.9, 10):0.0000}" }, answers);
        string md = File.ReadAllText(PagePath(12));
        foreach (var a in new[] { "**163,696**", "**388,736**", "**480**", "**303,616**", "**0.3487**" }) Assert.Contains(a, md, StringComparison.Ordinal);
    }

    [Fact]
    public void Walkthrough_13_accuracies_are_counts_out_of_57_with_intervals()
    {
        string text = Render(13);
        foreach (var (_, _, k, reported) in ErrorAnalysisLesson.Runs)
            Assert.Equal(reported, (k / 57.0).ToString("0.000", CultureInfo.InvariantCulture));
        Assert.Contains("One image is 1/57 = 1.75 percentage points", text, StringComparison.Ordinal);
        // Wilson interval by its textbook form for 41/57.
        double p = 41 / 57.0, z = 1.96, n = 57;
        double centre = (p + z * z / (2 * n)) / (1 + z * z / n), half = z / (1 + z * z / n) * Math.Sqrt(p * (1 - p) / n + z * z / (4 * n * n));
        Assert.Contains(FormattableString.Invariant($"= 41/57      {Math.Sqrt(p * (1 - p) / n):0.000}     {centre - half:0.000} - {centre + half:0.000}"), text, StringComparison.Ordinal);
        double se = Math.Sqrt(49 / 57.0 * (8 / 57.0) / 57 + 44 / 57.0 * (13 / 57.0) / 57);
        Assert.Contains(FormattableString.Invariant($"sqrt(se1² + se3²) = {se:0.000}, so two standard errors are {200 * se:0.0} points"), text, StringComparison.Ordinal);
        Assert.True(200 * se > 100 * 5 / 57.0);
        Assert.Contains("    ± 2 points:  1,537 images", text, StringComparison.Ordinal);
        Assert.Equal(1_537, (int)Math.Ceiling(1.96 * 1.96 * 0.8 * 0.2 / 0.0004));
        var answers = ErrorAnalysisLesson.Exercises().Select(e => e.Answer).ToArray();
        Assert.Equal(new[] { "200", "0.537 - 0.775", "0.754", "1,825" }, answers);
        string md = File.ReadAllText(PagePath(13));
        foreach (var a in new[] { "**200**", "**0.537 – 0.775**", "**0.754**", "**1,825**" }) Assert.Contains(a, md, StringComparison.Ordinal);
        Assert.Contains("](../images/errors.png)", md, StringComparison.Ordinal);
        Assert.Contains("](../images/confidence.png)", md, StringComparison.Ordinal);
    }
}
