using System.Globalization;
using System.Numerics.Tensors;

namespace ConvNet;

/// <summary>y = x · scale + offset, like Keras <c>Rescaling</c> (e.g. 1/255 to map bytes to [0, 1]).</summary>
public sealed class Rescaling : Layer
{
    private Tensor? _y, _dx;

    /// <summary>Creates the layer: <c>y = x · scale + offset</c>.</summary>
    /// <param name="scale">The multiplier, e.g. <c>1f / 255</c> (not <c>1/255</c>, which is integer division in C# and gives 0).</param>
    /// <param name="offset">Added after scaling.</param>
    /// <param name="name">Layer name; null for a Keras-style default.</param>
    /// <exception cref="ArgumentException">The scale is exactly 0 (all outputs would be equal, so the model could only train
    /// at chance) or not finite, or the offset is not finite.</exception>
    public Rescaling(float scale, float offset = 0f, string? name = null) : base(name)
    {
        if (scale == 0f)
            throw new ArgumentException(
                "Rescaling: scale is 0, so every output would be the same and the model could only train at chance. " +
                "If you wrote new Rescaling(1/255) (Keras' Rescaling(1./255)), 1/255 is integer division in C# and equals 0: " +
                "write new Rescaling(1f / 255) or Rescaling.Divide(255).", nameof(scale));
        if (!float.IsFinite(scale))
            throw new ArgumentException($"Rescaling: scale must be finite, got {scale}.", nameof(scale));
        if (!float.IsFinite(offset))
            throw new ArgumentException($"Rescaling: offset must be finite, got {offset}.", nameof(offset));
        Scale = scale;
        Offset = offset;
    }

    /// <summary>
    /// A layer that divides by <paramref name="divisor"/>: <c>Rescaling.Divide(255)</c> is <c>new Rescaling(1f / 255)</c>
    /// (the multiplier is rounded to float once, as in Keras' <c>Rescaling(1./255)</c>).
    /// </summary>
    /// <param name="divisor">The divisor, e.g. 255 to map bytes to [0, 1].</param>
    /// <param name="offset">Added after dividing, e.g. −1 with <c>Divide(127.5f)</c> for [−1, 1].</param>
    /// <param name="name">Layer name; null for a Keras-style default.</param>
    /// <exception cref="ArgumentException">The divisor is 0 or not finite.</exception>
    public static Rescaling Divide(float divisor, float offset = 0f, string? name = null)
    {
        if (divisor == 0f || !float.IsFinite(divisor))
            throw new ArgumentException($"Rescaling.Divide: the divisor must be finite and non-zero, got {divisor}.", nameof(divisor));
        return new Rescaling(1f / divisor, offset, name);
    }
    /// <summary>Multiplier.</summary>
    public float Scale { get; }
    /// <summary>Added after scaling.</summary>
    public float Offset { get; }
    /// <inheritdoc/>
    public override string TypeName => "Rescaling";
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
