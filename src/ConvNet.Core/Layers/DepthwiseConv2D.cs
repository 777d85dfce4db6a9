using System.Globalization;
using System.Numerics.Tensors;
using ConvNet.Kernels;

namespace ConvNet;

/// <summary>Argument checks and geometry shared by <see cref="DepthwiseConv2D"/> and <see cref="SeparableConv2D"/>.</summary>
internal static class DepthwiseArgs
{
    public static void Check(string layer, (int Height, int Width) kernelSize, (int Height, int Width) strides, int depthMultiplier)
    {
        if (kernelSize.Height <= 0 || kernelSize.Width <= 0) throw new ArgumentOutOfRangeException(nameof(kernelSize), $"{layer}: kernel size must be positive, got {kernelSize}.");
        if (strides.Height <= 0 || strides.Width <= 0) throw new ArgumentOutOfRangeException(nameof(strides), $"{layer}: strides must be positive, got {strides}.");
        if (depthMultiplier <= 0) throw new ArgumentOutOfRangeException(nameof(depthMultiplier), $"{layer}: depth multiplier must be positive, got {depthMultiplier}.");
    }

    /// <summary>(OH, OW) or a shape error from <paramref name="error"/>.</summary>
    public static (int OH, int OW) Output(IReadOnlyList<int> s, (int Height, int Width) k, (int Height, int Width) st, Padding p, string type,
        Func<string, string, string, LayerShapeException> error)
    {
        if (s.Count != 3)
            throw error("(None, height, width, channels)", Layer.Fmt(s, batch: true), $"{type} needs rank-4 NHWC input, got rank {s.Count + 1}");
        var (oh, _) = ConvGeometry.Axis(s[0], k.Height, st.Height, p);
        var (ow, _) = ConvGeometry.Axis(s[1], k.Width, st.Width, p);
        if (oh <= 0 || ow <= 0)
            throw error($"(None, ≥{k.Height}, ≥{k.Width}, {s[2]})", Layer.Fmt(s, batch: true),
                $"the {k.Height}×{k.Width} kernel is larger than the {s[0]}×{s[1]} input with Valid padding");
        return (oh, ow);
    }

    public static void WriteCommon(IDictionary<string, string> c, (int Height, int Width) k, (int Height, int Width) s, Padding p, int mult, Activation a, bool bias)
    {
        c["kernel_size"] = $"{k.Height},{k.Width}";
        c["strides"] = $"{s.Height},{s.Width}";
        c["padding"] = p == Padding.Same ? "same" : "valid";
        c["depth_multiplier"] = mult.ToString(CultureInfo.InvariantCulture);
        c["activation"] = ActivationOps.Name(a);
        c["use_bias"] = bias ? "true" : "false";
    }

    /// <summary>Adds per-part partial gradients into a parameter gradient in part order (deterministic for a thread count).</summary>
    public static void Reduce(Span<float> grad, float[][] partials, int parts)
    {
        for (int p = 0; p < parts; p++) TensorPrimitives.Add(grad, partials[p].AsSpan(0, grad.Length), grad);
    }

    public static float[][] Partials(float[][] current, int parts, int length)
    {
        if (current.Length >= parts && (parts == 0 || current[0].Length == length)) return current;
        var a = new float[parts][];
        for (int p = 0; p < parts; p++) a[p] = new float[length];
        return a;
    }
}

/// <summary>
/// Depthwise 2-D convolution like Keras <c>DepthwiseConv2D</c>: each input channel is convolved with its own
/// <see cref="DepthMultiplier"/> filters; output channel <c>c·M + m</c> comes from input channel c and filter m.
/// Weights (Keras names): depthwise_kernel (KH, KW, C, M), bias (C·M). Input (N, H, W, C) → (N, OH, OW, C·M), TF's Valid/Same arithmetic.
/// Kernels: <see cref="DepthwiseConv"/> (twins in <see cref="DepthwiseConvReference"/>).
/// </summary>
public sealed class DepthwiseConv2D : Layer
{
    private Tensor? _x, _y, _pre, _dy, _dz, _dx;
    private float[][] _partialW = [], _partialB = [];
    private ConvGeometry _g;
    private readonly Action<int, int, int> _forwardPart, _backwardPart;

