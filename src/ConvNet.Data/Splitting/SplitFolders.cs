using ConvNet.IO;

namespace ConvNet.Data;

/// <summary>
/// A bit-exact port of the Python package <c>split-folders</c> (<c>splitfolders.ratio</c> and
/// <c>splitfolders.fixed</c>, without grouping or oversampling). For each class folder (every immediate
/// sub-directory of the input, hidden ones included, as in split-folders) it lists the files directly
/// inside it whose names do not start with <c>.</c>, sorts them by code point like Python, re-seeds
/// CPython's Mersenne Twister with <c>seed</c>, shuffles with <c>random.shuffle</c> and cuts the list.
/// Given the same folder, the same seed gives the same split as Python.
/// </summary>
public static class SplitFolders
{
    /// <summary>The split names used as output sub-folders.</summary>
    public const string TrainFolder = "train", ValFolder = "val", TestFolder = "test";

    /// <summary>
    /// Like <c>splitfolders.ratio(input, output, seed, ratio)</c>: copies every class's files to
    /// <c>output/train|val|test/&lt;class&gt;/</c> and returns the lists. Per class of n files:
    /// train = the first <c>int(ratio[0]·n)</c> shuffled files, val = the next <c>int(ratio[1]·n)</c>, test = the rest.
    /// With two ratios there is no test folder and val takes the rest. Existing files are overwritten.
    /// </summary>
    /// <param name="input">Folder holding one sub-folder per class.</param>
    /// <param name="output">Output folder (created if missing).</param>
    /// <param name="seed">Seed for CPython's <c>random.seed</c> (split-folders' default is 1337).</param>
    /// <param name="ratio">Two or three fractions summing to 1 (to 5 decimals); empty means (0.8, 0.1, 0.1).</param>
    /// <exception cref="ArgumentException">The ratios are invalid or the input is not a folder of class folders.</exception>
    /// <exception cref="IOException">A file to copy is not a regular file (a FIFO, device or socket); nothing is copied.</exception>
    public static IReadOnlyList<ClassSplit> Ratio(string input, string output, int seed = 1337, params double[] ratio)
    {
        ArgumentNullException.ThrowIfNull(output);
        var splits = RatioLists(input, seed, ratio);
        Copy(splits, output, withTest: EffectiveRatio(ratio).Length == 3);
        return splits;
    }

    /// <summary>The same split as <see cref="Ratio"/>, computed in memory without copying anything.</summary>
    /// <param name="input">Folder holding one sub-folder per class.</param>
    /// <param name="seed">Seed for CPython's <c>random.seed</c>.</param>
    /// <param name="ratio">Two or three fractions summing to 1; empty means (0.8, 0.1, 0.1).</param>
    /// <returns>One entry per class folder, sorted by class name (code point).</returns>
    /// <exception cref="ArgumentException">The ratios are invalid or the input is not a folder of class folders.</exception>
    public static IReadOnlyList<ClassSplit> RatioLists(string input, int seed = 1337, params double[] ratio)
    {
        var r = CheckRatio(ratio);
        return SplitEachClass(input, seed, files => CutByRatio(files, r));
    }

    /// <summary>
    /// The same split for ONE class given as a list of files (e.g. entries of a zip): sorts them by file name
    /// (code point, like Python), re-seeds CPython's <c>random</c> with <paramref name="seed"/>, shuffles and cuts
    /// at <c>int(r0·n)</c> and <c>int(r0·n) + int(r1·n)</c> — exactly what <see cref="RatioLists"/> does per class folder.
    /// </summary>
    /// <param name="files">The class's files; paths separated by '/' or '\\' (a zip's '!' also ends the container part).</param>
    /// <param name="seed">Seed for CPython's <c>random.seed</c>.</param>
    /// <param name="ratio">Two or three fractions summing to 1; empty means (0.8, 0.1, 0.1).</param>
    /// <returns>The train, val and test lists (test is empty for two ratios).</returns>
    public static (IReadOnlyList<string> Train, IReadOnlyList<string> Val, IReadOnlyList<string> Test) RatioOfFiles(IEnumerable<string> files, int seed = 1337, params double[] ratio)
    {
        ArgumentNullException.ThrowIfNull(files);
        var r = CheckRatio(ratio);
        var list = files.ToList();
        list.Sort((a, b) => CodePointComparer.Instance.Compare(FileNameOf(a), FileNameOf(b)));
        new PythonRandom(seed).Shuffle(list);
        return CutByRatio(list, r);
    }

