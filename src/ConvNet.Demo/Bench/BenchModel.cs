namespace ConvNet.Demo.Bench;

/// <summary>A model <c>convnet bench --model</c> measures: compiled, with a random batch and a training step.</summary>
public sealed class BenchModel
{
    /// <summary>Names accepted by <c>bench --model</c>.</summary>
    public static readonly string[] Names = ["mandarin", "lenet5", "resnet18-imagenet"];

    private BenchModel(string name, Model model, int batchSize, Tensor x, Action trainStep)
    {
        Name = name; Model = model; BatchSize = batchSize; X = x; TrainStep = trainStep;
    }

    /// <summary>The <c>--model</c> name.</summary>
    public string Name { get; }
    /// <summary>The compiled model.</summary>
    public Model Model { get; }
    /// <summary>Batch size of the training step and the batched inference.</summary>
    public int BatchSize { get; }
    /// <summary>A random batch (0–255 values).</summary>
    public Tensor X { get; }
    /// <summary>One TrainOnBatch on <see cref="X"/>.</summary>
    public Action TrainStep { get; }
    /// <summary>True for a graph model (no per-layer table: layers take several inputs).</summary>
    public bool IsGraph => Model is not Sequential;
    /// <summary>The key of the batched inference time, e.g. infer_b32_ms (historical names: b32 for the small models, b8 for ResNet-18).</summary>
    public string BatchKey => Name == "resnet18-imagenet" ? "b8" : "b32";

    /// <summary>The error message for a name that is not in <see cref="Names"/>, or null.</summary>
    public static string? Validate(string name) => Names.Contains(name) ? null
        : $"--model: unknown model '{name}'; expected one of: {string.Join(", ", Names)}.";

    /// <summary>The default batch size: 32 (the lecture's), 8 for ResNet-18 at 224×224.</summary>
    public static int DefaultBatch(string name) => name == "resnet18-imagenet" ? 8 : 32;

    /// <summary>Default timed steps per training run, fixed so that runs compare across invocations: about 0.2–0.4 s of
    /// steps on a quiet 2-core machine (Mandarin ≈ 15–25 ms a step, LeNet-5 ≈ 2 ms), and one step of ResNet-18 (≈ 1 s).</summary>
    public static int DefaultSteps(string name) => name switch { "resnet18-imagenet" => 1, "lenet5" => 100, _ => 15 };

    /// <summary>Default alternating pairs: 10, or 1 for ResNet-18 (whose training is a bonus figure).</summary>
    public static int DefaultPairs(string name) => name == "resnet18-imagenet" ? 1 : 10;

    /// <summary>Untimed steps before each run (after switching the thread count): 2, or 1 for ResNet-18.</summary>
    public static int WarmupSteps(string name) => name == "resnet18-imagenet" ? 1 : 2;

    /// <summary>Builds and compiles <paramref name="name"/> with <paramref name="threads"/> threads.</summary>
    /// <exception cref="FileNotFoundException">resnet18-imagenet's NuGet package is not restored (the message says how).</exception>
    public static BenchModel Create(string name, int threads, int batchSize)
    {
        if (Validate(name) is string error) throw new ArgumentException(error, nameof(name));
        var rng = new Rng(42);
        if (name == "resnet18-imagenet")
        {
            // The imported CNTK graph ORT runs (BatchNormalization kept); trained against random (N, 1, 1, 512) targets with MSE.
            var m = Onnx.PretrainedModels.ResNet18ImageNet();
            m.Threads = threads;
            m.Compile(new Adam(), new MeanSquaredError());
            var x = RandomBatch(m, batchSize, rng);
            var y = new Tensor([batchSize, .. m.OutputShape]);
            for (int i = 0; i < y.Length; i++) y.Span[i] = rng.Uniform(0, 1);
            return new BenchModel(name, m, batchSize, x, () => m.TrainOnBatch(x, y));
        }
        var model = name == "lenet5" ? ModelZoo.LeNet5() : ModelZoo.Mandarin();
        model.Threads = threads;
        model.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true), new Accuracy());
        var bx = RandomBatch(model, batchSize, rng);
        int classes = model.OutputShape[^1];
        var labels = new int[batchSize];
        for (int i = 0; i < labels.Length; i++) labels[i] = rng.NextInt(classes);
        return new BenchModel(name, model, batchSize, bx, () => model.TrainOnBatch(bx, labels));
    }

    private static Tensor RandomBatch(Model m, int batchSize, Rng rng)
    {
        var x = new Tensor([batchSize, .. m.InputShape!]);
        for (int i = 0; i < x.Length; i++) x.Span[i] = rng.Uniform(0, 255);
        return x;
    }
}
