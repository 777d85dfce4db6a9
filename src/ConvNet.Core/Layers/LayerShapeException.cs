namespace ConvNet;

/// <summary>An input whose shape a layer cannot accept. The message names the layer, the expected and the actual shape.</summary>
public sealed class LayerShapeException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public LayerShapeException(string layer, string expected, string actual, string message)
        : base(message)
    {
        LayerName = layer;
        Expected = expected;
        Actual = actual;
    }

    /// <summary>The layer that rejected the input.</summary>
    public string LayerName { get; }
    /// <summary>The expected shape, Keras style: <c>(None, 80, 80, 1)</c>.</summary>
    public string Expected { get; }
    /// <summary>The shape that was given.</summary>
    public string Actual { get; }
}
