using ConvNet.Data.Mandarin;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ConvNet.Demo.Tests.Browser;

/// <summary>
/// Two small models trained for a few steps with fixed seeds on 3 generated Mandarin classes at 24×24 — a Sequential
/// CNN (grayscale) and a functional residual graph from <see cref="Applications.ResidualBlock"/> (RGB) — saved with
/// their class names, and a test image of the right size.
/// </summary>
internal static class ExploreModels
{
    public static readonly string[] Labels = ["kou", "ren", "ri"];
    public const int Size = 24;

    /// <summary>Samples 1–6 of each label at 24×24, gray replicated to <paramref name="channels"/>, values 0–255.</summary>
    public static (Tensor X, int[] Y) Data(int channels)
    {
        var pixels = new List<float>();
        var y = new List<int>();
        for (int label = 0; label < Labels.Length; label++)
            for (int k = 1; k <= 6; k++)
            {
                foreach (byte b in MandarinGenerator.RenderSampleBytes(Labels[label], k, MandarinGenerator.DefaultSeed, Size))
                    for (int c = 0; c < channels; c++) pixels.Add(b);
                y.Add(label);
            }
        return (new Tensor(pixels.ToArray(), y.Count, Size, Size, channels), y.ToArray());
    }

    public static Sequential Sequential()
    {
        var model = new Sequential(
            new Input(Size, Size, 1), new Rescaling(1f / 255),
            new Conv2D(4, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
            new Conv2D(6, 3, activation: Activation.Relu), new MaxPooling2D(),
            new Flatten(), new Dense(12, Activation.Relu), new Dense(Labels.Length)) { Seed = 7 };
        Train(model, 1);
        return model;
    }

    public static Model Residual()
    {
        var inputs = new Input(Size, Size, 3);
        var x = new Rescaling(1f / 255).Apply(inputs);
        x = new Conv2D(8, 3, padding: Padding.Same, activation: Activation.Relu, name: "stem").Apply(x);
        x = Applications.ResidualBlock(x, 8, name: "block1");
        x = Applications.ResidualBlock(x, 12, strides: 2, name: "block2");
        x = new GlobalAveragePooling2D().Apply(x);
        var model = new Model(inputs, new Dense(Labels.Length).Apply(x), name: "small_resnet");
        Train(model, 3);
        return model;
    }

    private static void Train(Model model, int channels)
    {
        var (x, y) = Data(channels);
        model.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());
        model.Fit(x, y, epochs: 3, batchSize: 6, shuffle: false, verbose: 0);
        model.ClassNames = Labels;
    }

    /// <summary>Writes sample 7 of 'kou' (not trained on) as a 24×24 PNG, gray or RGB.</summary>
    public static string WriteImage(string path, int size = Size)
    {
        var gray = MandarinGenerator.RenderSampleBytes("kou", 7, MandarinGenerator.DefaultSeed, size);
        using var img = new Image<Rgb24>(size, size);
        for (int r = 0; r < size; r++)
            for (int c = 0; c < size; c++) { byte v = gray[r * size + c]; img[c, r] = new Rgb24(v, v, v); }
        img.SaveAsPng(path);
        return path;
    }
}
