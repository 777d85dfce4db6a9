namespace ConvNet;

/// <summary>
/// Checked size arithmetic for shape computations: a per-sample shape whose element count (or a parameter
/// tensor whose size) does not fit in an int fails with a <see cref="LayerShapeException"/> naming the layer,
/// instead of wrapping around and building a wrong model.
/// </summary>
internal static class ShapeChecks
{
    /// <summary>The number of elements of <paramref name="shape"/>, computed in 64 bits.</summary>
    public static long Elements(IReadOnlyList<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            n *= d;
            if (n > int.MaxValue) return (long)int.MaxValue + 1;   // saturate: enough to report
        }
        return n;
    }

    /// <summary>One output dimension computed in 64 bits; throws (naming the layer) unless it fits in an int.</summary>
    public static int Dimension(Layer layer, long value, string what, IReadOnlyList<int> inputShape)
    {
        if (value <= int.MaxValue) return (int)value;
        string display = layer.Name.Length > 0 ? $"'{layer.Name}' ({layer.TypeName})" : layer.TypeName;
        throw new LayerShapeException(layer.Name, $"an output {what} of at most {int.MaxValue:N0}", Layer.Fmt(inputShape, batch: true),
            $"Layer {display}: its output {what} would be {value:N0}, more than an int holds (input {Layer.Fmt(inputShape, batch: true)}).");
    }

    /// <summary>
    /// Throws unless one sample of <paramref name="shape"/> fits in a tensor (at most <see cref="int.MaxValue"/> elements).
    /// </summary>
    /// <param name="layer">The layer computing the shape (named in the message).</param>
    /// <param name="shape">The per-sample shape.</param>
    /// <param name="role">"input", "output" or a parameter's name.</param>
    /// <param name="inputShape">The layer's per-sample input shape, for the message.</param>
    public static void RequireFits(Layer layer, IReadOnlyList<int> shape, string role, IReadOnlyList<int> inputShape)
    {
        if (Elements(shape) <= int.MaxValue) return;
        string display = layer.Name.Length > 0 ? $"'{layer.Name}' ({layer.TypeName})" : layer.TypeName;
        var total = shape.Aggregate(System.Numerics.BigInteger.One, (a, d) => a * d);
        string dims = $"{string.Join(" × ", shape)} = {total:N0}";
        throw new LayerShapeException(layer.Name, $"at most {int.MaxValue:N0} elements per sample", Layer.Fmt(inputShape, batch: true),
            $"Layer {display}: its {role} {Shape.Format([.. shape])} has {dims} elements, more than the {int.MaxValue:N0} a tensor can hold " +
            $"(input {Layer.Fmt(inputShape, batch: true)}); use a smaller input, more pooling or fewer filters/units.");
    }
}
