using System.IO.Compression;
using ConvNet.Data;
using ConvNet.IO;

namespace ConvNet.Demo;

/// <summary>What a <c>--data</c> path holds.</summary>
internal enum DataKind
{
    /// <summary>A folder of class folders (split in memory like split-folders).</summary>
    ClassFolders,
    /// <summary>A zip of class folders, e.g. the lecture's <c>mandarin.zip</c> (split in memory).</summary>
    ClassZip,
    /// <summary>An already split folder or zip with train/, val/ and optionally test/.</summary>
    Split,
    /// <summary>A folder with the four MNIST IDX files.</summary>
    Mnist,
}

/// <summary>Training, validation and (optional) test data with their class names.</summary>
internal sealed record LoadedData(Dataset Train, Dataset Val, Dataset? Test, IReadOnlyList<string> ClassNames, DataKind Kind, int Padding);

/// <summary>Finds out what a data path holds and loads it for <c>train</c> and <c>evaluate</c>.</summary>
internal static class DataSources
{
    /// <summary>MNIST images are zero-padded by this many pixels per side (28 → 32) for LeNet-5.</summary>
    public const int MnistPadding = 2;

    /// <summary>Classifies a path; throws a <see cref="CliException"/> if it does not exist or is not usable.</summary>
    public static DataKind Detect(string path)
    {
        if (Directory.Exists(path))
        {
            var subdirs = Directory.GetDirectories(path).Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
            if (subdirs.Contains(SplitFolders.TrainFolder) && (subdirs.Contains(SplitFolders.ValFolder) || subdirs.Contains("validation")))
                return DataKind.Split;
            if (Directory.EnumerateFiles(path).Select(Path.GetFileName).Any(f => f!.StartsWith("train-images", StringComparison.Ordinal)))
                return DataKind.Mnist;
            return DataKind.ClassFolders;
        }
        if (File.Exists(path))
        {
            if (!ImageDatasets.IsZip(path))
                throw new CliException($"Data path \"{path}\" is a file but not a zip archive; pass a folder of class folders, a split folder (train/val/test), a .zip or an MNIST folder.");
            return ZipIsSplit(path) ? DataKind.Split : DataKind.ClassZip;
        }
        throw new CliException($"Data path \"{path}\" does not exist (resolved: \"{Path.GetFullPath(path)}\").");
    }

    private static bool ZipIsSplit(string path)
    {
        try
        {
            using var zip = new ZipArchive(SafeFile.OpenRead(path, "Data file"), ZipArchiveMode.Read);
            var dirs = zip.Entries.SelectMany(e => e.FullName.Split('/').SkipLast(1).Take(2)).ToHashSet(StringComparer.Ordinal);
            return dirs.Contains(SplitFolders.TrainFolder) && (dirs.Contains(SplitFolders.ValFolder) || dirs.Contains("validation"));
        }
        catch (InvalidDataException e)
        {
            throw new CliException($"Zip \"{path}\" is not a readable zip archive (corrupt or truncated central directory?): {e.Message}");
        }
    }

    /// <summary>Image loading options for a model input (height, width, channels).</summary>
    public static ImageLoadOptions ImageOptions(int height, int width, int channels, IReadOnlyList<string>? classNames = null) => new()
    {
        ImageSize = (height, width),
        ColorMode = channels switch
        {
            1 => ColorMode.Grayscale,
            3 => ColorMode.Rgb,
            4 => ColorMode.Rgba,
            _ => throw new CliException($"Images can be loaded with 1, 3 or 4 channels, not {channels}."),
        },
        ClassNames = classNames,
    };

