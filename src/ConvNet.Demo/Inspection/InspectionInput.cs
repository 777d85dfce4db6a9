using System.Globalization;
using ConvNet.Data;
using ConvNet.Data.Mandarin;

namespace ConvNet.Demo.Inspection;

/// <summary>
/// The model and the one image that <c>explain</c> and <c>features</c> look at: a model file (with its side files) or a
/// named architecture with fresh seeded weights, and an image file or the stand-in test image (generated sample 'kou'-5).
/// </summary>
internal sealed record InspectionInput(Sequential Model, string ModelText, bool Untrained, Tensor Image, string ImageText)
{
    /// <summary>The stand-in test image: the generator's sample 5 of 'kou' (口, "mouth"), as in the cached data set.</summary>
    public const string StandInLabel = "kou";
    public const int StandInSample = 5;

    /// <summary>Resolves <c>--model</c> (a zoo name or a model file/folder), <c>--image</c> (null: the stand-in) and <c>--seed</c>.</summary>
    public static InspectionInput Resolve(CliContext ctx, string model, string? image, int seed)
    {
        Sequential net;
        string modelText;
        bool untrained;
        int pad = 0;
        if (ModelZoo.Names.Contains(model))
        {
            var (h, w, c) = ModelZoo.InputFor(model);
            net = ModelZoo.Create(model, [h, w, c], model switch { "mandarin" => 57, "lenet5" => 10, _ => 1000 });
            net.Seed = seed;
            modelText = $"{model} (built by ModelZoo with seed {seed.ToString(CultureInfo.InvariantCulture)}) — UNTRAINED: random Glorot weights and zero biases, " +
                        "so the numbers show the arithmetic, not what a trained network does. Pass --model FILE for a trained model.";
            untrained = true;
        }
        else if (File.Exists(model) || Directory.Exists(model))
        {
            var (loaded, side) = ModelSidecar.LoadModel(ctx, model);
            net = loaded;
            pad = side.Padding;
            modelText = $"{model} ({net.CountParams().ToString("N0", CultureInfo.InvariantCulture)} parameters)";
            untrained = false;
        }
        else
        {
            throw ModelZoo.NeitherNameNorFile(model);
        }

        var shape = net.InputShape!;
        int mh = shape[0], mw = shape[1], mc = shape[2];
        float[] pixels;
        string imageText;
        string padText = pad > 0 ? $", zero-padded by {pad} pixels to {mh}×{mw}" : "";
        if (image is not null)
        {
            pixels = ImageFile.Load(image, mh - 2 * pad, mw - 2 * pad, mc, pad);
            imageText = $"{image}, resized to {mh - 2 * pad}×{mw - 2 * pad}×{mc} like the training loader{padText}";
        }
        else
        {
            pixels = StandIn(mh - 2 * pad, mw - 2 * pad, mc, pad);
            imageText = $"stand-in test image: generated sample '{StandInLabel}'-{StandInSample} (generator seed {MandarinGenerator.DefaultSeed}, " +
                        $"{MandarinGenerator.DefaultSize}×{MandarinGenerator.DefaultSize}, the same pixels as {StandInLabel}/{StandInLabel}-{StandInSample}.png of the cached set), " +
                        $"resized to {mh - 2 * pad}×{mw - 2 * pad}×{mc} like the training loader{padText}";
        }
        return new InspectionInput(net, modelText, untrained, new Tensor(pixels, 1, mh, mw, mc), imageText);
    }

    /// <summary>The stand-in image as floats 0–255, (height + 2·pad, width + 2·pad, channels), resized like the folder loader.</summary>
    public static float[] StandIn(int height, int width, int channels, int pad)
    {
        int size = MandarinGenerator.DefaultSize;
        byte[] gray = MandarinGenerator.RenderSampleBytes(StandInLabel, StandInSample, MandarinGenerator.DefaultSeed, size);
        var src = new float[gray.Length * channels];
        for (int i = 0; i < gray.Length; i++)
            for (int k = 0; k < channels; k++)
                src[i * channels + k] = channels == 4 && k == 3 ? 255f : gray[i];
        var resized = new float[height * width * channels];
        ImageResize.Bilinear(src, size, size, channels, resized, height, width);
        if (pad == 0) return resized;
        int oh = height + 2 * pad, ow = width + 2 * pad;
        var padded = new float[oh * ow * channels];
        for (int r = 0; r < height; r++)
            resized.AsSpan(r * width * channels, width * channels).CopyTo(padded.AsSpan(((r + pad) * ow + pad) * channels));
        return padded;
    }

    /// <summary>
    /// Runs the image through the layers one at a time (each layer's own forward pass, unfused) up to and including
    /// <paramref name="last"/>, and returns a copy of every layer's input and output.
    /// </summary>
    public (Tensor[] Inputs, Tensor[] Outputs) Trace(int last)
    {
        var layers = Model.Layers;
        var inputs = new Tensor[last + 1];
        var outputs = new Tensor[last + 1];
        var h = Image;
        for (int i = 0; i <= last; i++)
        {
            inputs[i] = h.Clone();
            h = layers[i].Forward(h, training: false);
            outputs[i] = h.Clone();
        }
        return (inputs, outputs);
    }
}
