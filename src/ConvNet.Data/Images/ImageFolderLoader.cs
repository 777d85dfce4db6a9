namespace ConvNet.Data;

/// <summary>
/// The class-folder logic of Keras' <c>image_dataset_from_directory</c>, over any <see cref="FileTree"/>.
/// </summary>
internal static class ImageFolderLoader
{
    /// <summary>File extensions Keras accepts (compared case-insensitively).</summary>
    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif"];

    private readonly record struct Candidate(int Label, string RelativePath, string Display);

    /// <summary>Loads the classes below <paramref name="prefix"/> ("" = the tree's root).</summary>
    public static ImageFolderDataset Load(FileTree tree, string prefix, ImageLoadOptions options, IEnumerable<SkippedFile>? extraSkipped = null)
    {
        options.Validate();
        string where = prefix.Length == 0 ? tree.Source : tree.Display(prefix);
        var classes = ResolveClasses(tree, prefix, options, where);

        var skipped = new List<SkippedFile>(extraSkipped ?? []);
        string linkPrefix = prefix.Length == 0 ? "" : prefix + "/";
        foreach (var (rel, reason) in tree.SkippedLinks)
            if (rel.StartsWith(linkPrefix, StringComparison.Ordinal))
                skipped.Add(new SkippedFile(tree.Display(rel), SkipKind.Link, reason));
        var candidates = new List<Candidate>();
        for (int label = 0; label < classes.Count; label++)
        {
            string classPath = FileTree.Join(prefix, classes[label]);
            var files = tree.FilesUnder(classPath).ToList();
            files.Sort(CompareLikeKeras);
            foreach (string rel in files)
            {
                string full = FileTree.Join(classPath, rel);
                string display = tree.Display(full);
                var skip = Classify(rel);
                if (skip is { } s) skipped.Add(new SkippedFile(display, s.Kind, s.Reason));
                else candidates.Add(new Candidate(label, full, display));
            }
        }
        if (candidates.Count == 0)
            throw new InvalidDataException($"No images found in \"{where}\" ({classes.Count} class folder(s): {string.Join(", ", classes)}). Allowed formats: {string.Join(", ", Extensions)}.");

        var (h, w) = options.ImageSize;
        int c = options.Channels;
        long per = (long)h * w * c;
        long total = per * candidates.Count;
        if (total > Array.MaxLength)
            throw new InvalidDataException($"{candidates.Count} images of {h}×{w}×{c} need {total:N0} floats, more than one array can hold ({Array.MaxLength:N0}); use a smaller ImageSize or fewer files from \"{where}\".");

        if (classes.Count == 1)
            options.Warning?.Invoke($"\"{where}\" has only one class folder ({classes[0]}); a classifier needs at least two classes.");

        var data = new float[total];
        var errors = new string?[candidates.Count];
        var budget = new DecodeBudget(options.MaxDecodeBytes);
        int done = 0;
        try
        {
            DecodeAll();
        }
        catch (AggregateException e)
        {
            // Rethrow the first worker error itself (e.g. OutOfMemoryException), not Parallel.For's AggregateException.
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }

        void DecodeAll() => Parallel.For(0, candidates.Count, new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism }, i =>
        {
            var cand = candidates[i];
            try
            {
                byte[] bytes = tree.ReadAllBytes(cand.RelativePath, options.MaxFileBytes);
                ImageDecoder.DecodeResized(bytes, options.ColorMode, options.MaxPixels, data.AsSpan((int)(i * per), (int)per), h, w, budget);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                errors[i] = e.Message;
            }
            int n = Interlocked.Increment(ref done);
            options.Progress?.Report(new LoadProgress(n, candidates.Count, cand.Display));
        });

        var bad = new List<SkippedFile>();
        for (int i = 0; i < candidates.Count; i++)
            if (errors[i] is { } reason)
                bad.Add(new SkippedFile(candidates[i].Display, SkipKind.Bad, reason));
        if (bad.Count > 0 && options.BadFiles == BadFilePolicy.Error)
            throw new ImageLoadException(where, bad);

        skipped.AddRange(bad);
        skipped.Sort((a, b) => CodePointComparer.Instance.Compare(a.Path, b.Path));
        if (options.Warning is { } warn)
            foreach (var s in skipped) warn($"Skipped {s}");

        int loaded = candidates.Count - bad.Count;
        if (loaded == 0)
            throw new ImageLoadException(where, bad);

        if (bad.Count > 0) data = Compact(data, errors, per, loaded);
        var labels = new int[loaded];
        var paths = new string[loaded];
        for (int i = 0, k = 0; i < candidates.Count; i++)
        {
            if (errors[i] is not null) continue;
            labels[k] = candidates[i].Label;
            paths[k++] = candidates[i].Display;
        }

        var report = new ImageLoadReport(where, candidates.Count, classes.Count, loaded, skipped);
        var x = new Tensor(data, loaded, h, w, c);
        return new ImageFolderDataset(x, labels, classes, paths, report);
    }

    /// <summary>Class folders: the explicit list (each must exist) or the non-hidden sub-folders by code point.</summary>
    private static List<string> ResolveClasses(FileTree tree, string prefix, ImageLoadOptions options, string where)
    {
        var available = tree.ChildDirectories(prefix).Where(d => !d.StartsWith('.')).ToList();
        if (options.ClassNames is { } explicitNames)
        {
            var missing = explicitNames.Where(n => !available.Contains(n, StringComparer.Ordinal)).ToList();
            if (missing.Count > 0)
                throw new InvalidDataException($"Class folder(s) {string.Join(", ", missing.Select(m => $"\"{m}\""))} not found in \"{where}\"; it has: {string.Join(", ", available)}.");
            return [.. explicitNames];
        }
        if (available.Count == 0)
            throw new InvalidDataException($"\"{where}\" has no class sub-folders; expected <folder>/<class>/<image files>.");
        return available;
    }

    /// <summary>Keras sorts (folder, file name) pairs: files directly in a folder come before its sub-folders' files.</summary>
    private static int CompareLikeKeras(string a, string b)
    {
        int ia = a.LastIndexOf('/'), ib = b.LastIndexOf('/');
        string da = ia < 0 ? "" : a[..ia], db = ib < 0 ? "" : b[..ib];
        int c = CodePointComparer.Instance.Compare(da, db);
        return c != 0 ? c : CodePointComparer.Instance.Compare(a[(ia + 1)..], b[(ib + 1)..]);
    }

    private static (SkipKind Kind, string Reason)? Classify(string relativePath)
    {
        var segments = relativePath.Split('/');
        string name = segments[^1];
        if (name.StartsWith("._", StringComparison.Ordinal))
            return (SkipKind.AppleDouble, "macOS AppleDouble resource file");
        if (name.StartsWith('.'))
            return (SkipKind.Hidden, "hidden file");
        if (segments[..^1].Any(s => s.StartsWith('.')))
            return (SkipKind.Hidden, "inside a hidden folder");
        if (!Extensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            return (SkipKind.NotAnImage, $"not an image file (allowed: {string.Join(" ", Extensions)})");
        return null;
    }

    private static float[] Compact(float[] data, string?[] errors, long per, int loaded)
    {
        var compact = new float[loaded * per];
        long k = 0;
        for (int i = 0; i < errors.Length; i++)
        {
            if (errors[i] is not null) continue;
            Array.Copy(data, i * per, compact, k * per, per);
            k++;
        }
        return compact;
    }
}
