using BenchmarkDotNet.Attributes;
using ConvNet.Kernels;

namespace ConvNet.Benchmarks;

/// <summary><see cref="DepthwiseConv"/> 3×3, stride 1, Same, depth multiplier 1, on Xception's separable-conv inputs, B = 8, single thread.</summary>
[MemoryDiagnoser]
[Config(typeof(WorkConfig))]
public class DepthwiseConvBenchmarks
{
    /// <summary>H×W×C of the input.</summary>
    [Params("147x147x64", "74x74x128", "37x37x256", "19x19x728")] public string Shape { get; set; } = "19x19x728";

    private ConvGeometry _g;
    private float[] _x = [], _w = [], _b = [], _y = [], _dy = [], _dx = [], _dw = [], _db = [];

    /// <summary>Allocates and fills buffers.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _g = StageShapes.Depthwise(Shape);
        int w = _g.KH * _g.KW * _g.K;
        _x = Shapes.Random(_g.N * _g.InImage, 1); _w = Shapes.Random(w, 2); _b = Shapes.Random(_g.K, 3);
        _y = new float[_g.N * _g.OutImage]; _dy = Shapes.Random(_g.N * _g.OutImage, 4);
        _dx = new float[_g.N * _g.InImage]; _dw = new float[w]; _db = new float[_g.K];
    }

    /// <summary>2·N·OH·OW·K·KH·KW for every pass; bytes: the input, weights and output of the pass, once each.</summary>
    public static Work Workload(string method, string shape)
    {
        var g = StageShapes.Depthwise(shape);
        double flops = 2.0 * g.N * g.OH * g.OW * g.K * g.KH * g.KW;
        double x = (double)g.N * g.InImage, y = (double)g.N * g.OutImage, w = g.KH * g.KW * g.K;
        return method switch
        {
            nameof(Forward) => new(flops, (x + w + y) * 4),
            nameof(BackwardData) => new(flops, (y + w + x) * 4),
            nameof(BackwardFilter) => new(flops, (x + y + w) * 4),
            _ => throw new ArgumentException(method),
        };
    }

    /// <summary>y = depthwise(x) + bias.</summary>
    [Benchmark] public void Forward() => DepthwiseConv.DepthwiseConvForward(_g, _x, _w, _b, _y);
    /// <summary>dx += depthwise backward of dy.</summary>
    [Benchmark] public void BackwardData() => DepthwiseConv.DepthwiseConvBackwardData(_g, _dy, _w, _dx);
    /// <summary>dw, dbias += filter gradient.</summary>
    [Benchmark] public void BackwardFilter() => DepthwiseConv.DepthwiseConvBackwardFilter(_g, _x, _dy, _dw, _db);
}
