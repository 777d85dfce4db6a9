namespace ConvNet.Demo.Teaching;

/// <summary>Lesson 7: LeNet-5 and single-stream AlexNet as Sequential models, their summaries and the parameter arithmetic.</summary>
internal static class ArchitecturesLesson
{
    public static Sequential LeNet5() => new(
        new Input(32, 32, 1),
        new Conv2D(6, 5, activation: Activation.Tanh),
        new AveragePooling2D(2),
        new Conv2D(16, 5, activation: Activation.Tanh),
        new AveragePooling2D(2),
        new Conv2D(120, 5, activation: Activation.Tanh),
        new Flatten(),
        new Dense(84, Activation.Tanh),
        new Dense(10))
    { Name = "lenet5" };

    public static Sequential AlexNet()
    {
        var model = ModelZoo.AlexNet();
        model.Name = "alexnet";
        return model;
    }

    /// <summary>"filters·(kh·kw·c + 1) = n" or "units·(in + 1) = n" for each layer with parameters.</summary>
    public static IEnumerable<string> ParamArithmetic(Sequential model)
    {
        foreach (var l in model.Layers)
        {
            switch (l)
            {
                case Conv2D c:
                    yield return Inv.S($"{l.Name,-10} {c.Filters}·({c.KernelSize.Height}·{c.KernelSize.Width}·{c.InputShape![2]} + 1) = {Page.Thousands(l.ParamCount)}");
                    break;
                case Dense d:
                    yield return Inv.S($"{l.Name,-10} {d.Units}·({d.InputShape![0]} + 1) = {Page.Thousands(l.ParamCount)}");
                    break;
            }
        }
    }

    /// <summary>Fill colour of a layer type in the block diagrams.</summary>
    public static SixLabors.ImageSharp.PixelFormats.Rgb24 BlockColour(Layer l) => l switch
    {
        Conv2D => new(120, 170, 230),
        AveragePooling2D or MaxPooling2D => new(150, 210, 150),
        Dense => new(245, 190, 110),
        _ => new(220, 220, 220),
    };

    /// <summary>The first line of a layer's block: what it does.</summary>
    public static string BlockTitle(Layer l) => l switch
    {
        Conv2D c => Inv.S($"{l.Name}: conv {c.KernelSize.Height}×{c.KernelSize.Width}{(c.Strides.Height > 1 ? Inv.S($" stride {c.Strides.Height}") : "")}{(c.Padding == Padding.Same ? " same" : "")}, {c.Filters} filters{Act(c.Activation)}"),
        Pooling2D p => Inv.S($"{l.Name}: {(l is MaxPooling2D ? "max" : "average")} pool {p.PoolSize.Height}×{p.PoolSize.Width} stride {p.Strides.Height}"),
        Dense d => Inv.S($"{l.Name}: dense {d.Units}{Act(d.Activation)}"),
        _ => Inv.S($"{l.Name}: {l.TypeName}"),
    };

    private static string Act(Activation a) => a == Activation.None ? "" : ", " + a.ToString().ToLowerInvariant();

    /// <summary>The layers drawn as blocks: those the summary lists (not the Input).</summary>
    public static IEnumerable<Layer> DiagramLayers(Sequential model) => model.Layers.Where(l => l is not Input);

    /// <summary>The second line: output shape and parameter count, as in the summary.</summary>
    public static string BlockShape(Layer l) => Inv.S($"{string.Join("×", l.OutputShape!)}   {Page.Thousands(l.ParamCount)} params");

