using ConvNet.Data;

namespace ConvNet.Demo;

/// <summary>Loads one image for a model with <see cref="ImageDatasets.LoadImage"/> (the training loader's decoding and resize), then zero-pads.</summary>
internal static class ImageFile
{
    /// <summary>Returns (height + 2·pad, width + 2·pad, channels) floats 0–255; throws <see cref="CliException"/> when unreadable.</summary>
    public static float[] Load(string path, int height, int width, int channels, int pad)
    {
        var mode = channels switch
        {
            1 => ColorMode.Grayscale,
            3 => ColorMode.Rgb,
            4 => ColorMode.Rgba,
            _ => throw new CliException($"The model expects {channels} channels; images can be loaded with 1, 3 or 4."),
        };
        float[] resized;
        try { resized = ImageDatasets.LoadImage(path, new ImageLoadOptions { ImageSize = (height, width), ColorMode = mode }).ToArray(); }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new CliException(e.Message.TrimEnd('.') + ".");
        }
        if (pad == 0) return resized;
        int ow = width + 2 * pad;
        var padded = new float[(height + 2 * pad) * ow * channels];
        for (int r = 0; r < height; r++)
            resized.AsSpan(r * width * channels, width * channels).CopyTo(padded.AsSpan(((r + pad) * ow + pad) * channels));
        return padded;
    }
}
