using BenchmarkDotNet.Attributes;
using ConvNet.Kernels;

namespace ConvNet.Benchmarks;

/// <summary>Buffers for one conv layer shape.</summary>
public abstract class ConvBenchBase
{
    /// <summary>Which lecture layer.</summary>
    [Params("conv1", "conv2", "conv3")] public string Layer { get; set; } = "conv2";

    /// <summary>Batch size used by this class.</summary>
    protected abstract int Batch { get; }

    /// <summary>Geometry at <see cref="Batch"/>.</summary>
    protected ConvGeometry G;
    /// <summary>Tensors.</summary>
    protected float[] X = [], W = [], B = [], Y = [], Dy = [], Dx = [], Dw = [], Db = [];

    /// <summary>Allocates and fills buffers.</summary>
    [GlobalSetup]
    public void Setup()
    {
        G = Shapes.Get(Layer, Batch);
        X = Shapes.Random(G.N * G.InImage, 1); W = Shapes.Random(G.WeightSize, 2); B = Shapes.Random(G.K, 3);
        Y = new float[G.N * G.OutImage]; Dy = Shapes.Random(G.N * G.OutImage, 4);
        Dx = new float[G.N * G.InImage]; Dw = new float[G.WeightSize]; Db = new float[G.K];
    }
}

/// <summary>SIMD conv kernels (<see cref="Conv"/>) at B=32, single thread.</summary>
[MemoryDiagnoser]
[Config(typeof(GflopsConfig))]
public class ConvSimdBenchmarks : ConvBenchBase
{
    /// <inheritdoc/>
    protected override int Batch => 32;

    /// <summary>Forward.</summary>
    [Benchmark] public void Forward() => Conv.ConvForward(G, X, W, B, Y);
    /// <summary>Backward w.r.t. input.</summary>
    [Benchmark] public void BackwardData() => Conv.ConvBackwardData(G, Dy, W, Dx);
    /// <summary>Backward w.r.t. filter and bias.</summary>
    [Benchmark] public void BackwardFilter() => Conv.ConvBackwardFilter(G, X, Dy, Dw, Db);
}

/// <summary>Naive reference kernels (<see cref="ConvReference"/>) at B=2 so they finish.</summary>
[MemoryDiagnoser]
[Config(typeof(GflopsConfig))]
public class ConvReferenceBenchmarks : ConvBenchBase
{
    /// <inheritdoc/>
    protected override int Batch => 2;

    /// <summary>Forward.</summary>
    [Benchmark] public void Forward() => ConvReference.ConvForward(G, X, W, B, Y);
    /// <summary>Backward w.r.t. input.</summary>
    [Benchmark] public void BackwardData() => ConvReference.ConvBackwardData(G, Dy, W, Dx);
    /// <summary>Backward w.r.t. filter and bias.</summary>
    [Benchmark] public void BackwardFilter() => ConvReference.ConvBackwardFilter(G, X, Dy, Dw, Db);
}

/// <summary>Dense 6400→128 at B=32 through the three GEMM verbs.</summary>
[MemoryDiagnoser]
[Config(typeof(GflopsConfig))]
public class GemmBenchmarks
{
    /// <summary>Batch, inputs, units.</summary>
    public const int Bt = 32, In = 6400, Out = 128;
    private float[] _x = [], _w = [], _y = [], _dy = [], _dx = [], _dw = [];

    /// <summary>Allocates and fills buffers.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _x = Shapes.Random(Bt * In, 1); _w = Shapes.Random(In * Out, 2); _y = new float[Bt * Out];
        _dy = Shapes.Random(Bt * Out, 3); _dx = new float[Bt * In]; _dw = new float[In * Out];
    }

    /// <summary>y[32×128] += x[32×6400]·W[6400×128].</summary>
    [Benchmark] public void GemmNN() => Gemm.GemmNN(Bt, Out, In, _x, _w, _y);
    /// <summary>dx[32×6400] += dy[32×128]·Wᵀ.</summary>
    [Benchmark] public void GemmNT() => Gemm.GemmNT(Bt, In, Out, _dy, _w, _dx);
    /// <summary>dW[6400×128] += xᵀ·dy.</summary>
    [Benchmark] public void GemmTN() => Gemm.GemmTN(In, Out, Bt, _x, _dy, _dw);
}
