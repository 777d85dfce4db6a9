using ConvNet.IO;

namespace ConvNet.Data;

/// <summary>
/// Loads labelled images from class folders, like Keras' <c>image_dataset_from_directory</c>:
/// <c>root/&lt;class&gt;/…/&lt;image&gt;</c>, classes in code-point order of the folder names (hidden folders skipped),
/// files searched recursively and ordered by (folder, name), values float32 0–255 in NHWC.
/// Works on a folder or directly on a <c>.zip</c> (never extracted).
/// </summary>
/// <example>
/// <code>
/// var ds = ImageDatasets.LoadDirectory("mandarin.zip", new ImageLoadOptions { ImageSize = (80, 80), ColorMode = ColorMode.Grayscale });
/// Console.WriteLine(ds.Report.Summary); // Found 399 files belonging to 57 classes.
/// </code>
/// </example>
public static class ImageDatasets
{
    /// <summary>
    /// Loads a folder of class folders, or a zip archive (recognised by a <c>.zip</c> extension or the
    /// <c>PK</c> signature) via <see cref="LoadZip"/>.
    /// </summary>
    /// <param name="path">A folder, or a zip file.</param>
    /// <param name="options">Options; null means <see cref="ImageLoadOptions.Default"/>.</param>
    /// <exception cref="ImageLoadException">Some files are bad and the policy is <see cref="BadFilePolicy.Error"/> (lists them all).</exception>
    /// <exception cref="InvalidDataException">No classes or no images, or an unsafe/oversized zip entry.</exception>
    /// <exception cref="FileNotFoundException">The path does not exist.</exception>
    public static ImageFolderDataset LoadDirectory(string path, ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= ImageLoadOptions.Default;
        if (Directory.Exists(path))
        {
            using var tree = new DirectoryFileTree(path, options.FollowLinks);
            return ImageFolderLoader.Load(tree, "", options);
        }
        if (File.Exists(path))
        {
            if (IsZip(path)) return LoadZip(path, options);
            throw new InvalidDataException($"\"{path}\" is a file but not a zip archive; pass a folder of class folders or a .zip.");
        }
        throw new FileNotFoundException($"The image folder or zip \"{path}\" does not exist (resolved: \"{Path.GetFullPath(path)}\").", path);
    }

    /// <summary>
    /// Loads class folders straight from a zip archive. If every entry sits under one top-level folder that
    /// itself has sub-folders (like the lecture's <c>mandarin.zip</c> with <c>mandarin/&lt;class&gt;/…</c>),
    /// the classes are inside it; otherwise the top-level folders are the classes. <c>__MACOSX/</c> entries
    /// and <c>._*</c> files are skipped and reported.
    /// </summary>
    /// <param name="zipPath">The zip file.</param>
    /// <param name="options">Options; null means <see cref="ImageLoadOptions.Default"/>.</param>
    /// <exception cref="InvalidDataException">An entry has a <c>..</c> segment, an absolute path or a declared size above
    /// <see cref="ImageLoadOptions.MaxFileBytes"/> (the message names the zip and the entry); or no images were found.</exception>
    /// <exception cref="ImageLoadException">Some files are bad and the policy is <see cref="BadFilePolicy.Error"/>.</exception>
    public static ImageFolderDataset LoadZip(string zipPath, ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(zipPath);
        options ??= ImageLoadOptions.Default;
        options.Validate();
        using var tree = new ZipFileTree(zipPath, options.MaxFileBytes);
        string root = ZipRoot(tree, contains: null);
        return ImageFolderLoader.Load(tree, root, options, MacOsJunk(tree));
    }

