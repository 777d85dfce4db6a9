namespace ConvNet;

/// <summary>Flattens (N, H, W, C) to (N, H·W·C) in NHWC order (a view, no copy), so Dense weights line up with Keras.</summary>
public sealed class Flatten : Layer
{
    /// <summary>Creates the layer.</summary>
    public Flatten(string? name = null) : base(name) { }
    /// <inheritdoc/>
    public override string TypeName => "Flatten";
    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s) => [s.Aggregate(1, (a, b) => a * b)];
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training) => x.Reshape(x.Shape[0], OutputShape![0]);
    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy) => dy.Reshape(BatchShape(dy.Shape[0], InputShape!).ToArray());
    internal override void WriteConfig(IDictionary<string, string> c) { }
}
