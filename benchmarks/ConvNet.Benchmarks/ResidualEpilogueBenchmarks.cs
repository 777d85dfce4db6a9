using System.Numerics;
using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using ConvNet.Kernels;

namespace ConvNet.Benchmarks;

/// <summary>
/// The residual epilogue y = ReLU(conv output + shortcut) on ResNet-18 stage shapes, B = 8, single thread: as the plan runs
/// it today (an Add layer then a ReLU layer), the same two kernels called directly, and a one-pass loop as the yardstick
/// for a fused epilogue (it is not library code).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(WorkConfig))]
public class ResidualEpilogueBenchmarks
{
    /// <summary>H×W×C of the block output.</summary>
    [Params("56x56x64", "28x28x128", "14x14x256", "7x7x512")] public string Shape { get; set; } = "56x56x64";

    private Add _add = null!;
    private ReLU _relu = null!;
    private Tensor[] _inputs = [];
    private float[] _y = [];

    /// <summary>Builds the layers and random inputs.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (h, w, c) = StageShapes.Parse(Shape);
        int[] shape = [h, w, c];
        _add = new Add { Threads = 1 };
        _add.BuildFor([shape, shape]);
        _relu = new ReLU { Threads = 1 };
        _relu.Build(shape);
        int e = StageShapes.N * h * w * c;
        _inputs = [new Tensor(Shapes.Random(e, 1), StageShapes.N, h, w, c), new Tensor(Shapes.Random(e, 2), StageShapes.N, h, w, c)];
        _y = new float[e];
    }

    /// <summary>2 FLOPs per element (add, max); minimum traffic: read both inputs, write y.</summary>
    public static Work Workload(string method, string shape)
    {
        double e = StageShapes.Elements(shape);
        return new(2 * e, 3 * e * 4);
    }

    /// <summary>Add layer forward, then ReLU layer forward (two passes, as the execution plan runs them).</summary>
    [Benchmark(Baseline = true)] public Tensor AddLayerThenReluLayer() => _relu.Forward(_add.ForwardNode(_inputs, false, false));

    /// <summary>The kernels underneath: TensorPrimitives.Add, then Activations.ReluForward in place.</summary>
    [Benchmark]
    public void AddThenReluKernels()
    {
        TensorPrimitives.Add(_inputs[0].Span, _inputs[1].Span, _y);
        Activations.ReluForward(_y, _y);
    }

    /// <summary>Yardstick: y = max(a + b, 0) in one pass.</summary>
    [Benchmark] public void FusedOnePassYardstick() => FusedAddRelu(_inputs[0].Span, _inputs[1].Span, _y);

    internal static void FusedAddRelu(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        int V = Vector<float>.Count, i = 0;
        for (; i + V <= y.Length; i += V)
            Vector.Max(new Vector<float>(a[i..]) + new Vector<float>(b[i..]), Vector<float>.Zero).CopyTo(y[i..]);
        for (; i < y.Length; i++) y[i] = MathF.Max(a[i] + b[i], 0f);
    }
}
