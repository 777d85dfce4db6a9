// A fresh console app that consumes ConvNet.Core and ConvNet.Data from a local package feed only:
// it writes a tiny 2-class PNG folder, loads it with ConvNet.Data, trains with ConvNet.Core and prints the accuracy.
using ConvNet;
using ConvNet.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

var root = Path.Combine(Path.GetTempPath(), "convnet-package-smoke-" + Environment.ProcessId);
var rng = new Rng(7);
foreach (var (label, bright) in new[] { ("left", true), ("right", false) })
{
    Directory.CreateDirectory(Path.Combine(root, label));
    for (int k = 0; k < 12; k++)
    {
        using var img = new Image<L8>(12, 12);
        for (int y = 0; y < 12; y++)
            for (int x = 0; x < 12; x++)
            {
                bool lit = bright ? x < 6 : x >= 6;
                img[x, y] = new L8((byte)Math.Clamp((lit ? 200 : 40) + rng.Uniform(-30, 30), 0, 255));
            }
        img.SaveAsPng(Path.Combine(root, label, $"{label}-{k}.png"));
    }
}

var data = ImageDatasets.LoadDirectory(root, new ImageLoadOptions { ImageSize = (12, 12), ColorMode = ColorMode.Grayscale });
var model = new Sequential(
    new Input(12, 12, 1), new Rescaling(1f / 255),
    new Conv2D(4, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
    new Flatten(), new Dense(2)) { Seed = 1 };
model.Compile(new Adam(0.01f), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());
model.Fit(data, epochs: 15, batchSize: 8, seed: 1);
var result = model.Evaluate(data);
Directory.Delete(root, recursive: true);
Console.WriteLine($"classes={string.Join(",", data.ClassNames)} samples={data.Count} accuracy={result[1]:F3}");
