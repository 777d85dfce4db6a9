using System.CommandLine;
using System.Globalization;
using System.Text;
using ConvNet.Demo.Inspection;
using ConvNet.IO;

namespace ConvNet.Demo.Commands;

/// <summary>
/// <c>convnet explore --model FILE --image FILE --out DIR</c>: one self-contained HTML page (CNN-Explainer style) with every
/// layer's feature maps for an image; clicking a unit shows its patch, kernel, products, sum, bias and activation.
/// </summary>
internal static class ExploreCommand
{
    public const string PageFile = "index.html";

    public static Command Create(CliHost host)
    {
        var model = new Option<string>("--model")
        {
            Description = "A model file saved by Model.Save or `convnet train` (or its run folder), Sequential or functional, " +
                          "or mandarin|lenet5|alexnet for a freshly built, untrained model.",
            HelpName = "FILE|mandarin|lenet5|alexnet",
            DefaultValueFactory = _ => "mandarin",
        };
        var image = new Option<string?>("--image")
        {
            Description = "The image (PNG, JPEG, BMP or GIF) at the model's input size (colour converted to the model's channels). " +
                          "Default: a stand-in test image, generated sample 'kou'-5.",
            HelpName = "FILE",
        };
        var resize = new Option<bool>("--resize")
        {
            Description = "Resize an image of another size like the training loader instead of refusing it.",
        };
        var output = new Option<string>("--out")
        {
            Description = $"Output folder for {PageFile} (created if missing; an existing {PageFile} is overwritten).",
            HelpName = "DIR",
        };
        var seed = OptionFactory.Seed("--seed", "Weight seed when --model names an architecture (ignored for model files).");
        var cmd = new Command("explore",
            "Write a self-contained HTML page: every layer's feature maps for one image; click a unit to see its patch, kernel, products, sum, bias and activation; the softmax with class names.")
        {
            model, image, resize, output, seed,
        };
        cmd.SetAction(pr => host.Execute(pr, ctx => Run(ctx, pr.GetValue(model)!, pr.GetValue(image), pr.GetValue(resize),
            pr.GetValue(output) ?? throw new CliException($"--out DIR is required (where {PageFile} goes).", ExitCodes.Usage), pr.GetValue(seed))));
        return cmd;
    }

    public static int Run(CliContext ctx, string modelName, string? image, bool resize, string outDir, int seed)
    {
        OutputFolder.Check("--out", outDir);
        var (model, modelText, classNames, pad, untrained) = LoadModel(ctx, modelName, seed);
        var shape = model.InputShape!;
        int h = shape[0], w = shape[1], c = shape[2];
        float[] pixels;
        string imageText;
        if (image is null)
        {
            pixels = InspectionInput.StandIn(h - 2 * pad, w - 2 * pad, c, pad);
            imageText = $"stand-in test image: generated sample '{InspectionInput.StandInLabel}'-{InspectionInput.StandInSample}, resized to {h - 2 * pad}×{w - 2 * pad}×{c}";
        }
        else
        {
            var (ih, iw) = ImageSize(image);
            int eh = h - 2 * pad, ew = w - 2 * pad;
            if ((ih, iw) != (eh, ew) && !resize)
                throw new CliException($"Image \"{image}\" is {ih}×{iw} (height×width) but model \"{modelName}\" expects {eh}×{ew} images " +
                                       $"(input shape {Layer.Fmt(shape, true)}{(pad > 0 ? $", after {pad} pixels of zero padding" : "")}); " +
                                       "pass --resize to resize it like the training loader.");
            pixels = ImageFile.Load(image, eh, ew, c, pad);
            imageText = $"{image} ({ih}×{iw}{((ih, iw) != (eh, ew) ? $", resized to {eh}×{ew}" : "")}, {c} channel{(c == 1 ? "" : "s")})" +
                        (pad > 0 ? $", zero-padded by {pad} to {h}×{w}" : "");
        }
        var x = new Tensor(pixels, 1, h, w, c);
        var trace = GraphTrace.Run(model, x);
        var probabilities = Probabilities(model, x, trace);
        if (probabilities.Length != classNames.Count) classNames = Enumerable.Range(0, probabilities.Length).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

        var header = new ExplorePage.Header($"convnet explore: {Path.GetFileName(Path.TrimEndingDirectorySeparator(modelName))} ({model.TypeName})", modelText, imageText, classNames, probabilities, untrained);
        string html = ExplorePage.Build(header, trace, x);
        Directory.CreateDirectory(outDir);
        string path = Path.Combine(outDir, PageFile);
        File.WriteAllText(path, html, new UTF8Encoding(false));

        ctx.WriteLine($"Model: {modelText}");
        ctx.WriteLine($"Image: {imageText}");
        int best = probabilities.Length == 0 ? -1 : Array.IndexOf(probabilities, probabilities.Max());
        if (best >= 0) ctx.WriteLine($"Prediction: '{classNames[best]}' (probability {probabilities[best].ToString("0.000", CultureInfo.InvariantCulture)})");
        long bytes = new FileInfo(path).Length;
        ctx.WriteLine($"Wrote \"{path}\" ({(bytes / 1024.0 / 1024.0).ToString("0.0", CultureInfo.InvariantCulture)} MB, {trace.Nodes.Count} layers); open it in a browser (it needs no network).");
        return ExitCodes.Success;
    }

