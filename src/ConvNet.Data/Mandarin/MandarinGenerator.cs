using System.Globalization;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ConvNet.Data.Mandarin;

/// <summary>
/// Generates the stand-in for the lecture's Mandarin handwriting set: for each of the 57 classes, samples
/// <c>&lt;root&gt;/&lt;label&gt;/&lt;label&gt;-&lt;k&gt;.png</c> (k = 1..n), grayscale, dark ink on light paper.
/// Each sample is drawn by a simulated pen moving along the stroke medians of the character with
/// per-sample variation controlled by <see cref="MandarinStyle"/>. Output is deterministic for a seed
/// (own SplitMix64 generator, scalar double math): a sample depends only on (seed, label, k, size, style), so
/// generating a subset of labels yields the same files as generating all of them. Files are byte-identical
/// across runs on one machine and runtime; another CPU or runtime may in principle differ by a grey level
/// where its <see cref="Math.Sin(double)"/> rounds differently.
/// </summary>
public static class MandarinGenerator
{
    /// <summary>The lecture's seed (also the split seed).</summary>
    public const int DefaultSeed = 1337;

    /// <summary>Samples per class in the lecture's data set.</summary>
    public const int DefaultSamplesPerClass = 7;

    /// <summary>Side of the generated square images in pixels.</summary>
    public const int DefaultSize = 128;

    private static readonly PngEncoder s_png = new()
    {
        ColorType = PngColorType.Grayscale,
        BitDepth = PngBitDepth.Bit8,
        CompressionLevel = PngCompressionLevel.DefaultCompression,
    };

    /// <summary>
    /// Writes the data set to <paramref name="root"/>: one folder per label holding
    /// <c>&lt;label&gt;-1.png</c> … <c>&lt;label&gt;-&lt;samplesPerClass&gt;.png</c>.
    /// Existing files with the same names are overwritten; other files are left alone.
    /// </summary>
    /// <param name="root">Output folder (created if missing).</param>
    /// <param name="seed">Seed; the same seed gives byte-identical files.</param>
    /// <param name="samplesPerClass">Number of samples per class (k = 1..samplesPerClass).</param>
    /// <param name="size">Image side in pixels.</param>
    /// <param name="labels">Optional subset of labels to generate; null = all 57.</param>
    /// <param name="style">Variation magnitudes; null = <see cref="MandarinStyle.Default"/>.</param>
    /// <param name="cancellationToken">Stops the generation (files already written stay).</param>
    /// <returns>The paths of the written files, in label then k order.</returns>
    /// <exception cref="ArgumentException">An unknown label, or a bad argument.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static IReadOnlyList<string> Generate(
        string root,
        int seed = DefaultSeed,
        int samplesPerClass = DefaultSamplesPerClass,
        int size = DefaultSize,
        IEnumerable<string>? labels = null,
        MandarinStyle? style = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentOutOfRangeException.ThrowIfLessThan(samplesPerClass, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 8);
        style ??= MandarinStyle.Default;
        style.Validate();
        var selected = (labels ?? MandarinLabels.Names)
            .Select(l => MandarinLabels.Get(l).Label)
            .Distinct(StringComparer.Ordinal)
            .OrderBy(l => l, StringComparer.Ordinal)
            .ToArray();

