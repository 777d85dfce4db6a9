using System.Globalization;
using System.Numerics.Tensors;

namespace ConvNet;

/// <summary>y = x · scale + offset, like Keras <c>Rescaling</c> (e.g. 1/255 to map bytes to [0, 1]).</summary>
public sealed class Rescaling : Layer
{
    private Tensor? _y, _dx;

    /// <summary>Creates the layer.</summary>
    public Rescaling(float scale, float offset = 0f, string? name = null) : base(name) { Scale = scale; Offset = offset; }
    /// <summary>Multiplier.</summary>
    public float Scale { get; }
    /// <summary>Added after scaling.</summary>
    public float Offset { get; }
    /// <inheritdoc/>
    public override string TypeName => "Rescaling";
    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s) => s.ToArray();
    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        var y = OutputBuffer(ref _y, x.Shape[0]);
        TensorPrimitives.Multiply(x.Span, Scale, y.Span);
        if (Offset != 0f) TensorPrimitives.Add(y.Span, Offset, y.Span);
        return y;
    }
    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        if (!NeedsInputGradient) return dy;
        var dx = Workspace(ref _dx, dy.Shape[0], InputShape!);
        TensorPrimitives.Multiply(dy.Span, Scale, dx.Span);
        return dx;
    }
    internal override void WriteConfig(IDictionary<string, string> c)
    {
        c["scale"] = Scale.ToString("R", CultureInfo.InvariantCulture);
        c["offset"] = Offset.ToString("R", CultureInfo.InvariantCulture);
    }
}
