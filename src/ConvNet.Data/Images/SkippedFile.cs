namespace ConvNet.Data;

/// <summary>Why a file was left out of an image-folder dataset.</summary>
public enum SkipKind
{
    /// <summary>A hidden file or a file inside a hidden folder (name starts with '.').</summary>
    Hidden,

    /// <summary>A macOS AppleDouble file (<c>._name</c>) or an entry under <c>__MACOSX/</c>.</summary>
    AppleDouble,

    /// <summary>Not a .png, .jpg, .jpeg, .bmp or .gif file (ignored, like Keras).</summary>
    NotAnImage,

    /// <summary>The file could not be decoded, is truncated, or exceeds a size limit.</summary>
    Bad,

    /// <summary>A symbolic link to a directory, not followed (<see cref="ImageLoadOptions.FollowLinks"/> is false), or a link loop.</summary>
    Link,
}

/// <summary>A file the loader did not use, with the reason.</summary>
/// <param name="Path">The file's path (for a zip: <c>archive.zip!entry/name.png</c>).</param>
/// <param name="Kind">The category.</param>
/// <param name="Reason">A readable reason.</param>
public sealed record SkippedFile(string Path, SkipKind Kind, string Reason)
{
    /// <summary>Formats as <c>path: reason</c>.</summary>
    public override string ToString() => $"{Path}: {Reason}";
}
