using BenchmarkDotNet.Attributes;

namespace ConvNet.Benchmarks;

/// <summary>
/// <see cref="SeparableConv2D"/> layer forward (3×3 depthwise then 1×1 pointwise, Same, no bias as in Xception) on Xception's
/// separable-conv shapes, B = 8, Threads = 1.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(WorkConfig))]
public class SeparableConvBenchmarks
{
    /// <summary>H×W×C of the input; the filters are Xception's (128, 256, 728, 728).</summary>
    [Params("147x147x64", "74x74x128", "37x37x256", "19x19x728")] public string Shape { get; set; } = "19x19x728";

    private SeparableConv2D _layer = null!;
    private Tensor _x = null!;

    /// <summary>Builds the layer and a random input.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (h, w, c) = StageShapes.Parse(Shape);
        _layer = new SeparableConv2D(StageShapes.SeparableFilters(Shape), 3, padding: Padding.Same, useBias: false);
        _layer.Build([h, w, c]);
        _layer.Threads = 1;
        _x = new Tensor(Shapes.Random(StageShapes.N * h * w * c, 1), StageShapes.N, h, w, c);
    }

    /// <summary>Depthwise 2·N·H·W·C·9 plus pointwise 2·N·H·W·C·F; bytes: input, both kernels and the output, once each.</summary>
    public static Work Workload(string method, string shape)
    {
        var (h, w, c) = StageShapes.Parse(shape);
        double f = StageShapes.SeparableFilters(shape), px = (double)StageShapes.N * h * w;
        return method switch
        {
            nameof(Forward) => new(2 * px * c * 9 + 2 * px * c * f, (px * c + 9 * c + c * f + px * f) * 4),
            _ => throw new ArgumentException(method),
        };
    }

    /// <summary>Inference forward of the layer.</summary>
    [Benchmark] public Tensor Forward() => _layer.Forward(_x);
}
