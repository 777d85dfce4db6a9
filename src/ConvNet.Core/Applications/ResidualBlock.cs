namespace ConvNet;

public static partial class Applications
{
    /// <summary>
    /// A basic residual block (He et al. 2016): y = ReLU(F(x) + shortcut(x)) with F = 3×3 conv (ReLU) → 3×3 conv, both Same.
    /// With <paramref name="strides"/> 1 and as many filters as input channels the shortcut is the identity; otherwise it is a
    /// 1×1 projection conv with the same strides. Convs keep their bias here (no BatchNormalization in the block).
    /// </summary>
    public static SymbolicTensor ResidualBlock(SymbolicTensor x, int filters, int strides = 1, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        string? N(string part) => name is null ? null : $"{name}_{part}";
        var y = new Conv2D(filters, 3, strides, Padding.Same, Activation.Relu, name: N("conv1")).Apply(x);
        y = new Conv2D(filters, 3, padding: Padding.Same, name: N("conv2")).Apply(y);
        var shortcut = strides == 1 && x.Shape[^1] == filters ? x
            : new Conv2D(filters, 1, strides, Padding.Same, name: N("projection")).Apply(x);
        return new ReLU(N("out")).Apply(new Add(N("add")).Apply(y, shortcut));
    }

    /// <summary>
    /// Two basic residual blocks on a 56×56×64 input (ResNet-18's second stage): one with an identity shortcut
    /// (73,856 parameters) and one with a 1×1 stride-2 projection shortcut to 128 channels (229,760); 303,616 in all,
    /// output 28×28×128.
    /// </summary>
    public static Model ResidualBlocks()
    {
        var inputs = new Input(56, 56, 64);
        var x = ResidualBlock(inputs, 64, name: "block1");
        x = ResidualBlock(x, 128, strides: 2, name: "block2");
        return new Model(inputs, x, name: "residual_blocks");
    }
}
