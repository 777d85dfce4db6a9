using ConvNet.Kernels;

namespace ConvNet.Benchmarks;

/// <summary>The lecture model's convolution shapes (3×3, stride 1, Same) and FLOP counts.</summary>
public static class Shapes
{
    /// <summary>Names accepted by the benchmarks' <c>Layer</c> parameter.</summary>
    public static readonly string[] Names = ["conv1", "conv2", "conv3"];

    /// <summary>Geometry of a named layer at batch <paramref name="n"/>.</summary>
    public static ConvGeometry Get(string name, int n) => name switch
    {
        "conv1" => ConvGeometry.Create(n, 80, 80, 1, 3, 3, 1, 1, Padding.Same, 16),
        "conv2" => ConvGeometry.Create(n, 40, 40, 16, 3, 3, 1, 1, Padding.Same, 32),
        "conv3" => ConvGeometry.Create(n, 20, 20, 32, 3, 3, 1, 1, Padding.Same, 64),
        _ => throw new ArgumentException($"unknown layer {name}"),
    };

    /// <summary>2·N·OH·OW·K·KH·KW·C — the same for forward, backward-data and backward-filter.</summary>
    public static double Flops(in ConvGeometry g) => 2.0 * g.N * g.OH * g.OW * g.K * g.KH * g.KW * g.C;

    /// <summary>Deterministic pseudo-random fill in [-1, 1).</summary>
    public static float[] Random(int length, int seed)
    {
        var r = new Random(seed);
        var a = new float[length];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(r.NextDouble() * 2 - 1);
        return a;
    }
}