    /// <summary>Block diagrams of LeNet-5 and AlexNet: one box per layer, the bar is the layer's share of the model's parameters.</summary>
    public static IEnumerable<Figure> Figures()
    {
        var fig = new Figure("07-architectures", "LeNet-5 and AlexNet, layer by layer (bar = share of parameters)");
        foreach (var (model, input) in new[] { (LeNet5(), "input 32×32×1"), (AlexNet(), "input 227×227×3") })
        {
            long total = model.CountParams();
            fig.Stack(new TextBox { Fill = Palette.White, Line1 = Inv.S($"{model.Name}: {input}"), Line2 = Inv.S($"{Page.Thousands(total)} params"), Width = 520, Height = 44 }, newColumn: true);
            foreach (var l in DiagramLayers(model))
                fig.Stack(new TextBox { Fill = BlockColour(l), Line1 = BlockTitle(l), Line2 = BlockShape(l), Bar = (double)l.ParamCount / total, Width = 520, Height = 44 });
        }
        yield return fig;
    }

    /// <summary>LeNet-5's trainable parameters as published (LeCun et al. 1998, section II.B): layer, arithmetic, count.</summary>
    public static readonly (string Layer, string Arithmetic, long Count)[] PublishedLeNet5 =
    [
        ("C1", "6·(5·5·1 + 1)", 6 * (5 * 5 * 1 + 1)),
        ("S2", "6·(coefficient + bias)", 6 * 2),
        ("C3", "25·(6·3 + 9·4 + 1·6) + 16 biases", 25 * (6 * 3 + 9 * 4 + 1 * 6) + 16),
        ("S4", "16·(coefficient + bias)", 16 * 2),
        ("C5", "120·(5·5·16 + 1)", 120 * (5 * 5 * 16 + 1)),
        ("F6", "84·(120 + 1)", 84 * (120 + 1)),
    ];

    /// <summary>Weights saved by two-group convolution in AlexNet's conv2d_1, conv2d_3, conv2d_4: half of each kernel.</summary>
    public static long GroupedSaving(Sequential alex)
    {
        var convs = alex.Layers.OfType<Conv2D>().ToArray();
        return new[] { 1, 3, 4 }.Sum(i => (long)convs[i].Kernel!.Value.Length / 2);
    }

