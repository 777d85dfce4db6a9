using ConvNet.Kernels;

namespace ConvNet;

/// <summary>
/// Inference: an optional <see cref="ZeroPadding2D"/> (folded into the convolution's padding), a <see cref="Conv2D"/>, then
/// optionally a <see cref="BatchNormalization"/> (moving statistics), an <see cref="Add"/> of a residual and a ReLU, as one
/// pass. Work is split over (image, output row) so that one image uses every thread; each band of rows is convolved and then
/// gets its epilogue (<see cref="ConvEpilogue"/>: BN scale/shift, residual, ReLU) while it is in cache. The BN is folded into
/// a per-channel scale and shift recomputed on every call from the layers' current parameters (nothing is copied or mutated).
/// <para>Large weights (deep layers: more than <see cref="SlicedWeightBytes"/>) are split over output channels instead: each
/// unit copies a slice of 64 or 32 output channels of the weights into a per-thread buffer that stays in L2 and convolves every
/// row with it, so the weights are read from memory once per call rather than once per output row. The input is first copied
/// into a zero-padded buffer, so that the small images of those layers have no border columns (which the kernels run one
/// pixel at a time).</para>
/// </summary>
internal sealed class FusedConvEpilogue : InferenceOp
{
    private const int BandFloats = 32768;   // ≈ 128 KB of output per band: convolved and finished in L2
    /// <summary>Weights above this size run by output-channel slices.</summary>
    internal const int SlicedWeightBytes = 1 << 20;
    private const int SliceBytes = 640 << 10;   // a weight slice stays in L2: 64 channels up to 3×3×256 inputs, else 32
    private readonly bool _sliced;
    private readonly int _slice;             // output channels per slice
    private float[] _padded = [];            // sliced: (N, Hp, Wp, C) zero-padded input (borders stay zero)
    private ConvGeometry _gp;                // sliced: the Valid geometry on the padded input
    private readonly Action<int, int, int> _slicePart;
    private int _n;
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
        _slicePart = SlicePart;
        long taps = (long)conv.KernelSize.Height * conv.KernelSize.Width * conv.InputShape![2];
        _sliced = taps * conv.Filters * sizeof(float) > SlicedWeightBytes;
        // 32 channels for 3-wide stride-1 kernels (the kernels' widest tiles, up to 8 pixels, are for ≤ 32-channel blocks).
        _slice = taps * 64 * sizeof(float) <= SliceBytes && !(conv.KernelSize.Width == 3 && conv.Strides.Width == 1) ? 64 : 32;
    }

    /// <summary>True if the output goes through a ReLU (so it is ≥ 0).</summary>
    internal bool Relu => _relu;

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
        _n = n;
        var pool = Threading.WorkerPool.ForThreads(_conv.Threads);
        int slices = (_g.K + _slice - 1) / _slice;
        long work = (long)n * _g.OutImage * _g.KH * _g.KW * _g.C;
        if (_sliced)
        {
            PadInput(x, n);
            // per-thread scratch: the packed weight slice (taps × slice) and its output (pixels × slice)
            pool.RunChunks(slices, Chunks(_conv, slices, work), _slicePart, (_gp.KH * _gp.KW * _gp.C + _gp.OH * _gp.OW) * _slice);
        }
        else pool.RunChunks(n * _g.OH, Chunks(_conv, n * _g.OH, work), _part);
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

    // Copies x into the zero-padded buffer (allocated, zeroed, on the first call for a batch size).
    private void PadInput(Tensor x, int n)
    {
        var g = _g;
        int hp = (g.OH - 1) * g.SH + g.KH, wp = (g.OW - 1) * g.SW + g.KW;
        _gp = g with { H = hp, W = wp, PadTop = 0, PadLeft = 0 };
        if (_padded.Length != n * _gp.InImage) _padded = new float[n * _gp.InImage];
        var src = x.Span;
        int rowIn = g.W * g.C, rowOut = wp * g.C;
        int h = Math.Min(g.H, hp - g.PadTop), w = Math.Min(g.W, wp - g.PadLeft);
        for (int img = 0; img < n; img++)
            for (int r = 0; r < h; r++)
                src.Slice(img * g.InImage + r * rowIn, w * g.C).CopyTo(_padded.AsSpan(img * _gp.InImage + (r + g.PadTop) * rowOut + g.PadLeft * g.C, w * g.C));
    }

    // Output-channel slices [s, s+cnt): pack the slice's weights (L2-sized), convolve every image with them, finish into y.
    private void SlicePart(int part, int s, int cnt)
    {
        var g = _gp;
        int K = g.K, taps = g.KH * g.KW * g.C, pixels = g.OH * g.OW, Slice = _slice;
        var w = _conv.Kernel!.Value.Span;
        var bias = _bn is null && _conv.UseBias ? _conv.Bias!.Value.Span : default;
        var scratch = Threading.WorkerPool.ForThreads(_conv.Threads).Scratch.AsSpan();
        for (int slice = s; slice < s + cnt; slice++)
        {
            int k0 = slice * Slice, width = Math.Min(Slice, K - k0);
            var packed = scratch.Slice(0, taps * width);
            for (int t = 0; t < taps; t++) w.Slice(t * K + k0, width).CopyTo(packed.Slice(t * width, width));
            var gs = g with { K = width };
            var tmp = scratch.Slice(taps * Slice, pixels * width);
            for (int img = 0; img < _n; img++)
            {
                Conv.ConvForward(gs, _padded.AsSpan(img * g.InImage, g.InImage), packed, bias.IsEmpty ? default : bias.Slice(k0, width), tmp);
                int at = img * g.OutImage + k0, len = (pixels - 1) * K + width;
                ConvEpilogue.Apply(pixels, width, tmp, width, _bn is null ? default : _scale.AsSpan(k0, width), _bn is null ? default : _shift.AsSpan(k0, width),
                    _r is null ? default : _r.Span.Slice(at, len), _relu, _y!.Span.Slice(at, len), K);
            }
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
