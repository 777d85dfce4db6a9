namespace ConvNet.Data;

/// <summary>
/// A read-only view of a folder tree — a directory on disk or a zip archive — with '/'-separated paths
/// relative to its root, so the class-folder logic is written once.
/// </summary>
internal abstract class FileTree : IDisposable
{
    /// <summary>The folder or zip path, for messages.</summary>
    public abstract string Source { get; }

    /// <summary>Every file, as a relative '/'-separated path.</summary>
    public abstract IReadOnlyList<string> Files { get; }

    /// <summary>Every directory (explicit or implied by a file), as a relative '/'-separated path.</summary>
    public abstract IReadOnlyCollection<string> Directories { get; }

    /// <summary>Reads a whole file; throws <see cref="InvalidDataException"/> if it is larger than <paramref name="maxBytes"/>.</summary>
    public abstract byte[] ReadAllBytes(string relativePath, long maxBytes);

    /// <summary>Directories that were not entered (links not followed, link loops), as relative paths with a reason.</summary>
    public virtual IReadOnlyList<(string RelativePath, string Reason)> SkippedLinks => [];

    /// <summary>The path shown to users for a relative path.</summary>
    public abstract string Display(string relativePath);

    /// <summary>Immediate sub-directory names of <paramref name="prefix"/> ("" for the root).</summary>
    public List<string> ChildDirectories(string prefix)
    {
        string p = prefix.Length == 0 ? "" : prefix + "/";
        var names = new List<string>();
        foreach (string d in Directories)
            if (d.Length > p.Length && d.StartsWith(p, StringComparison.Ordinal) && d.IndexOf('/', p.Length) < 0)
                names.Add(d[p.Length..]);
        names.Sort(CodePointComparer.Instance);
        return names;
    }

    /// <summary>Files below <paramref name="prefix"/> (recursively), as paths relative to it.</summary>
    public IEnumerable<string> FilesUnder(string prefix)
    {
        string p = prefix + "/";
        foreach (string f in Files)
            if (f.StartsWith(p, StringComparison.Ordinal))
                yield return f[p.Length..];
    }

    /// <summary>Joins relative path parts with '/'.</summary>
    public static string Join(string a, string b) => a.Length == 0 ? b : b.Length == 0 ? a : a + "/" + b;

    /// <inheritdoc/>
    public virtual void Dispose() { }
}
