namespace ConvNet.Data;

/// <summary>A <see cref="FileTree"/> over a directory on disk (hidden files included so they can be reported).</summary>
internal sealed class DirectoryFileTree : FileTree
{
    private readonly string _root;
    private readonly List<string> _files = [];
    private readonly HashSet<string> _dirs = new(StringComparer.Ordinal);

    public DirectoryFileTree(string root)
    {
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"The image folder \"{root}\" does not exist (resolved: \"{Path.GetFullPath(root)}\").");
        _root = Path.GetFullPath(root);
        Source = root;
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            AttributesToSkip = 0,
            IgnoreInaccessible = false,
            ReturnSpecialDirectories = false,
        };
        foreach (string d in Directory.EnumerateDirectories(_root, "*", options))
            _dirs.Add(ToRelative(d));
        foreach (string f in Directory.EnumerateFiles(_root, "*", options))
            _files.Add(ToRelative(f));
    }

    private string ToRelative(string full) => Path.GetRelativePath(_root, full).Replace(Path.DirectorySeparatorChar, '/');

    public override string Source { get; }

    public override IReadOnlyList<string> Files => _files;

    public override IReadOnlyCollection<string> Directories => _dirs;

    public override string Display(string relativePath) => Path.Combine(Source, relativePath.Replace('/', Path.DirectorySeparatorChar));

    public override byte[] ReadAllBytes(string relativePath, long maxBytes)
    {
        string path = Path.Combine(_root, relativePath.Replace('/', Path.DirectorySeparatorChar));
        long length = new FileInfo(path).Length;
        if (length > maxBytes)
            throw new InvalidDataException($"the file is {length:N0} bytes, more than the limit of {maxBytes:N0} bytes (ImageLoadOptions.MaxFileBytes)");
        return File.ReadAllBytes(path);
    }
}
