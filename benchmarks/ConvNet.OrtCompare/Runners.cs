using Microsoft.ML.OnnxRuntime;

namespace ConvNet.OrtCompare;

/// <summary>One timed contestant: runs one inference of a fixed batch and exposes its output.</summary>
internal interface IRunner : IDisposable
{
    /// <summary>Row label, e.g. <c>convnet</c>, <c>ort_nhwc</c>.</summary>
    string Name { get; }
    /// <summary>One inference of the batch.</summary>
    void Run();
    /// <summary>A copy of the last output, flat.</summary>
    float[] Output();
}

/// <summary>ConvNet: <c>model.Call(x)</c> (inference mode) with <c>model.Threads</c> set.</summary>
internal sealed class ConvNetRunner(Model model, Tensor x) : IRunner
{
    private Tensor? _y;
    public string Name => "convnet";
    public void Run() => _y = model.Call(x);
    public float[] Output() => (_y ?? throw new InvalidOperationException("not run yet")).ToArray();
    public void Dispose() { }
}

/// <summary>An ORT session with its input and output bound to preallocated buffers (no allocation per run).</summary>
internal sealed class OrtRunner : IRunner
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames, _outputNames;
    private readonly OrtValue[] _inputs, _outputs;
    private readonly float[] _y;

    /// <param name="name">Row label.</param>
    /// <param name="model">ONNX file path or bytes.</param>
    /// <param name="threads">IntraOpNumThreads.</param>
    /// <param name="x">Input in the graph's layout; its length fixes the batch.</param>
    /// <param name="inputDims">Input shape with the batch first.</param>
    public OrtRunner(string name, object model, int threads, float[] x, long[] inputDims)
    {
        Name = name;
        using var options = Options(threads);
        _session = model switch
        {
            string path => new InferenceSession(path, options),
            byte[] bytes => new InferenceSession(bytes, options),
            _ => throw new ArgumentException("model must be a path or bytes", nameof(model)),
        };
        _inputNames = [_session.InputMetadata.Keys.Single()];
        var declared = _session.InputMetadata[_inputNames[0]].Dimensions;
        if (declared.Length != inputDims.Length || declared.Zip(inputDims).Any(d => d.First > 0 && d.First != d.Second))
            throw new InvalidOperationException($"{name}: the graph's input is ({string.Join(", ", declared)}), not ({string.Join(", ", inputDims)}) (a fixed batch size?)");
        _inputs = [OrtValue.CreateTensorValueFromMemory(x, inputDims)];
        var output = _session.OutputMetadata.First();
        _outputNames = [output.Key];
        long[] outDims = output.Value.Dimensions.Select((d, i) => d > 0 ? d : i == 0 ? inputDims[0]
            : throw new InvalidOperationException($"{name}: output dimension {i} is symbolic")).Select(d => (long)d).ToArray();
        _y = new float[outDims.Aggregate(1L, (a, b) => a * b)];
        _outputs = [OrtValue.CreateTensorValueFromMemory(_y, outDims)];
    }

    public string Name { get; }

    /// <summary>IntraOpNumThreads = t, InterOpNumThreads = 1, sequential execution, every graph optimisation.</summary>
    public static SessionOptions Options(int threads) => new()
    {
        IntraOpNumThreads = threads,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    };

    public void Run() => _session.Run(_runOptions, _inputNames, _inputs, _outputNames, _outputs);
    public float[] Output() => (float[])_y.Clone();

    public void Dispose()
    {
        foreach (var v in _inputs.Concat(_outputs)) v.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
