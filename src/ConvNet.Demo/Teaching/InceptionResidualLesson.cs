namespace ConvNet.Demo.Teaching;

/// <summary>
/// Lesson 12: Inception and residual connections, built with the functional API — the 1×1 bottleneck arithmetic of
/// GoogLeNet's inception (3a) against the same module without bottlenecks, and the gradient through a stack of layers
/// with and without shortcuts.
/// </summary>
internal static class InceptionResidualLesson
{
    /// <summary>Inception (3a) without the two 1×1 reductions: the 3×3 and 5×5 convolutions read all 192 input channels.</summary>
    public static Model WithoutBottlenecks()
    {
        var inputs = new Input(28, 28, 192);
        var b1 = new Conv2D(64, 1, padding: Padding.Same, activation: Activation.Relu, name: "naive_1x1").Apply(inputs);
        var b2 = new Conv2D(128, 3, padding: Padding.Same, activation: Activation.Relu, name: "naive_3x3").Apply(inputs);
        var b3 = new Conv2D(32, 5, padding: Padding.Same, activation: Activation.Relu, name: "naive_5x5").Apply(inputs);
        var b4 = new MaxPooling2D(3, strides: 1, padding: Padding.Same, name: "naive_pool").Apply(inputs);
        b4 = new Conv2D(32, 1, padding: Padding.Same, activation: Activation.Relu, name: "naive_pool_proj").Apply(b4);
        return new Model(inputs, new Concatenate(axis: -1, name: "naive_output").Apply(b1, b2, b3, b4), name: "inception_without_bottlenecks");
    }

    /// <summary>The weight of every 1×1 layer in the gradient demonstration.</summary>
    public const float W = 0.1f;
    public const int Depth = 10;

    /// <summary>
    /// <paramref name="depth"/> layers Conv2D(1, 1, no bias) with weight <see cref="W"/>, plain (x → f(x)) or residual
    /// (x → x + f(x), the real Add layer), on a 2×2×1 input.
    /// </summary>
    public static Model Chain(int depth, bool residual, float weight = W)
    {
        var inputs = new Input(2, 2, 1);
        SymbolicTensor x = inputs;
        for (int i = 1; i <= depth; i++)
        {
            var f = new Conv2D(1, 1, useBias: false, name: Inv.S($"f{i}")).Apply(x);
            x = residual ? new Add(Inv.S($"add{i}")).Apply(x, f) : f;
        }
        var model = new Model(inputs, x, name: residual ? "residual" : "plain") { Threads = 1 };
        foreach (var c in model.Layers.OfType<Conv2D>()) c.Kernel!.Value.Span.Fill(weight);
        return model;
    }

    /// <summary>dL/dx[0,0] for L = Σ output, from the library's backward pass through the model.</summary>
    public static float InputGradient(Model model)
    {
        model.Forward(new Tensor([1f, 2f, 3f, 4f], 1, 2, 2, 1), training: true);
        return model.Backward(new Tensor([1f, 1f, 1f, 1f], 1, 2, 2, 1)).ToArray()[0];
    }

    public static void Write(Page p)
    {
        var inception = Applications.InceptionModule3a();
        p.Line("1. Inception (3a) of GoogLeNet (Szegedy et al., 2015): four branches over the same 28×28×192");
        p.Line("input, concatenated to 28×28×256. Built with ConvNet's functional API (Applications.InceptionModule3a):");
        p.Line();
        p.Block(inception.Summary());
        p.Line();
        p.Line("    branch                           parameters");
        long total = 0;
        foreach (var c in inception.Layers.OfType<Conv2D>())
        {
            string line = Inv.S($"{c.Filters}·({c.KernelSize.Height}·{c.KernelSize.Width}·{c.InputShape![2]} + 1) = {Page.Thousands(c.ParamCount)}");
            p.Line($"    {c.Name,-28} {line}");
            total += c.ParamCount;
        }
        p.Line($"    {"total",-28} {Page.Thousands(total)}");
        p.Line();
        var naive = WithoutBottlenecks();
        p.Line("The same module without the two 1×1 bottlenecks (the 3×3 and 5×5 read all 192 channels):");
        p.Line();
        long naiveTotal = 0;
        foreach (var c in naive.Layers.OfType<Conv2D>())
        {
            string line = Inv.S($"{c.Filters}·({c.KernelSize.Height}·{c.KernelSize.Width}·{c.InputShape![2]} + 1) = {Page.Thousands(c.ParamCount)}");
            p.Line($"    {c.Name,-28} {line}");
            naiveTotal += c.ParamCount;
        }
        p.Line($"    {"total",-28} {Page.Thousands(naiveTotal)}   library CountParams {Page.Thousands(naive.CountParams())}, output {Page.Shape(naive.OutputShape)}");
        p.Line();
        long macs = inception.Layers.OfType<Conv2D>().Sum(c => (long)c.Kernel!.Value.Length) * 28 * 28;
        long naiveMacs = naive.Layers.OfType<Conv2D>().Sum(c => (long)c.Kernel!.Value.Length) * 28 * 28;
        p.Line($"    parameters {Page.Thousands(naiveTotal)} / {Page.Thousands(total)} = {(double)naiveTotal / total:F2}×");
        p.Line($"    multiply-adds per image (weights · 28·28): {Page.Thousands(naiveMacs)} / {Page.Thousands(macs)} = {(double)naiveMacs / macs:F2}×");
        p.Line();
        p.Line("The 5×5 branch shows why: reading 192 channels costs 32·(5·5·192 + 1) = 153,632 parameters;");
        p.Line("squeezing to 16 channels first costs 16·193 + 32·(5·5·16 + 1) = 3,088 + 12,832 = 15,920.");
        p.Line();

        p.Line($"2. Why a shortcut lets the gradient through. {Depth} layers Conv2D(1, 1) with weight {W.ToString(System.Globalization.CultureInfo.InvariantCulture)}, no bias, no");
        p.Line("activation, on a 2×2 input; L = Σ output. Plain: x → w·x, so dL/dx = w^n. Residual (the Add layer):");
        p.Line("x → x + w·x, so each layer multiplies the gradient by 1 + w: the Add passes dL/dy to both of its");
        p.Line("inputs unchanged, and the shortcut's share never shrinks. From the library's Model.Backward:");
        p.Line();
        p.Line("    layers   plain dL/dx   w^n          residual dL/dx   (1 + w)^n");
        foreach (int n in new[] { 1, 2, 5, 10 })
        {
            float plain = InputGradient(Chain(n, residual: false));
            float res = InputGradient(Chain(n, residual: true));
            p.Line($"    {n,6}   {Sci(plain),-13} {Sci(Math.Pow(W, n)),-12} {res,14:0.0000}   {Math.Pow(1 + W, n):0.0000}");
        }
        p.Line();
        p.Line("With ReLUs and trained weights the numbers differ, but the structure is the same: in a plain");
        p.Line("stack the gradient is a product of n factors and can vanish; with shortcuts it is a sum that");
        p.Line("always contains the path straight through. That is what let He et al. (2015) train 152 layers.");
        p.Line();
        p.Line("Exercises (answers computed by the same code):");
        foreach (var (q, a) in Exercises()) p.Line($"    {q,-62} {a}");
    }