        var jobs = new List<(string Label, int K, string Path)>();
        foreach (var label in selected)
        {
            var dir = Path.Combine(root, label);
            Directory.CreateDirectory(dir);
            for (int k = 1; k <= samplesPerClass; k++)
            {
                jobs.Add((label, k, Path.Combine(dir, $"{label}-{k.ToString(CultureInfo.InvariantCulture)}.png")));
            }
        }
        Parallel.ForEach(jobs, new ParallelOptions { CancellationToken = cancellationToken }, job =>
        {
            var pixels = RenderSampleBytes(job.Label, job.K, seed, size, style);
            SavePng(pixels, size, size, job.Path);
        });
        return jobs.Select(j => j.Path).ToArray();
    }

    /// <summary>
    /// Renders one sample as intensities in [0, 1] (0 = black ink, 1 = white), row-major, <paramref name="size"/>².
    /// </summary>
    /// <param name="label">The class label, e.g. <c>kou</c>.</param>
    /// <param name="k">The sample number (1-based, as in the file name).</param>
    /// <param name="seed">Seed.</param>
    /// <param name="size">Image side in pixels.</param>
    /// <param name="style">Variation magnitudes; null = default.</param>
    /// <returns>A new array of length size·size.</returns>
    public static float[] RenderSample(string label, int k, int seed = DefaultSeed, int size = DefaultSize, MandarinStyle? style = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 8);
        style ??= MandarinStyle.Default;
        style.Validate();
        var character = StrokeCharacter.Load(label);
        ulong sampleSeed = SplitMix64.Mix(SplitMix64.Mix((ulong)(uint)seed) ^ SplitMix64.Hash(character.Label.Label)) ^ SplitMix64.Mix((ulong)(uint)k + 0x51ED270B1DUL);
        var rng = new SplitMix64(sampleSeed);
        return new SampleRenderer(character, style, size).Render(ref rng);
    }

    /// <summary>Renders one sample as 8-bit grayscale pixels (0 = black, 255 = white), row-major.</summary>
    /// <param name="label">The class label.</param>
    /// <param name="k">The sample number (1-based).</param>
    /// <param name="seed">Seed.</param>
    /// <param name="size">Image side in pixels.</param>
    /// <param name="style">Variation magnitudes; null = default.</param>
    /// <returns>A new array of length size·size.</returns>
    public static byte[] RenderSampleBytes(string label, int k, int seed = DefaultSeed, int size = DefaultSize, MandarinStyle? style = null)
    {
        var f = RenderSample(label, k, seed, size, style);
        var b = new byte[f.Length];
        for (int i = 0; i < f.Length; i++)
        {
            float v = f[i] * 255f + 0.5f;
            b[i] = v <= 0f ? (byte)0 : v >= 255f ? (byte)255 : (byte)v;
        }
        return b;
    }

    /// <summary>
    /// Writes a contact sheet of the data set found in <paramref name="root"/>: one row per class folder (sorted),
    /// the label on the left in a small bitmap font, then that class's samples <c>&lt;label&gt;-k.png</c> in k order,
    /// each scaled to <paramref name="cellSize"/> pixels.
    /// </summary>
    /// <param name="root">A folder laid out as written by <see cref="Generate"/>.</param>
    /// <param name="pngPath">The PNG file to write (folder created if missing).</param>
    /// <param name="cellSize">Side of each thumbnail in pixels (default 64; use 128 for full resolution).</param>
    /// <exception cref="DirectoryNotFoundException"><paramref name="root"/> does not exist.</exception>
    /// <exception cref="InvalidDataException">No class folders with samples were found.</exception>
    public static void WriteContactSheet(string root, string pngPath, int cellSize = 64)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentException.ThrowIfNullOrEmpty(pngPath);
        ArgumentOutOfRangeException.ThrowIfLessThan(cellSize, 8);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"Data set folder \"{root}\" does not exist.");
        }

        var rows = new List<(string Label, SortedDictionary<int, string> Files)>();
        foreach (var dir in Directory.GetDirectories(root).OrderBy(d => Path.GetFileName(d), StringComparer.Ordinal))
        {
            var label = Path.GetFileName(dir);
            var files = new SortedDictionary<int, string>();
            foreach (var file in Directory.GetFiles(dir, label + "-*.png"))
            {
                var name = Path.GetFileNameWithoutExtension(file);
                if (int.TryParse(name.AsSpan(label.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int k))
                {
                    files[k] = file;
                }
            }
            if (files.Count > 0)
            {
                rows.Add((label, files));
            }
        }
        if (rows.Count == 0)
        {
            throw new InvalidDataException($"No '<label>/<label>-<k>.png' samples found under \"{root}\".");
        }

        const int scale = 2;
        const int gap = 2;
        const int margin = 6;
        int maxK = rows.Max(r => r.Files.Keys.Max());
        int maxLabel = rows.Max(r => r.Label.Length);
        int labelWidth = margin + Math.Max(maxLabel, 2) * BitmapFont.Advance(scale) + margin;
        int headerHeight = margin + BitmapFont.GlyphHeight * scale + margin;
        int pitch = cellSize + gap;
        int width = labelWidth + maxK * pitch + margin;
        int height = headerHeight + rows.Count * pitch + margin;
        var sheet = new byte[width * height];
        Array.Fill(sheet, (byte)255);

        for (int k = 1; k <= maxK; k++)
        {
            string t = k.ToString(CultureInfo.InvariantCulture);
            int tx = labelWidth + (k - 1) * pitch + (cellSize - t.Length * BitmapFont.Advance(scale)) / 2;
            BitmapFont.DrawText(sheet, width, height, tx, margin, t, scale, 0);
        }

        for (int r = 0; r < rows.Count; r++)
        {
            int y0 = headerHeight + r * pitch;
            BitmapFont.DrawText(sheet, width, height, margin, y0 + (cellSize - BitmapFont.GlyphHeight * scale) / 2, rows[r].Label, scale, 0);
            foreach (var (k, file) in rows[r].Files)
            {
                int x0 = labelWidth + (k - 1) * pitch;
                using var img = Image.Load<L8>(file);
                if (img.Width != cellSize || img.Height != cellSize)
                {
                    img.Mutate(c => c.Resize(cellSize, cellSize));
                }
                var buf = new L8[cellSize * cellSize];
                img.CopyPixelDataTo(buf);
                for (int y = 0; y < cellSize; y++)
                {
                    for (int x = 0; x < cellSize; x++)
                    {
                        sheet[(y0 + y) * width + x0 + x] = buf[y * cellSize + x].PackedValue;
                    }
                }
            }
            // light separator line under each row
            int sy = y0 + cellSize + gap / 2;
            if (sy < height)
            {
                for (int x = margin; x < width - margin; x++)
                {
                    sheet[sy * width + x] = 200;
                }
            }
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(pngPath));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }
        SavePng(sheet, width, height, pngPath);
    }

    /// <summary>Saves an 8-bit grayscale row-major buffer as a PNG (grayscale, 8 bits per pixel).</summary>
    /// <param name="pixels">width·height bytes, row-major.</param>
    /// <param name="width">Image width.</param>
    /// <param name="height">Image height.</param>
    /// <param name="path">Destination file.</param>
    public static void SavePng(byte[] pixels, int width, int height, string path)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != width * height)
        {
            throw new ArgumentException($"Expected {width * height} pixels, got {pixels.Length}.", nameof(pixels));
        }
        using var image = Image.LoadPixelData<L8>(pixels, width, height);
        using var stream = File.Create(path);
        image.Save(stream, s_png);
    }
}
