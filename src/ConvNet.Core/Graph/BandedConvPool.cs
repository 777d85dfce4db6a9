using ConvNet.Kernels;

namespace ConvNet;

/// <summary>
/// Inference form of <see cref="FusedConvPool"/>: the same fused kernel (<see cref="ConvPool"/>), split over (image, pooled
/// row) instead of images, so a single image uses every thread. Needs pooling without top padding (each band of pooled rows
/// reads its own band of conv rows). Results are bit-identical to the fused training step.
/// </summary>
internal sealed class BandedConvPool : InferenceOp
{
    private readonly Conv2D _conv;
    private readonly MaxPooling2D _pool;
    private readonly Action<int, int, int> _part;
    private ConvGeometry _g, _pg;
    private Tensor? _x, _y;
    private byte[] _argmax = [];   // the kernel's window index output (unused at inference)

    internal BandedConvPool(Conv2D conv, MaxPooling2D pool)
    {
        _conv = conv; _pool = pool;
        _part = Part;
    }

    /// <summary>True if the pair fuses (<see cref="FusedConvPool.CanFuse"/>) and the pool has no top padding.</summary>
    internal static bool Supports(Conv2D conv, MaxPooling2D pool) => FusedConvPool.CanFuse(conv, pool) && pool.Geometry(1).PadTop == 0;

    internal override Tensor Forward(Tensor[] inputs, Tensor output)
    {
        var x = inputs[0];
        RequireInput(_conv, x, _conv.InputShape!);
        int n = x.Shape[0];
        _g = _conv.Geometry(1);
        _pg = _pool.Geometry(1);
        if (_argmax.Length < output.Length) _argmax = new byte[output.Length];
        _x = x; _y = output;
        long work = (long)n * _g.OutImage * _g.KH * _g.KW * _g.C;
        Threading.WorkerPool.ForThreads(_conv.Threads).RunChunks(n * _pg.OH, Chunks(_conv, n * _pg.OH, work), _part);
        _x = null;
        return output;
    }

    private void Part(int part, int s, int cnt)
    {
        var g = _g; var pg = _pg;
        int poh = pg.OH, rowFloats = pg.OW * pg.K;
        var w = _conv.Kernel!.Value.Span;
        var bias = _conv.UseBias ? _conv.Bias!.Value.Span : default;
        for (int u = s, end = s + cnt; u < end;)
        {
            int img = u / poh, p0 = u % poh, p1 = Math.Min(poh, p0 + end - u);
            var gb = ConvRowBand.Of(g, p0 * pg.SH, Math.Min(g.OH, p1 * pg.SH), out int xOffset);
            int at = img * pg.OutImage + p0 * rowFloats, len = (p1 - p0) * rowFloats;
            ConvPool.ConvPoolForward(gb, pg.KH, pg.KW, pg.SH, pg.SW, 0, pg.PadLeft, p1 - p0, pg.OW, _conv.Activation == Activation.Relu,
                _x!.Span.Slice(img * g.InImage + xOffset, gb.InImage), w, bias, _y!.Span.Slice(at, len), _argmax.AsSpan(at, len));
            u += p1 - p0;
        }
    }
}
