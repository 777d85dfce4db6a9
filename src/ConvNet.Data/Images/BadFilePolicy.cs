namespace ConvNet.Data;

/// <summary>What the image loader does with a file it cannot use (undecodable, truncated, too large).</summary>
public enum BadFilePolicy
{
    /// <summary>Check every file, then throw one <see cref="ImageLoadException"/> listing every bad file and why.</summary>
    Error,

    /// <summary>Leave bad files out, record them in <see cref="ImageLoadReport.Skipped"/> and continue.</summary>
    Skip,
}
