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
    private double[] _p1 = [], _p2 = [];
    private float[] _dev = [];
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
        _mean = new float[c]; _sq = new float[c]; _dev = new float[c]; _p1 = new double[c]; _p2 = new double[c]; _s1 = new float[c]; _s2 = new float[c];
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

    /// <summary>Training forward as the layer runs it: per 4096-element chunk the mean, residue and squared deviation in one read
    /// (<see cref="BatchNorm.ChannelMoments"/>, combined in double about a per-channel shift), then scale-shift.</summary>
    [Benchmark]
    public void ForwardTraining()
    {
        Array.Clear(_p1); Array.Clear(_p2);
        int chunk = Math.Max(1, 4096 / _c);
        for (int r = 0; r < _rows; r += chunk)
        {
            int k = Math.Min(chunk, _rows - r);
            BatchNorm.ChannelMoments(k, _c, 1, _x.AsSpan(r * _c, k * _c), _mean, _dev, _sq);
            for (int i = 0; i < _c; i++)
            {
                double dm = _mean[i] - (double)_x[i];
                _p1[i] += k * dm + _dev[i];
                _p2[i] += _sq[i] + 2 * dm * _dev[i] + k * dm * dm;
            }
        }
        for (int i = 0; i < _c; i++)
        {
            double dm = _p1[i] / _rows;
            float s = _gamma[i] / MathF.Sqrt((float)(_p2[i] / _rows - dm * dm) + 1e-3f);
            _scale[i] = s;
            _shift[i] = _beta[i] - s * (float)(_x[i] + dm);
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
