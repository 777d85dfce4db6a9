namespace ConvNet.Data;

/// <summary>What an image-folder load found, used and left out.</summary>
public sealed class ImageLoadReport
{
    internal ImageLoadReport(string source, int foundCount, int classCount, int loadedCount, IReadOnlyList<SkippedFile> skipped)
    {
        Source = source;
        FoundCount = foundCount;
        ClassCount = classCount;
        LoadedCount = loadedCount;
        Skipped = skipped;
    }

    /// <summary>The folder or zip that was loaded.</summary>
    public string Source { get; }

    /// <summary>Image files found in the class folders (by extension, excluding hidden and AppleDouble files).</summary>
    public int FoundCount { get; }

    /// <summary>Number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>Images actually loaded (<see cref="FoundCount"/> minus bad files skipped).</summary>
    public int LoadedCount { get; }

    /// <summary>Every file left out, with the reason, in path order.</summary>
    public IReadOnlyList<SkippedFile> Skipped { get; }

    /// <summary>Keras' message, e.g. <c>Found 399 files belonging to 57 classes.</c></summary>
    public string Summary => $"Found {FoundCount} {(FoundCount == 1 ? "file" : "files")} belonging to {ClassCount} {(ClassCount == 1 ? "class" : "classes")}.";

    /// <inheritdoc/>
    public override string ToString() => Skipped.Count == 0 ? Summary : $"{Summary} Skipped {Skipped.Count} file(s).";
}