    public static void Write(Page p)
    {
        var lenet = LeNet5();
        p.Line("LeNet-5 (LeCun et al., 1998): 32×32×1 input (28×28 MNIST digits zero-padded by 2),");
        p.Line("5×5 tanh convolutions, 2×2 average pooling (subsampling), 10 outputs.");
        p.Line();
        p.Block(lenet.Summary());
        p.Line();
        foreach (var line in ParamArithmetic(lenet)) p.Line("    " + line);
        p.Line($"    sum = {Page.Thousands(lenet.CountParams())}");
        p.Line();
        p.Line("Spatial sizes: 32 -5+1→ 28 /2→ 14 -5+1→ 10 /2→ 5 -5+1→ 1.");
        p.Line();
        p.Line("The 1998 paper's LeNet-5 has 60,000 trainable parameters. Its subsampling layers S2 and S4");
        p.Line("are average pooling plus a trainable coefficient and bias per map, C3 reads only some S2 maps");
        p.Line("(6 maps see 3, 9 see 4, 1 sees all 6), and the output's RBF weights were fixed, not trained:");
        p.Line();
        foreach (var (name, arithmetic, count) in PublishedLeNet5)
            p.Line($"    {name,-4} {arithmetic,-34} = {Page.Thousands(count),6}");
        long published = PublishedLeNet5.Sum(r => r.Count);
        p.Line($"    sum {"",34}   {Page.Thousands(published),6}");
        long c3Full = lenet.Layers.OfType<Conv2D>().ElementAt(1).ParamCount;
        long output = lenet.Layers.OfType<Dense>().Last().ParamCount;
        p.Line();
        p.Line($"From 60,000 to the model above: full C3 +{Page.Thousands(c3Full - PublishedLeNet5[2].Count)}, parameter-free pooling -{PublishedLeNet5[1].Count + PublishedLeNet5[3].Count},");
        p.Line($"a trained Dense(10) output +{output}: {Page.Thousands(published)} + {c3Full - PublishedLeNet5[2].Count} - {PublishedLeNet5[1].Count + PublishedLeNet5[3].Count} + {output} = {Page.Thousands(published + c3Full - PublishedLeNet5[2].Count - PublishedLeNet5[1].Count - PublishedLeNet5[3].Count + output)}.");
        p.Line();

        var alex = AlexNet();
        p.Line("AlexNet (Krizhevsky, Sutskever & Hinton, 2012), single-stream: 227×227×3 input, 11×11");
        p.Line("stride-4 first convolution, 3×3 stride-2 (overlapping) max pooling, ReLU, 1,000 outputs.");
        p.Line();
        p.Block(alex.Summary());
        p.Line();
        foreach (var line in ParamArithmetic(alex)) p.Line("    " + line);
        p.Line($"    sum = {Page.Thousands(alex.CountParams())}");
        p.Line();
        p.Line("The paper says 224×224. Two inputs give the 55×55 of the first convolution:");
        p.Line($"    227×227, no padding:            floor((227 - 11)/4) + 1 = {(227 - 11) / 4 + 1}   library Conv2D(96, 11, 4) on 227: {new Conv2D(96, 11, 4).ComputeOutputShape([227, 227, 3])[0]}");
        p.Line($"    224×224, 2 zeros on each side:  floor((224 + 4 - 11)/4) + 1 = {(224 + 4 - 11) / 4 + 1}   library Conv2D(96, 11, 4) on 228: {new Conv2D(96, 11, 4).ComputeOutputShape([228, 228, 3])[0]}");
        p.Line($"    (torchvision's AlexNet: Conv2d(3, 64, kernel_size=11, stride=4, padding=2)); Same padding on 224 would give ceil(224/4) = {new Conv2D(96, 11, 4, Padding.Same).ComputeOutputShape([224, 224, 3])[0]}.");
        p.Line();
        p.Line("Spatial sizes: floor((227-11)/4)+1 = 55, floor((55-3)/2)+1 = 27, same → 27, floor((27-3)/2)+1 = 13,");
        p.Line("same → 13 (×3), floor((13-3)/2)+1 = 6; 6·6·256 = 9,216 features into the first Dense layer.");
        long dense = alex.Layers.OfType<Dense>().Sum(l => l.ParamCount);
        p.Line($"The three Dense layers hold {Page.Thousands(dense)} of the {Page.Thousands(alex.CountParams())} parameters ({100.0 * dense / alex.CountParams():F1}%).");
        long grouped = alex.CountParams() - GroupedSaving(alex);
        p.Line("The 2012 paper split conv2d_1, conv2d_3 and conv2d_4 over two GPUs (each filter sees half");
        p.Line($"the input channels), which saves {Page.Thousands(GroupedSaving(alex))} weights: {Page.Thousands(grouped)} parameters in the two-stream original.");
        p.Line();
        p.Line("Corrections to the lecture's typos (the published facts are used above):");
        p.Line("    LeNet-6, input 0 channels, output 9 RBF  →  LeNet-5, input 32×32×1, output 10");
        p.Line("    MNIST 27×28                              →  28×28 (zero-padded by 2 to 32×32)");
        p.Line("    CIFAR-11, 9 / 99 classes                 →  CIFAR-10 (10 classes), CIFAR-100 (100 classes)");
        p.Line("    AlexNet (2011), input 2 channels         →  AlexNet (2012), input 227×227×3");
        p.Line("    AlexNet output 0,000                     →  1,000 classes (ImageNet ILSVRC)");
        p.Line("    layer labels C0, S1, ..., F5             →  C1, S2, C3, S4, C5, F6");
        p.Line("    Inception module (2013), ILSVRC 2013     →  GoogLeNet (Inception) won ILSVRC 2014, top-5 error 6.67%");
        p.Line("    GoogLeNet / Inception_v0                 →  Inception v1");
        p.Line("    ResNet (2014) won ILSVRC 2014, 3.6%      →  ResNet won ILSVRC 2015, top-5 error 3.57%");
        p.Line("    convolution integral ending in \"ds\"      →  \"dx₁\", the integration variable:");
        p.Line("                                                f_S(s) = ∫ f_X(x₁) f_X(s - x₁) dx₁");
    }
}
