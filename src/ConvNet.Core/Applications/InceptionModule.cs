namespace ConvNet;

/// <summary>Ready-made architectures and building blocks, like <c>keras.applications</c>.</summary>
public static partial class Applications
{
    /// <summary>
    /// An Inception module (Szegedy et al. 2015, GoogLeNet): four branches over the same input, concatenated on the
    /// channels — 1×1 conv (<paramref name="f1"/>); 1×1 (<paramref name="f3Reduce"/>) → 3×3 (<paramref name="f3"/>);
    /// 1×1 (<paramref name="f5Reduce"/>) → 5×5 (<paramref name="f5"/>); 3×3 max-pool stride 1 → 1×1 (<paramref name="poolProjection"/>).
    /// Every conv is Same-padded with ReLU, so the output keeps the input's height and width.
    /// </summary>
    public static SymbolicTensor InceptionModule(SymbolicTensor x, int f1, int f3Reduce, int f3, int f5Reduce, int f5, int poolProjection, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        string? N(string part) => name is null ? null : $"{name}_{part}";
        var b1 = new Conv2D(f1, 1, padding: Padding.Same, activation: Activation.Relu, name: N("1x1")).Apply(x);
        var b2 = new Conv2D(f3Reduce, 1, padding: Padding.Same, activation: Activation.Relu, name: N("3x3_reduce")).Apply(x);
        b2 = new Conv2D(f3, 3, padding: Padding.Same, activation: Activation.Relu, name: N("3x3")).Apply(b2);
        var b3 = new Conv2D(f5Reduce, 1, padding: Padding.Same, activation: Activation.Relu, name: N("5x5_reduce")).Apply(x);
        b3 = new Conv2D(f5, 5, padding: Padding.Same, activation: Activation.Relu, name: N("5x5")).Apply(b3);
        var b4 = new MaxPooling2D(3, strides: 1, padding: Padding.Same, name: N("pool")).Apply(x);
        b4 = new Conv2D(poolProjection, 1, padding: Padding.Same, activation: Activation.Relu, name: N("pool_proj")).Apply(b4);
        return new Concatenate(axis: -1, name: N("output")).Apply(b1, b2, b3, b4);
    }

    /// <summary>
    /// GoogLeNet's inception (3a), the lecture's Inception example: a 28×28×192 input; 1×1 64; 1×1 96 → 3×3 128;
    /// 1×1 16 → 5×5 32; 3×3 max-pool → 1×1 32; concatenated to 28×28×256. 163,696 parameters.
    /// </summary>
    public static Model InceptionModule3a()
    {
        var inputs = new Input(28, 28, 192);
        var outputs = InceptionModule(inputs, 64, 96, 128, 16, 32, 32, name: "inception_3a");
        return new Model(inputs, outputs, name: "inception_module");
    }
}
