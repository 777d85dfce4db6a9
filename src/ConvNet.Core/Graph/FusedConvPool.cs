using ConvNet.Kernels;
using System.Numerics.Tensors;

namespace ConvNet;

/// <summary>
/// A <see cref="Conv2D"/> (ReLU or linear) and the <see cref="MaxPooling2D"/> that is its only consumer, run as one fused
/// kernel (<see cref="ConvPool"/>): the full-resolution convolution output is never stored. The execution plan creates it
/// (a plan rewrite); the two layers stay plain math and keep their parameters. Forward results are bit-identical to the
/// unfused pair (same conv tiles, max then ReLU).
/// </summary>
internal sealed class FusedConvPool
{
    private readonly Conv2D _conv;
    private readonly MaxPooling2D _pool;
    private readonly Action<int, int, int> _forwardPart, _backwardPart;
    private Tensor? _x, _dy, _dx;
    private Tensor? _pooled;                 // (N, POH, POW, F) pooled output
    private byte[] _argmax = [];             // (N, POH, POW, F) index of the max within each window
    private ConvGeometry _g, _pg;            // conv and pool geometry for the current batch
    private float[][] _dzChunk = [];         // per part: (chunk, OH, OW, F) scattered conv-output gradient
    private float[][] _partialW = [], _partialB = [];   // per part: (KH, KW, C, F) and (F) gradient partial sums

    internal FusedConvPool(Conv2D conv, MaxPooling2D pool)
    {
        _conv = conv;
        _pool = pool;
        _forwardPart = ForwardPart;
        _backwardPart = BackwardPart;
    }

    /// <summary>The convolution.</summary>
    internal Conv2D Conv => _conv;
    /// <summary>The pooling layer.</summary>
    internal MaxPooling2D Pool => _pool;

    /// <summary>True if <paramref name="conv"/> followed by <paramref name="pool"/> can run as one fused kernel.</summary>
    internal static bool CanFuse(Conv2D conv, MaxPooling2D pool) =>
        conv.Activation is Activation.None or Activation.Relu &&
        ConvPool.Supports(pool.PoolSize.Height, pool.PoolSize.Width, pool.Strides.Height, pool.Strides.Width);

    /// <summary>Input channels from which the fused backward applies the sparse conv-output gradient directly
    /// (<see cref="ConvPoolBackward"/>); below it (e.g. a 1-channel first layer) the dense kernels on a scattered dz win.</summary>
    internal const int SparseBackwardMinChannels = 24;

    /// <summary>Test/benchmark switch for the backward: null (default) = sparse for C ≥ <see cref="SparseBackwardMinChannels"/>
    /// on CPUs without AVX-512, true = always sparse, false = always dense (scatter dz, then the dense backward convolutions).</summary>
    internal bool? SparseBackward { get; set; }

    // The sparse path pays off only against the AVX2 dense kernels; the AVX-512 dense kernels are faster for every lecture layer
    // (measured: conv3 fused backward 5.3 ms dense vs 6.4 ms sparse, single thread, B = 32).
    private static readonly bool SparseWinsOnThisCpu = KernelTable.Current.Backend != KernelBackend.Avx512;

    /// <summary>pool(conv(x)) for a batch x (N, H, W, C): returns the pooled tensor (owned by this step).</summary>
    internal Tensor Forward(Tensor x)
    {
        if (!Layer.IsBatchOf(x.Shape, _conv.InputShape!))
            throw new LayerShapeException(_conv.Name, Layer.Fmt(_conv.InputShape!, true), x.Shape.ToString(),
                $"Layer '{_conv.Name}' (Conv2D): expected input shape {Layer.Fmt(_conv.InputShape!, true)}, got {x.Shape}.");
        int n = x.Shape[0];
        _g = _conv.Geometry(n);
        _pg = _pool.Geometry(n);
        _x = x;
        if (_pooled is null || _pooled.Shape[0] != n) _pooled = new Tensor(Layer.BatchShapeOf(n, _pool.OutputShape!));
        if (_argmax.Length != _pooled.Length) _argmax = new byte[_pooled.Length];
        _conv.ForBatch(n, _forwardPart);
        return _pooled;
    }

    private void ForwardPart(int part, int s, int cnt)
    {
        var g = _g; var pg = _pg;
        ConvPool.ConvPoolForward(g.WithBatch(cnt), pg.KH, pg.KW, pg.SH, pg.SW, pg.PadTop, pg.PadLeft, pg.OH, pg.OW, _conv.Activation == Activation.Relu,
            _x!.Span.Slice(s * g.InImage, cnt * g.InImage), _conv.Kernel!.Value.Span, _conv.UseBias ? _conv.Bias!.Value.Span : [],
            _pooled!.Span.Slice(s * pg.OutImage, cnt * pg.OutImage), _argmax.AsSpan(s * pg.OutImage, cnt * pg.OutImage));
    }

