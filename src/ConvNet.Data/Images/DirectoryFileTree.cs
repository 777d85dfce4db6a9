using ConvNet.IO;

namespace ConvNet.Data;

/// <summary>
/// A <see cref="FileTree"/> over a directory on disk (hidden files included so they can be reported).
/// Symbolic links to directories are not entered unless <c>followLinks</c> is set; then each real directory is
/// entered once, so a link loop cannot repeat files. Only regular files are read (no FIFOs, devices or sockets).
/// </summary>
internal sealed class DirectoryFileTree : FileTree
{
    private readonly string _root;
    private readonly List<string> _files = [];
    private readonly HashSet<string> _dirs = new(StringComparer.Ordinal);
    private readonly List<(string, string)> _skippedLinks = [];

    public DirectoryFileTree(string root, bool followLinks = false)
    {
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"The image folder \"{root}\" does not exist (resolved: \"{Path.GetFullPath(root)}\").");
        _root = Path.GetFullPath(root);
        Source = root;
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = false,
            AttributesToSkip = 0,
            IgnoreInaccessible = false,
            ReturnSpecialDirectories = false,
        };
        var visited = new HashSet<string>(StringComparer.Ordinal) { RealPath(new DirectoryInfo(_root)) };
        var pending = new Stack<string>();
        pending.Push(_root);
        while (pending.Count > 0)
        {
            string dir = pending.Pop();
            foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos("*", options))
            {
                string rel = ToRelative(entry.FullName);
                bool isLink = (entry.Attributes & FileAttributes.ReparsePoint) != 0;
                if (entry is DirectoryInfo sub)
                {
                    if (isLink && !followLinks)
                    {
                        _skippedLinks.Add((rel, "symbolic link to a directory, not followed (set ImageLoadOptions.FollowLinks to follow it)"));
                        continue;
                    }
                    if (isLink && !visited.Add(RealPath(sub)))
                    {
                        _skippedLinks.Add((rel, "symbolic link to a directory that is already part of the tree (a link loop), not followed twice"));
                        continue;
                    }
                    if (!isLink) visited.Add(RealPath(sub));
                    _dirs.Add(rel);
                    pending.Push(entry.FullName);
                }
                else
                {
                    _files.Add(rel);
                }
            }
        }
        _files.Sort(StringComparer.Ordinal);
    }

    private static string RealPath(DirectoryInfo d)
    {
        try
        {
            return d.ResolveLinkTarget(returnFinalTarget: true)?.FullName is { } target
                ? Path.TrimEndingDirectorySeparator(Path.GetFullPath(target))
                : Path.TrimEndingDirectorySeparator(d.FullName);
        }
        catch (IOException)
        {
            return Path.TrimEndingDirectorySeparator(d.FullName);
        }
    }

    private string ToRelative(string full) => Path.GetRelativePath(_root, full).Replace(Path.DirectorySeparatorChar, '/');

    public override string Source { get; }

    public override IReadOnlyList<string> Files => _files;

    public override IReadOnlyCollection<string> Directories => _dirs;

    public override IReadOnlyList<(string RelativePath, string Reason)> SkippedLinks => _skippedLinks;

    public override string Display(string relativePath) => Path.Combine(Source, relativePath.Replace('/', Path.DirectorySeparatorChar));

    public override byte[] ReadAllBytes(string relativePath, long maxBytes)
    {
        string path = Path.Combine(_root, relativePath.Replace('/', Path.DirectorySeparatorChar));
        if (SafeFile.WhyNotRegular(path) is { } why)
            throw new IOException($"the path {why}");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.SequentialScan);
        long length = stream.Length;
        if (length > maxBytes)
            throw new InvalidDataException($"the file is {length:N0} bytes, more than the limit of {maxBytes:N0} bytes (ImageLoadOptions.MaxFileBytes)");
        return SafeFile.ReadAtMost(stream, maxBytes, "the file");
    }
}
