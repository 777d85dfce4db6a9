using System.Globalization;
using ConvNet.Kernels;

namespace ConvNet;

/// <summary>Fully connected layer like Keras <c>Dense</c>: y = act(x · W + b), x (N, in), W (in, units), b (units).</summary>
public sealed class Dense : Layer
{
    private Tensor? _x, _y, _dz, _dx;

    /// <summary>Creates the layer.</summary>
    public Dense(int units, Activation activation = Activation.None, bool useBias = true, string? name = null) : base(name)
    {
        if (units <= 0) throw new ArgumentOutOfRangeException(nameof(units), $"Dense: units must be positive, got {units}.");
        Units = units; Activation = activation; UseBias = useBias;
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
        return [Units];
    }

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
        int n = x.Shape[0], inF = InputShape![0], u = Units;
        var y = Workspace(ref _y, new Shape(n, u));
        _x = x;
        var w = Kernel!.Value.Array;
        ForBatch(n, (s, cnt) =>
        {
            var yc = y.Span.Slice(s * u, cnt * u);
            if (Bias is null) yc.Clear();
            else for (int i = 0; i < cnt; i++) Bias.Value.Span.CopyTo(yc.Slice(i * u, u));
            Gemm.GemmNN(cnt, u, inF, x.Span.Slice(s * inF, cnt * inF), w, yc);
            ActivationOps.Forward(Activation, yc, u);
        });
        return y;
    }

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        var x = _x ?? throw new InvalidOperationException($"Layer {Display}: Backward called before Forward.");
        int n = dy.Shape[0], inF = InputShape![0], u = Units;
        var dz = Workspace(ref _dz, dy.Shape);
        ActivationOps.Backward(Activation, _y!.Span, dy.Span, dz.Span, u);
        // dW[in, u] += xᵀ·dz, split over rows of dW (each thread owns its rows: deterministic for any thread count).
        var gw = Kernel!.Grad.Array;
        ForBatch(inF, (s, cnt) => Gemm.GemmTN(cnt, u, n, x.Span[s..], dz.Span, gw.AsSpan(s * u, cnt * u), lda: inF));
        if (Bias is not null)
            for (int i = 0; i < n; i++) System.Numerics.Tensors.TensorPrimitives.Add(Bias.Grad.Span, dz.Span.Slice(i * u, u), Bias.Grad.Span);
        if (!NeedsInputGradient) return dy;
        var dx = Workspace(ref _dx, x.Shape);
        var w = Kernel.Value.Array;
        ForBatch(n, (s, cnt) =>
        {
            var dxc = dx.Span.Slice(s * inF, cnt * inF);
            dxc.Clear();
            Gemm.GemmNT(cnt, inF, u, dz.Span.Slice(s * u, cnt * u), w, dxc);
        });
        return dx;
    }

    internal override void WriteConfig(IDictionary<string, string> c)
    {
        c["units"] = Units.ToString(CultureInfo.InvariantCulture);
        c["activation"] = ActivationOps.Name(Activation);
        c["use_bias"] = UseBias ? "true" : "false";
    }
}
