using System.CommandLine;
using System.Globalization;
using System.Text;
using ConvNet.Demo.Inspection;

namespace ConvNet.Demo.Commands;

/// <summary>
/// <c>convnet features --model FILE --image FILE --out DIR</c>: PNG grids of every Conv2D layer's filters and of its
/// feature maps for one image, plus an index.md listing them.
/// </summary>
internal static class FeaturesCommand
{
    /// <summary>At most this many tiles per picture.</summary>
    public const int MaxTiles = 256;

    public const string IndexFile = "index.md", InputFile = "input.png";

    public static Command Create(CliHost host)
    {
        var model = new Option<string>("--model")
        {
            Description = "A model file written by `convnet train` (or its run folder), mandarin|lenet5|alexnet for a freshly built, untrained model, " +
                "or resnet18-imagenet: the ImageNet ResNet-18 from NuGet, whose 512-d feature vector is printed (norm and top activations; --out not needed).",
            HelpName = "FILE|mandarin|resnet18-imagenet",
            DefaultValueFactory = _ => "mandarin",
        };
        var image = new Option<string?>("--image")
        {
            Description = "The image whose feature maps to draw (PNG, JPEG, BMP or GIF; resized like the training loader). Default: a stand-in test image, generated sample 'kou'-5.",
            HelpName = "FILE",
        };
        var output = new Option<string>("--out")
        {
            Description = "Output folder for the PNGs and index.md (created if missing; files of the same names are overwritten).",
            HelpName = "DIR",
        };
        var seed = OptionFactory.Seed("--seed", "Weight seed when --model names an architecture (ignored for model files).");
        var cmd = new Command("features", "Draw each Conv2D layer's filters and its feature maps for one image as PNG grids, with an index.md.")
        {
            model, image, output, seed,
        };
        cmd.SetAction(pr => host.Execute(pr, ctx => pr.GetValue(model) == "resnet18-imagenet"
            ? ImageNetFeatures(ctx, pr.GetValue(image))
            : Run(ctx, pr.GetValue(model)!, pr.GetValue(image),
                pr.GetValue(output) ?? throw new CliException("--out DIR is required (where the PNG grids go).", ExitCodes.Usage), pr.GetValue(seed))));
        return cmd;
    }

    private sealed record Written(string File, string What);

    /// <summary>The ImageNet ResNet-18's 512 features of one image (RGB 224×224, BGR minus the mean image): norm and the top 10.</summary>
    public static int ImageNetFeatures(CliContext ctx, string? image)
    {
        if (image is null) throw new CliException("--image FILE is required with --model resnet18-imagenet.", ExitCodes.Usage);
        Model model;
        Onnx.MeanImagePreprocessing prep;
        try
        {
            model = Onnx.PretrainedModels.ResNet18ImageNet();
            prep = Onnx.PretrainedModels.ResNet18ImageNetPreprocessing();
        }
        catch (FileNotFoundException e) { throw new CliException(e.Message); }
        var pixels = ConvNet.Data.ImageDatasets.LoadImage(image, new ConvNet.Data.ImageLoadOptions { ImageSize = (224, 224), ColorMode = ConvNet.Data.ColorMode.Rgb });
        var x = pixels.Reshape(1, 224, 224, 3);
        var f = model.Predict(prep.Apply(x)).ToArray();
        double norm = Math.Sqrt(f.Sum(v => (double)v * v));
        ctx.Out.WriteLine($"ImageNet ResNet-18 features of \"{image}\" (224×224 RGB, BGR minus the mean image): {f.Length} values, L2 norm {norm:F4}, " +
                          $"{f.Count(v => v > 0)} positive, mean {f.Average():F4}");
        ctx.Out.WriteLine("top activations (feature index: value):");
        foreach (var (v, i) in f.Select((v, i) => (v, i)).OrderByDescending(p => p.v).ThenBy(p => p.i).Take(10))
            ctx.Out.WriteLine($"  {i,3}: {v:F4}");
        return ExitCodes.Success;
    }

