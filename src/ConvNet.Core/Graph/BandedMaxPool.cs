using ConvNet.Kernels;

namespace ConvNet;

/// <summary>
/// Inference form of a <see cref="MaxPooling2D"/>, split over (image, output row) so that a single image uses every thread,
/// optionally with a preceding <see cref="ZeroPadding2D"/> folded into the pool's padding. The fold is exact only for inputs
/// ≥ 0 (max with a padded zero = max of the real pixels), so the rewrite folds only after a ReLU.
/// </summary>
internal sealed class BandedMaxPool : InferenceOp
{
    private readonly MaxPooling2D _pool;
    private readonly ZeroPadding2D? _pad;
    private readonly Action<int, int, int> _part;
    private ConvGeometry _g;
    private Tensor? _x, _y;
    private int[] _argmax = [];   // the kernel's window index output (unused at inference)

    internal BandedMaxPool(MaxPooling2D pool, ZeroPadding2D? pad)
    {
        _pool = pool; _pad = pad;
        _part = Part;
    }

    /// <summary>The pool's geometry for one image of the unpadded input, the zero padding added to its pads.</summary>
    internal static ConvGeometry Geometry(MaxPooling2D pool, ZeroPadding2D? pad)
    {
        var g = pool.Geometry(1);
        if (pad is null) return g;
        return g with { H = pad.InputShape![0], W = pad.InputShape[1], PadTop = g.PadTop + pad.Padding.Height.Top, PadLeft = g.PadLeft + pad.Padding.Width.Left };
    }

    /// <summary>True if every window of the folded geometry still holds a real pixel (the kernels' requirement).</summary>
    internal static bool CanFold(MaxPooling2D pool, ZeroPadding2D pad)
    {
        var g = Geometry(pool, pad);
        return g.PadTop < g.KH && g.PadLeft < g.KW && (g.OH - 1) * g.SH - g.PadTop < g.H && (g.OW - 1) * g.SW - g.PadLeft < g.W;
    }

    internal override Tensor Forward(Tensor[] inputs, Tensor output)
    {
        var x = inputs[0];
        RequireInput(_pool, x, (_pad ?? (Layer)_pool).InputShape!);
        int n = x.Shape[0];
        _g = Geometry(_pool, _pad);
        if (_argmax.Length < output.Length) _argmax = new int[output.Length];
        _x = x; _y = output;
        Threading.WorkerPool.ForThreads(_pool.Threads).RunChunks(n * _g.OH, Chunks(_pool, n * _g.OH, (long)n * _g.OutImage * _g.KH * _g.KW), _part);
        _x = null;
        return output;
    }

    private void Part(int part, int s, int cnt)
    {
        var g = _g;
        int oh = g.OH, rowFloats = g.OW * g.K;
        for (int u = s, end = s + cnt; u < end;)
        {
            int img = u / oh, r0 = u % oh, r1 = Math.Min(oh, r0 + end - u);
            var gb = ConvRowBand.Of(g, r0, r1, out int xOffset);
            int at = img * g.OutImage + r0 * rowFloats, len = (r1 - r0) * rowFloats;
            Pool.MaxPoolForward(gb, _x!.Span.Slice(img * g.InImage + xOffset, gb.InImage), _y!.Span.Slice(at, len), _argmax.AsSpan(at, len));
            u += r1 - r0;
        }
    }
}
