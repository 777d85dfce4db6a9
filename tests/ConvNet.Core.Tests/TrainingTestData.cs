using Xunit;

namespace ConvNet.Core.Tests;

/// <summary>Synthetic data sets, small models and helpers shared by the training, model-file and early-stopping tests.</summary>
internal static class TrainingTestData
{
    /// <summary>
    /// 8×8×1 images in [0, 1]: class k has its k-th quadrant (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right)
    /// bright (0.7–1.0), the rest dark (0–0.3). Linearly separable; balanced labels.
    /// </summary>
    public static Dataset Quadrants(int n, int seed)
    {
        var rng = new Rng(seed);
        var x = new Tensor(n, 8, 8, 1);
        var y = new int[n];
        var s = x.Span;
        for (int i = 0; i < n; i++)
        {
            int k = i % 4;
            y[i] = k;
            int r0 = k / 2 * 4, c0 = k % 2 * 4;
            for (int r = 0; r < 8; r++)
            for (int c = 0; c < 8; c++)
            {
                bool bright = r >= r0 && r < r0 + 4 && c >= c0 && c < c0 + 4;
                s[i * 64 + r * 8 + c] = bright ? rng.Uniform(0.7f, 1f) : rng.Uniform(0f, 0.3f);
            }
        }
        return new Dataset(x, y);
    }

    /// <summary>2-D points around four well separated centres (±2, ±2) with noise ±0.5; class = centre.</summary>
    public static Dataset Points(int n, int seed, int classes = 4)
    {
        var rng = new Rng(seed);
        var x = new Tensor(n, 2);
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            int k = i % classes;
            y[i] = k;
            double angle = 2 * Math.PI * k / classes;
            x.Span[2 * i] = (float)(3 * Math.Cos(angle)) + rng.Uniform(-0.5f, 0.5f);
            x.Span[2 * i + 1] = (float)(3 * Math.Sin(angle)) + rng.Uniform(-0.5f, 0.5f);
        }
        return new Dataset(x, y);
    }

    /// <summary>Input(8,8,1) → Conv2D(4,3,same,relu) → MaxPooling2D → Flatten → Dense(4).</summary>
    public static Sequential QuadrantModel(int seed, int threads = 1)
    {
        // Seed must be set before the Input layer is added (adding an Input builds the model).
        var m = new Sequential { Seed = seed, Threads = threads };
        foreach (var l in new Layer[] { new Input(8, 8, 1), new Conv2D(4, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(2), new Flatten(), new Dense(4) })
            m.Add(l);
        return m;
    }

    /// <summary>Input(2) → Dense(8, relu) → Dense(classes).</summary>
    public static Sequential PointModel(int seed, int classes = 4, int threads = 1)
    {
        var m = new Sequential { Seed = seed, Threads = threads };
        m.Add(new Input(2));
        m.Add(new Dense(8, Activation.Relu));
        m.Add(new Dense(classes));
        return m;
    }

    /// <summary>The lecture's Mandarin character model (57 classes, 80×80 grey input).</summary>
    public static Sequential MandarinModel(bool customNames = false) => new(
        new Input(80, 80, 1),
        new Rescaling(1f / 255),
        new Conv2D(16, 3, padding: Padding.Same, activation: Activation.Relu, name: customNames ? "conv1" : null),
        new MaxPooling2D(),
        new Conv2D(32, 3, padding: Padding.Same, activation: Activation.Relu, name: customNames ? "conv2" : null),
        new MaxPooling2D(),
        new Conv2D(64, 3, padding: Padding.Same, activation: Activation.Relu),
        new MaxPooling2D(),
        new Flatten(),
        new Dense(128, Activation.Relu),
        new Dense(57));

    public static void Compile(Sequential m, Optimizer? optimizer = null) =>
        m.Compile(optimizer ?? new Adam(0.01f), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());

    /// <summary>Asserts two weight lists are bit-identical.</summary>
    public static void AssertWeightsIdentical(float[][] expected, float[][] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} weight tensors, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(expected[i].Length == actual[i].Length, $"{what}: weight {i} has {actual[i].Length} values, expected {expected[i].Length}");
            for (int j = 0; j < expected[i].Length; j++)
                if (BitConverter.SingleToInt32Bits(expected[i][j]) != BitConverter.SingleToInt32Bits(actual[i][j]))
                    Assert.Fail($"{what}: weight {i}[{j}] is {actual[i][j]:R}, expected exactly {expected[i][j]:R}");
        }
    }

    public static bool WeightsIdentical(float[][] a, float[][] b) =>
        a.Length == b.Length && a.Zip(b).All(p => p.First.AsSpan().SequenceEqual(p.Second));

    public static bool AllFinite(float[][] w) => w.All(t => t.All(float.IsFinite));
}

/// <summary>A synchronous <see cref="IProgress{T}"/> (Progress&lt;T&gt; posts asynchronously) that records every report.</summary>
internal sealed class TrainingProgressRecorder(Action<TrainingProgress>? onReport = null) : IProgress<TrainingProgress>
{
    public List<TrainingProgress> Reports { get; } = [];
    public IEnumerable<TrainingProgress> Of(ProgressKind kind) => Reports.Where(r => r.Kind == kind);
    public IEnumerable<string> Messages => Of(ProgressKind.Message).Select(r => r.Message ?? "");

    public void Report(TrainingProgress value)
    {
        Reports.Add(value);
        onReport?.Invoke(value);
    }
}

/// <summary>A fresh temporary folder, deleted on dispose.</summary>
internal sealed class TrainingTempDir : IDisposable
{
    public TrainingTempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "convnet-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