    public static int Run(CliContext ctx, string modelName, string? image, string outDir, int seed)
    {
        var input = InspectionInput.Resolve(ctx, modelName, image, seed);
        var layers = input.Model.Layers;
        var convs = Enumerable.Range(0, layers.Count).Where(i => layers[i] is Conv2D).ToArray();
        if (convs.Length == 0) throw new CliException($"Model '{modelName}' has no Conv2D layers: there are no filters or feature maps to draw.");
        Directory.CreateDirectory(outDir);
        var (_, outputs) = input.Trace(convs[^1]);
        var written = new List<Written>();
        var notes = new List<string>();

        written.Add(new(InputFile, "the image as it enters the model (after resizing" + (input.Model.InputShape![2] > 1 ? ", channels averaged to gray" : "") + ")"));
        DrawInput(Path.Combine(outDir, InputFile), input);

        bool first = true;
        foreach (int i in convs)
        {
            var conv = (Conv2D)layers[i];
            string filters = $"{conv.Name}_filters.png", maps = $"{conv.Name}_features.png";
            string whatFilters = DrawFilters(Path.Combine(outDir, filters), conv, first);
            written.Add(new(filters, whatFilters));
            var (whatMaps, note) = DrawFeatureMaps(Path.Combine(outDir, maps), conv, outputs[i]);
            written.Add(new(maps, whatMaps));
            notes.Add(note);
            first = false;
        }

        var md = new StringBuilder();
        md.AppendLine("# Filters and feature maps").AppendLine();
        md.AppendLine($"- Model: {input.ModelText}");
        md.AppendLine($"- Image: {input.ImageText}").AppendLine();
        md.AppendLine("| File | Shows |").AppendLine("|---|---|");
        foreach (var w in written) md.AppendLine($"| [{w.File}]({w.File}) | {w.What} |");
        md.AppendLine().AppendLine("## Feature maps for this image").AppendLine();
        foreach (var n in notes) md.AppendLine($"- {n}");
        md.AppendLine().AppendLine("Written by `convnet features`. Filter colours: blue = negative weight, white = 0, red = positive; " +
                                   "feature maps: black = the channel's smallest value for this image, white = its largest.");
        File.WriteAllText(Path.Combine(outDir, IndexFile), md.ToString(), new UTF8Encoding(false));

        ctx.WriteLine($"Model: {input.ModelText}");
        ctx.WriteLine($"Image: {input.ImageText}");
        ctx.WriteLine($"Wrote {written.Count + 1} files to {outDir}:");
        foreach (var w in written) ctx.WriteLine($"  {Path.Combine(outDir, w.File)}");
        ctx.WriteLine($"  {Path.Combine(outDir, IndexFile)}");
        return ExitCodes.Success;
    }

    private static void DrawInput(string path, InspectionInput input)
    {
        var s = input.Model.InputShape!;
        int h = s[0], w = s[1], c = s[2], shown = Math.Min(c, 3);
        var x = input.Image.Span;
        var data = new double[h, w];
        for (int r = 0; r < h; r++)
            for (int q = 0; q < w; q++)
            {
                double sum = 0;
                for (int k = 0; k < shown; k++) sum += x[(r * w + q) * c + k];
                data[r, q] = sum / shown;
            }
        var tile = new FeaturePlots.Tile(data, $"{h}×{w}×{c}, 0 = black, 255 = white", 0, 255, FeaturePlots.Gray);
        FeaturePlots.Grid(path, "Input image as the model receives it", [tile], 1, Math.Clamp(3 * w, 160, 320));
    }