    /// <summary>
    /// Backward: dy is the gradient of the pooled output. Adds the kernel and bias gradients into the conv's parameters and
    /// returns dL/dx (owned by this step), or <paramref name="dy"/> when the conv needs no input gradient.
    /// Sparse path: the conv-output gradient (non-zero only at window maxima) is applied directly (<see cref="ConvPoolBackward"/>);
    /// dense path: dz is scattered chunk by chunk into an L2-sized buffer and the dense backward kernels run on it
    /// (bit-identical to the unfused pair).
    /// </summary>
    internal Tensor Backward(Tensor dy)
    {
        if (_x is null || _pooled is null) throw new InvalidOperationException($"Layers '{_conv.Name}'+'{_pool.Name}': fused backward without a fused forward.");
        if (dy.Shape != _pooled.Shape)
            throw new LayerShapeException(_pool.Name, _pooled.Shape.ToString(), dy.Shape.ToString(),
                $"Layer '{_pool.Name}' (MaxPooling2D): the output gradient must have the pooled output's shape {_pooled.Shape}, got {dy.Shape}.");
        int n = dy.Shape[0];
        _dy = dy;
        bool needDx = _conv.NeedsInputGradient;
        if (needDx && (_dx is null || _dx.Shape[0] != n)) _dx = new Tensor(Layer.BatchShapeOf(n, _conv.InputShape!));
        int parts = _conv.Parts(n);
        EnsurePartials(parts);
        int chunk = Chunk(n, parts);
        if (_dzChunk.Length < parts || _dzChunk[0].Length < chunk * _g.OutImage)
        {
            _dzChunk = new float[parts][];
            for (int p = 0; p < parts; p++) _dzChunk[p] = new float[chunk * _g.OutImage];
        }
        _conv.ForBatch(n, _backwardPart);
        // Reduce the per-part gradients in part order (deterministic for a given thread count).
        var kernel = _conv.Kernel!;
        for (int p = 0; p < parts; p++)
        {
            TensorPrimitives.Add(kernel.Grad.Span, _partialW[p], kernel.Grad.Span);
            if (_conv.UseBias) TensorPrimitives.Add(_conv.Bias!.Grad.Span, _partialB[p], _conv.Bias.Grad.Span);
        }
        return needDx ? _dx! : dy;
    }

    // Images per dz chunk: the chunk's conv-output gradient (≈ ≤ 512 KB) stays in L2 between the scatter and the two
    // backward convolutions, which sweep images independently — so chunking gives exactly the unfused results.
    private int Chunk(int n, int parts) => Math.Clamp(131072 / Math.Max(1, _g.OutImage), 1, (n + parts - 1) / parts);

    private void BackwardPart(int part, int s, int cnt)
    {
        var g = _g; var pg = _pg;
        bool relu = _conv.Activation == Activation.Relu, needDx = _conv.NeedsInputGradient;
        var kernel = _conv.Kernel!.Value.Span;
        Array.Clear(_partialW[part]);
        Array.Clear(_partialB[part]);
        var partialB = _conv.UseBias ? _partialB[part] : [];
        if (SparseBackward ?? (SparseWinsOnThisCpu && g.C >= SparseBackwardMinChannels))
        {
            var dxs = needDx ? _dx!.Span.Slice(s * g.InImage, cnt * g.InImage) : [];
            dxs.Clear();
            ConvPoolBackward.Backward(g.WithBatch(cnt), pg.KH, pg.KW, pg.SH, pg.SW, pg.PadTop, pg.PadLeft, pg.OH, pg.OW, relu,
                _x!.Span.Slice(s * g.InImage, cnt * g.InImage), kernel,
                _pooled!.Span.Slice(s * pg.OutImage, cnt * pg.OutImage), _dy!.Span.Slice(s * pg.OutImage, cnt * pg.OutImage),
                _argmax.AsSpan(s * pg.OutImage, cnt * pg.OutImage), _partialW[part], partialB, dxs);
            return;
        }
        int chunk = Chunk(_dy!.Shape[0], _conv.Parts(_dy.Shape[0]));
        var dz = _dzChunk[part];
        for (int i = s; i < s + cnt; i += chunk)
        {
            int c = Math.Min(chunk, s + cnt - i);
            var gc = g.WithBatch(c);
            var dzc = dz.AsSpan(0, c * g.OutImage);
            ConvPool.MaxPoolScatter(gc, pg.KH, pg.KW, pg.SH, pg.SW, pg.PadTop, pg.PadLeft, pg.OH, pg.OW, relu,
                _pooled!.Span.Slice(i * pg.OutImage, c * pg.OutImage), _dy.Span.Slice(i * pg.OutImage, c * pg.OutImage),
                _argmax.AsSpan(i * pg.OutImage, c * pg.OutImage), dzc);
            Kernels.Conv.ConvBackwardFilter(gc, _x!.Span.Slice(i * g.InImage, c * g.InImage), dzc, _partialW[part], partialB);
            if (needDx)
            {
                var dxc = _dx!.Span.Slice(i * g.InImage, c * g.InImage);
                dxc.Clear();
                Kernels.Conv.ConvBackwardData(gc, dzc, kernel, dxc);
            }
        }
    }

    private void EnsurePartials(int parts)
    {
        int kernelLength = _conv.Kernel!.Value.Length;
        if (_partialW.Length >= parts && _partialW[0].Length == kernelLength) return;
        _partialW = new float[parts][]; _partialB = new float[parts][];
        for (int p = 0; p < parts; p++) { _partialW[p] = new float[kernelLength]; _partialB[p] = new float[_conv.Filters]; }
    }
}
