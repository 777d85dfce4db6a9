using ConvNet.Kernels;

namespace ConvNet;

/// <summary>
/// Inference form of a <see cref="Dense"/> layer (linear or ReLU) for small batches: the output units are split over the
/// threads, so each thread streams only its columns of the weight matrix (the batch split of the layer makes every thread
/// read all of it, and leaves threads idle when the batch is smaller than the thread count). Larger batches run the layer.
/// </summary>
internal sealed class DenseByUnits : InferenceOp
{
    /// <summary>Largest batch run by units; above it the layer's own batch-parallel GEMM is faster.</summary>
    internal const int MaxBatch = 32;
    private const int Block = 32;   // columns per work unit
    private readonly Dense _dense;
    private readonly Tensor[] _one = new Tensor[1];
    private readonly Action<int, int, int> _part;
    private Tensor? _x, _y;

    internal DenseByUnits(Dense dense)
    {
        _dense = dense;
        _part = Part;
    }

    /// <summary>True for a linear or ReLU Dense.</summary>
    internal static bool Supports(Dense dense) => dense.Activation is Activation.None or Activation.Relu;

    internal override Tensor Forward(Tensor[] inputs, Tensor output)
    {
        var x = inputs[0];
        int n = x.Shape[0];
        if (n > MaxBatch)
        {
            // The plan has set the layer's planned output to `output`.
            _one[0] = x;
            return _dense.ForwardNode(_one, training: false, record: false);
        }
        RequireInput(_dense, x, _dense.InputShape!);
        _x = x; _y = output;
        int blocks = (_dense.Units + Block - 1) / Block;
        Threading.WorkerPool.ForThreads(_dense.Threads).RunChunks(blocks, Chunks(_dense, blocks, (long)n * _dense.InputShape![0] * _dense.Units), _part);
        _x = null;
        return output;
    }

    private void Part(int part, int s, int cnt)
    {
        int n = _x!.Shape[0], inF = _dense.InputShape![0], u = _dense.Units;
        int j0 = s * Block, j1 = Math.Min(u, (s + cnt) * Block), width = j1 - j0;
        var y = _y!.Span;
        var bias = _dense.UseBias ? _dense.Bias!.Value.Span.Slice(j0, width) : default;
        for (int i = 0; i < n; i++)
            if (bias.IsEmpty) y.Slice(i * u + j0, width).Clear();
            else bias.CopyTo(y.Slice(i * u + j0, width));
        var yc = y.Slice(j0, (n - 1) * u + width);
        GemmStrided.NN(n, width, inF, _x.Span, inF, _dense.Kernel!.Value.Span.Slice(j0), u, yc, u);
        if (_dense.Activation == Activation.Relu)
            for (int i = 0; i < n; i++) ConvEpilogue.Apply(1, width, yc.Slice(i * u, width), width, default, default, default, true, yc.Slice(i * u, width), width);
    }
}
