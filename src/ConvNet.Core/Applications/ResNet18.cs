namespace ConvNet;

public static partial class Applications
{
    /// <summary>
    /// ResNet-18 (He et al. 2016) in torchvision's layout (<c>torchvision.models.resnet18</c>), named like Keras' ResNet
    /// applications:
    /// <list type="bullet">
    /// <item>stem: <c>conv1_pad</c> (3) → <c>conv1_conv</c> 7×7/2 (64, no bias) → <c>conv1_bn</c> → <c>conv1_relu</c> →
    /// <c>pool1_pad</c> (1) → <c>pool1_pool</c> 3×3/2 max-pool;</item>
    /// <item>stages <c>conv2</c>–<c>conv5</c> (64, 128, 256, 512 filters) of two basic blocks each: <c>_1_conv</c> 3×3 (no bias) →
    /// <c>_1_bn</c> → <c>_1_relu</c> → <c>_2_conv</c> 3×3 (no bias) → <c>_2_bn</c>, <c>_add</c>ed to the shortcut, then
    /// <c>_out</c> ReLU. The first block of stages 3–5 downsamples: its first conv has stride 2 and its shortcut is a 1×1/2
    /// conv (no bias) + BatchNormalization (<c>_0_conv</c>, <c>_0_bn</c>); every other shortcut is the identity;</item>
    /// <item>top (<paramref name="includeTop"/>): <c>avg_pool</c> GlobalAveragePooling2D → <c>predictions</c> Dense.</item>
    /// </list>
    /// <para>Padding follows torchvision, not TensorFlow's Same, so that ImageNet weights exported from PyTorch (e.g. through ONNX)
    /// give the same numbers: torchvision pads symmetrically (3 on the 7×7/2 stem, 1 on every 3×3), where Same on an even input
    /// pads a stride-2 window asymmetrically (2 top/left and 3 bottom/right for 7×7/2 on 224; 0 and 1 for 3×3/2). So the stride-2
    /// layers are an explicit <see cref="ZeroPadding2D"/> + Valid layer (<c>conv1_pad</c>, <c>pool1_pad</c>,
    /// <c>convN_block1_1_pad</c>); the stride-1 3×3 convs use Same, which pads exactly 1 on each side. The max-pool's zero padding
    /// equals torchvision's −∞ padding because it follows a ReLU (every window holds a value ≥ 0).</para>
    /// <para>BatchNormalization uses torchvision's settings, ε = 10⁻⁵ and a moving-average momentum of 0.9 (PyTorch's
    /// <c>momentum=0.1</c>). Parameters with the top (224×224×3, 1,000 classes): 11,699,112, of which 11,689,512 trainable (the
    /// same count as torchvision's parameters) and 9,600 non-trainable moving statistics (torchvision's buffers). Weight names in
    /// torchvision: <c>conv1</c>/<c>bn1</c> = <c>conv1_conv</c>/<c>conv1_bn</c>; <c>layerS.B.conv1</c>, <c>bn1</c>, <c>conv2</c>,
    /// <c>bn2</c>, <c>downsample.0</c>, <c>downsample.1</c> = <c>conv(S+1)_block(B+1)_1_conv</c>, <c>_1_bn</c>, <c>_2_conv</c>,
    /// <c>_2_bn</c>, <c>_0_conv</c>, <c>_0_bn</c>; <c>fc</c> = <c>predictions</c> (torchvision's <c>fc</c> gives logits: pass
    /// <see cref="Activation.None"/>). Weights are initialised randomly; none are bundled.</para>
    /// </summary>
    /// <param name="includeTop">Whether to end with global average pooling and the <paramref name="classes"/>-way Dense.</param>
    /// <param name="inputShape">Per-sample (height, width, channels); default (224, 224, 3). Height and width must be at least 32,
    /// Keras' minimum for its ResNets.</param>
    /// <param name="classes">Units of the top Dense (used only with <paramref name="includeTop"/>).</param>
    /// <param name="pooling">Without the top: null (the output is the last 4-D feature map, 7×7×512 at 224×224), <c>"avg"</c> or
    /// <c>"max"</c>, as Keras' <c>pooling</c> argument.</param>
    /// <param name="classifierActivation">Activation of the top Dense: softmax as in Keras applications, <see cref="Activation.None"/>
    /// for logits as in torchvision.</param>
    /// <param name="name">The model's name.</param>
    /// <exception cref="ArgumentException">The input shape is not (height, width, channels) with height and width ≥ 32, the class
    /// count is not positive, or <paramref name="pooling"/> is not null, "avg" or "max".</exception>
    public static Model ResNet18(bool includeTop = true, int[]? inputShape = null, int classes = 1000, string? pooling = null,
        Activation classifierActivation = Activation.Softmax, string name = "resnet18")
    {
        var shape = CheckImageInput("ResNet18", inputShape, 224, minSize: 32);
        CheckTopArguments("ResNet18", includeTop, classes, pooling);
        var inputs = new Input(shape);

        SymbolicTensor x = new ZeroPadding2D(3, "conv1_pad").Apply(inputs);
        x = new Conv2D(64, 7, strides: 2, useBias: false, name: "conv1_conv").Apply(x);
        x = TorchBatchNorm(x, "conv1_bn");
        x = new ReLU("conv1_relu").Apply(x);
        x = new ZeroPadding2D(1, "pool1_pad").Apply(x);
        x = new MaxPooling2D(3, 2, name: "pool1_pool").Apply(x);

        int[] filters = [64, 128, 256, 512];
        for (int stage = 0; stage < filters.Length; stage++)
            for (int block = 1; block <= 2; block++)
                x = BasicBlock(x, filters[stage], strides: stage > 0 && block == 1 ? 2 : 1, $"conv{stage + 2}_block{block}");

        return new Model(inputs, Top(x, includeTop, classes, pooling, classifierActivation), name);
    }

    // torchvision's BasicBlock. The shortcut comes first, as in Keras' ResNet blocks.
    private static SymbolicTensor BasicBlock(SymbolicTensor x, int filters, int strides, string name)
    {
        var shortcut = x;
        if (strides != 1 || x.Shape[^1] != filters)
        {
            shortcut = new Conv2D(filters, 1, strides, useBias: false, name: $"{name}_0_conv").Apply(x);
            shortcut = TorchBatchNorm(shortcut, $"{name}_0_bn");
        }
        var y = x;
        if (strides == 1)
            y = new Conv2D(filters, 3, padding: Padding.Same, useBias: false, name: $"{name}_1_conv").Apply(y);
        else
        {
            y = new ZeroPadding2D(1, $"{name}_1_pad").Apply(y);
            y = new Conv2D(filters, 3, strides, useBias: false, name: $"{name}_1_conv").Apply(y);
        }
        y = TorchBatchNorm(y, $"{name}_1_bn");
        y = new ReLU($"{name}_1_relu").Apply(y);
        y = new Conv2D(filters, 3, padding: Padding.Same, useBias: false, name: $"{name}_2_conv").Apply(y);
        y = TorchBatchNorm(y, $"{name}_2_bn");
        y = new Add($"{name}_add").Apply(shortcut, y);
        return new ReLU($"{name}_out").Apply(y);
    }

    private static SymbolicTensor TorchBatchNorm(SymbolicTensor x, string name) =>
        new BatchNormalization(momentum: 0.9f, epsilon: 1e-5f, name: name).Apply(x);
}
