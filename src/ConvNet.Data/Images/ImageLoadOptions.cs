namespace ConvNet.Data;

/// <summary>
/// Options for <see cref="ImageDatasets"/>, modelled on Keras' <c>image_dataset_from_directory</c>
/// (labels are always inferred from the folder structure and returned as integers).
/// </summary>
public sealed class ImageLoadOptions
{
    /// <summary>Output (height, width); every image is resized to it. Default (256, 256) like Keras.</summary>
    /// <remarks>
    /// Resizing is bilinear exactly like <c>tf.image.resize(…, method="bilinear", antialias=False)</c>
    /// (half-pixel centres), computed in float on 0–255 values; see <see cref="ImageResize.Bilinear"/>.
    /// </remarks>
    public (int Height, int Width) ImageSize { get; init; } = (256, 256);

    /// <summary>
    /// Output channels. Default <see cref="ColorMode.Rgb"/> like Keras.
    /// </summary>
    /// <remarks>
    /// Grayscale follows what <c>tf.io.decode_image(channels=1)</c> does in Keras:
    /// PNG uses libpng's <c>png_set_rgb_to_gray(1, 0.299, 0.587)</c> fixed-point formula,
    /// <c>gray = (9797·R + 19234·G + 3737·B) &gt;&gt; 15</c> (truncated; pixels with R = G = B keep their value);
    /// JPEG, BMP and GIF use libjpeg's luma <c>gray = (19595·R + 38470·G + 7471·B + 32768) &gt;&gt; 16</c>
    /// (0.299, 0.587, 0.114, rounded), which for JPEG recovers the Y plane that libjpeg returns.
    /// Alpha is dropped, not composited. (TensorFlow itself refuses <c>channels=1</c> for BMP and GIF.)
    /// </remarks>
    public ColorMode ColorMode { get; init; } = ColorMode.Rgb;

    /// <summary>
    /// Explicit class names, in label order (like Keras' <c>class_names</c>). Each must be a class folder;
    /// other folders are ignored. When null, every non-hidden immediate sub-folder is a class, sorted by code point.
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>What to do with undecodable, truncated or oversized files. Default <see cref="BadFilePolicy.Error"/>.</summary>
    public BadFilePolicy BadFiles { get; init; } = BadFilePolicy.Error;

    /// <summary>
    /// Largest accepted width × height, checked from the file header before decoding. Default 50,000,000
    /// (a decoded image holds 4 bytes per pixel, so at most 200 MB; see <see cref="MaxDecodeBytes"/>).
    /// </summary>
    public long MaxPixels { get; init; } = 50_000_000;

    /// <summary>
    /// Memory budget for images being decoded at the same time, in bytes. Default 256 MiB.
    /// </summary>
    /// <remarks>
    /// Each image holds 4 bytes per pixel (RGBA) while it is decoded; it is converted and resized row by row
    /// straight into the dataset, so no full-size float copy is made. A folder load decodes up to
    /// <see cref="MaxDegreeOfParallelism"/> images at once but waits while the decoded pixels of the images in
    /// flight would pass this budget (an image larger than the budget on its own is decoded alone).
    /// Peak memory of a folder load is therefore about: the returned tensor (N × height × width × channels × 4 bytes)
    /// + <see cref="MaxDecodeBytes"/> + <see cref="MaxDegreeOfParallelism"/> × the largest file (at most
    /// <see cref="MaxFileBytes"/>) + the runtime (~60 MB). With the defaults, a folder of two 7000×7000 PNGs loads
    /// at 80×80 in under 512 MB. Lower <see cref="MaxPixels"/>, this budget or the parallelism to use less.
    /// </remarks>
    public long MaxDecodeBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>
    /// Follow symbolic links to directories while searching the folder tree. Default false, like Keras'
    /// <c>follow_links=False</c>: a linked directory is skipped and reported as <see cref="SkipKind.Link"/>. When true,
    /// links are followed but a directory already visited (a link loop) is not entered twice.
    /// Links to files are always read (their target must be a regular file).
    /// </summary>
    public bool FollowLinks { get; init; }

    /// <summary>
    /// Largest accepted file size in bytes (for a zip, an entry's declared uncompressed size). Default 64 MiB.
    /// An oversized zip entry is always an error; an oversized file on disk follows <see cref="BadFiles"/>.
    /// </summary>
    public long MaxFileBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Optional progress sink, called after each file (possibly from worker threads).</summary>
    public IProgress<LoadProgress>? Progress { get; init; }

    /// <summary>
    /// Optional warning sink, called once per skipped file (hidden, junk or bad) with a readable message.
    /// The library never writes to the console itself.
    /// </summary>
    public Action<string>? Warning { get; init; }

