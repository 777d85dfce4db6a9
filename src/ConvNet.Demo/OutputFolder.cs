namespace ConvNet.Demo;

/// <summary>Checks an output folder option (<c>--out</c>, <c>--output</c>) before any work is done.</summary>
internal static class OutputFolder
{
    /// <summary>
    /// Throws a <see cref="CliException"/> (exit code 1) if <paramref name="path"/> is an existing file, or if one of its
    /// parents is a file (so the folder cannot be created). A missing folder is fine: it is created later.
    /// </summary>
    public static void Check(string option, string path)
    {
        if (Directory.Exists(path)) return;
        if (File.Exists(path))
            throw new CliException($"{option} \"{path}\" is an existing file, not a folder; give a folder (it is created if missing).");
        string full = Path.GetFullPath(path);
        for (string? parent = Path.GetDirectoryName(full); parent is not null; parent = Path.GetDirectoryName(parent))
        {
            if (Directory.Exists(parent)) return;
            if (File.Exists(parent))
                throw new CliException($"{option} \"{path}\" cannot be created: \"{parent}\" is a file, not a folder.");
        }
    }
}