    /// <summary>
    /// Loads training data: class folders and zips are split in memory exactly like split-folders
    /// (<paramref name="splitSeed"/>, <paramref name="ratio"/>), split folders are loaded as they are, MNIST is padded to 32×32.
    /// Prints Keras' "Found N files belonging to C classes." per part.
    /// </summary>
    public static LoadedData LoadForTraining(CliContext ctx, string path, DataKind kind, (int H, int W, int C) input, int splitSeed, double[] ratio)
    {
        var options = ImageOptions(input.H, input.W, input.C);
        switch (kind)
        {
            case DataKind.Mnist:
            {
                var (train, test) = Mnist.LoadFolder(path);
                int nVal = Math.Max(1, train.Count / 10);
                var fit = Subset(train, Enumerable.Range(0, train.Count - nVal).ToArray(), Mnist.DigitClassNames);
                var val = Subset(train, Enumerable.Range(train.Count - nVal, nVal).ToArray(), Mnist.DigitClassNames);
                ctx.WriteLine($"MNIST: {train.Count:N0} training images (the last {nVal:N0} held out for validation), {test.Count:N0} test images; zero-padded 28×28 → 32×32.");
                return new LoadedData(Pad(fit, MnistPadding), Pad(val, MnistPadding), Pad(test, MnistPadding), Mnist.DigitClassNames, kind, MnistPadding);
            }
            case DataKind.Split:
            {
                var (train, val, test) = ImageDatasets.LoadSplit(path, options);
                ctx.WriteLine(train.Report.Summary);
                ctx.WriteLine(val.Report.Summary);
                if (test is not null) ctx.WriteLine(test.Report.Summary);
                return new LoadedData(train, val, test, train.ClassNames, kind, 0);
            }
            case DataKind.ClassFolders:
            case DataKind.ClassZip:
            {
                var all = ImageDatasets.LoadDirectory(path, options);
                ctx.WriteLine($"{all.Report.Summary} Splitting in memory like split-folders (seed {splitSeed}, ratio {Ratios.Format(ratio)}):");
                var parts = kind == DataKind.ClassFolders ? SplitFolderIndices(path, all, splitSeed, ratio) : SplitByPaths(all, splitSeed, ratio);
                var names = all.ClassNames;
                if (parts[0].Length == 0) throw new CliException($"The split of \"{path}\" leaves no training images (too few files per class for ratio {Ratios.Format(ratio)}).");
                if (parts[1].Length == 0) throw new CliException($"The split of \"{path}\" leaves no validation images (too few files per class for ratio {Ratios.Format(ratio)}).");
                Dataset? Part(int[] idx)
                {
                    ctx.WriteLine($"Found {Plural(idx.Length, "file")} belonging to {Plural(names.Count, "class")}.");
                    return idx.Length == 0 ? null : Subset(all, idx, names);
                }
                var trainPart = Part(parts[0])!;
                var valPart = Part(parts[1])!;
                Dataset? testPart = parts.Length > 2 ? Part(parts[2]) : null;
                return new LoadedData(trainPart, valPart, testPart, names, kind, 0);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    // split-folders on disk (the library's exact port), mapped onto the loaded images by full path.
    private static int[][] SplitFolderIndices(string root, ImageFolderDataset all, int seed, double[] ratio)
    {
        var lists = SplitFolders.RatioLists(root, seed, ratio);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < all.Paths.Count; i++) index[Path.GetFullPath(all.Paths[i])] = i;
        int[] Pick(Func<ClassSplit, IReadOnlyList<string>> part) => lists.SelectMany(part)
            .Select(p => index.TryGetValue(Path.GetFullPath(p), out int i) ? i : -1)
            .Where(i => i >= 0).Order().ToArray();
        return ratio.Length == 3 ? [Pick(s => s.Train), Pick(s => s.Val), Pick(s => s.Test)] : [Pick(s => s.Train), Pick(s => s.Val)];
    }

    // The library's split-folders algorithm applied to the loaded paths of each class (for zips).
    private static int[][] SplitByPaths(ImageFolderDataset all, int seed, double[] ratio)
    {
        var parts = Enumerable.Range(0, ratio.Length).Select(_ => new List<int>()).ToArray();
        foreach (var group in Enumerable.Range(0, all.Count).GroupBy(i => all.Y[i]))
        {
            var byPath = group.ToDictionary(i => all.Paths[i], StringComparer.Ordinal);
            var (train, val, test) = SplitFolders.RatioOfFiles(byPath.Keys, seed, ratio);
            parts[0].AddRange(train.Select(p => byPath[p]));
            parts[1].AddRange(val.Select(p => byPath[p]));
            if (ratio.Length == 3) parts[2].AddRange(test.Select(p => byPath[p]));
        }
        return parts.Select(p => p.Order().ToArray()).ToArray();
    }


    /// <summary><c>1 class</c>, <c>2 classes</c>, <c>1 file</c>, <c>5 files</c>.</summary>
    public static string Plural(int n, string noun) =>
        $"{n} {(n == 1 ? noun : noun.EndsWith('s') ? noun + "es" : noun + "s")}";

    /// <summary>The samples at <paramref name="indices"/> as a new dataset.</summary>
    public static Dataset Subset(Dataset data, int[] indices, IReadOnlyList<string> classNames) =>
        new(data.X.Gather(indices), indices.Select(i => data.Y[i]).ToArray(), classNames);

    /// <summary>Zero-pads (N, H, W, C) images by <paramref name="pad"/> pixels on every side.</summary>
    public static Dataset Pad(Dataset data, int pad)
    {
        if (pad == 0) return data;
        var s = data.X.Shape;
        int n = s[0], h = s[1], w = s[2], c = s[3], oh = h + 2 * pad, ow = w + 2 * pad;
        var x = new Tensor(n, oh, ow, c);
        var src = data.X.Span;
        var dst = x.Span;
        for (int i = 0; i < n; i++)
            for (int r = 0; r < h; r++)
                src.Slice(((i * h + r) * w) * c, w * c).CopyTo(dst.Slice(((i * oh + r + pad) * ow + pad) * c, w * c));
        return new Dataset(x, data.Y, data.ClassNames);
    }

    /// <summary>
    /// Loads data to evaluate a model on: the test part of a split folder (val if it has none), all images of a class
    /// folder or zip, or MNIST's test set. Class folders are matched to the model's classes by name.
    /// </summary>
    public static (Dataset Data, string What) LoadForEvaluation(CliContext ctx, string path, IReadOnlyList<int> inputShape, IReadOnlyList<string> modelClasses, int padding)
    {
        var kind = Detect(path);
        int h = inputShape[0] - 2 * padding, w = inputShape[1] - 2 * padding, c = inputShape[2];
        if (kind == DataKind.Mnist)
        {
            var (_, test) = Mnist.LoadFolder(path);
            if (test.X.Shape[1] + 2 * padding != inputShape[0] || test.X.Shape[2] + 2 * padding != inputShape[1])
                throw new CliException($"MNIST images are {test.X.Shape[1]}×{test.X.Shape[2]} but the model expects {inputShape[0]}×{inputShape[1]} (padding {padding}).");
            CheckClasses(Mnist.DigitClassNames, modelClasses, path);
            return (Pad(test, padding), $"MNIST test set ({test.Count:N0} images)");
        }
        var options = ImageOptions(h, w, c);
        ImageFolderDataset data;
        string what;
        if (kind == DataKind.Split)
        {
            var (_, val, test) = ImageDatasets.LoadSplit(path, options);
            data = test ?? val;
            what = test is not null ? "the test part" : "the val part (no test part)";
        }
        else
        {
            data = ImageDatasets.LoadDirectory(path, options);
            what = "all images";
        }
        ctx.WriteLine(data.Report.Summary);
        var map = CheckClasses(data.ClassNames, modelClasses, path);
        if (kind != DataKind.Split && Path.GetFileName(Path.TrimEndingDirectorySeparator(path)) is not (SplitFolders.TestFolder or SplitFolders.ValFolder or "validation"))
            ctx.Err.WriteLine($"convnet: warning: \"{path}\" is not split (no train/, val/ and test/ folders), so every image in it is evaluated, " +
                              "including any the model was trained on; the score is then too optimistic. Pass the split folder " +
                              "(its test part is used; `convnet split` makes one) or its test/ folder.");
        var y = data.Y.Select(l => map[l]).ToArray();
        return (Pad(new Dataset(data.X, y, modelClasses), padding), $"{what} of {path}");
    }

    // Maps data class indices to model class indices; unknown class folders are an error.
    private static int[] CheckClasses(IReadOnlyList<string> dataClasses, IReadOnlyList<string> modelClasses, string path)
    {
        var lookup = modelClasses.Select((n, i) => (n, i)).ToDictionary(t => t.n, t => t.i, StringComparer.Ordinal);
        var unknown = dataClasses.Where(n => !lookup.ContainsKey(n)).ToList();
        if (unknown.Count > 0)
            throw new CliException($"\"{path}\" has class(es) the model does not know: {string.Join(", ", unknown.Take(8))}{(unknown.Count > 8 ? ", …" : "")} (the model has {modelClasses.Count} classes).");
        return dataClasses.Select(n => lookup[n]).ToArray();
    }
}
