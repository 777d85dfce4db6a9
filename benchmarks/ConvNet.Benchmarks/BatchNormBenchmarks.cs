using BenchmarkDotNet.Attributes;
using ConvNet.Kernels;

namespace ConvNet.Benchmarks;

/// <summary><see cref="BatchNorm"/> kernels over the channel axis of NHWC activations (ResNet-18 stages, Xception middle flow), B = 8, single thread.</summary>
[MemoryDiagnoser]
[Config(typeof(WorkConfig))]
public class BatchNormBenchmarks
{
    /// <summary>H×W×C of the activations.</summary>
    [Params("56x56x64", "28x28x128", "14x14x256", "7x7x512", "19x19x728")] public string Shape { get; set; } = "56x56x64";

    private int _rows, _c;
    private float[] _x = [], _dy = [], _y = [], _dx = [];
    private float[] _gamma = [], _beta = [], _mean = [], _sq = [], _scale = [], _shift = [], _s1 = [], _s2 = [], _a = [], _b = [], _d = [];

    /// <summary>Allocates and fills buffers.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (h, w, c) = StageShapes.Parse(Shape);
        _rows = StageShapes.N * h * w;
        _c = c;
        int e = _rows * c;
        _x = Shapes.Random(e, 1); _dy = Shapes.Random(e, 2); _y = new float[e]; _dx = new float[e];
        _gamma = Shapes.Random(c, 3); _beta = Shapes.Random(c, 4); _scale = Shapes.Random(c, 5); _shift = Shapes.Random(c, 6);
        _a = Shapes.Random(c, 7); _b = Shapes.Random(c, 8); _d = Shapes.Random(c, 9);
        _mean = new float[c]; _sq = new float[c]; _s1 = new float[c]; _s2 = new float[c];
    }

    /// <summary>FLOPs per element of each verb, and the minimum traffic in tensors of the activation's size.</summary>
    public static Work Workload(string method, string shape)
    {
        double e = StageShapes.Elements(shape);
        return method switch
        {
            nameof(ForwardInference) => new(2 * e, 2 * e * 4),     // read x, write y
            nameof(ForwardTraining) => new(6 * e, 2 * e * 4),      // sum, squared deviation, scale-shift; read x, write y
            nameof(BackwardSums) => new(4 * e, 2 * e * 4),         // read x, dy
            nameof(BackwardData) => new(4 * e, 3 * e * 4),         // read x, dy, write dx
            _ => throw new ArgumentException(method),
        };
    }

    /// <summary>Inference: y = x·scale + shift (the moving statistics folded into scale and shift).</summary>
    [Benchmark] public void ForwardInference() => BatchNorm.ScaleShift(_rows, _c, 1, _x, _scale, _shift, _y);

    /// <summary>Training forward: batch mean, variance, then scale-shift (three passes over x, as the layer runs them).</summary>
    [Benchmark]
    public void ForwardTraining()
    {
        Array.Clear(_mean); Array.Clear(_sq);
        BatchNorm.ChannelSum(_rows, _c, 1, _x, _mean);
        for (int i = 0; i < _c; i++) _mean[i] /= _rows;
        BatchNorm.ChannelSquaredDeviation(_rows, _c, 1, _x, _mean, _sq);
        for (int i = 0; i < _c; i++)
        {
            float s = _gamma[i] / MathF.Sqrt(_sq[i] / _rows + 1e-3f);
            _scale[i] = s;
            _shift[i] = _beta[i] - s * _mean[i];
        }
        BatchNorm.ScaleShift(_rows, _c, 1, _x, _scale, _shift, _y);
    }

    /// <summary>Backward reductions: Σ dy and Σ dy·(x − μ) per channel.</summary>
    [Benchmark]
    public void BackwardSums()
    {
        Array.Clear(_s1); Array.Clear(_s2);
        BatchNorm.BackwardSums(_rows, _c, 1, _x, _dy, _mean, _s1, _s2);
    }

    /// <summary>Backward data: dx = a·dy + b·x + d.</summary>
    [Benchmark] public void BackwardData() => BatchNorm.BackwardData(_rows, _c, 1, _x, _dy, _a, _b, _d, _dx);
}
