namespace ConvNet;

/// <summary>Base of the stand-alone activation layers (<see cref="ReLU"/>, <see cref="Tanh"/>, <see cref="Softmax"/>); shape-preserving.</summary>
public abstract class ActivationLayer : Layer
{
    private Tensor? _y, _yOwn, _dx;
    private readonly Activation _activation;

    private protected ActivationLayer(Activation activation, string? name) : base(name) => _activation = activation;

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
        x.Span.CopyTo(y.Span);
        ActivationOps.Forward(_activation, y.Span, x.Shape[-1]);
        return y;
    }

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        var dx = Workspace(ref _dx, dy.Shape[0], InputShape!);
        ActivationOps.Backward(_activation, _y!.Span, dy.Span, dx.Span, dy.Shape[-1]);
        return dx;
    }

    internal override void WriteConfig(IDictionary<string, string> c) { }
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
