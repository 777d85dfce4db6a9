using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvNet.Kernels;

/// <summary>
/// Inverse-mapped affine warp of an NHWC batch, as Keras 3's <c>ops.image.affine_transform</c> with its own
/// <c>map_coordinates</c>: output pixel (x, y) of image i reads the input at (x', y') = (a0·x + a1·y + a2, b0·x + b1·y + b2)
/// with the row <c>t[6i .. 6i + 6] = [a0, a1, a2, b0, b1, b2]</c>. Pixel centres are at integer coordinates (pixel (0, 0) is
/// the point (0, 0), no half-pixel offset). Nearest rounds half away from zero; bilinear weighs the four integer corners
/// around (x', y'), and each corner outside the image is first mapped by the fill mode — so <see cref="FillMode.Constant"/>
/// blends the fill value into border pixels, as Keras does. One call handles a range of images; the layer splits the batch
/// over threads. Fast path: all corners inside the image (no fill logic). Naive twin: <see cref="AffineWarpReference"/>.
/// </summary>
public static unsafe class AffineWarp
{
    /// <summary>Warps <paramref name="images"/> images of <paramref name="x"/> into <paramref name="y"/> (6 transform numbers per image).</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int images, int height, int width, int channels,
        ReadOnlySpan<float> transforms, Interpolation interpolation, FillMode fillMode, float fillValue)
    {
        Check(x.Length, y.Length, transforms.Length, images, height, width, channels);
        int img = height * width * channels;
        for (int i = 0; i < images; i++)
        {
            var src = x.Slice(i * img, img);
            var dst = y.Slice(i * img, img);
            var t = transforms.Slice(i * 6, 6);
            float a0 = t[0], a1 = t[1], a2 = t[2], b0 = t[3], b1 = t[4], b2 = t[5];
            int o = 0;
            for (int yo = 0; yo < height; yo++)
            {
                float rx = a1 * yo + a2, ry = b1 * yo + b2;
                int xo = 0;
                if (channels == 1 && interpolation == Interpolation.Bilinear && KernelTable.Current.Backend >= KernelBackend.Avx2 && width >= 8)
                {
                    xo = BilinearRowAvx2(src, dst.Slice(o, width), height, width, a0, rx, b0, ry, fillMode, fillValue);
                    o += xo;
                }
                for (; xo < width; xo++, o += channels)
                {
                    float sx = a0 * xo + rx, sy = b0 * xo + ry;
                    if (interpolation == Interpolation.Nearest)
                    {
                        int ix = RoundAway(sx), iy = RoundAway(sy);
                        if ((uint)ix < (uint)width && (uint)iy < (uint)height)
                            src.Slice((iy * width + ix) * channels, channels).CopyTo(dst.Slice(o, channels));
                        else
                            for (int c = 0; c < channels; c++) dst[o + c] = Read(src, ix, iy, c, height, width, channels, fillMode, fillValue);
                        continue;
                    }
                    BilinearPixel(src, dst, o, sx, sy, height, width, channels, fillMode, fillValue);
                }
            }
        }
    }

    private static void BilinearPixel(ReadOnlySpan<float> src, Span<float> dst, int o, float sx, float sy, int height, int width, int channels,
        FillMode fillMode, float fillValue)
    {
        float fx0 = MathF.Floor(sx), fy0 = MathF.Floor(sy);
        float fx = sx - fx0, fy = sy - fy0;
        int x0 = (int)fx0, y0 = (int)fy0;
        if (x0 >= 0 && y0 >= 0 && x0 + 1 < width && y0 + 1 < height && !float.IsNaN(sx) && !float.IsNaN(sy))
        {
            int p00 = (y0 * width + x0) * channels, p10 = p00 + width * channels;
            for (int c = 0; c < channels; c++)
                dst[o + c] = Blend(src[p00 + c], src[p00 + channels + c], src[p10 + c], src[p10 + channels + c], fx, fy);
        }
        else
            for (int c = 0; c < channels; c++)
                dst[o + c] = Blend(Read(src, x0, y0, c, height, width, channels, fillMode, fillValue),
                    Read(src, x0 + 1, y0, c, height, width, channels, fillMode, fillValue),
                    Read(src, x0, y0 + 1, c, height, width, channels, fillMode, fillValue),
                    Read(src, x0 + 1, y0 + 1, c, height, width, channels, fillMode, fillValue), fx, fy);
    }

    // One single-channel bilinear row: blocks of 8 output pixels whose four corners all lie inside the image are computed
    // with gathers, other blocks and the tail pixel by pixel (with the fill mode). Returns the row width.
    private static int BilinearRowAvx2(ReadOnlySpan<float> src, Span<float> dstRow, int height, int width, float a0, float rx, float b0, float ry,
        FillMode fillMode, float fillValue)
    {
        var lane = Vector256.Create(0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f);
        var va0 = Vector256.Create(a0); var vb0 = Vector256.Create(b0);
        var vrx = Vector256.Create(rx); var vry = Vector256.Create(ry);
        var one = Vector256.Create(1f);
        var maxX = Vector256.Create(width - 1); var maxY = Vector256.Create(height - 1);
        var minusOne = Vector256.Create(-1);
        var vw = Vector256.Create(width);
        int xo = 0;
        fixed (float* sp = src)
        fixed (float* dp = dstRow)
        {
            for (; xo + 8 <= width; xo += 8)
            {
                var xv = Vector256.Create((float)xo) + lane;
                var sx = Avx.Add(Avx.Multiply(va0, xv), vrx);
                var sy = Avx.Add(Avx.Multiply(vb0, xv), vry);
                var flx = Avx.Floor(sx); var fly = Avx.Floor(sy);
                var x0 = Avx.ConvertToVector256Int32WithTruncation(flx);
                var y0 = Avx.ConvertToVector256Int32WithTruncation(fly);
                // inside iff −1 < x0 < W − 1 and −1 < y0 < H − 1 (NaN converts to int.MinValue and fails)
                var ok = Avx2.And(Avx2.And(Avx2.CompareGreaterThan(x0, minusOne), Avx2.CompareGreaterThan(maxX, x0)),
                    Avx2.And(Avx2.CompareGreaterThan(y0, minusOne), Avx2.CompareGreaterThan(maxY, y0)));
                if (Avx.MoveMask(ok.AsSingle()) != 0xFF)
                {
                    for (int k = xo; k < xo + 8; k++) BilinearPixel(src, dstRow, k, a0 * k + rx, b0 * k + ry, height, width, 1, fillMode, fillValue);
                    continue;
                }
                var fx = Avx.Subtract(sx, flx); var fy = Avx.Subtract(sy, fly);
                var i00 = Avx2.Add(Avx2.MultiplyLow(y0, vw), x0);
                var i10 = Avx2.Add(i00, vw);
                var v00 = Avx2.GatherVector256(sp, i00, 4);
                var v01 = Avx2.GatherVector256(sp + 1, i00, 4);
                var v10 = Avx2.GatherVector256(sp, i10, 4);
                var v11 = Avx2.GatherVector256(sp + 1, i10, 4);
                var gx = Avx.Subtract(one, fx); var gy = Avx.Subtract(one, fy);
                var top = Avx.Add(Avx.Multiply(gx, v00), Avx.Multiply(fx, v01));
                var bottom = Avx.Add(Avx.Multiply(gx, v10), Avx.Multiply(fx, v11));
                Avx.Store(dp + xo, Avx.Add(Avx.Multiply(gy, top), Avx.Multiply(fy, bottom)));
            }
        }
        for (; xo < width; xo++) BilinearPixel(src, dstRow, xo, a0 * xo + rx, b0 * xo + ry, height, width, 1, fillMode, fillValue);
        return width;
    }

    /// <summary>Bilinear blend of the corners (x0, y0), (x0 + 1, y0), (x0, y0 + 1), (x0 + 1, y0 + 1) at fractions (fx, fy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Blend(float v00, float v01, float v10, float v11, float fx, float fy) =>
        (1f - fy) * ((1f - fx) * v00 + fx * v01) + fy * ((1f - fx) * v10 + fx * v11);

    /// <summary>Rounds half away from zero (Keras's nearest interpolation); huge or NaN coordinates map far outside.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int RoundAway(float v) => v is > -1e9f and < 1e9f ? (int)MathF.Round(v, MidpointRounding.AwayFromZero) : int.MinValue / 2;

    /// <summary>The input value at integer (ix, iy), channel c, after the fill mode maps the index into the image.</summary>
    internal static float Read(ReadOnlySpan<float> src, int ix, int iy, int c, int height, int width, int channels, FillMode mode, float fillValue)
    {
        if (mode == FillMode.Constant)
            return (uint)ix < (uint)width && (uint)iy < (uint)height ? src[(iy * width + ix) * channels + c] : fillValue;
        return src[(Fix(iy, height, mode) * width + Fix(ix, width, mode)) * channels + c];
    }

    /// <summary>Maps an integer index into [0, n): reflect (d c b a | a b c d | d c b a), wrap (a b c d | a b c d),
    /// nearest (a a | a b c d | d d). Constant is handled by the caller.</summary>
    internal static int Fix(int i, int n, FillMode mode)
    {
        if ((uint)i < (uint)n) return i;
        switch (mode)
        {
            case FillMode.Wrap:
                { int m = i % n; return m < 0 ? m + n : m; }
            case FillMode.Reflect:
                {
                    long p = 2L * n, m = i % p;
                    if (m < 0) m += p;
                    return (int)(m < n ? m : p - 1 - m);
                }
            default:
                return i < 0 ? 0 : n - 1;
        }
    }

    internal static void Check(int xLen, int yLen, int tLen, int images, int height, int width, int channels)
    {
        long need = (long)images * height * width * channels;
        if (images < 0 || height <= 0 || width <= 0 || channels <= 0 || xLen < need || yLen < need || tLen < 6L * images)
            throw new ArgumentException($"AffineWarp: ({images}, {height}, {width}, {channels}) needs {need} floats and {6L * images} transform numbers; " +
                $"got {xLen}, {yLen} and {tLen}.");
    }
}

