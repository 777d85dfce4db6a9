namespace ConvNet.Data;

/// <summary>Loads MNIST-style datasets from the four standard IDX files.</summary>
public static class Mnist
{
    /// <summary>Class names of the ten digits, "0" … "9".</summary>
    public static IReadOnlyList<string> DigitClassNames { get; } = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>
    /// Loads <c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c> and
    /// <c>t10k-labels-idx1-ubyte</c> from <paramref name="folder"/>, each raw or with <c>.gz</c>, also accepting the
    /// <c>train-images.idx3-ubyte</c> spelling. Images are (N, 28, 28, 1) floats 0–255 (other sizes are kept as stored).
    /// </summary>
    /// <param name="folder">The folder with the files.</param>
    /// <returns>The training and test sets, with class names "0"–"9" (or "0"… up to the largest label).</returns>
    /// <exception cref="FileNotFoundException">A file is missing (the message lists the names tried).</exception>
    /// <exception cref="InvalidDataException">A file is invalid, or image and label counts differ.</exception>
    /// <param name="options">Memory limits for the IDX files; null means <see cref="IdxReadOptions.Default"/>.</param>
    public static (Dataset Train, Dataset Test) LoadFolder(string folder, IdxReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"The MNIST folder \"{folder}\" does not exist (resolved: \"{Path.GetFullPath(folder)}\").");
        var train = Load(Find(folder, "train", "images", 3), Find(folder, "train", "labels", 1), options);
        var test = Load(Find(folder, "t10k", "images", 3), Find(folder, "t10k", "labels", 1), options);
        return (train, test);
    }

    /// <summary>Loads one images file and its labels file as a dataset.</summary>
    /// <param name="imagesPath">The images IDX file.</param>
    /// <param name="labelsPath">The labels IDX file.</param>
    /// <param name="options">Memory limits; null means <see cref="IdxReadOptions.Default"/>.</param>
    /// <exception cref="InvalidDataException">A file is invalid, over the memory limit, or the counts differ.</exception>
    public static Dataset Load(string imagesPath, string labelsPath, IdxReadOptions? options = null)
    {
        var x = Idx.ReadImages(imagesPath, options);
        var y = Idx.ReadLabels(labelsPath, options);
        if (x.Shape[0] != y.Length)
            throw new InvalidDataException($"\"{imagesPath}\" has {x.Shape[0]:N0} images but \"{labelsPath}\" has {y.Length:N0} labels.");
        int max = y.Max();
        IReadOnlyList<string> names = max <= 9 ? DigitClassNames : Enumerable.Range(0, max + 1).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return new Dataset(x, y, names);
    }

    private static string Find(string folder, string split, string kind, int dims)
    {
        string[] candidates =
        [
            $"{split}-{kind}-idx{dims}-ubyte",
            $"{split}-{kind}.idx{dims}-ubyte",
        ];
        var tried = new List<string>();
        foreach (string name in candidates)
        {
            foreach (string file in new[] { name, name + ".gz" })
            {
                string path = Path.Combine(folder, file);
                if (File.Exists(path)) return path;
                tried.Add(file);
            }
        }
        throw new FileNotFoundException($"No MNIST {split} {kind} file in \"{folder}\"; looked for {string.Join(", ", tried)}.");
    }
}
