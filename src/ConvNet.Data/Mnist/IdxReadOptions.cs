namespace ConvNet.Data;

/// <summary>Limits for reading IDX files (<see cref="Idx"/>, <see cref="Mnist"/>).</summary>
public sealed class IdxReadOptions
{
    /// <summary>
    /// The most memory one file's result may need, in bytes, checked against the header's declared sizes before
    /// anything is allocated: 4 bytes per pixel for <see cref="Idx.ReadImages"/> (float32), 1 for
    /// <see cref="Idx.ReadImageBytes"/>, 5 per label for <see cref="Idx.ReadLabels"/>. Default 1 GiB
    /// (MNIST's 60,000 training images need 188 MB as floats).
    /// </summary>
    public long MaxBytes { get; init; } = 1L << 30;

    /// <summary>The default limits.</summary>
    public static IdxReadOptions Default { get; } = new();
}
