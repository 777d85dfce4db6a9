using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata;
using SixLabors.ImageSharp.PixelFormats;

namespace ConvNet.Data;

/// <summary>
/// Decodes PNG, JPEG, BMP and GIF (first frame) bytes into 0–255 float pixels with the requested channels,
/// checking the header's pixel count before any pixel memory is allocated.
/// </summary>
internal static class ImageDecoder
{
    /// <summary>An ImageSharp configuration limited to the four formats Keras accepts; GIFs decode only their first frame.</summary>
    private static readonly Configuration Config = CreateConfiguration();

    private static Configuration CreateConfiguration()
    {
        var config = new Configuration(
            new PngConfigurationModule(), new JpegConfigurationModule(),
            new BmpConfigurationModule(), new GifConfigurationModule())
        {
            // A small pool: decoded pixel memory goes back to the system soon after each image instead of being
            // retained (ImageSharp's default pool may keep hundreds of MB), so ImageLoadOptions.MaxDecodeBytes is the bound.
            MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions { MaximumPoolSizeMegabytes = 16 }),
        };
        config.ImageFormatsManager.SetDecoder(GifFormat.Instance, new GifDecoder { DecodingMode = FrameDecodingMode.First });
        return config;
    }

    /// <summary>
    /// Decodes <paramref name="bytes"/> to an (height, width, channels) float image.
    /// Throws <see cref="InvalidDataException"/> with a reason (without the path) when the image cannot be used.
    /// </summary>
    public static float[] Decode(byte[] bytes, ColorMode mode, long maxPixels, out int height, out int width)
    {
        var format = Inspect(bytes, maxPixels, out _, out _);
        using var image = Load(bytes, format);
        height = image.Height;
        width = image.Width;
        bool png = format is PngFormat;
        int channels = mode switch { ColorMode.Grayscale => 1, ColorMode.Rgb => 3, _ => 4 };
        var result = new float[height * width * channels];
        int rowLength = width * channels;
        image.ProcessPixelRows(accessor =>
        {
            for (int y = 0; y < accessor.Height; y++)
                ConvertRow(accessor.GetRowSpan(y), result.AsSpan(y * rowLength, rowLength), mode, png, channels);
        });
        return result;
    }

    // Decodes the whole image (after Inspect has checked its header and structure).
    private static Image<Rgba32> Load(byte[] bytes, IImageFormat format)
    {
        try
        {
            return Image.Load<Rgba32>(Config, bytes);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"undecodable or truncated {format.Name} data ({e.Message})", e);
        }
    }

    /// <summary>
    /// Decodes <paramref name="bytes"/> and resizes it straight into <paramref name="destination"/> (outHeight, outWidth,
    /// channels) with <see cref="ImageResize.Bilinear"/>'s exact arithmetic, converting only the two source rows
    /// each output row needs: the only full-size buffer is the decoded RGBA image (4 bytes per pixel), which is
    /// reserved from <paramref name="budget"/> while it exists. Same errors as <see cref="Decode"/>.
    /// </summary>
    public static void DecodeResized(byte[] bytes, ColorMode mode, long maxPixels, Span<float> destination, int outHeight, int outWidth, DecodeBudget budget)
    {
        var format = Inspect(bytes, maxPixels, out int infoWidth, out int infoHeight);
        using var lease = budget.Acquire(4L * infoWidth * infoHeight);
        using (var image = Load(bytes, format))
        {
            bool png = format is PngFormat;
            int channels = mode switch { ColorMode.Grayscale => 1, ColorMode.Rgb => 3, _ => 4 };
            ImageResize.BilinearFromRows((y, row) => ConvertRow(image.DangerousGetPixelRowMemory(y).Span, row, mode, png, channels),
                image.Height, image.Width, channels, destination, outHeight, outWidth);
        }
    }

    /// <summary>Checks the header (format, size, pixel limit) and the structure (truncation) without decoding pixels.</summary>
    private static IImageFormat Inspect(byte[] bytes, long maxPixels, out int width, out int height)
    {
        IImageInfo? info;
        IImageFormat? format;
        try
        {
            info = Image.Identify(Config, bytes, out format);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"unreadable image header ({e.Message})", e);
        }
        if (info is null || format is null)
            throw new InvalidDataException($"not a PNG, JPEG, BMP or GIF image (first bytes: {Hex(bytes)})");
        long pixels = (long)info.Width * info.Height;
        if (info.Width <= 0 || info.Height <= 0)
            throw new InvalidDataException($"the {format.Name} header declares an empty image ({info.Width}×{info.Height})");
        if (pixels > maxPixels)
            throw new InvalidDataException($"the {format.Name} header declares {info.Width}×{info.Height} = {pixels:N0} pixels, more than the limit of {maxPixels:N0} (ImageLoadOptions.MaxPixels)");
        if (ImageIntegrity.FindTruncation(bytes, format) is { } truncation)
            throw new InvalidDataException(truncation);
        width = info.Width;
        height = info.Height;
        return format;
    }

    /// <summary>One row of RGBA pixels to 0–255 floats with the requested channels (the same formulas as <see cref="Decode"/>).</summary>
    private static void ConvertRow(ReadOnlySpan<Rgba32> row, Span<float> result, ColorMode mode, bool png, int channels)
    {
        for (int x = 0, o = 0; x < row.Length; x++, o += channels)
        {
            var p = row[x];
            switch (mode)
            {
                case ColorMode.Grayscale:
                    result[o] = png ? Grayscale.LibPng(p.R, p.G, p.B) : Grayscale.LibJpeg(p.R, p.G, p.B);
                    break;
                case ColorMode.Rgb:
                    result[o] = p.R; result[o + 1] = p.G; result[o + 2] = p.B;
                    break;
                default:
                    result[o] = p.R; result[o + 1] = p.G; result[o + 2] = p.B; result[o + 3] = p.A;
                    break;
            }
        }
    }

    private static string Hex(byte[] bytes) =>
        bytes.Length == 0 ? "the file is empty" : Convert.ToHexString(bytes, 0, Math.Min(8, bytes.Length));
}
