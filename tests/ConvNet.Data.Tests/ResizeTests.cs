using FsCheck.Xunit;
using Xunit;

namespace ConvNet.Data.Tests;

public class ResizeTests
{
    private static float[] Resize(float[] src, int ih, int iw, int c, int oh, int ow)
    {
        var dst = new float[oh * ow * c];
        ImageResize.Bilinear(src, ih, iw, c, dst, oh, ow);
        return dst;
    }

    [Fact]
    public void Upsample_2x2_to_3x3_matches_hand_computation()
    {
        // scale = 2/3. Output row/col i samples in = (i + 0.5)·2/3 − 0.5 = −1/6, 0.5, 7/6:
        // −1/6 clamps to pixel 0, 0.5 is halfway between 0 and 1, 7/6 clamps to pixel 1 (upper = min(2, 1)).
        float[] src = [0, 10,
                       20, 30];
        float[] expected = [0, 5, 10,
                            10, 15, 20,
                            20, 25, 30];
        Assert.Equal(expected, Resize(src, 2, 2, 1, 3, 3));
    }

    [Fact]
    public void Downsample_4x4_to_2x2_averages_the_inner_pixels()
    {
        // scale = 2: in = (i + 0.5)·2 − 0.5 = 0.5, 2.5 → halfway between rows/cols 0–1 and 2–3 (no antialias).
        var src = new float[16];
        for (int i = 0; i < 16; i++) src[i] = i; // v[y, x] = 4y + x
        float[] expected = [(0 + 1 + 4 + 5) / 4f, (2 + 3 + 6 + 7) / 4f,
                            (8 + 9 + 12 + 13) / 4f, (10 + 11 + 14 + 15) / 4f];
        Assert.Equal(expected, Resize(src, 4, 4, 1, 2, 2));
    }

    [Fact]
    public void Resize_3x1_to_5x2_by_hand()
    {
        // Height 3→5: scale 0.6, in = −0.2, 0.4, 1.0, 1.6, 2.2 → v0, v0+0.4(v1−v0), v1, v1+0.6(v2−v1), v2 (2.2 clamps to 2).
        // Width 1→2: scale 0.5, in = −0.25, 0.25 → both columns read column 0.
        float[] src = [0, 100, 200];
        float[] expected = [0, 0, 40, 40, 100, 100, 160, 160, 200, 200];
        var actual = Resize(src, 3, 1, 1, 5, 2);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 3);
    }

    [Fact]
    public void Channels_are_interpolated_independently()
    {
        float[] src = [0, 1, 2, 10, 11, 12,
                       20, 21, 22, 30, 31, 32];
        var dst = Resize(src, 2, 2, 3, 3, 3);
        // centre pixel = mean of the four corners, per channel
        Assert.Equal(new[] { 15f, 16f, 17f }, dst.AsSpan(4 * 3, 3).ToArray());
        Assert.Equal(new[] { 5f, 6f, 7f }, dst.AsSpan(1 * 3, 3).ToArray());
    }

    [Fact]
    public void Same_size_is_a_copy()
    {
        float[] src = [1, 2, 3, 4, 5, 6];
        Assert.Equal(src, Resize(src, 2, 3, 1, 2, 3));
    }

    [Fact]
    public void Wrong_lengths_are_rejected_with_sizes_in_the_message()
    {
        var e = Assert.Throws<ArgumentException>(() => ImageResize.Bilinear(new float[5], 2, 3, 1, new float[4], 2, 2));
        Assert.Contains("2×3×1", e.Message);
    }

    [Property(MaxTest = 200)]
    public bool Output_stays_within_the_input_range(byte seed, byte ih, byte iw, byte oh, byte ow)
    {
        int h = ih % 9 + 1, w = iw % 9 + 1, oH = oh % 13 + 1, oW = ow % 13 + 1;
        var rng = new Random(seed);
        var src = new float[h * w];
        for (int i = 0; i < src.Length; i++) src[i] = rng.Next(256);
        var dst = Resize(src, h, w, 1, oH, oW);
        float min = src.Min(), max = src.Max();
        return dst.All(v => v >= min - 1e-3f && v <= max + 1e-3f);
    }

    [Property(MaxTest = 100)]
    public bool Constant_images_stay_constant(byte value, byte ih, byte iw, byte oh, byte ow)
    {
        int h = ih % 7 + 1, w = iw % 7 + 1, oH = oh % 11 + 1, oW = ow % 11 + 1;
        var src = Enumerable.Repeat((float)value, h * w * 2).ToArray();
        return Resize(src, h, w, 2, oH, oW).All(v => v == value);
    }
}