    /// <summary>Square kernel and equal strides.</summary>
    public DepthwiseConv2D(int kernelSize, int strides = 1, Padding padding = Padding.Valid, int depthMultiplier = 1,
        Activation activation = Activation.None, bool useBias = true, string? name = null)
        : this((kernelSize, kernelSize), (strides, strides), padding, depthMultiplier, activation, useBias, name) { }

    /// <summary>(height, width) kernel size and strides.</summary>
    public DepthwiseConv2D((int Height, int Width) kernelSize, (int Height, int Width)? strides = null, Padding padding = Padding.Valid, int depthMultiplier = 1,
        Activation activation = Activation.None, bool useBias = true, string? name = null) : base(name)
    {
        var s = strides ?? (1, 1);
        DepthwiseArgs.Check("DepthwiseConv2D", kernelSize, s, depthMultiplier);
        KernelSize = kernelSize; Strides = s; Padding = padding; DepthMultiplier = depthMultiplier; Activation = activation; UseBias = useBias;
        _forwardPart = ForwardPart;
        _backwardPart = BackwardPart;
    }

    /// <summary>Kernel (height, width).</summary>
    public (int Height, int Width) KernelSize { get; }
    /// <summary>Strides (vertical, horizontal).</summary>
    public (int Height, int Width) Strides { get; }
    /// <summary>Valid or Same.</summary>
    public Padding Padding { get; }
    /// <summary>Filters per input channel (M).</summary>
    public int DepthMultiplier { get; }
    /// <summary>Activation applied to the output.</summary>
    public Activation Activation { get; }
    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }
    /// <inheritdoc/>
    public override string TypeName => "DepthwiseConv2D";

    /// <summary>depthwise_kernel (KH, KW, C, M); null before build.</summary>
    public Parameter? DepthwiseKernel => Parameters.Count > 0 ? Parameters[0] : null;
    /// <summary>bias (C·M); null before build or without bias.</summary>
    public Parameter? Bias => UseBias && Parameters.Count > 1 ? Parameters[1] : null;

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s)
    {
        var (oh, ow) = DepthwiseArgs.Output(s, KernelSize, Strides, Padding, TypeName, Error);
        int[] output = [oh, ow, ShapeChecks.Dimension(this, (long)s[2] * DepthMultiplier, "channels", s)];
        ShapeChecks.RequireFits(this, output, "output", s);
        ShapeChecks.RequireFits(this, [KernelSize.Height, KernelSize.Width, s[2], DepthMultiplier], "depthwise kernel", s);
        return output;
    }

    internal override int[][] ParameterShapes(IReadOnlyList<int> s) => UseBias
        ? [[KernelSize.Height, KernelSize.Width, s[2], DepthMultiplier], [s[2] * DepthMultiplier]]
        : [[KernelSize.Height, KernelSize.Width, s[2], DepthMultiplier]];

    /// <inheritdoc/>
    protected override void CreateParameters(int[] s, Rng rng)
    {
        int kh = KernelSize.Height, kw = KernelSize.Width, c = s[2];
        var kernel = new Tensor(kh, kw, c, DepthMultiplier);
        Initializers.GlorotUniform(kernel.Span, kh * kw * c, kh * kw * DepthMultiplier, rng);   // Keras' fans for (kh, kw, C, M)
        AddParameter("depthwise_kernel", kernel);
        if (UseBias) AddParameter("bias", new Tensor(c * DepthMultiplier));
    }

    private ConvGeometry Geometry(int n) => ConvGeometry.Create(n, InputShape![0], InputShape[1], InputShape[2],
        KernelSize.Height, KernelSize.Width, Strides.Height, Strides.Width, Padding, InputShape[2] * DepthMultiplier);

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        int n = x.Shape[0];
        _g = Geometry(n);
        _x = x;
        _y = Workspace(ref _y, n, OutputShape!);
        if (ActivationOps.NeedsInput(Activation)) _pre = Workspace(ref _pre, n, OutputShape!);
        ForBatch(n, _forwardPart);
        return _y;
    }

    private void ForwardPart(int part, int s, int cnt)
    {
        var g = _g;
        var yc = _y!.Span.Slice(s * g.OutImage, cnt * g.OutImage);
        DepthwiseConv.DepthwiseConvForward(g.WithBatch(cnt), _x!.Span.Slice(s * g.InImage, cnt * g.InImage), DepthwiseKernel!.Value.Span,
            UseBias ? Bias!.Value.Span : [], yc);
        if (ActivationOps.NeedsInput(Activation)) yc.CopyTo(_pre!.Span.Slice(s * g.OutImage, cnt * g.OutImage));
        ActivationOps.Forward(Activation, yc, g.K);
    }

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        _ = _x ?? throw new InvalidOperationException($"Layer {Display}: Backward called before Forward.");
        int n = dy.Shape[0], parts = Parts(n);
        _g = Geometry(n);
        _dy = dy;
        _dz = Workspace(ref _dz, n, OutputShape!);
        if (NeedsInputGradient) _dx = Workspace(ref _dx, n, InputShape!);
        _partialW = DepthwiseArgs.Partials(_partialW, parts, DepthwiseKernel!.Value.Length);
        _partialB = DepthwiseArgs.Partials(_partialB, parts, _g.K);
        ForBatch(n, _backwardPart);
        DepthwiseArgs.Reduce(DepthwiseKernel.Grad.Span, _partialW, parts);
        if (UseBias) DepthwiseArgs.Reduce(Bias!.Grad.Span, _partialB, parts);
        return NeedsInputGradient ? _dx! : dy;
    }

    private void BackwardPart(int part, int s, int cnt)
    {
        var g = _g;
        var gc = g.WithBatch(cnt);
        var dzc = _dz!.Span.Slice(s * g.OutImage, cnt * g.OutImage);
        ActivationOps.Backward(Activation, ActivationOps.NeedsInput(Activation) ? _pre!.Span.Slice(s * g.OutImage, cnt * g.OutImage) : default,
            _y!.Span.Slice(s * g.OutImage, cnt * g.OutImage), _dy!.Span.Slice(s * g.OutImage, cnt * g.OutImage), dzc, g.K);
        Array.Clear(_partialW[part]);
        Array.Clear(_partialB[part]);
        DepthwiseConv.DepthwiseConvBackwardFilter(gc, _x!.Span.Slice(s * g.InImage, cnt * g.InImage), dzc, _partialW[part], UseBias ? _partialB[part] : []);
        if (NeedsInputGradient)
        {
            var dxc = _dx!.Span.Slice(s * g.InImage, cnt * g.InImage);
            dxc.Clear();
            DepthwiseConv.DepthwiseConvBackwardData(gc, dzc, DepthwiseKernel!.Value.Span, dxc);
        }
    }

    internal override void WriteConfig(IDictionary<string, string> c) =>
        DepthwiseArgs.WriteCommon(c, KernelSize, Strides, Padding, DepthMultiplier, Activation, UseBias);
}