    private static string Sci(double v) => v.ToString("0.000E+0", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The page's exercises and answers.</summary>
    public static IEnumerable<(string Question, string Answer)> Exercises()
    {
        var inputs = new Input(28, 28, 192);
        var x = Applications.InceptionModule(inputs, 64, 96, 128, 16, 32, 32, name: "a");
        var y = Applications.InceptionModule(x, 128, 128, 192, 32, 96, 64, name: "b");
        var twoModules = new Model(inputs, y);
        var b = twoModules.Layers.OfType<Conv2D>().Where(c => c.Name.StartsWith("b_", StringComparison.Ordinal)).Sum(c => c.ParamCount);
        yield return ("1. parameters of inception (3b): 128, 128→192, 32→96, 64", Page.Thousands(b));
        yield return ("2. output channels of (3b)", twoModules.OutputShape[^1].ToString(System.Globalization.CultureInfo.InvariantCulture));
        var block = Applications.ResidualBlocks();
        yield return ("3. parameters of Applications.ResidualBlocks()", Page.Thousands(block.CountParams()));
        yield return ("4. dL/dx after 10 layers with w = -0.1: plain, residual",
            Inv.S($"{Sci(InputGradient(Chain(10, false, -0.1f)))}, {InputGradient(Chain(10, true, -0.1f)):0.0000}"));
    }

    /// <summary>Figures: the inception module as branches with parameter bars, and the gradient through plain and residual stacks.</summary>
    public static IEnumerable<Figure> Figures()
    {
        var inception = Applications.InceptionModule3a();
        var naive = WithoutBottlenecks();
        long max = naive.Layers.OfType<Conv2D>().Max(c => c.ParamCount);
        var fig = new Figure("12-inception", "Inception (3a): parameters per convolution, with and without 1×1 bottlenecks") { StackArrows = false };
        foreach (var (model, title) in new[] { (inception, "with bottlenecks: 163,696"), (naive, "without: " + Page.Thousands(naive.CountParams())) })
        {
            bool first = true;
            foreach (var c in model.Layers.OfType<Conv2D>())
            {
                fig.Stack(new TextBox
                {
                    Fill = ArchitecturesLesson.BlockColour(c),
                    Line1 = first ? title : "",
                    Line2 = Inv.S($"{c.Name}: {c.KernelSize.Height}×{c.KernelSize.Width}, {c.InputShape![2]} → {c.Filters}   {Page.Thousands(c.ParamCount)}"),
                    Bar = (double)c.ParamCount / max,
                    Width = 460,
                    Height = 44,
                }, newColumn: first);
                first = false;
            }
        }
        yield return fig;

        var grad = new Figure("12-residual-gradient", "dL/dx through n layers (log scale 1e-11 to 10): plain w^n vs residual (1 + w)^n");
        var plain = Enumerable.Range(1, Depth).Select(n => (double)InputGradient(Chain(n, false))).ToArray();
        var res = Enumerable.Range(1, Depth).Select(n => (double)InputGradient(Chain(n, true))).ToArray();
        grad.Place(new BarChart { Title = "plain", Values = plain, Scale = GradientScale, BarWidth = 18, Colour = Palette.Highlight, Label = i => (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        grad.Place(new BarChart { Title = "residual", Values = res, Scale = GradientScale, BarWidth = 18, Label = i => (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        yield return grad;
    }

    /// <summary>Height fraction of a gradient on the log scale 1e-11 (0) to 10 (1).</summary>
    public static double GradientScale(double g) => (Math.Log10(Math.Max(g, 1e-30)) + 11) / 12;
}
