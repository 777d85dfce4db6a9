namespace ConvNet.Data;

/// <summary>
/// Thrown by <see cref="ImageDatasets"/> under <see cref="BadFilePolicy.Error"/> when one or more files
/// cannot be used. The message lists every bad file with its reason; <see cref="BadFiles"/> has them too.
/// </summary>
public sealed class ImageLoadException : Exception
{
    /// <summary>Creates the exception from the list of bad files.</summary>
    public ImageLoadException(string source, IReadOnlyList<SkippedFile> badFiles)
        : base(FormatMessage(source, badFiles))
    {
        Input = source;
        BadFiles = badFiles;
    }

    /// <summary>The folder or zip being loaded.</summary>
    public string Input { get; }

    /// <summary>Every bad file with its reason.</summary>
    public IReadOnlyList<SkippedFile> BadFiles { get; }

    private static string FormatMessage(string source, IReadOnlyList<SkippedFile> bad)
    {
        ArgumentNullException.ThrowIfNull(bad);
        var lines = bad.Select(b => "  " + b);
        return $"{bad.Count} file(s) in \"{source}\" could not be loaded (use BadFilePolicy.Skip to leave them out):"
               + Environment.NewLine + string.Join(Environment.NewLine, lines);
    }
}