    /// <summary>Maximum number of files decoded in parallel; default: the processor count (see <see cref="MaxDecodeBytes"/> for memory).</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Options whose <see cref="ImageSize"/> and <see cref="ColorMode"/> fit a model's per-sample input shape
    /// (height, width, channels with 1, 3 or 4 channels), e.g. <c>ImageLoadOptions.ForInput(model.InputShape)</c>.
    /// </summary>
    /// <param name="modelInputShape">The model's per-sample input (height, width, channels).</param>
    /// <exception cref="ArgumentException">The shape is not (height, width, 1|3|4).</exception>
    public static ImageLoadOptions ForInput(IReadOnlyList<int> modelInputShape)
    {
        ArgumentNullException.ThrowIfNull(modelInputShape);
        if (modelInputShape.Count != 3 || modelInputShape[0] <= 0 || modelInputShape[1] <= 0 || ModeFor(modelInputShape[2]) is not { } mode)
            throw new ArgumentException($"Images load as (height, width, 1|3|4); the model's input is {Format(modelInputShape)}.", nameof(modelInputShape));
        return new ImageLoadOptions { ImageSize = (modelInputShape[0], modelInputShape[1]), ColorMode = mode };
    }

    /// <summary>
    /// Null when images of <paramref name="dataSampleShape"/> fit a model whose input is <paramref name="modelInputShape"/>;
    /// otherwise a message that says which loader option to change, e.g.
    /// <c>The images are (256, 256, 3) but the model expects (80, 80, 1): load them with new ImageLoadOptions { ImageSize = (80, 80), ColorMode = ColorMode.Grayscale } …</c>.
    /// </summary>
    /// <param name="dataSampleShape">One sample's shape in the dataset (height, width, channels).</param>
    /// <param name="modelInputShape">The model's per-sample input shape.</param>
    public static string? ExplainMismatch(IReadOnlyList<int> dataSampleShape, IReadOnlyList<int> modelInputShape)
    {
        ArgumentNullException.ThrowIfNull(dataSampleShape);
        ArgumentNullException.ThrowIfNull(modelInputShape);
        if (dataSampleShape.SequenceEqual(modelInputShape)) return null;
        string head = $"The images are {Format(dataSampleShape)} (height, width, channels) but the model expects {Format(modelInputShape)}";
        if (modelInputShape.Count != 3 || ModeFor(modelInputShape[2]) is not { } mode)
            return $"{head}; images cannot be loaded in that shape, so the model needs an Input of (height, width, 1|3|4).";
        var settings = new List<string>();
        if (dataSampleShape.Count != 3 || dataSampleShape[0] != modelInputShape[0] || dataSampleShape[1] != modelInputShape[1])
            settings.Add($"ImageSize = ({modelInputShape[0]}, {modelInputShape[1]})");
        if (dataSampleShape.Count != 3 || dataSampleShape[2] != modelInputShape[2])
            settings.Add($"ColorMode = ColorMode.{mode}");
        return $"{head}: load them with new ImageLoadOptions {{ {string.Join(", ", settings)} }} " +
               "(or ImageLoadOptions.ForInput(model.InputShape)); the default is 256×256 RGB, like Keras.";
    }

    private static ColorMode? ModeFor(int channels) => channels switch
    {
        1 => ColorMode.Grayscale,
        3 => ColorMode.Rgb,
        4 => ColorMode.Rgba,
        _ => null,
    };

    private static string Format(IReadOnlyList<int> shape) => "(" + string.Join(", ", shape) + ")";

    /// <summary>The options Keras uses by default: 256×256 RGB, errors on bad files.</summary>
    public static ImageLoadOptions Default { get; } = new();

    internal int Channels => ColorMode switch
    {
        ColorMode.Grayscale => 1,
        ColorMode.Rgb => 3,
        ColorMode.Rgba => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(ColorMode), ColorMode, "Unknown color mode."),
    };

    internal void Validate()
    {
        if (ImageSize.Height <= 0 || ImageSize.Width <= 0)
            throw new ArgumentException($"ImageSize must be positive, got ({ImageSize.Height}, {ImageSize.Width}).");
        if (MaxPixels <= 0)
            throw new ArgumentException($"MaxPixels must be positive, got {MaxPixels}.");
        if (MaxFileBytes <= 0)
            throw new ArgumentException($"MaxFileBytes must be positive, got {MaxFileBytes}.");
        if (MaxDecodeBytes <= 0)
            throw new ArgumentException($"MaxDecodeBytes must be positive, got {MaxDecodeBytes}.");
        if (MaxDegreeOfParallelism <= 0)
            throw new ArgumentException($"MaxDegreeOfParallelism must be positive, got {MaxDegreeOfParallelism}.");
        _ = Channels;
        if (ClassNames is not null)
        {
            if (ClassNames.Count == 0)
                throw new ArgumentException("ClassNames is empty; pass null to infer the classes from the folders.");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (string c in ClassNames)
            {
                if (string.IsNullOrEmpty(c) || c.Contains('/') || c.Contains('\\'))
                    throw new ArgumentException($"Class name \"{c}\" is not a single folder name.");
                if (!seen.Add(c))
                    throw new ArgumentException($"Class name \"{c}\" appears twice in ClassNames.");
            }
        }
    }
}
