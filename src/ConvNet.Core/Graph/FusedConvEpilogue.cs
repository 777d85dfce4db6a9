using ConvNet.Kernels;

namespace ConvNet;

/// <summary>
/// Inference: an optional <see cref="ZeroPadding2D"/> (folded into the convolution's padding), a <see cref="Conv2D"/>, then
/// optionally a <see cref="BatchNormalization"/> (moving statistics), an <see cref="Add"/> of a residual and a ReLU, as one
/// pass. Work is split over (image, output row) so that one image uses every thread; each band of rows is convolved and then
/// gets its epilogue (<see cref="ConvEpilogue"/>: BN scale/shift, residual, ReLU) while it is in cache. The BN is folded into
/// a per-channel scale and shift recomputed on every call from the layers' current parameters (nothing is copied or mutated).
/// </summary>
internal sealed class FusedConvEpilogue : InferenceOp
{
    private const int BandFloats = 32768;   // ≈ 128 KB of output per band: convolved and finished in L2
    private readonly Conv2D _conv;
    private readonly ZeroPadding2D? _pad;
    private readonly BatchNormalization? _bn;
    private readonly bool _residual, _relu;
    private readonly float[] _scale, _shift;
    private readonly Action<int, int, int> _part;
    private ConvGeometry _g;   // one image, padding folded
    private Tensor? _x, _r, _y;

    internal FusedConvEpilogue(Conv2D conv, ZeroPadding2D? pad, BatchNormalization? bn, bool residual, bool relu)
    {
        _conv = conv; _pad = pad; _bn = bn; _residual = residual; _relu = relu;
        _scale = new float[conv.Filters];
        _shift = new float[conv.Filters];
        _part = Part;
    }

    /// <summary>True if the op can run <paramref name="conv"/> (its own activation is linear or ReLU).</summary>
    internal static bool Supports(Conv2D conv) => conv.Activation is Activation.None or Activation.Relu;

    /// <summary>The convolution's geometry for one image of the unpadded input, the zero padding added to its pads.</summary>
    internal static ConvGeometry Geometry(Conv2D conv, ZeroPadding2D? pad)
    {
        var g = conv.Geometry(1);
        if (pad is null) return g;
        var (top, _) = pad.Padding.Height;
        var (left, _) = pad.Padding.Width;
        return g with { H = pad.InputShape![0], W = pad.InputShape[1], PadTop = g.PadTop + top, PadLeft = g.PadLeft + left };
    }

    internal override Tensor Forward(Tensor[] inputs, Tensor output)
    {
        var x = inputs[0];
        RequireInput(_conv, x, (_pad ?? (Layer)_conv).InputShape!);
        int n = x.Shape[0];
        _g = Geometry(_conv, _pad);
        _x = x; _y = output;
        _r = _residual ? inputs[1] : null;
        if (_r is not null && _r.Shape != output.Shape)
            throw new LayerShapeException(_conv.Name, output.Shape.ToString(), _r.Shape.ToString(), $"Residual input of '{_conv.Name}': expected {output.Shape}, got {_r.Shape}.");
        if (_bn is not null) FoldBatchNorm();
        Threading.WorkerPool.ForThreads(_conv.Threads).RunChunks(n * _g.OH, Chunks(_conv, n * _g.OH), _part);
        _x = _r = null;
        return output;
    }

    // y = (conv + b − μ)·γ/√(σ² + ε) + β  ⇒  scale = γ/√(σ² + ε), shift = (b − μ)·scale + β.
    private void FoldBatchNorm()
    {
        var bn = _bn!;
        var mean = bn.MovingMean!.Value.Span; var variance = bn.MovingVariance!.Value.Span;
        var gamma = bn.Scale ? bn.Gamma!.Value.Span : default;
        var beta = bn.Center ? bn.Beta!.Value.Span : default;
        var bias = _conv.UseBias ? _conv.Bias!.Value.Span : default;
        for (int k = 0; k < _scale.Length; k++)
        {
            float s = (bn.Scale ? gamma[k] : 1f) * (1f / MathF.Sqrt(variance[k] + bn.Epsilon));
            _scale[k] = s;
            _shift[k] = ((bias.IsEmpty ? 0f : bias[k]) - mean[k]) * s + (bn.Center ? beta[k] : 0f);
        }
    }

    // Units [s, s+cnt) of (image, output row), in bands of ≤ BandFloats outputs.
    private void Part(int part, int s, int cnt)
    {
        var g = _g;
        int oh = g.OH, rowFloats = g.OW * g.K, bandRows = Math.Max(1, BandFloats / rowFloats);
        var w = _conv.Kernel!.Value.Span;
        var convBias = _bn is null && _conv.UseBias ? _conv.Bias!.Value.Span : default;
        bool epilogue = _bn is not null || _r is not null || _relu;
        for (int u = s, end = s + cnt; u < end;)
        {
            int img = u / oh, r0 = u % oh, r1 = Math.Min(oh, r0 + Math.Min(bandRows, end - u));
            var gb = ConvRowBand.Of(g, r0, r1, out int xOffset);
            var y = _y!.Span.Slice(img * g.OutImage + r0 * rowFloats, (r1 - r0) * rowFloats);
            Conv.ConvForward(gb, _x!.Span.Slice(img * g.InImage + xOffset, gb.InImage), w, convBias, y);
            if (epilogue)
                ConvEpilogue.Apply((r1 - r0) * g.OW, g.K, y, g.K, _bn is null ? default : _scale, _bn is null ? default : _shift,
                    _r is null ? default : _r.Span.Slice(img * g.OutImage + r0 * rowFloats, y.Length), _relu, y, g.K);
            u += r1 - r0;
        }
    }
}
