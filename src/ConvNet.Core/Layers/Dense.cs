using System.Globalization;
using ConvNet.Kernels;

namespace ConvNet;

/// <summary>Fully connected layer like Keras <c>Dense</c>: y = act(x · W + b), x (N, in), W (in, units), b (units).</summary>
public sealed class Dense : Layer
{
    private Tensor? _x, _y, _yOwn, _dz, _dx;
    private Tensor? _pre;   // pre-activation copy, kept only for activations whose derivative needs it (SiLU, GELU)
    private readonly Action<int, int, int> _forwardPart, _weightGradPart, _inputGradPart;

    /// <summary>Creates the layer.</summary>
    public Dense(int units, Activation activation = Activation.None, bool useBias = true, string? name = null) : base(name)
    {
        if (units <= 0) throw new ArgumentOutOfRangeException(nameof(units), $"Dense: units must be positive, got {units}.");
        Units = units; Activation = activation; UseBias = useBias;
        _forwardPart = ForwardPart;
        _weightGradPart = WeightGradPart;
        _inputGradPart = InputGradPart;
    }

    /// <summary>Number of outputs.</summary>
    public int Units { get; }
    /// <summary>Activation applied to the output.</summary>
    public Activation Activation { get; }
    /// <summary>Whether a bias is added.</summary>
    public bool UseBias { get; }
    /// <inheritdoc/>
    public override string TypeName => "Dense";
    /// <summary>The kernel (in, units); null before build.</summary>
    public Parameter? Kernel => Parameters.Count > 0 ? Parameters[0] : null;
    /// <summary>The bias (units); null before build or without bias.</summary>
    public Parameter? Bias => UseBias && Parameters.Count > 1 ? Parameters[1] : null;

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s)
    {
        if (s.Count != 1)
            throw Error("(None, features)", Fmt(s, batch: true), $"Dense needs rank-2 input; add a Flatten or GlobalAveragePooling2D layer before it");
        ShapeChecks.RequireFits(this, [s[0], Units], "kernel", s);
        return [Units];
    }

    internal override int[][] ParameterShapes(IReadOnlyList<int> s) => UseBias ? [[s[0], Units], [Units]] : [[s[0], Units]];

    /// <inheritdoc/>
    protected override void CreateParameters(int[] s, Rng rng)
    {
        var kernel = new Tensor(s[0], Units);
        Initializers.GlorotUniform(kernel.Span, s[0], Units, rng);
        AddParameter("kernel", kernel);
        if (UseBias) AddParameter("bias", new Tensor(Units));
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        int n = x.Shape[0];
        _y = OutputBuffer(ref _yOwn, n);
        if (ActivationOps.NeedsInput(Activation)) _pre = Workspace(ref _pre, n, OutputShape!);
        _x = x;
        ForBatch(n, _forwardPart);
        return _y;
    }

    // Rows [s, s+cnt): y = act(x·W + b).
    private void ForwardPart(int part, int s, int cnt)
    {
        int inF = InputShape![0], u = Units;
        var yc = _y!.Span.Slice(s * u, cnt * u);
        if (UseBias) for (int i = 0; i < cnt; i++) Bias!.Value.Span.CopyTo(yc.Slice(i * u, u));
        else yc.Clear();
        Gemm.GemmNN(cnt, u, inF, _x!.Span.Slice(s * inF, cnt * inF), Kernel!.Value.Span, yc);
        if (ActivationOps.NeedsInput(Activation)) yc.CopyTo(_pre!.Span.Slice(s * u, cnt * u));
        ActivationOps.Forward(Activation, yc, u);
    }

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        _ = _x ?? throw new InvalidOperationException($"Layer {Display}: Backward called before Forward.");
        int n = dy.Shape[0], inF = InputShape![0], u = Units;
        _dz = Workspace(ref _dz, n, OutputShape!);
        ActivationOps.Backward(Activation, ActivationOps.NeedsInput(Activation) ? _pre!.Span : default, _y!.Span, dy.Span, _dz.Span, u);
        // Each part owns rows of dW, so the result does not depend on the thread count.
        ForBatch(inF, _weightGradPart);
        if (UseBias)
            for (int i = 0; i < n; i++) System.Numerics.Tensors.TensorPrimitives.Add(Bias!.Grad.Span, _dz.Span.Slice(i * u, u), Bias.Grad.Span);
        if (!NeedsInputGradient) return dy;   // first layer of a model: dx is not needed
        _dx = Workspace(ref _dx, n, InputShape);
        ForBatch(n, _inputGradPart);
        return _dx;
    }

    // dW[s..s+cnt, :] += x[:, s..s+cnt]ᵀ · dz.
    private void WeightGradPart(int part, int s, int cnt)
    {
        int inF = InputShape![0], u = Units, n = _dz!.Shape[0];
        Gemm.GemmTN(cnt, u, n, _x!.Span[s..], _dz.Span, Kernel!.Grad.Span.Slice(s * u, cnt * u), lda: inF);
    }

    // dx[s..s+cnt, :] = dz[s..s+cnt, :] · Wᵀ.
    private void InputGradPart(int part, int s, int cnt)
    {
        int inF = InputShape![0], u = Units;
        var dxc = _dx!.Span.Slice(s * inF, cnt * inF);
        dxc.Clear();
        Gemm.GemmNT(cnt, inF, u, _dz!.Span.Slice(s * u, cnt * u), Kernel!.Value.Span, dxc);
    }

    internal override void WriteConfig(IDictionary<string, string> c)
    {
        c["units"] = Units.ToString(CultureInfo.InvariantCulture);
        c["activation"] = ActivationOps.Name(Activation);
        c["use_bias"] = UseBias ? "true" : "false";
    }
}
