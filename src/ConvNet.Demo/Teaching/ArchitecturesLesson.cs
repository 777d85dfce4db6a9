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

        var alex = AlexNet();
        p.Line("AlexNet (Krizhevsky, Sutskever & Hinton, 2012), single-stream: 227×227×3 input, 11×11");
        p.Line("stride-4 first convolution, 3×3 stride-2 (overlapping) max pooling, ReLU, 1,000 outputs.");
        p.Line();
        p.Block(alex.Summary());
        p.Line();
        foreach (var line in ParamArithmetic(alex)) p.Line("    " + line);
        p.Line($"    sum = {Page.Thousands(alex.CountParams())}");
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
    }
}