    private static (Model Model, string Text, IReadOnlyList<string> Classes, int Pad, bool Untrained) LoadModel(CliContext ctx, string name, int seed)
    {
        if (ModelZoo.Names.Contains(name))
        {
            var (h, w, c) = ModelZoo.InputFor(name);
            int classes = name switch { "mandarin" => 57, "lenet5" => 10, _ => 1000 };
            var net = ModelZoo.Create(name, [h, w, c], classes);
            net.Seed = seed;
            string text = $"{name} (built by ModelZoo with seed {seed.ToString(CultureInfo.InvariantCulture)}) — UNTRAINED: random Glorot weights and zero biases";
            return (net, text, Enumerable.Range(0, classes).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray(), 0, true);
        }
        if (!File.Exists(name) && !Directory.Exists(name)) throw ModelZoo.NeitherNameNorFile(name);
        var (model, side) = ModelSidecar.LoadAnyModel(ctx, name);
        return (model, $"{name} ({model.TypeName}, {model.CountParams().ToString("N0", CultureInfo.InvariantCulture)} parameters)", side.ClassNames, side.Padding, false);
    }

    // The image's height and width, read from its header; a clear error for a missing file or a file that is no image.
    private static (int Height, int Width) ImageSize(string path)
    {
        if (!File.Exists(path))
            throw new CliException(Directory.Exists(path) ? $"Image \"{path}\" is a directory, not an image file." : $"Image file \"{path}\" does not exist.");
        if (SafeFile.WhyNotRegular(path) is { } why) throw new CliException($"Image \"{path}\" {why}.");
        SixLabors.ImageSharp.IImageInfo? info;
        try { info = SixLabors.ImageSharp.Image.Identify(path); }
        catch (Exception e) when (e is SixLabors.ImageSharp.ImageFormatException or InvalidDataException or NotSupportedException)
        {
            info = null;
        }
        return info is null
            ? throw new CliException($"\"{path}\" is not an image that can be read (PNG, JPEG, BMP or GIF expected).")
            : (info.Height, info.Width);
    }

    // The softmax of the model's output (Model.PredictProbabilities; Predict when the last layer already applies softmax),
    // after checking that the layer-by-layer trace ends where the model's own forward pass does.
    private static float[] Probabilities(Model model, Tensor x, GraphTrace trace)
    {
        var logits = model.Predict(x).ToArray();
        var traced = trace.Nodes[^1].Output.ToArray();
        double scale = 1, diff = 0;
        for (int i = 0; i < logits.Length; i++) { scale = Math.Max(scale, Math.Abs(logits[i])); diff = Math.Max(diff, Math.Abs(logits[i] - traced[i])); }
        if (diff > 1e-3 * scale)
            throw new CliException($"The layer-by-layer trace of model '{model.Name}' ends at values that differ from the model's output by {diff:0.0e+00}: explore cannot show this model faithfully.");
        if (model.OutputShape.Count != 1) return [];
        bool softmaxed = trace.Nodes[^1].Layer is Dense { Activation: Activation.Softmax } or ActivationLayer { Activation: Activation.Softmax };
        return softmaxed ? logits : model.PredictProbabilities(x).ToArray();
    }
}