/// <summary>
/// Depthwise-separable 2-D convolution like Keras <c>SeparableConv2D</c>: a <see cref="DepthwiseConv2D"/> (strides and padding
/// apply here, no bias) followed by a 1×1 convolution to <see cref="Filters"/> channels, then the bias and the activation.
/// Weights (Keras names): depthwise_kernel (KH, KW, C, M), pointwise_kernel (1, 1, C·M, filters), bias (filters).
/// Kernels: <see cref="DepthwiseConv"/> and the 1×1 <see cref="Conv"/> kernels.
/// </summary>
public sealed class SeparableConv2D : Layer
{
    private Tensor? _x, _t, _y, _pre, _dy, _dz, _dt, _dx;
    private float[][] _partialDw = [], _partialPw = [], _partialB = [];
    private ConvGeometry _g, _pg;
    private int[] _mid = [];   // per-sample shape of the depthwise output (OH, OW, C·M)
    private readonly Action<int, int, int> _forwardPart, _backwardPart;

    /// <summary>Square kernel and equal strides.</summary>
    public SeparableConv2D(int filters, int kernelSize, int strides = 1, Padding padding = Padding.Valid, int depthMultiplier = 1,
        Activation activation = Activation.None, bool useBias = true, string? name = null)
        : this(filters, (kernelSize, kernelSize), (strides, strides), padding, depthMultiplier, activation, useBias, name) { }

    /// <summary>(height, width) kernel size and strides.</summary>
    public SeparableConv2D(int filters, (int Height, int Width) kernelSize, (int Height, int Width)? strides = null, Padding padding = Padding.Valid,
        int depthMultiplier = 1, Activation activation = Activation.None, bool useBias = true, string? name = null) : base(name)
    {
        var s = strides ?? (1, 1);
        if (filters <= 0) throw new ArgumentOutOfRangeException(nameof(filters), $"SeparableConv2D: filters must be positive, got {filters}.");
        DepthwiseArgs.Check("SeparableConv2D", kernelSize, s, depthMultiplier);
        Filters = filters; KernelSize = kernelSize; Strides = s; Padding = padding; DepthMultiplier = depthMultiplier; Activation = activation; UseBias = useBias;
        _forwardPart = ForwardPart;
        _backwardPart = BackwardPart;
    }

