namespace ConvNet.Data;

/// <summary>
/// RGB → gray conversions matching what TensorFlow's decoders do for <c>channels=1</c>.
/// </summary>
internal static class Grayscale
{
    // libpng: png_set_rgb_to_gray(png, 1, 0.299, 0.587) stores red = 29900·32768/100000 = 9797 and
    // green = 58700·32768/100000 = 19234 (truncated); blue = 32768 − red − green = 3737.
    private const int PngRed = 9797, PngGreen = 19234, PngBlue = 32768 - PngRed - PngGreen;

    // libjpeg: FIX(x) = (int)(x·65536 + 0.5) for 0.299, 0.587, 0.114.
    private const int JpegRed = 19595, JpegGreen = 38470, JpegBlue = 7471;

    /// <summary>libpng's 8-bit conversion without gamma: gray pixels are kept, others truncated.</summary>
    public static byte LibPng(byte r, byte g, byte b) =>
        r == g && r == b ? r : (byte)((PngRed * r + PngGreen * g + PngBlue * b) >> 15);

    /// <summary>libjpeg's luma (Y of YCbCr), rounded.</summary>
    public static byte LibJpeg(byte r, byte g, byte b) =>
        (byte)((JpegRed * r + JpegGreen * g + JpegBlue * b + 32768) >> 16);
}
