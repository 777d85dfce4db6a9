namespace ConvNet;

/// <summary>
/// Applies an activation function, like Keras <c>Activation("relu")</c> (its Keras type name is <c>Activation</c>; the C# class is
/// called ActivationLayer because <see cref="ConvNet.Activation"/> is the enum). Also the base of the stand-alone
/// <see cref="ReLU"/>, <see cref="Tanh"/> and <see cref="Softmax"/> layers. Shape-preserving; softmax runs over the last axis.
/// </summary>
public class ActivationLayer : Layer
{
    private Tensor? _x, _y, _yOwn, _dx;
    private readonly Activation _activation;

    /// <summary>Creates the layer from an <see cref="ConvNet.Activation"/>.</summary>
    public ActivationLayer(Activation activation, string? name = null) : base(name)
    {
        if (!Enum.IsDefined(activation)) throw new ArgumentOutOfRangeException(nameof(activation), $"Activation: unknown activation {(int)activation}.");
        _activation = activation;
    }

    /// <summary>Creates the layer from a Keras activation name, e.g. <c>"relu"</c>, <c>"gelu"</c>, <c>"leaky_relu"</c> (slope 0.2).</summary>
    public ActivationLayer(string activation, string? name = null) : this(ActivationOps.Parse(activation ?? throw new ArgumentNullException(nameof(activation))), name) { }

    /// <summary>The activation function.</summary>
    public Activation Activation => _activation;

    /// <summary>Keras' class name <c>Activation</c> (the subclasses report their own).</summary>
    public override string TypeName => "Activation";

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s)
    {
        ArgumentNullException.ThrowIfNull(s);
        ShapeChecks.RequireFits(this, s, "input", s);
        return s.ToArray();
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        var y = _y = OutputBuffer(ref _yOwn, x.Shape[0]);
        _x = x;
        x.Span.CopyTo(y.Span);
        ActivationOps.Forward(_activation, y.Span, x.Shape[-1]);
        return y;
    }

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        var dx = Workspace(ref _dx, dy.Shape[0], InputShape!);
        ActivationOps.Backward(_activation, ActivationOps.NeedsInput(_activation) ? _x!.Span : default, _y!.Span, dy.Span, dx.Span, dy.Shape[-1]);
        return dx;
    }

    internal override void WriteConfig(IDictionary<string, string> c)
    {
        if (GetType() == typeof(ActivationLayer)) c["activation"] = ActivationOps.Name(_activation);
    }
}

/// <summary>y = max(x, 0), like Keras <c>ReLU</c>.</summary>
public sealed class ReLU : ActivationLayer
{
    /// <summary>Creates the layer.</summary>
    public ReLU(string? name = null) : base(Activation.Relu, name) { }
    /// <inheritdoc/>
    public override string TypeName => "ReLU";
}

/// <summary>y = tanh(x) (Keras <c>Activation("tanh")</c>).</summary>
public sealed class Tanh : ActivationLayer
{
    /// <summary>Creates the layer.</summary>
    public Tanh(string? name = null) : base(Activation.Tanh, name) { }
    /// <inheritdoc/>
    public override string TypeName => "Tanh";
}

/// <summary>Softmax over the last axis, like Keras <c>Softmax</c>.</summary>
public sealed class Softmax : ActivationLayer
{
    /// <summary>Creates the layer.</summary>
    public Softmax(string? name = null) : base(Activation.Softmax, name) { }
    /// <inheritdoc/>
    public override string TypeName => "Softmax";
}

/// <summary>y = x &gt; 0 ? x : negativeSlope·x, like Keras 3 <c>LeakyReLU(negative_slope=0.3)</c>.</summary>
public sealed class LeakyReLU : Layer
{
    private Tensor? _y, _dx;

    /// <summary>Creates the layer; <paramref name="negativeSlope"/> must be ≥ 0 (as Keras requires).</summary>
    public LeakyReLU(float negativeSlope = 0.3f, string? name = null) : base(name)
    {
        if (!(negativeSlope >= 0f) || float.IsInfinity(negativeSlope))
            throw new ArgumentOutOfRangeException(nameof(negativeSlope), $"LeakyReLU: negativeSlope must be a finite value ≥ 0, got {negativeSlope}.");
        NegativeSlope = negativeSlope;
    }

    /// <summary>Slope for x &lt; 0.</summary>
    public float NegativeSlope { get; }
    /// <inheritdoc/>
    public override string TypeName => "LeakyReLU";
    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s) => s.ToArray();

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        var y = Workspace(ref _y, x.Shape[0], InputShape!);
        Kernels.Activations.LeakyReluForward(x.Span, y.Span, NegativeSlope);
        return y;
    }

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        var dx = Workspace(ref _dx, dy.Shape[0], InputShape!);
        dx.Span.Clear();
        Kernels.Activations.LeakyReluBackward(_y!.Span, dy.Span, dx.Span, NegativeSlope);
        return dx;
    }

    internal override void WriteConfig(IDictionary<string, string> c) =>
        c["negative_slope"] = NegativeSlope.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