    private static string FileNameOf(string path) => path[(path.LastIndexOfAny(['/', '\\', '!']) + 1)..];

    private static double[] CheckRatio(double[]? ratio)
    {
        var r = EffectiveRatio(ratio);
        if (r.Length is not (2 or 3))
            throw new ArgumentException($"split-folders needs 2 (train, val) or 3 (train, val, test) ratios, got {r.Length}: ({string.Join(", ", r)}).", nameof(ratio));
        double sum = 0;
        foreach (double x in r)
        {
            if (!double.IsFinite(x) || x < 0)
                throw new ArgumentException($"Ratios must be finite and non-negative, got ({string.Join(", ", r)}).", nameof(ratio));
            sum += x;
        }
        if (Math.Round(sum, 5) != 1.0)
            throw new ArgumentException($"The ratios ({string.Join(", ", r)}) sum to {sum}, not 1.", nameof(ratio));
        return r;
    }

    // train = first int(r0·n), val = next int(r1·n), test = the rest (two ratios: val = the rest).
    private static (List<string> Train, List<string> Val, List<string> Test) CutByRatio(List<string> files, double[] r)
    {
        int n = files.Count;
        int trainEnd = (int)(r[0] * n);
        int valEnd = trainEnd + (int)(r[1] * n);
        return r.Length == 3
            ? (files[..trainEnd], files[trainEnd..valEnd], files[valEnd..])
            : (files[..trainEnd], files[trainEnd..], []);
    }

    /// <summary>
    /// Like <c>splitfolders.fixed(input, output, seed, fixed)</c>: a fixed number of files per class.
    /// One value: val gets the last <c>fixed[0]</c> shuffled files, train the rest (no test folder).
    /// Two values: val then test get the last <c>fixed[0]</c> and <c>fixed[1]</c> files, train the rest.
    /// Three values: train, val and test get the first <c>fixed[0]</c>, next <c>fixed[1]</c> and at most
    /// <c>fixed[2]</c> of the remaining files. Copies to <c>output/train|val|test/&lt;class&gt;/</c>.
    /// </summary>
    /// <param name="input">Folder holding one sub-folder per class.</param>
    /// <param name="output">Output folder (created if missing).</param>
    /// <param name="seed">Seed for CPython's <c>random.seed</c>.</param>
    /// <param name="fixedCounts">One to three non-negative counts; empty means (100, 100).</param>
    /// <exception cref="ArgumentException">The counts are invalid, a class has fewer files than their sum, or the input is not a folder of class folders.</exception>
    /// <exception cref="IOException">A file to copy is not a regular file (a FIFO, device or socket); nothing is copied.</exception>
    public static IReadOnlyList<ClassSplit> Fixed(string input, string output, int seed = 1337, params int[] fixedCounts)
    {
        ArgumentNullException.ThrowIfNull(output);
        var splits = FixedLists(input, seed, fixedCounts);
        Copy(splits, output, withTest: EffectiveFixed(fixedCounts).Length >= 2);
        return splits;
    }

    /// <summary>The same split as <see cref="Fixed"/>, computed in memory without copying anything.</summary>
    /// <param name="input">Folder holding one sub-folder per class.</param>
    /// <param name="seed">Seed for CPython's <c>random.seed</c>.</param>
    /// <param name="fixedCounts">One to three non-negative counts; empty means (100, 100).</param>
    /// <returns>One entry per class folder, sorted by class name (code point).</returns>
    /// <exception cref="ArgumentException">The counts are invalid, a class has too few files, or the input is not a folder of class folders.</exception>
    public static IReadOnlyList<ClassSplit> FixedLists(string input, int seed = 1337, params int[] fixedCounts)
    {
        var f = EffectiveFixed(fixedCounts);
        if (f.Length is < 1 or > 3)
            throw new ArgumentException($"split-folders' fixed needs 1 to 3 counts, got {f.Length}.", nameof(fixedCounts));
        if (f.Any(c => c < 0))
            throw new ArgumentException($"Fixed counts must be non-negative, got ({string.Join(", ", f)}).", nameof(fixedCounts));
        long need = f.Sum(c => (long)c);

        return SplitEachClass(input, seed, (files, className) =>
        {
            int n = files.Count;
            if (n < need)
                throw new ArgumentException($"The number of samples in class \"{className}\" is too few: there are only {n} files but the fixed counts ({string.Join(", ", f)}) require at least {need}. You may want to split by ratio.", nameof(fixedCounts));
            int trainEnd, valEnd;
            if (f.Length <= 2) { trainEnd = n - (int)need; valEnd = trainEnd + f[0]; }
            else { trainEnd = f[0]; valEnd = f[0] + f[1]; }
            if (f.Length == 1) return (files[..trainEnd], files[trainEnd..], []);
            var test = files[valEnd..];
            if (f.Length == 3 && test.Count > f[2]) test = test[..f[2]];
            return (files[..trainEnd], files[trainEnd..valEnd], test);
        });
    }

