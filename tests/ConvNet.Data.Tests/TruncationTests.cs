using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace ConvNet.Data.Tests;

/// <summary>ImageSharp tolerates truncated files; the loader must reject them like TensorFlow's decoders do.</summary>
public class TruncationTests
{
    private static byte[] Encoded(string ext)
    {
        using var img = TestImages.Create(64, 48, (x, y) => new Rgba32((byte)(x * 4), (byte)(y * 5), (byte)(x ^ y), 255));
        return TestImages.Encode(img, ext);
    }

    [Theory]
    [InlineData(".png")]
    [InlineData(".jpg")]
    [InlineData(".bmp")]
    [InlineData(".gif")]
    public void Intact_files_decode(string ext)
    {
        var px = ImageDecoder.Decode(Encoded(ext), ColorMode.Rgb, 1_000_000, out int h, out int w);
        Assert.Equal((48, 64), (h, w));
        Assert.Equal(48 * 64 * 3, px.Length);
    }

    [Theory]
    [InlineData(".png", 1)]
    [InlineData(".png", 12)]   // exactly the IEND chunk
    [InlineData(".png", 100)]
    [InlineData(".jpg", 1)]
    [InlineData(".jpg", 2)]    // exactly the EOI marker
    [InlineData(".jpg", 500)]
    [InlineData(".bmp", 1)]
    [InlineData(".bmp", 2000)]
    [InlineData(".gif", 1)]    // exactly the trailer
    [InlineData(".gif", 300)]
    public void Truncated_files_are_rejected(string ext, int cut)
    {
        var bytes = Encoded(ext);
        var e = Assert.Throws<InvalidDataException>(() => ImageDecoder.Decode(bytes[..^cut], ColorMode.Rgb, 1_000_000, out _, out _));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Jpeg_with_trailing_bytes_after_eoi_is_accepted_like_libjpeg()
    {
        byte[] bytes = [.. Encoded(".jpg"), 0x00, 0x12, 0x34];
        ImageDecoder.Decode(bytes, ColorMode.Grayscale, 1_000_000, out int h, out _);
        Assert.Equal(48, h);
    }
}
