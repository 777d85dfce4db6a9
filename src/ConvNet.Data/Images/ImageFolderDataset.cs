namespace ConvNet.Data;

/// <summary>
/// Images loaded from class folders: <see cref="Dataset.X"/> is float32 NHWC (N, H, W, C) with values 0–255,
/// <see cref="Dataset.Y"/> the class index of each image. Samples are ordered by class, then by path;
/// shuffle per epoch with <see cref="Dataset.EpochOrder"/>.
/// </summary>
public sealed class ImageFolderDataset : Dataset
{
    internal ImageFolderDataset(Tensor x, int[] y, IReadOnlyList<string> classNames, IReadOnlyList<string> paths, ImageLoadReport report)
        : base(x, y, classNames)
    {
        if (paths.Count != y.Length)
            throw new ArgumentException($"{paths.Count} paths for {y.Length} samples.", nameof(paths));
        Paths = paths;
        Report = report;
    }

    /// <summary>The source of each sample (a file path, or <c>archive.zip!entry</c> for zips), aligned with <see cref="Dataset.Y"/>.</summary>
    public IReadOnlyList<string> Paths { get; }

    /// <summary>What was found, loaded and skipped; <see cref="ImageLoadReport.Summary"/> is Keras' "Found N files…" line.</summary>
    public ImageLoadReport Report { get; }
}
