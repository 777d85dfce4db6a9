using System.Globalization;
using ConvNet.Kernels;

namespace ConvNet;

/// <summary>
/// 2-D convolution over NHWC input, like Keras <c>Conv2D</c>. Kernel (KH, KW, C, filters), bias (filters).
/// Input (N, H, W, C) → output (N, OH, OW, filters) with TF's Valid/Same arithmetic.
/// A 1×1 kernel is a per-pixel matrix product (no im2col).
/// Inside a <see cref="Sequential"/>, a Conv2D with ReLU or linear activation directly followed by a
/// <see cref="MaxPooling2D"/> with non-overlapping windows runs fused with it (<see cref="Kernels.ConvPool"/>):
/// the full-resolution output is never stored. Used stand-alone the layer always runs unfused.
/// </summary>
public sealed class Conv2D : Layer
{
    private Tensor? _x, _y, _dy, _dz, _dx;
    private float[][] _partialW = [], _partialB = [];
    private ConvGeometry _g;
    private readonly Action<int, int, int> _forwardPart, _backwardPart, _fusedForwardPart, _fusedBackwardPart;
    // Fused conv + max-pool state (see ForwardFused): pooled output, window-index argmax, pool geometry, per-part dz chunks.
    private Tensor? _pooled;
    private byte[] _argmax = [];
    private ConvGeometry _pg;
    private float[][] _dzChunk = [];
    private bool _fused;
    private MaxPooling2D? _pairPool;

    /// <summary>Creates the layer with a square kernel and equal strides.</summary>
    public Conv2D(int filters, int kernelSize, int strides = 1, Padding padding = Padding.Valid,
        Activation activation = Activation.None, bool useBias = true, string? name = null)
        : this(filters, (kernelSize, kernelSize), (strides, strides), padding, activation, useBias, name) { }

    /// <summary>Creates the layer with (height, width) kernel size and strides.</summary>
    public Conv2D(int filters, (int Height, int Width) kernelSize, (int Height, int Width)? strides = null, Padding padding = Padding.Valid,
        Activation activation = Activation.None, bool useBias = true, string? name = null) : base(name)
    {
        var s = strides ?? (1, 1);
        if (filters <= 0) throw new ArgumentOutOfRangeException(nameof(filters), $"Conv2D: filters must be positive, got {filters}.");
        if (kernelSize.Height <= 0 || kernelSize.Width <= 0) throw new ArgumentOutOfRangeException(nameof(kernelSize), $"Conv2D: kernel size must be positive, got {kernelSize}.");
        if (s.Height <= 0 || s.Width <= 0) throw new ArgumentOutOfRangeException(nameof(strides), $"Conv2D: strides must be positive, got {s}.");
        Filters = filters; KernelSize = kernelSize; Strides = s; Padding = padding; Activation = activation; UseBias = useBias;
        _forwardPart = ForwardPart;
        _backwardPart = BackwardPart;
        _fusedForwardPart = FusedForwardPart;
        _fusedBackwardPart = FusedBackwardPart;
    }

