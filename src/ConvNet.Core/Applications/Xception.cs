namespace ConvNet;

public static partial class Applications
{
    /// <summary>
    /// Xception (Chollet 2017), built layer for layer as <c>keras.applications.Xception</c> builds it, with Keras' layer names, so
    /// that a Keras weight file's layers line up by name:
    /// <list type="bullet">
    /// <item>entry flow: <c>block1_conv1</c> 3×3/2 Valid and <c>block1_conv2</c> 3×3 Valid convolutions (no bias), each followed by
    /// BatchNormalization (<c>…_bn</c>) and ReLU (<c>…_act</c>); then blocks 2–4 (128, 256, 728 filters): two 3×3 Same
    /// <see cref="SeparableConv2D"/> (no bias) + BatchNormalization, a 3×3/2 Same max-pool (<c>blockN_pool</c>) and an
    /// <see cref="Add"/> with a 1×1/2 conv + BatchNormalization shortcut (Keras leaves these unnamed: <c>conv2d</c>,
    /// <c>batch_normalization</c>, <c>add</c>, <c>conv2d_1</c>, …); blocks 3 and 4 start with a ReLU;</item>
    /// <item>middle flow: blocks 5–12, each three ReLU → 3×3 separable conv (728) → BatchNormalization added to the block's input;</item>
    /// <item>exit flow: block 13 (separable 728 and 1024, max-pool, 1×1/2 conv shortcut to 1024), then block 14's separable
    /// convs to 1536 and 2048 channels, each with BatchNormalization and ReLU;</item>
    /// <item>top (<paramref name="includeTop"/>): <c>avg_pool</c> GlobalAveragePooling2D and the <c>predictions</c> Dense.</item>
    /// </list>
    /// Every BatchNormalization uses Keras' defaults (momentum 0.99, ε 10⁻³). Parameters: 22,910,480 with the top (299×299×3,
    /// 1,000 classes); 20,861,480 without (20,806,952 trainable, 54,528 non-trainable moving statistics); the convolutional
    /// part does not depend on the input size. The weights are initialised randomly (no ImageNet weights are bundled); Keras'
    /// pre-trained weights expect inputs scaled to [−1, 1].
    /// </summary>
    /// <param name="includeTop">Whether to end with global average pooling and the <paramref name="classes"/>-way Dense.</param>
    /// <param name="inputShape">Per-sample (height, width, channels); default (299, 299, 3). Height and width must be at least 71,
    /// as in Keras.</param>
    /// <param name="classes">Units of the top Dense (used only with <paramref name="includeTop"/>).</param>
    /// <param name="pooling">Without the top: null (the output is the last 4-D feature map, e.g. 10×10×2048 at 299×299),
    /// <c>"avg"</c> (GlobalAveragePooling2D) or <c>"max"</c> (GlobalMaxPooling2D), as Keras' <c>pooling</c> argument.</param>
    /// <param name="classifierActivation">Activation of the top Dense: softmax as in Keras, <see cref="Activation.None"/> for logits.</param>
    /// <param name="name">The model's name.</param>
    /// <exception cref="ArgumentException">The input shape is not (height, width, channels) with height and width ≥ 71, the class
    /// count is not positive, or <paramref name="pooling"/> is not null, "avg" or "max".</exception>
    public static Model Xception(bool includeTop = true, int[]? inputShape = null, int classes = 1000, string? pooling = null,
        Activation classifierActivation = Activation.Softmax, string name = "xception")
    {
        var shape = CheckImageInput("Xception", inputShape, 299, minSize: 71);
        CheckTopArguments("Xception", includeTop, classes, pooling);
        var inputs = new Input(shape);

        var x = ConvBnRelu(inputs, 32, 3, 2, "block1_conv1");
        x = ConvBnRelu(x, 64, 3, 1, "block1_conv2");

        // entry flow: blocks 2–4 downsample by max-pool and add a strided 1×1 shortcut
        x = XceptionDownsamplingBlock(x, 2, 128, 128, reluFirst: false);
        x = XceptionDownsamplingBlock(x, 3, 256, 256, reluFirst: true);
        x = XceptionDownsamplingBlock(x, 4, 728, 728, reluFirst: true);

        // middle flow: eight identity-shortcut blocks of three separable convolutions
        for (int block = 5; block <= 12; block++)
        {
            var residual = x;
            for (int k = 1; k <= 3; k++)
            {
                x = new ReLU($"block{block}_sepconv{k}_act").Apply(x);
                x = SepConvBn(x, 728, $"block{block}_sepconv{k}");
            }
            x = new Add().Apply(x, residual);
        }

        // exit flow
        x = XceptionDownsamplingBlock(x, 13, 728, 1024, reluFirst: true);
        for (int k = 1; k <= 2; k++)
        {
            x = SepConvBn(x, k == 1 ? 1536 : 2048, $"block14_sepconv{k}");
            x = new ReLU($"block14_sepconv{k}_act").Apply(x);
        }

        return new Model(inputs, Top(x, includeTop, classes, pooling, classifierActivation), name);
    }

