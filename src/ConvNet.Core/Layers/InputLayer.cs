namespace ConvNet;

/// <summary>Declares the per-sample input shape of a model, like Keras <c>Input(shape)</c>; identity in the forward pass.</summary>
public sealed class Input : Layer
{
    private readonly int[] _shape;

    /// <summary>Per-sample shape, e.g. <c>new Input(80, 80, 1)</c> (no batch dimension).</summary>
    public Input(params int[] shape) : base(null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length is < 1 or > 3 || shape.Any(d => d <= 0))
            throw new ArgumentException($"Input: the per-sample shape must have 1 to 3 positive dimensions (no batch dimension), got {Fmt(shape)}.", nameof(shape));
        _shape = shape.ToArray();
        Build(_shape);
        CallOutput = new SymbolicTensor(this, [], _shape, null);
    }

    /// <summary>The symbolic tensor this input feeds into the functional API (<c>layer.Apply(input)</c>).</summary>
    public static implicit operator SymbolicTensor(Input input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.CallOutput!;
    }

    /// <summary>The symbolic tensor of this input (what the implicit conversion returns).</summary>
    public SymbolicTensor ToSymbolicTensor() => CallOutput!;

    /// <summary>The declared per-sample shape.</summary>
    public IReadOnlyList<int> Shape => _shape;
    /// <inheritdoc/>
    public override string TypeName => "InputLayer";
    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s)
    {
        if (!s.SequenceEqual(_shape)) throw Error(Fmt(_shape, batch: true), Fmt(s, batch: true), "the data does not match the declared input shape");
        ShapeChecks.RequireFits(this, _shape, "input", _shape);
        return _shape.ToArray();
    }
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training) => x;
    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy) => dy;
    internal override bool OutputMayAliasInput => true;
    internal override void WriteConfig(IDictionary<string, string> c) => c["shape"] = string.Join(",", _shape);
}
