using ConvNet.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace ConvNet.Demo;

/// <summary>
/// Loads one image the way the folder loader does (ConvNet.Data has no public single-image entry point yet):
/// decode with ImageSharp, convert to the model's channels with TensorFlow's formulas (libpng's gray for PNG,
/// libjpeg's luma otherwise), bilinear resize like <c>tf.image.resize</c>, then zero-pad.
/// </summary>
internal static class ImageFile
{
    private const long MaxBytes = 64L * 1024 * 1024, MaxPixels = 50_000_000;

    /// <summary>Returns (height + 2·pad, width + 2·pad, channels) floats 0–255; throws <see cref="CliException"/> when unreadable.</summary>
    public static float[] Load(string path, int height, int width, int channels, int pad)
    {
        if (!File.Exists(path)) throw new CliException($"Image '{path}' does not exist.");
        var info = new FileInfo(path);
        if (info.Length > MaxBytes) throw new CliException($"Image '{path}' is {info.Length:N0} bytes, more than the {MaxBytes:N0}-byte limit.");
        byte[] bytes = File.ReadAllBytes(path);
        Image<Rgba32> image;
        IImageFormat format;
        try
        {
            var header = Image.Identify(bytes) ?? throw new UnknownImageFormatException("unknown format");
            if ((long)header.Width * header.Height > MaxPixels)
                throw new CliException($"Image '{path}' is {header.Width}×{header.Height}, more than {MaxPixels:N0} pixels.");
            image = Image.Load<Rgba32>(bytes, out format);
        }
        catch (Exception e) when (e is UnknownImageFormatException or InvalidImageContentException or ImageFormatException or NotSupportedException)
        {
            throw new CliException($"Image '{path}' cannot be read: {e.Message.TrimEnd('.')}.");
        }
        using (image)
        {
            int ih = image.Height, iw = image.Width;
            var pixels = new Rgba32[ih * iw];
            image.CopyPixelDataTo(pixels);
            bool png = format is PngFormat;
            var src = new float[ih * iw * channels];
            for (int i = 0; i < pixels.Length; i++)
            {
                var p = pixels[i];
                switch (channels)
                {
                    case 1:
                        src[i] = p.R == p.G && p.G == p.B ? p.R
                            : png ? (9797 * p.R + 19234 * p.G + 3737 * p.B) >> 15
                            : (19595 * p.R + 38470 * p.G + 7471 * p.B + 32768) >> 16;
                        break;
                    case 3:
                        src[3 * i] = p.R; src[3 * i + 1] = p.G; src[3 * i + 2] = p.B;
                        break;
                    case 4:
                        src[4 * i] = p.R; src[4 * i + 1] = p.G; src[4 * i + 2] = p.B; src[4 * i + 3] = p.A;
                        break;
                    default:
                        throw new CliException($"The model expects {channels} channels; images can be loaded with 1, 3 or 4.");
                }
            }
            var resized = new float[height * width * channels];
            ImageResize.Bilinear(src, ih, iw, channels, resized, height, width);
            if (pad == 0) return resized;
            int oh = height + 2 * pad, ow = width + 2 * pad;
            var padded = new float[oh * ow * channels];
            for (int r = 0; r < height; r++)
                resized.AsSpan(r * width * channels, width * channels).CopyTo(padded.AsSpan(((r + pad) * ow + pad) * channels));
            return padded;
        }
    }
}