    // [ReLU →] SepConv(f1) → BN → ReLU → SepConv(f2) → BN → MaxPool 3×3/2 Same, added to Conv 1×1/2 → BN of the block input.
    // The shortcut is created first so that its Keras default names (conv2d, batch_normalization) come in Keras' order.
    private static SymbolicTensor XceptionDownsamplingBlock(SymbolicTensor x, int block, int filters1, int filters2, bool reluFirst)
    {
        var residual = new Conv2D(filters2, 1, strides: 2, padding: Padding.Same, useBias: false).Apply(x);
        residual = new BatchNormalization().Apply(residual);
        string p = $"block{block}";
        if (reluFirst) x = new ReLU($"{p}_sepconv1_act").Apply(x);
        x = SepConvBn(x, filters1, $"{p}_sepconv1");
        x = new ReLU($"{p}_sepconv2_act").Apply(x);
        x = SepConvBn(x, filters2, $"{p}_sepconv2");
        x = new MaxPooling2D(3, 2, Padding.Same, name: $"{p}_pool").Apply(x);
        return new Add().Apply(x, residual);
    }

    private static SymbolicTensor SepConvBn(SymbolicTensor x, int filters, string name)
    {
        x = new SeparableConv2D(filters, 3, padding: Padding.Same, useBias: false, name: name).Apply(x);
        return new BatchNormalization(name: $"{name}_bn").Apply(x);
    }

    private static SymbolicTensor ConvBnRelu(SymbolicTensor x, int filters, int kernel, int strides, string name)
    {
        x = new Conv2D(filters, kernel, strides, useBias: false, name: name).Apply(x);
        x = new BatchNormalization(name: $"{name}_bn").Apply(x);
        return new ReLU($"{name}_act").Apply(x);
    }

    // Keras applications' head: avg_pool + predictions with the top, else the optional global pooling.
    private static SymbolicTensor Top(SymbolicTensor x, bool includeTop, int classes, string? pooling, Activation classifierActivation)
    {
        if (includeTop)
        {
            x = new GlobalAveragePooling2D("avg_pool").Apply(x);
            return new Dense(classes, classifierActivation, name: "predictions").Apply(x);
        }
        return pooling switch
        {
            "avg" => new GlobalAveragePooling2D().Apply(x),
            "max" => new GlobalMaxPooling2D().Apply(x),
            _ => x,
        };
    }

    // Keras' obtain_input_shape without pre-trained weights: a (height, width, channels) shape of at least minSize × minSize.
    private static int[] CheckImageInput(string model, int[]? inputShape, int defaultSize, int minSize)
    {
        if (inputShape is null) return [defaultSize, defaultSize, 3];
        if (inputShape.Length != 3 || inputShape[2] <= 0)
            throw new ArgumentException($"{model}: inputShape must be (height, width, channels), got ({string.Join(", ", inputShape)}).", nameof(inputShape));
        if (inputShape[0] < minSize || inputShape[1] < minSize)
            throw new ArgumentException($"{model}: the input must be at least {minSize}×{minSize}, got {inputShape[0]}×{inputShape[1]}.", nameof(inputShape));
        return inputShape.ToArray();
    }

    private static void CheckTopArguments(string model, bool includeTop, int classes, string? pooling)
    {
        if (includeTop && classes <= 0)
            throw new ArgumentOutOfRangeException(nameof(classes), $"{model}: classes must be positive, got {classes}.");
        if (pooling is not (null or "avg" or "max"))
            throw new ArgumentException($"{model}: pooling must be null, \"avg\" or \"max\", got \"{pooling}\".", nameof(pooling));
    }
}
