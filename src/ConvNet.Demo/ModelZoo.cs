namespace ConvNet.Demo;

/// <summary>The architectures the demo knows by name, and the lecture's training setup.</summary>
internal static class ModelZoo
{
    /// <summary>Names accepted by <c>--model</c>.</summary>
    public static readonly string[] Names = ["mandarin", "lenet5", "alexnet"];

    /// <summary>Graph models shown by <c>summary --model</c> (built with the functional API in <see cref="Applications"/>).</summary>
    public static readonly string[] GraphNames = ["inception-module", "residual-block", "mandarin-functional", "xception", "resnet18"];

    /// <summary>Builds a named graph model (see <see cref="GraphNames"/>).</summary>
    public static Model CreateGraph(string name) => name switch
    {
        "inception-module" => Applications.InceptionModule3a(),
        "residual-block" => Applications.ResidualBlocks(),
        "mandarin-functional" => Applications.MandarinCnn(),
        "xception" => Applications.Xception(),
        "resnet18" => Applications.ResNet18(),
        _ => throw new CliException($"Unknown model '{name}'; expected one of: {string.Join(", ", GraphNames)}.", ExitCodes.Usage),
    };

    /// <summary>Names accepted by <c>train --model</c> (AlexNet is too large to train here).</summary>
    public static readonly string[] TrainableNames = ["mandarin", "lenet5"];

    /// <summary>Image size and colour channels a named model expects from an image folder.</summary>
    public static (int Height, int Width, int Channels) InputFor(string name) => name switch
    {
        "mandarin" => (80, 80, 1),
        "lenet5" => (32, 32, 1),
        "alexnet" => (227, 227, 3),
        _ => throw new CliException($"Unknown model '{name}'; expected one of: {string.Join(", ", Names)}.", ExitCodes.Usage),
    };

    /// <summary>
    /// The error for a <c>--model</c> value that is neither a known name nor an existing file. A value that looks like a
    /// path (it has a directory separator or a dot) is a missing file: exit code 1, like every missing file. Anything else
    /// is an unknown model name: exit code 2, like <c>train --model</c> with an unknown name (a usage error).
    /// </summary>
    public static CliException NeitherNameNorFile(string value)
    {
        bool looksLikePath = value.IndexOfAny(['/', '\\', '.']) >= 0;
        return looksLikePath
            ? new CliException($"Model file \"{value}\" does not exist (resolved: \"{Path.GetFullPath(value)}\").")
            : new CliException($"Unknown model '{value}'; expected one of: {string.Join(", ", Names.Concat(GraphNames))}, or the path of a model file.", ExitCodes.Usage);
    }

    /// <summary>Builds a named model for the given input and class count.</summary>
    public static Sequential Create(string name, IReadOnlyList<int> inputShape, int classes) => name switch
    {
        "mandarin" => Mandarin(inputShape[0], inputShape[1], inputShape[2], classes),
        "lenet5" => LeNet5(inputShape[2], classes),
        "alexnet" => AlexNet(classes),
        _ => throw new CliException($"Unknown model '{name}'; expected one of: {string.Join(", ", Names)}.", ExitCodes.Usage),
    };

    /// <summary>
    /// The lecture's model: Input(80,80,1) → Rescaling(1/255) → Conv2D(16,3,same,relu) → MaxPooling2D →
    /// Conv2D(32,3,same,relu) → MaxPooling2D → Conv2D(64,3,same,relu) → MaxPooling2D → Flatten →
    /// Dense(128,relu) → Dense(57) logits. 849,977 parameters for 80×80×1 and 57 classes.
    /// </summary>
    public static Sequential Mandarin(int height = 80, int width = 80, int channels = 1, int classes = 57) => new(
        new Input(height, width, channels),
        new Rescaling(1f / 255),
        new Conv2D(16, 3, padding: Padding.Same, activation: Activation.Relu),
        new MaxPooling2D(),
        new Conv2D(32, 3, padding: Padding.Same, activation: Activation.Relu),
        new MaxPooling2D(),
        new Conv2D(64, 3, padding: Padding.Same, activation: Activation.Relu),
        new MaxPooling2D(),
        new Flatten(),
        new Dense(128, Activation.Relu),
        new Dense(classes));

    /// <summary>
    /// LeNet-5 as published (LeCun et al. 1998, with tanh and average pooling): 32×32×1 input (MNIST zero-padded
    /// 28→32) → Rescaling(1/255) → C1 Conv2D(6,5,tanh) → S2 AveragePooling2D(2) → C3 Conv2D(16,5,tanh) →
    /// S4 AveragePooling2D(2) → C5 Conv2D(120,5,tanh) → Flatten → F6 Dense(84,tanh) → Dense(10) logits. 61,706 parameters.
    /// </summary>
    public static Sequential LeNet5(int channels = 1, int classes = 10) => new(
        new Input(32, 32, channels),
        new Rescaling(1f / 255),
        new Conv2D(6, 5, activation: Activation.Tanh),
        new AveragePooling2D(2),
        new Conv2D(16, 5, activation: Activation.Tanh),
        new AveragePooling2D(2),
        new Conv2D(120, 5, activation: Activation.Tanh),
        new Flatten(),
        new Dense(84, Activation.Tanh),
        new Dense(classes));

    /// <summary>
    /// AlexNet (Krizhevsky et al. 2012) as a single stream: 227×227×3 → Conv2D(96,11,strides 4,relu) → MaxPooling2D(3,2) →
    /// Conv2D(256,5,same,relu) → MaxPooling2D(3,2) → Conv2D(384,3,same,relu) ×2 → Conv2D(256,3,same,relu) →
    /// MaxPooling2D(3,2) → Flatten → Dense(4096,relu) ×2 → Dense(1000). 62,378,344 parameters.
    /// </summary>
    public static Sequential AlexNet(int classes = 1000) => new(
        new Input(227, 227, 3),
        new Conv2D(96, 11, strides: 4, activation: Activation.Relu),
        new MaxPooling2D(3, 2),
        new Conv2D(256, 5, padding: Padding.Same, activation: Activation.Relu),
        new MaxPooling2D(3, 2),
        new Conv2D(384, 3, padding: Padding.Same, activation: Activation.Relu),
        new Conv2D(384, 3, padding: Padding.Same, activation: Activation.Relu),
        new Conv2D(256, 3, padding: Padding.Same, activation: Activation.Relu),
        new MaxPooling2D(3, 2),
        new Flatten(),
        new Dense(4096, Activation.Relu),
        new Dense(4096, Activation.Relu),
        new Dense(classes));

    /// <summary>The lecture's compile step: Adam(), SparseCategoricalCrossentropy(fromLogits: true), accuracy and top-5 accuracy.</summary>
    public static void Compile(Sequential model) => model.Compile(
        new Adam(),
        new SparseCategoricalCrossentropy(fromLogits: true),
        new Accuracy(),
        new SparseTopKCategoricalAccuracy(5));

    /// <summary>Short display names of the log keys: <c>sparse_top_k_categorical_accuracy</c> → <c>top-5</c>.</summary>
    public static string Short(string key) => key
        .Replace("sparse_top_k_categorical_accuracy", "top-5", StringComparison.Ordinal);
}
