namespace ConvNet.Onnx.Tests;

/// <summary>
/// Export → ONNX Runtime: ORT's outputs on exported random-weight models equal ConvNet's Predict within
/// 1e-4 relative (max |ORT − ConvNet| / max |ConvNet|), for both graph layouts.
/// </summary>
public class ExportTests(Xunit.Abstractions.ITestOutputHelper output)
{
    internal const double Tolerance = 1e-4;

    public static TheoryData<string> Models => new(ModelNames);

    internal static readonly string[] ModelNames =
    [
        "conv-valid", "conv-same-stride2-even", "conv-same-stride2-odd", "conv-rect-kernel-strides", "conv-nobias-tanh",
        "conv-softmax", "maxpool-same", "maxpool-3x3-stride2", "avgpool-same", "avgpool-same-even", "avgpool-valid", "gap-dense", "flatten-dense",
        "dense-only", "rescaling-offset", "relu-tanh-softmax-layers", "conv-output-image", "mandarin", "lenet5",
        "batchnorm-dropout", "batchnorm-dense", "zeropad-crop", "conv-activations", "dense-activations", "activation-layers", "global-max-pool", "depthwise-separable",
        "residual-blocks", "inception-3a", "functional-mandarin", "merges-images", "merges-flat", "nested-models", "rank2-input", "augmentation",
    ];

