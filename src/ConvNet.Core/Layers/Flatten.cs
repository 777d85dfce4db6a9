namespace ConvNet;

/// <summary>Flattens (N, H, W, C) to (N, H·W·C) in NHWC order (a view, no copy), so Dense weights line up with Keras.</summary>
public sealed class Flatten : Layer
{
    private Tensor? _yView, _dxView;

    /// <summary>Creates the layer.</summary>
    public Flatten(string? name = null) : base(name) { }
    /// <inheritdoc/>
    public override string TypeName => "Flatten";
    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s)
    {
        ArgumentNullException.ThrowIfNull(s);
        ShapeChecks.RequireFits(this, s, "output", s);   // checked: H·W·C must fit in an int
        return [(int)ShapeChecks.Elements(s)];
    }
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training) => View(ref _yView, x, OutputShape!);
    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy) => View(ref _dxView, dy, InputShape!);

    // A reshaped view of t, cached while t's storage and batch size stay the same (no allocation then).
    private static Tensor View(ref Tensor? cache, Tensor t, IReadOnlyList<int> sample)
    {
        if (cache is null || cache.Array != t.Array || cache.Offset != t.Offset || cache.Shape[0] != t.Shape[0])
            cache = new Tensor(t.Array, t.Offset, BatchShape(t.Shape[0], sample));
        return cache;
    }
    internal override bool OutputMayAliasInput => true;
    internal override void WriteConfig(IDictionary<string, string> c) { }
}
