namespace ConvNet;

/// <summary>Keras padding modes.</summary>
public enum Padding
{
    /// <summary>No padding: the window stays inside the input.</summary>
    Valid,
    /// <summary>Zero padding so that <c>out = ceil(in / stride)</c>.</summary>
    Same,
}
