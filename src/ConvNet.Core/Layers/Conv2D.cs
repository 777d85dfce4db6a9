using System.Globalization;
using ConvNet.Kernels;

namespace ConvNet;

/// <summary>
/// 2-D convolution over NHWC input, like Keras <c>Conv2D</c>. Kernel (KH, KW, C, filters), bias (filters).
/// Input (N, H, W, C) → output (N, OH, OW, filters) with TF's Valid/Same arithmetic.
/// A 1×1 kernel is a per-pixel matrix product (no im2col).
/// The layer is plain math (as Keras <c>base_conv.call</c>); fusing it with a following <see cref="MaxPooling2D"/> is a
/// decision of the model's execution plan (<see cref="FusedConvPool"/>).
/// </summary>
public sealed class Conv2D : Layer
{
    private Tensor? _x, _y, _yOwn, _dy, _dz, _dx;
    private Tensor? _pre;   // pre-activation copy, kept only for activations whose derivative needs it (SiLU, GELU)
    private float[][] _partialW = [], _partialB = [];
    private ConvGeometry _g;
    private readonly Action<int, int, int> _forwardPart, _backwardPart;

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

    internal ConvGeometry Geometry(int n) => ConvGeometry.Create(n, InputShape![0], InputShape[1], InputShape[2],
        KernelSize.Height, KernelSize.Width, Strides.Height, Strides.Width, Padding, Filters);

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        int n = x.Shape[0];
        _g = Geometry(n);
        _y = OutputBuffer(ref _yOwn, n);
        _x = x;
        if (ActivationOps.NeedsInput(Activation)) _pre = Workspace(ref _pre, n, OutputShape!);
        ForBatch(n, _forwardPart);
        return _y;
    }

    // Images [s, s+cnt): y = act(conv(x) + b).
    private void ForwardPart(int part, int s, int cnt)
    {
        var g = _g;
        var yc = _y!.Span.Slice(s * g.OutImage, cnt * g.OutImage);
        Conv.ConvForward(g.WithBatch(cnt), _x!.Span.Slice(s * g.InImage, cnt * g.InImage), Kernel!.Value.Span, UseBias ? Bias!.Value.Span : [], yc);
        if (ActivationOps.NeedsInput(Activation)) yc.CopyTo(_pre!.Span.Slice(s * g.OutImage, cnt * g.OutImage));
        ActivationOps.Forward(Activation, yc, Filters);
    }

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        var x = _x ?? throw new InvalidOperationException($"Layer {Display}: Backward called before Forward.");
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
        else ActivationOps.Backward(Activation, ActivationOps.NeedsInput(Activation) ? _pre!.Span.Slice(s * g.OutImage, cnt * g.OutImage) : default, yc, dyc, dzc, Filters);
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