    /// <summary>
    /// Loads an already split folder or zip with <c>train/</c>, <c>val/</c> (or <c>validation/</c>) and optionally
    /// <c>test/</c>, each holding class folders — e.g. the output of <see cref="SplitFolders.Ratio"/>. The class list
    /// comes from <c>train</c> (or <see cref="ImageLoadOptions.ClassNames"/>) and is shared by all parts.
    /// </summary>
    /// <param name="path">The split folder, or a zip of it (optionally under one top-level folder).</param>
    /// <param name="options">Options; null means <see cref="ImageLoadOptions.Default"/>.</param>
    /// <returns>The parts; deconstruct with <c>var (train, val, test) = …</c>.</returns>
    /// <exception cref="InvalidDataException">There is no <c>train</c> or no <c>val</c> folder, or a part is unusable.</exception>
    public static ImageSplit LoadSplit(string path, ImageLoadOptions? options = null) => LoadSplit(path, options, requireTest: false);

    /// <summary>
    /// Like <see cref="LoadSplit(string, ImageLoadOptions?)"/>, but the <c>test/</c> part is required, so the result's
    /// <see cref="ImageSplitWithTest.Test"/> is never null (no <c>test!</c> needed). The check happens before anything is decoded.
    /// </summary>
    /// <param name="path">The split folder, or a zip of it (optionally under one top-level folder).</param>
    /// <param name="options">Options; null means <see cref="ImageLoadOptions.Default"/>.</param>
    /// <returns>The three parts; deconstruct with <c>var (train, val, test) = …</c>.</returns>
    /// <exception cref="InvalidDataException">There is no <c>train</c>, <c>val</c> or <c>test</c> folder, or a part is unusable.</exception>
    public static ImageSplitWithTest LoadSplitWithTest(string path, ImageLoadOptions? options = null)
    {
        var split = LoadSplit(path, options, requireTest: true);
        return new ImageSplitWithTest(split.Train, split.Val, split.Test!);
    }

    private static ImageSplit LoadSplit(string path, ImageLoadOptions? options, bool requireTest)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= ImageLoadOptions.Default;
        options.Validate();
        FileTree tree;
        string root;
        if (Directory.Exists(path))
        {
            tree = new DirectoryFileTree(path, options.FollowLinks);
            root = "";
        }
        else if (File.Exists(path) && IsZip(path))
        {
            tree = new ZipFileTree(path, options.MaxFileBytes);
            root = ZipRoot(tree, contains: SplitFolders.TrainFolder);
        }
        else
        {
            throw new FileNotFoundException($"The split folder or zip \"{path}\" does not exist or is not a folder/zip (resolved: \"{Path.GetFullPath(path)}\").", path);
        }