/// <summary>Naive twin of <see cref="AffineWarp"/>: every output element sampled through the fill mode, one channel at a time.</summary>
public static class AffineWarpReference
{
    /// <summary>Same contract as <see cref="AffineWarp.Forward"/>.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int images, int height, int width, int channels,
        ReadOnlySpan<float> transforms, Interpolation interpolation, FillMode fillMode, float fillValue)
    {
        AffineWarp.Check(x.Length, y.Length, transforms.Length, images, height, width, channels);
        int img = height * width * channels;
        for (int i = 0; i < images; i++)
        for (int yo = 0; yo < height; yo++)
        for (int xo = 0; xo < width; xo++)
        for (int c = 0; c < channels; c++)
        {
            var t = transforms.Slice(i * 6, 6);
            var src = x.Slice(i * img, img);
            float sx = t[0] * xo + (t[1] * yo + t[2]), sy = t[3] * xo + (t[4] * yo + t[5]);
            float v;
            if (interpolation == Interpolation.Nearest)
                v = AffineWarp.Read(src, AffineWarp.RoundAway(sx), AffineWarp.RoundAway(sy), c, height, width, channels, fillMode, fillValue);
            else
            {
                int x0 = (int)MathF.Floor(sx), y0 = (int)MathF.Floor(sy);
                float fx = sx - MathF.Floor(sx), fy = sy - MathF.Floor(sy);
                v = AffineWarp.Blend(AffineWarp.Read(src, x0, y0, c, height, width, channels, fillMode, fillValue),
                    AffineWarp.Read(src, x0 + 1, y0, c, height, width, channels, fillMode, fillValue),
                    AffineWarp.Read(src, x0, y0 + 1, c, height, width, channels, fillMode, fillValue),
                    AffineWarp.Read(src, x0 + 1, y0 + 1, c, height, width, channels, fillMode, fillValue), fx, fy);
            }
            y[i * img + (yo * width + xo) * channels + c] = v;
        }
    }
}