    /// <summary>Number of output channels.</summary>
    public int Filters { get; }
    /// <summary>Depthwise kernel (height, width).</summary>
    public (int Height, int Width) KernelSize { get; }
    /// <summary>Strides of the depthwise step (vertical, horizontal).</summary>
    public (int Height, int Width) Strides { get; }
    /// <summary>Valid or Same (depthwise step).</summary>
    public Padding Padding { get; }
    /// <summary>Depthwise filters per input channel (M).</summary>
    public int DepthMultiplier { get; }
    /// <summary>Activation applied to the output.</summary>
    public Activation Activation { get; }
    /// <summary>Whether a bias is added (after the pointwise step).</summary>
    public bool UseBias { get; }
    /// <inheritdoc/>
    public override string TypeName => "SeparableConv2D";

    /// <summary>depthwise_kernel (KH, KW, C, M); null before build.</summary>
    public Parameter? DepthwiseKernel => Parameters.Count > 0 ? Parameters[0] : null;
    /// <summary>pointwise_kernel (1, 1, C·M, filters); null before build.</summary>
    public Parameter? PointwiseKernel => Parameters.Count > 1 ? Parameters[1] : null;
    /// <summary>bias (filters); null before build or without bias.</summary>
    public Parameter? Bias => UseBias && Parameters.Count > 2 ? Parameters[2] : null;

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s)
    {
        var (oh, ow) = DepthwiseArgs.Output(s, KernelSize, Strides, Padding, TypeName, Error);
        int mid = ShapeChecks.Dimension(this, (long)s[2] * DepthMultiplier, "depthwise channels", s);
        int[] output = [oh, ow, Filters];
        ShapeChecks.RequireFits(this, [oh, ow, mid], "depthwise output", s);
        ShapeChecks.RequireFits(this, output, "output", s);
        ShapeChecks.RequireFits(this, [1, 1, mid, Filters], "pointwise kernel", s);
        return output;
    }

    internal override int[][] ParameterShapes(IReadOnlyList<int> s)
    {
        int[] dw = [KernelSize.Height, KernelSize.Width, s[2], DepthMultiplier], pw = [1, 1, s[2] * DepthMultiplier, Filters];
        return UseBias ? [dw, pw, [Filters]] : [dw, pw];
    }

    /// <inheritdoc/>
    protected override void CreateParameters(int[] s, Rng rng)
    {
        int kh = KernelSize.Height, kw = KernelSize.Width, c = s[2], cm = c * DepthMultiplier;
        var dw = new Tensor(kh, kw, c, DepthMultiplier);
        Initializers.GlorotUniform(dw.Span, kh * kw * c, kh * kw * DepthMultiplier, rng);
        AddParameter("depthwise_kernel", dw);
        var pw = new Tensor(1, 1, cm, Filters);
        Initializers.GlorotUniform(pw.Span, cm, Filters, rng);
        AddParameter("pointwise_kernel", pw);
        if (UseBias) AddParameter("bias", new Tensor(Filters));
    }

    private void Geometries(int n)
    {
        int c = InputShape![2], cm = c * DepthMultiplier;
        _g = ConvGeometry.Create(n, InputShape[0], InputShape[1], c, KernelSize.Height, KernelSize.Width, Strides.Height, Strides.Width, Padding, cm);
        _pg = ConvGeometry.Create(n, _g.OH, _g.OW, cm, 1, 1, 1, 1, Padding.Valid, Filters);
        if (_mid.Length == 0) _mid = [_g.OH, _g.OW, cm];
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        int n = x.Shape[0];
        Geometries(n);
        _x = x;
        _t = Workspace(ref _t, n, _mid);
        _y = Workspace(ref _y, n, OutputShape!);
        if (ActivationOps.NeedsInput(Activation)) _pre = Workspace(ref _pre, n, OutputShape!);
        ForBatch(n, _forwardPart);
        return _y;
    }

    // Images [s, s+cnt): t = depthwise(x); y = act(t·P + b).
    private void ForwardPart(int part, int s, int cnt)
    {
        var g = _g; var pg = _pg;
        var tc = _t!.Span.Slice(s * g.OutImage, cnt * g.OutImage);
        var yc = _y!.Span.Slice(s * pg.OutImage, cnt * pg.OutImage);
        DepthwiseConv.DepthwiseConvForward(g.WithBatch(cnt), _x!.Span.Slice(s * g.InImage, cnt * g.InImage), DepthwiseKernel!.Value.Span, [], tc);
        Conv.ConvForward(pg.WithBatch(cnt), tc, PointwiseKernel!.Value.Span, UseBias ? Bias!.Value.Span : [], yc);
        if (ActivationOps.NeedsInput(Activation)) yc.CopyTo(_pre!.Span.Slice(s * pg.OutImage, cnt * pg.OutImage));
        ActivationOps.Forward(Activation, yc, Filters);
    }

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        _ = _x ?? throw new InvalidOperationException($"Layer {Display}: Backward called before Forward.");
        int n = dy.Shape[0], parts = Parts(n);
        Geometries(n);
        _dy = dy;
        _dz = Workspace(ref _dz, n, OutputShape!);
        _dt = Workspace(ref _dt, n, _mid);
        if (NeedsInputGradient) _dx = Workspace(ref _dx, n, InputShape!);
        _partialDw = DepthwiseArgs.Partials(_partialDw, parts, DepthwiseKernel!.Value.Length);
        _partialPw = DepthwiseArgs.Partials(_partialPw, parts, PointwiseKernel!.Value.Length);
        _partialB = DepthwiseArgs.Partials(_partialB, parts, Filters);
        ForBatch(n, _backwardPart);
        DepthwiseArgs.Reduce(DepthwiseKernel.Grad.Span, _partialDw, parts);
        DepthwiseArgs.Reduce(PointwiseKernel.Grad.Span, _partialPw, parts);
        if (UseBias) DepthwiseArgs.Reduce(Bias!.Grad.Span, _partialB, parts);
        return NeedsInputGradient ? _dx! : dy;
    }

    // Images [s, s+cnt): dz = act'(·)⊙dy; dP, db; dt = dz·Pᵀ; dD from (x, dt); dx = depthwise_backward_data(dt).
    private void BackwardPart(int part, int s, int cnt)
    {
        var g = _g; var pg = _pg;
        var gc = g.WithBatch(cnt); var pgc = pg.WithBatch(cnt);
        var dzc = _dz!.Span.Slice(s * pg.OutImage, cnt * pg.OutImage);
        ActivationOps.Backward(Activation, ActivationOps.NeedsInput(Activation) ? _pre!.Span.Slice(s * pg.OutImage, cnt * pg.OutImage) : default,
            _y!.Span.Slice(s * pg.OutImage, cnt * pg.OutImage), _dy!.Span.Slice(s * pg.OutImage, cnt * pg.OutImage), dzc, Filters);
        Array.Clear(_partialDw[part]); Array.Clear(_partialPw[part]); Array.Clear(_partialB[part]);
        var tc = _t!.Span.Slice(s * g.OutImage, cnt * g.OutImage);
        var dtc = _dt!.Span.Slice(s * g.OutImage, cnt * g.OutImage);
        Conv.ConvBackwardFilter(pgc, tc, dzc, _partialPw[part], UseBias ? _partialB[part] : []);
        dtc.Clear();
        Conv.ConvBackwardData(pgc, dzc, PointwiseKernel!.Value.Span, dtc);
        var xc = _x!.Span.Slice(s * g.InImage, cnt * g.InImage);
        DepthwiseConv.DepthwiseConvBackwardFilter(gc, xc, dtc, _partialDw[part], []);
        if (NeedsInputGradient)
        {
            var dxc = _dx!.Span.Slice(s * g.InImage, cnt * g.InImage);
            dxc.Clear();
            DepthwiseConv.DepthwiseConvBackwardData(gc, dtc, DepthwiseKernel!.Value.Span, dxc);
        }
    }

    internal override void WriteConfig(IDictionary<string, string> c)
    {
        c["filters"] = Filters.ToString(CultureInfo.InvariantCulture);
        DepthwiseArgs.WriteCommon(c, KernelSize, Strides, Padding, DepthMultiplier, Activation, UseBias);
    }
}