        using (tree)
        {
            var parts = tree.ChildDirectories(root);
            string where = root.Length == 0 ? tree.Source : tree.Display(root);
            if (!parts.Contains(SplitFolders.TrainFolder))
                throw new InvalidDataException($"\"{where}\" has no \"train\" folder; found: {string.Join(", ", parts)}. Expected train/, val/ and optionally test/.");
            string? valName = parts.Contains(SplitFolders.ValFolder) ? SplitFolders.ValFolder
                            : parts.Contains("validation") ? "validation" : null;
            if (valName is null)
                throw new InvalidDataException($"\"{where}\" has no \"val\" (or \"validation\") folder; found: {string.Join(", ", parts)}.");
            if (requireTest && !parts.Contains(SplitFolders.TestFolder))
                throw new InvalidDataException($"\"{where}\" has no \"test\" folder; found: {string.Join(", ", parts)}. Use LoadSplit (test optional) or split with three ratios.");

            var train = ImageFolderLoader.Load(tree, FileTree.Join(root, SplitFolders.TrainFolder), options);
            var shared = CloneWithClasses(options, train.ClassNames);
            var val = ImageFolderLoader.Load(tree, FileTree.Join(root, valName), shared);
            var test = parts.Contains(SplitFolders.TestFolder)
                ? ImageFolderLoader.Load(tree, FileTree.Join(root, SplitFolders.TestFolder), shared)
                : null;
            return new ImageSplit(train, val, test);
        }
    }

    /// <summary>
    /// Loads one image file exactly as the folder loader loads each sample (same decoding, grayscale formulas,
    /// pixel limit and bilinear resize to <see cref="ImageLoadOptions.ImageSize"/>): a (1, height, width, channels)
    /// tensor of 0–255 values, ready for <c>Sequential.Predict</c>.
    /// </summary>
    /// <param name="path">A PNG, JPEG, BMP or GIF file.</param>
    /// <param name="options">Options; null means <see cref="ImageLoadOptions.Default"/>.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The path is a directory, a FIFO, a device or a socket (only regular files are read).</exception>
    /// <exception cref="InvalidDataException">The file is too large, not an image, truncated, or over the pixel limit; the message names the file.</exception>
    public static Tensor LoadImage(string path, ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= ImageLoadOptions.Default;
        options.Validate();
        byte[] bytes;
        using (var stream = SafeFile.OpenRead(path, "Image"))   // refuses directories, FIFOs, devices and sockets
        {
            if (stream.Length > options.MaxFileBytes)
                throw new InvalidDataException($"Image \"{path}\" is {stream.Length:N0} bytes, more than the limit of {options.MaxFileBytes:N0} (ImageLoadOptions.MaxFileBytes).");
            bytes = SafeFile.ReadAtMost(stream, options.MaxFileBytes, $"Image \"{path}\" (ImageLoadOptions.MaxFileBytes)");
        }
        var (h, w) = options.ImageSize;
        var t = new Tensor(1, h, w, options.Channels);
        try { ImageDecoder.DecodeResized(bytes, options.ColorMode, options.MaxPixels, t.Span, h, w, DecodeBudget.Unbounded); }
        catch (InvalidDataException e) { throw new InvalidDataException($"Image \"{path}\": {e.Message}.", e); }
        return t;
    }

    /// <summary>True if the file has a <c>.zip</c> extension or starts with a zip signature (<c>PK\x03\x04</c> or <c>PK\x05\x06</c>).</summary>
    public static bool IsZip(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase)) return true;
        Span<byte> head = stackalloc byte[4];
        using var f = SafeFile.OpenRead(path, "Data file");
        return f.ReadAtLeast(head, 4, throwOnEndOfStream: false) == 4
               && head[0] == 'P' && head[1] == 'K' && ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6));
    }

    /// <summary>
    /// The folder inside the zip that holds the classes (or the split parts): the single top-level folder if
    /// nothing else (apart from hidden files) is at the top and it has sub-folders (containing
    /// <paramref name="contains"/>, if given); otherwise the root.
    /// </summary>
    private static string ZipRoot(FileTree tree, string? contains)
    {
        var topDirs = tree.ChildDirectories("").Where(d => !d.StartsWith('.')).ToList();
        bool topFiles = tree.Files.Any(f => !f.Contains('/') && !f.StartsWith('.'));
        if (topDirs.Count != 1 || topFiles) return "";
        if (contains is not null && topDirs[0] == contains) return "";
        var inner = tree.ChildDirectories(topDirs[0]);
        if (inner.Count == 0) return "";
        return contains is null || inner.Contains(contains) ? topDirs[0] : "";
    }

    private static IEnumerable<SkippedFile> MacOsJunk(ZipFileTree tree) =>
        tree.MacOsJunk.Select(e => new SkippedFile($"{tree.Source}!{e}", SkipKind.AppleDouble, "macOS resource fork (__MACOSX/)"));

    private static ImageLoadOptions CloneWithClasses(ImageLoadOptions o, IReadOnlyList<string> classes) => new()
    {
        ImageSize = o.ImageSize,
        ColorMode = o.ColorMode,
        ClassNames = classes,
        BadFiles = o.BadFiles,
        MaxPixels = o.MaxPixels,
        MaxFileBytes = o.MaxFileBytes,
        Progress = o.Progress,
        Warning = o.Warning,
        MaxDegreeOfParallelism = o.MaxDegreeOfParallelism,
        MaxDecodeBytes = o.MaxDecodeBytes,
        FollowLinks = o.FollowLinks,
    };
}
