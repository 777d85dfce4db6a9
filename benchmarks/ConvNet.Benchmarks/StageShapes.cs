using ConvNet.Kernels;

namespace ConvNet.Benchmarks;

/// <summary>
/// Activation shapes of ResNet-18 (224×224 input, stages 1–4) and Xception (299×299: entry-flow separable convs, middle
/// flow) for the BatchNormalization, depthwise, separable and residual suites; batch <see cref="N"/>, NHWC.
/// </summary>
public static class StageShapes
{
    /// <summary>Batch of every case (ResNet-18's B = 8 of the ORT comparison).</summary>
    public const int N = 8;

    /// <summary>ResNet-18 stage outputs, H×W×C.</summary>
    public static readonly string[] ResNet18 = ["56x56x64", "28x28x128", "14x14x256", "7x7x512"];

    /// <summary>Xception separable-conv inputs (entry flow blocks 2–4, middle flow), H×W×C.</summary>
    public static readonly string[] Xception = ["147x147x64", "74x74x128", "37x37x256", "19x19x728"];

    /// <summary>Parses "HxWxC".</summary>
    public static (int H, int W, int C) Parse(string shape)
    {
        var p = shape.Split('x').Select(int.Parse).ToArray();
        return (p[0], p[1], p[2]);
    }

    /// <summary>Elements of one batch of <paramref name="shape"/>.</summary>
    public static long Elements(string shape)
    {
        var (h, w, c) = Parse(shape);
        return (long)N * h * w * c;
    }

    /// <summary>A 3×3, stride 1, Same depthwise geometry (depth multiplier 1) on <paramref name="shape"/>.</summary>
    public static ConvGeometry Depthwise(string shape)
    {
        var (h, w, c) = Parse(shape);
        return ConvGeometry.Create(N, h, w, c, 3, 3, 1, 1, Padding.Same, c);
    }

    /// <summary>Output channels of the separable conv reading <paramref name="shape"/> in Xception (128, 256, 728, 728).</summary>
    public static int SeparableFilters(string shape) => Parse(shape).C switch { 64 => 128, 128 => 256, _ => 728 };
}