    private static string DrawFilters(string path, Conv2D conv, bool firstConv)
    {
        int kh = conv.KernelSize.Height, kw = conv.KernelSize.Width, c = conv.InputShape![2], k = conv.Filters;
        var ws = conv.Kernel!.Value.Span;
        double m = 0;
        foreach (float v in ws) m = Math.Max(m, Math.Abs(v));
        if (m == 0) m = 1;
        string scale = $"one scale for the layer: blue = −{m.ToString("0.###", CultureInfo.InvariantCulture)}, white = 0, red = +{m.ToString("0.###", CultureInfo.InvariantCulture)}";
        var tiles = new List<FeaturePlots.Tile>();
        string title, what;
        int columns;
        if (firstConv)
        {
            for (int f = 0; f < k && tiles.Count < MaxTiles; f++)
                for (int ci = 0; ci < c && tiles.Count < MaxTiles; ci++)
                    tiles.Add(new(Slice(ws, kh, kw, c, k, ci, f), c == 1 ? $"f{f}" : $"f{f} c{ci}", -m, m, FeaturePlots.Signed));
            string cut = tiles.Count < k * c ? $" (first {tiles.Count} of {k * c})" : "";
            title = $"'{conv.Name}' filters: {k} kernels of {kh}×{kw} over {c} input channel{(c == 1 ? "" : "s")}, one tile per filter{(c == 1 ? "" : " × input channel")}{cut}\n{scale}";
            what = $"the {k} {kh}×{kw} kernels of the first convolution, one tile per (filter, input channel){cut}";
            columns = c == 1 ? 8 : c <= 8 ? c * Math.Max(1, 8 / c) : 8;
        }
        else
        {
            for (int f = 0; f < k && tiles.Count < MaxTiles; f++)
            {
                int best = 0; double bestNorm = -1;
                for (int ci = 0; ci < c; ci++)
                {
                    double norm = 0;
                    for (int i = 0; i < kh * kw; i++) { double v = ws[(i * c + ci) * k + f]; norm += v * v; }
                    if (norm > bestNorm) { bestNorm = norm; best = ci; }
                }
                tiles.Add(new(Slice(ws, kh, kw, c, k, best, f), $"f{f} ← in {best}", -m, m, FeaturePlots.Signed));
            }
            string cut = tiles.Count < k ? $" (first {tiles.Count} of {k})" : "";
            title = $"'{conv.Name}' filters: {k} filters of {kh}×{kw}×{c}; each tile is a filter's {kh}×{kw} slice on its strongest input channel{cut}\n" +
                    $"(largest squared weights; 'f3 ← in 7' = filter 3, input channel 7) · {scale}";
            what = $"for each of the {k} filters ({kh}×{kw}×{c}), its {kh}×{kw} slice on the input channel with the largest weights{cut}";
            columns = k <= 64 ? 8 : 16;
        }
        FeaturePlots.Grid(path, title, tiles, columns, Math.Clamp(24 * Math.Max(kh, kw), 72, 120));
        return what;
    }

    private static double[,] Slice(ReadOnlySpan<float> ws, int kh, int kw, int c, int k, int ci, int f)
    {
        var d = new double[kh, kw];
        for (int i = 0; i < kh; i++)
            for (int j = 0; j < kw; j++)
                d[i, j] = ws[((i * kw + j) * c + ci) * k + f];
        return d;
    }

    private static (string What, string Note) DrawFeatureMaps(string path, Conv2D conv, Tensor output)
    {
        var s = conv.OutputShape!;
        int h = s[0], w = s[1], k = s[2];
        var y = output.Span;
        var tiles = new List<FeaturePlots.Tile>();
        var constant = new List<string>();
        for (int ch = 0; ch < k; ch++)
        {
            double lo = double.MaxValue, hi = double.MinValue;
            for (int i = 0; i < h * w; i++) { double v = y[i * k + ch]; lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
            var d = new double[h, w];
            for (int r = 0; r < h; r++)
                for (int q = 0; q < w; q++)
                    d[r, q] = hi > lo ? (y[(r * w + q) * k + ch] - lo) / (hi - lo) * 255 : 0;
            string label = $"ch {ch}";
            int above = 0;
            for (int i = 0; i < h * w; i++) if (y[i * k + ch] > lo) above++;
            if (hi > lo && above * 50 <= h * w) label += $" ({above} px > {lo.ToString("0.##", CultureInfo.InvariantCulture)})";
            if (hi <= lo)
            {
                string v = lo.ToString("0.###", CultureInfo.InvariantCulture);
                label += $" (all {v})";
                constant.Add($"{ch} (all {v})");
            }
            if (tiles.Count < MaxTiles) tiles.Add(new(d, label, 0, 255, FeaturePlots.Gray));
        }
        string act = conv.Activation switch { Activation.Relu => "after relu", Activation.Tanh => "after tanh", Activation.Softmax => "after softmax", _ => "no activation" };
        string cut = tiles.Count < k ? $" (first {tiles.Count} of {k})" : "";
        string title = $"'{conv.Name}' feature maps for the image: {k} channels of {h}×{w}, {act}{cut}\n" +
                       "each tile scaled on its own: its smallest value black, its largest white (constant channels are black)";
        FeaturePlots.Grid(path, title, tiles, k <= 8 ? k : k <= 64 ? 8 : 16, Math.Clamp(2 * w, 96, 176));
        string note = $"'{conv.Name}' ({k} channels of {h}×{w}, {act}): " +
                      (constant.Count == 0 ? "every channel varies over the image."
                          : $"{constant.Count} channel(s) are constant for this image: {string.Join(", ", constant)}.");
        return ($"the {k} output channels of '{conv.Name}' for the image, {h}×{w} each, {act}{cut}", note);
    }
}