    /// <summary>Number of output channels.</summary>
    public int Filters { get; }
    /// <summary>Kernel (height, width).</summary>
    public (int Height, int Width) KernelSize { get; }
    /// <summary>Strides (vertical, horizontal).</summary>
    public (int Height, int Width) Strides { get; }
    /// <summary>Valid or Same.</summary>
    public Padding Padding { get; }
    /// <summary>Activation applied to the output.</summary>
    public Activation Activation { get; }
    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }
    /// <inheritdoc/>
    public override string TypeName => "Conv2D";

    /// <summary>The kernel (KH, KW, C, filters); null before build.</summary>
    public Parameter? Kernel => Parameters.Count > 0 ? Parameters[0] : null;
    /// <summary>The bias (filters); null before build or without bias.</summary>
    public Parameter? Bias => UseBias && Parameters.Count > 1 ? Parameters[1] : null;

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s)
    {
        if (s.Count != 3)
            throw Error("(None, height, width, channels)", Fmt(s, batch: true), $"Conv2D needs rank-4 NHWC input, got rank {s.Count + 1}");
        var (oh, _) = ConvGeometry.Axis(s[0], KernelSize.Height, Strides.Height, Padding);
        var (ow, _) = ConvGeometry.Axis(s[1], KernelSize.Width, Strides.Width, Padding);
        if (oh <= 0 || ow <= 0)
            throw Error($"(None, ≥{KernelSize.Height}, ≥{KernelSize.Width}, {s[2]})", Fmt(s, batch: true),
                $"the {KernelSize.Height}×{KernelSize.Width} kernel is larger than the {s[0]}×{s[1]} input with Valid padding");
        ShapeChecks.RequireFits(this, s, "input", s);
        int[] output = [oh, ow, Filters];
        ShapeChecks.RequireFits(this, output, "output", s);
        ShapeChecks.RequireFits(this, [KernelSize.Height, KernelSize.Width, s[2], Filters], "kernel", s);
        return output;
    }

    internal override int[][] ParameterShapes(IReadOnlyList<int> s) =>
        UseBias ? [[KernelSize.Height, KernelSize.Width, s[2], Filters], [Filters]] : [[KernelSize.Height, KernelSize.Width, s[2], Filters]];

    /// <inheritdoc/>
    protected override void CreateParameters(int[] s, Rng rng)
    {
        int kh = KernelSize.Height, kw = KernelSize.Width, c = s[2];
        var kernel = new Tensor(kh, kw, c, Filters);
        Initializers.GlorotUniform(kernel.Span, kh * kw * c, kh * kw * Filters, rng);
        AddParameter("kernel", kernel);
        if (UseBias) AddParameter("bias", new Tensor(Filters));
    }

    private ConvGeometry Geometry(int n) => ConvGeometry.Create(n, InputShape![0], InputShape[1], InputShape[2],
        KernelSize.Height, KernelSize.Width, Strides.Height, Strides.Width, Padding, Filters);

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        int n = x.Shape[0];
        _g = Geometry(n);
        _y = Workspace(ref _y, n, OutputShape!);
        _x = x;
        _fused = false;
        ForBatch(n, _forwardPart);
        return _y;
    }

    // Images [s, s+cnt): y = act(conv(x) + b).
    private void ForwardPart(int part, int s, int cnt)
    {
        var g = _g;
        var yc = _y!.Span.Slice(s * g.OutImage, cnt * g.OutImage);
        Conv.ConvForward(g.WithBatch(cnt), _x!.Span.Slice(s * g.InImage, cnt * g.InImage), Kernel!.Value.Span, UseBias ? Bias!.Value.Span : [], yc);
        ActivationOps.Forward(Activation, yc, Filters);
    }

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        var x = _x ?? throw new InvalidOperationException($"Layer {Display}: Backward called before Forward.");
        if (_fused) throw new InvalidOperationException($"Layer {Display}: Backward after a fused conv+pool forward; the model runs the fused backward.");
        int n = dy.Shape[0];
        _g = Geometry(n);
        _dy = dy;
        _dz = Workspace(ref _dz, n, OutputShape!);
        if (NeedsInputGradient) _dx = Workspace(ref _dx, n, InputShape!);
        EnsurePartials(Parts(n));
        ForBatch(n, _backwardPart);
        // Reduce the per-part filter gradients in part order (deterministic for a given thread count).
        for (int p = 0; p < Parts(n); p++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(Kernel!.Grad.Span, _partialW[p], Kernel.Grad.Span);
            if (UseBias) System.Numerics.Tensors.TensorPrimitives.Add(Bias!.Grad.Span, _partialB[p], Bias.Grad.Span);
        }
        // The first layer of a model skips dx; the model ignores what it returns then.
        return NeedsInputGradient ? _dx! : dy;
    }

    // Images [s, s+cnt): dz = act'(y) ⊙ dy; partial dW, db of this part; dx = conv_backward_data(dz).
    private void BackwardPart(int part, int s, int cnt)
    {
        var g = _g;
        var gc = g.WithBatch(cnt);
        var dzc = _dz!.Span.Slice(s * g.OutImage, cnt * g.OutImage);
        var yc = _y!.Span.Slice(s * g.OutImage, cnt * g.OutImage);
        var dyc = _dy!.Span.Slice(s * g.OutImage, cnt * g.OutImage);
        if (Activation == Activation.Relu) Overwrite.ReluBackward(yc, dyc, dzc);   // one pass, no clear
        else ActivationOps.Backward(Activation, yc, dyc, dzc, Filters);
        Array.Clear(_partialW[part]);
        Array.Clear(_partialB[part]);
        Conv.ConvBackwardFilter(gc, _x!.Span.Slice(s * g.InImage, cnt * g.InImage), dzc, _partialW[part], UseBias ? _partialB[part] : []);
        if (NeedsInputGradient)
        {
            var dxc = _dx!.Span.Slice(s * g.InImage, cnt * g.InImage);
            dxc.Clear();
            Conv.ConvBackwardData(gc, dzc, Kernel!.Value.Span, dxc);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Fused Conv2D (+ReLU) + MaxPooling2D, used by Sequential for adjacent pairs (the layers stand-alone stay unfused).
    // ---------------------------------------------------------------------------------------------------------

    /// <summary>True if this layer followed by <paramref name="pool"/> can run as one fused kernel.</summary>
    internal bool CanFuseWith(MaxPooling2D pool) =>
        Activation is Activation.None or Activation.Relu &&
        ConvPool.Supports(pool.PoolSize.Height, pool.PoolSize.Width, pool.Strides.Height, pool.Strides.Width);

    /// <summary>
    /// pool.Forward(this.Forward(x)) without materialising the convolution output: returns the pooled tensor (owned by
    /// this layer). Bit-identical to the unfused pair (same conv tiles, max then ReLU). Falls back to the two layers'
    /// checked paths if a layer is not built for this input.
    /// </summary>
    internal Tensor ForwardFused(Tensor x, MaxPooling2D pool, bool training)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(pool);
        _pairPool = pool;
        if (!IsBuilt || !pool.IsBuilt || !IsBatchOf(x.Shape, InputShape!) || !pool.InputShape!.SequenceEqual(OutputShape!) || !CanFuseWith(pool))
            return pool.Forward(Forward(x, training), training);   // sets _fused = false: BackwardFused then runs the pair unfused
        int n = x.Shape[0];
        _g = Geometry(n);
        _pg = pool.Geometry(n);
        _x = x;
        _pooled = Workspace(ref _pooled, n, pool.OutputShape!);
        if (_argmax.Length != _pooled.Length) _argmax = new byte[_pooled.Length];
        _fused = true;
        ForBatch(n, _fusedForwardPart);
        return _pooled;
    }

    private void FusedForwardPart(int part, int s, int cnt)
    {
        var g = _g; var pg = _pg;
        ConvPool.ConvPoolForward(g.WithBatch(cnt), pg.KH, pg.KW, pg.SH, pg.SW, pg.PadTop, pg.PadLeft, pg.OH, pg.OW, Activation == Activation.Relu,
            _x!.Span.Slice(s * g.InImage, cnt * g.InImage), Kernel!.Value.Span, UseBias ? Bias!.Value.Span : [],
            _pooled!.Span.Slice(s * pg.OutImage, cnt * pg.OutImage), _argmax.AsSpan(s * pg.OutImage, cnt * pg.OutImage));
    }

    /// <summary>
    /// Backward of the fused pair: dy is the gradient of the pooled output; returns dL/dx (as <see cref="Layer.Backward"/>).
    /// C ≥ <see cref="SparseBackwardMinChannels"/>: the sparse conv-output gradient is applied directly
    /// (<see cref="ConvPoolBackward"/>); otherwise dz is scattered chunk by chunk into an L2-sized buffer and the dense
    /// backward kernels run on it (bit-identical to the unfused path).
    /// </summary>
    internal Tensor BackwardFused(Tensor dy)
    {
        ArgumentNullException.ThrowIfNull(dy);
        if (!_fused && _pairPool is not null) return Backward(_pairPool.Backward(dy));   // the forward fell back to the unfused pair
        if (!_fused || _x is null || _pooled is null) throw new InvalidOperationException($"Layer {Display}: fused backward without a fused forward.");
        if (dy.Shape != _pooled.Shape) throw Error(_pooled.Shape.ToString(), dy.Shape.ToString(), "the pooled output gradient must have the pooled output's shape");
        int n = dy.Shape[0];
        _dy = dy;
        if (NeedsInputGradient) _dx = Workspace(ref _dx, n, InputShape!);
        int parts = Parts(n);
        EnsurePartials(parts);
        int chunk = FusedChunk(n, parts);
        if (_dzChunk.Length < parts || _dzChunk[0].Length < chunk * _g.OutImage)
        {
            _dzChunk = new float[parts][];
            for (int p = 0; p < parts; p++) _dzChunk[p] = new float[chunk * _g.OutImage];
        }
        ForBatch(n, _fusedBackwardPart);
        for (int p = 0; p < parts; p++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(Kernel!.Grad.Span, _partialW[p], Kernel.Grad.Span);
            if (UseBias) System.Numerics.Tensors.TensorPrimitives.Add(Bias!.Grad.Span, _partialB[p], Bias.Grad.Span);
        }
        return NeedsInputGradient ? _dx! : dy;
    }

    // Images per dz chunk: the chunk's conv-output gradient (≈ ≤ 512 KB) stays in L2 between the scatter and the two
    // backward convolutions, which sweep images independently — so chunking gives exactly the unfused results.
    private int FusedChunk(int n, int parts) => Math.Clamp(131072 / Math.Max(1, _g.OutImage), 1, (n + parts - 1) / parts);

    /// <summary>Input channels from which the fused backward applies the sparse conv-output gradient directly
    /// (<see cref="ConvPoolBackward"/>); below it (e.g. a 1-channel first layer) the dense kernels on a scattered dz win.</summary>
    internal const int SparseBackwardMinChannels = 24;

    /// <summary>Test/benchmark switch for the fused backward: null (default) = sparse for C ≥ <see cref="SparseBackwardMinChannels"/>,
    /// true = always sparse, false = always dense (scatter dz, then the dense backward convolutions).</summary>
    internal bool? SparseFusedBackward { get; set; }

    // The sparse path pays off only against the AVX2 dense kernels; the AVX-512 dense kernels are faster for every lecture layer
    // (measured: conv3 fused backward 5.3 ms dense vs 6.4 ms sparse, single thread, B = 32).
    private static readonly bool SparseWinsOnThisCpu = !Kernels.ConvAvx512.IsSupported;

    private void FusedBackwardPart(int part, int s, int cnt)
    {
        var g = _g; var pg = _pg;
        if (SparseFusedBackward ?? (SparseWinsOnThisCpu && g.C >= SparseBackwardMinChannels))
        {
            Array.Clear(_partialW[part]);
            Array.Clear(_partialB[part]);
            var dxs = NeedsInputGradient ? _dx!.Span.Slice(s * g.InImage, cnt * g.InImage) : [];
            dxs.Clear();
            ConvPoolBackward.Backward(g.WithBatch(cnt), pg.KH, pg.KW, pg.SH, pg.SW, pg.PadTop, pg.PadLeft, pg.OH, pg.OW, Activation == Activation.Relu,
                _x!.Span.Slice(s * g.InImage, cnt * g.InImage), Kernel!.Value.Span,
                _pooled!.Span.Slice(s * pg.OutImage, cnt * pg.OutImage), _dy!.Span.Slice(s * pg.OutImage, cnt * pg.OutImage),
                _argmax.AsSpan(s * pg.OutImage, cnt * pg.OutImage), _partialW[part], UseBias ? _partialB[part] : [], dxs);
            return;
        }
        int chunk = FusedChunk(_dy!.Shape[0], Parts(_dy.Shape[0]));
        var dz = _dzChunk[part];
        Array.Clear(_partialW[part]);
        Array.Clear(_partialB[part]);
        bool relu = Activation == Activation.Relu;
        for (int i = s; i < s + cnt; i += chunk)
        {
            int c = Math.Min(chunk, s + cnt - i);
            var gc = g.WithBatch(c);
            var dzc = dz.AsSpan(0, c * g.OutImage);
            ConvPool.MaxPoolScatter(gc, pg.KH, pg.KW, pg.SH, pg.SW, pg.PadTop, pg.PadLeft, pg.OH, pg.OW, relu,
                _pooled!.Span.Slice(i * pg.OutImage, c * pg.OutImage), _dy.Span.Slice(i * pg.OutImage, c * pg.OutImage),
                _argmax.AsSpan(i * pg.OutImage, c * pg.OutImage), dzc);
            Conv.ConvBackwardFilter(gc, _x!.Span.Slice(i * g.InImage, c * g.InImage), dzc, _partialW[part], UseBias ? _partialB[part] : []);
            if (NeedsInputGradient)
            {
                var dxc = _dx!.Span.Slice(i * g.InImage, c * g.InImage);
                dxc.Clear();
                Conv.ConvBackwardData(gc, dzc, Kernel!.Value.Span, dxc);
            }
        }
    }

    private void EnsurePartials(int parts)
    {
        if (_partialW.Length >= parts) return;
        _partialW = new float[parts][]; _partialB = new float[parts][];
        for (int p = 0; p < parts; p++) { _partialW[p] = new float[Kernel!.Value.Length]; _partialB[p] = new float[Filters]; }
    }

    internal override void WriteConfig(IDictionary<string, string> c)
    {
        c["filters"] = Filters.ToString(CultureInfo.InvariantCulture);
        c["kernel_size"] = $"{KernelSize.Height},{KernelSize.Width}";
        c["strides"] = $"{Strides.Height},{Strides.Width}";
        c["padding"] = Padding == Padding.Same ? "same" : "valid";
        c["activation"] = ActivationOps.Name(Activation);
        c["use_bias"] = UseBias ? "true" : "false";
    }
}