    private static double[] EffectiveRatio(double[]? ratio) => ratio is null || ratio.Length == 0 ? [0.8, 0.1, 0.1] : ratio;

    private static int[] EffectiveFixed(int[]? counts) => counts is null || counts.Length == 0 ? [100, 100] : counts;

    private static List<ClassSplit> SplitEachClass(
        string input, int seed, Func<List<string>, (List<string> Train, List<string> Val, List<string> Test)> cut)
        => SplitEachClass(input, seed, (files, _) => cut(files));

    private static List<ClassSplit> SplitEachClass(
        string input, int seed, Func<List<string>, string, (List<string> Train, List<string> Val, List<string> Test)> cut)
    {
        var classDirs = ListClassDirectories(input);
        var rng = new PythonRandom(seed);
        var result = new List<ClassSplit>(classDirs.Count);
        foreach (string dir in classDirs)
        {
            string className = Path.GetFileName(dir);
            var files = ListFiles(dir);
            rng.Seed(seed);
            rng.Shuffle(files);
            var (train, val, test) = cut(files, className);
            result.Add(new ClassSplit(className, train, val, test));
        }
        return result;
    }

    /// <summary>split-folders' <c>check_input_format</c> + <c>list_dirs</c>: every sub-directory, hidden ones included.</summary>
    private static List<string> ListClassDirectories(string input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!Directory.Exists(input))
        {
            string why = File.Exists(input) ? "is a file, not a folder" : "does not exist";
            throw new ArgumentException($"The input folder \"{input}\" {why} (resolved: \"{Path.GetFullPath(input)}\").", nameof(input));
        }
        var dirs = Directory.GetDirectories(input).ToList();
        if (dirs.Count == 0)
            throw new ArgumentException($"The input folder \"{input}\" has no class sub-folders; split-folders expects input/<class>/<files>.", nameof(input));
        dirs.Sort((a, b) => CodePointComparer.Instance.Compare(Path.GetFileName(a), Path.GetFileName(b)));
        return dirs;
    }

    /// <summary>split-folders' <c>list_files</c> then <c>files.sort()</c>: regular files (symlinks followed) not starting with '.', sorted by code point.</summary>
    private static List<string> ListFiles(string classDir)
    {
        var files = new List<string>();
        foreach (var path in Directory.EnumerateFileSystemEntries(classDir))
        {
            string name = Path.GetFileName(path);
            if (name.StartsWith('.')) continue;
            if (File.Exists(path)) files.Add(path); // File.Exists follows symlinks and is false for directories
        }
        files.Sort((a, b) => CodePointComparer.Instance.Compare(Path.GetFileName(a), Path.GetFileName(b)));
        return files;
    }

    private static void Copy(IReadOnlyList<ClassSplit> splits, string output, bool withTest)
    {
        // Before anything is copied: a FIFO or device would block or never end (it still counts in the split, as in Python).
        foreach (var s in splits)
            foreach (string file in s.Train.Concat(s.Val).Concat(withTest ? s.Test : []))
                if (SafeFile.WhyNotRegular(file) is { } why)
                    throw new IOException($"File \"{file}\" {why}; remove it from the class folder before splitting.");
        foreach (var s in splits)
        {
            CopyInto(s.Train, Path.Combine(output, TrainFolder, s.ClassName));
            CopyInto(s.Val, Path.Combine(output, ValFolder, s.ClassName));
            if (withTest) CopyInto(s.Test, Path.Combine(output, TestFolder, s.ClassName));
        }
    }

    private static void CopyInto(IReadOnlyList<string> files, string folder)
    {
        Directory.CreateDirectory(folder);
        foreach (string src in files)
        {
            string dst = Path.Combine(folder, Path.GetFileName(src));
            File.Copy(src, dst, overwrite: true);
            File.SetLastWriteTimeUtc(dst, File.GetLastWriteTimeUtc(src)); // shutil.copy2 keeps the modification time
        }
    }
}