    internal static Model Build(string name) => name switch
    {
        "conv-valid" => new Sequential(new Input(9, 7, 3), new Conv2D(4, 3), new Flatten(), new Dense(5)),
        "conv-same-stride2-even" => new Sequential(new Input(8, 8, 2), new Conv2D(5, 3, strides: 2, padding: Padding.Same, activation: Activation.Relu), new Flatten(), new Dense(3)),
        "conv-same-stride2-odd" => new Sequential(new Input(9, 11, 2), new Conv2D(5, 4, strides: 2, padding: Padding.Same), new Flatten(), new Dense(3)),
        "conv-rect-kernel-strides" => new Sequential(new Input(12, 10, 3), new Conv2D(6, (3, 5), (2, 3), Padding.Same, Activation.Relu), new Conv2D(4, (2, 1), (1, 2)), new Flatten(), new Dense(4)),
        "conv-nobias-tanh" => new Sequential(new Input(7, 7, 2), new Conv2D(3, 3, padding: Padding.Same, activation: Activation.Tanh, useBias: false), new Flatten(), new Dense(2, useBias: false)),
        "conv-softmax" => new Sequential(new Input(6, 5, 2), new Conv2D(4, 3, padding: Padding.Same, activation: Activation.Softmax)),
        "maxpool-same" => new Sequential(new Input(9, 7, 3), new MaxPooling2D(2, padding: Padding.Same), new Flatten()),
        "maxpool-3x3-stride2" => new Sequential(new Input(10, 11, 2), new Conv2D(3, 1), new MaxPooling2D(3, 2, Padding.Same), new MaxPooling2D((2, 3), (1, 2)), new Flatten()),
        "avgpool-same" => new Sequential(new Input(9, 7, 3), new AveragePooling2D(3, 2, Padding.Same), new Flatten()),
        "avgpool-same-even" => new Sequential(new Input(8, 10, 2), new AveragePooling2D(3, 2, Padding.Same), new AveragePooling2D((2, 3), (1, 2), Padding.Same), new Flatten()),
        "avgpool-valid" => new Sequential(new Input(8, 9, 2), new AveragePooling2D((2, 3)), new Flatten(), new Dense(3, Activation.Softmax)),
        "gap-dense" => new Sequential(new Input(6, 6, 3), new Conv2D(8, 3, activation: Activation.Relu), new GlobalAveragePooling2D(), new Dense(4, Activation.Tanh)),
        "flatten-dense" => new Sequential(new Input(5, 4, 3), new Flatten(), new Dense(6, Activation.Relu), new Dense(3)),
        "dense-only" => new Sequential(new Input(10), new Dense(7, Activation.Relu), new Dense(3, Activation.Softmax)),
        "rescaling-offset" => new Sequential(new Input(6, 6, 2), new Rescaling(1f / 127.5f, -1f), new Conv2D(3, 3), new Flatten()),
        "relu-tanh-softmax-layers" => new Sequential(new Input(6, 6, 2), new Conv2D(4, 3), new ReLU(), new Conv2D(4, 1), new Tanh(), new Softmax(), new Flatten(), new Dense(3), new Softmax()),
        "conv-output-image" => new Sequential(new Input(7, 9, 2), new Conv2D(3, 3, strides: 2, padding: Padding.Same)),
        // The lecture's model (849,977 parameters) and LeNet-5, as in the demo's ModelZoo.
        "mandarin" => new Sequential(new Input(80, 80, 1), new Rescaling(1f / 255),
            new Conv2D(16, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
            new Conv2D(32, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
            new Conv2D(64, 3, padding: Padding.Same, activation: Activation.Relu), new MaxPooling2D(),
            new Flatten(), new Dense(128, Activation.Relu), new Dense(57)),
        "lenet5" => new Sequential(new Input(32, 32, 1), new Rescaling(1f / 255),
            new Conv2D(6, 5, activation: Activation.Tanh), new AveragePooling2D(2),
            new Conv2D(16, 5, activation: Activation.Tanh), new AveragePooling2D(2),
            new Conv2D(120, 5, activation: Activation.Tanh), new Flatten(), new Dense(84, Activation.Tanh), new Dense(10)),
        "batchnorm-dropout" => new Sequential(new Input(8, 8, 3), new Conv2D(6, 3, padding: Padding.Same, useBias: false), new BatchNormalization(), new ReLU(),
            new Dropout(0.5f), new SpatialDropout2D(0.3f), new Conv2D(4, 3, strides: 2), new BatchNormalization(center: false, scale: false, epsilon: 0.01f),
            new Flatten(), new Dense(5), new BatchNormalization(), new Dropout(0.2f), new Dense(3)),
        "batchnorm-dense" => new Sequential(new Input(12), new Dense(6), new BatchNormalization(momentum: 0.9f), new Dense(2)),
        "zeropad-crop" => new Sequential(new Input(7, 6, 2), new ZeroPadding2D(((1, 2), (3, 0))), new Conv2D(3, 3, activation: Activation.Relu), new Cropping2D(((0, 1), (2, 1))),
            new ZeroPadding2D(1), new MaxPooling2D(2), new Flatten(), new Dense(3)),
        "conv-activations" => new Sequential(new Input(5, 5, 2),
            new Conv2D(3, 1, activation: Activation.Sigmoid), new Conv2D(3, 1, activation: Activation.Elu), new Conv2D(3, 1, activation: Activation.Selu),
            new Conv2D(3, 1, activation: Activation.LeakyRelu), new Conv2D(3, 1, activation: Activation.Silu), new Conv2D(3, 1, activation: Activation.Gelu),
            new Conv2D(3, 1, activation: Activation.GeluApproximate), new Conv2D(3, 1, activation: Activation.Exponential), new Flatten()),
        "dense-activations" => new Sequential(new Input(6), new Dense(5, Activation.Sigmoid), new Dense(5, Activation.Elu), new Dense(5, Activation.Selu),
            new Dense(5, Activation.LeakyRelu), new Dense(5, Activation.Silu), new Dense(5, Activation.Gelu), new Dense(5, Activation.GeluApproximate),
            new Dense(5, Activation.Exponential), new Dense(4, Activation.Softmax)),
        "activation-layers" => new Sequential(new Input(4, 4, 3), new ActivationLayer(Activation.Gelu), new LeakyReLU(0.1f), new Conv2D(4, 3),
            new ActivationLayer("sigmoid"), new ActivationLayer(Activation.Silu), new ActivationLayer(Activation.Softmax), new Flatten(), new LeakyReLU(), new ActivationLayer(Activation.Elu)),
        "global-max-pool" => new Sequential(new Input(6, 5, 3), new Conv2D(4, 3, activation: Activation.Tanh), new GlobalMaxPooling2D(), new Dense(2)),
        "augmentation" => new Sequential(new Input(11, 10, 3), new RandomFlip(), new RandomRotation(0.1), new RandomZoom(0.1), new RandomTranslation(0.1, 0.1),
            new RandomContrast(0.2), new RandomBrightness(0.2), new RandomCrop(8, 7), new Conv2D(2, 3), new Flatten()),
        "rank2-input" => new Sequential(new Input(5, 4), new Flatten(), new Dense(3, Activation.Softmax)),
        "residual-blocks" => Applications.ResidualBlocks(),
        "inception-3a" => Applications.InceptionModule3a(),
        "functional-mandarin" => Applications.MandarinCnn(),
        "merges-images" => MergesImages(),
        "merges-flat" => MergesFlat(),
        "nested-models" => Nested(),
        "depthwise-separable" => new Sequential(new Input(12, 14, 3), new DepthwiseConv2D(3, padding: Padding.Same, depthMultiplier: 2, activation: Activation.Relu),
            new SeparableConv2D(5, 3, strides: 2, padding: Padding.Same, activation: Activation.Relu), new DepthwiseConv2D((2, 3), (1, 2), useBias: false),
            new SeparableConv2D(4, (3, 2), depthMultiplier: 3, useBias: false), new BatchNormalization(), new GlobalAveragePooling2D(), new Dense(3)),
        _ => throw new ArgumentException(name),
    };

    internal static IEnumerable<Layer> AllLayers(Model m) => m.Layers.SelectMany(l => l is Model inner ? AllLayers(inner) : [l]);

    /// <summary>Every merge on images, with inputs in different layouts (one straight from the NHWC input, one after a conv).</summary>
    private static Model MergesImages()
    {
        var inputs = new Input(6, 7, 4);
        var a = new Conv2D(4, 3, padding: Padding.Same, activation: Activation.Relu).Apply(inputs);
        var b = new Conv2D(4, 1).Apply(inputs);
        var sum3 = new Add().Apply(a, b, inputs);
        var diff = new Subtract().Apply(sum3, b);
        var prod = new Multiply().Apply(diff, a);
        var avg = new Average().Apply(prod, inputs, b);
        var cc = new Concatenate().Apply(avg, a, inputs);                       // channels
        var ch = new Concatenate(axis: 1).Apply(cc, new Conv2D(12, 1).Apply(cc)); // height
        var cw = new Concatenate(axis: 2).Apply(ch, ch);                         // width
        return new Model(inputs, new Dense(3).Apply(new Flatten().Apply(cw)), name: "merges_images");
    }

    private static Model MergesFlat()
    {
        var inputs = new Input(8);
        var a = new Dense(5, Activation.Tanh).Apply(inputs);
        var b = new Dense(5).Apply(inputs);
        var m = new Concatenate().Apply(new Multiply().Apply(a, b), new Subtract().Apply(a, b), inputs);
        return new Model(inputs, new Dense(2).Apply(m), name: "merges_flat");
    }

    /// <summary>A Sequential and a functional model nested in a functional model (the transfer-learning shape: base.Apply(x, training: false)).</summary>
    private static Model Nested()
    {
        var baseModel = new Sequential(new Input(10, 10, 3), new Conv2D(6, 3, activation: Activation.Relu), new BatchNormalization(), new MaxPooling2D()) { Name = "base" };
        baseModel.Trainable = false;
        var hi = new Input(4, 4, 6);
        var head = new Model(hi, new Dense(3).Apply(new GlobalAveragePooling2D().Apply(new Add().Apply(hi, new Conv2D(6, 1).Apply(hi)))), name: "head");
        var inputs = new Input(10, 10, 3);
        var x = baseModel.Apply(inputs, training: false);
        return new Model(inputs, head.Apply(new Dropout(0.5f).Apply(x)), name: "outer");
    }

    /// <summary>A built model with random weights and biases, and a random batch of 3 (pixel-range input where the model rescales).</summary>
    internal static (Model Model, Tensor X) Case(string name)
    {
        var model = Build(name);
        model.Threads = 1;
        TestData.RandomizeWeights(model, seed: name.Length, scale: name is "mandarin" or "lenet5" ? 0.1f : 0.5f);
        foreach (var bn in AllLayers(model).OfType<BatchNormalization>())   // variances must be positive
            foreach (ref var v in bn.MovingVariance!.Value.Span) v = 0.2f + 2 * MathF.Abs(v);
        bool pixels = model.Layers.Any(l => l is Rescaling r && r.Scale < 0.1f);
        var shape = new[] { 3 }.Concat(model.InputShape!).ToArray();
        var x = new Tensor(TestData.Random(shape.Skip(1).Aggregate(3, (a, d) => a * d), seed: 7, pixels ? 0 : -1, pixels ? 255 : 1), shape);
        return (model, x);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Nhwc_graph_matches_ConvNet(string name)
    {
        var (model, x) = Case(name);
        var expected = model.Predict(x);
        var bytes = OnnxExporter.ToBytes(model);
        // For a manual cross-check with the official checker (python3-onnx): CONVNET_ONNX_DUMP=DIR writes the files.
        if (Environment.GetEnvironmentVariable("CONVNET_ONNX_DUMP") is { Length: > 0 } dir)
        {
            File.WriteAllBytes(Path.Combine(dir, name + ".onnx"), bytes);
            File.WriteAllBytes(Path.Combine(dir, name + ".nchw.onnx"), OnnxExporter.ToBytes(model, layout: OnnxLayout.Nchw));
        }
        var (actual, dims) = Ort.Run(bytes, x.ToArray(), x.Shape.ToArray());
        Assert.Equal(expected.Shape.ToArray(), dims);
        var (rel, abs) = Ort.Diff(actual, expected.Span);
        output.WriteLine($"{name}: max abs {abs:E3}, max rel {rel:E3}");
        Assert.True(rel <= Tolerance, $"{name}: max rel {rel:E2} (abs {abs:E2})");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Nchw_graph_matches_ConvNet(string name)
    {
        var (model, x) = Case(name);
        var expected = model.Predict(x);
        var s = x.Shape.ToArray();
        float[] input = x.ToArray();
        int[] dims = s;
        if (s.Length == 4)
        {
            input = TestData.NhwcToNchw(input, s[0], s[1], s[2], s[3]);
            dims = [s[0], s[3], s[1], s[2]];
        }
        var (actual, outDims) = Ort.Run(OnnxExporter.ToBytes(model, layout: OnnxLayout.Nchw), input, dims);
        var e = expected.Shape.ToArray();
        if (e.Length == 4)
        {
            Assert.Equal(new[] { e[0], e[3], e[1], e[2] }, outDims);
            actual = TestData.NchwToNhwc(actual, e[0], e[3], e[1], e[2]);
        }
        else Assert.Equal(e, outDims);
        var (rel, abs) = Ort.Diff(actual, expected.Span);
        output.WriteLine($"{name}: max abs {abs:E3}, max rel {rel:E3}");
        Assert.True(rel <= Tolerance, $"{name}: max rel {rel:E2} (abs {abs:E2})");
    }

    [Fact]
    public void Same_padding_puts_the_odd_pixel_at_the_end_like_TF()
    {
        Assert.Equal((0L, 1L), LayerEmitter.Pads(8, 3, 2, Padding.Same));   // out 4: total 1 → bottom/right
        Assert.Equal((1L, 1L), LayerEmitter.Pads(9, 3, 2, Padding.Same));   // out 5: total 2
        Assert.Equal((1L, 2L), LayerEmitter.Pads(9, 4, 2, Padding.Same));   // total 3
        Assert.Equal((2L, 3L), LayerEmitter.Pads(224, 7, 2, Padding.Same)); // the ResNet stem in TF (CNTK's file has 3, 2)
        Assert.Equal((0L, 0L), LayerEmitter.Pads(9, 4, 2, Padding.Valid));
    }

    [Fact]
    public void A_layer_without_an_ONNX_form_is_refused_by_name()
    {
        var model = new Sequential(new Input(4, 4, 3), new BatchNormalization(axis: 1, name: "bn_rows"));
        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.ToBytes(model));
        Assert.Contains("layer 'bn_rows' (BatchNormalization) cannot be written: axis 1", e.Message);
    }

    [Fact]
    public void Unbuilt_model_and_bad_opset_are_refused()
    {
        var unbuilt = new Sequential(new Conv2D(2, 3));
        Assert.Contains("not built", Assert.Throws<InvalidOperationException>(() => OnnxExporter.ToBytes(unbuilt)).Message);
        var (model, _) = Case("dense-only");
        Assert.Contains("opset 9", Assert.Throws<ArgumentOutOfRangeException>(() => OnnxExporter.ToBytes(model, opset: 9)).Message);
    }

    [Fact]
    public void Save_writes_a_file_ORT_loads()
    {
        var (model, x) = Case("gap-dense");
        var path = Path.Combine(Path.GetTempPath(), $"convnet-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxExporter.Save(model, path);
            var (actual, _) = Ort.Run(path, x.ToArray(), x.Shape.ToArray());
            Assert.True(Ort.Diff(actual, model.Predict(x).Span).Relative <= Tolerance);
        }
        finally { File.Delete(path); }
    }
}
