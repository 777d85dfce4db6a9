using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ConvNet.Kernels;

/// <summary>
/// The per-channel epilogue of a fused inference convolution, applied to a band of output pixels while it is in cache:
/// <c>dst[p, j] = act(src[p, j]·scale[j] + shift[j] + residual[p, j])</c> for p &lt; pixels, j &lt; channels, act = ReLU or
/// identity. Empty scale = 1, empty shift = 0, empty residual = 0. Rows are strided (src may be a packed channel group,
/// dst and residual the full tensor); src may equal dst. Naive twin: <see cref="ConvEpilogueReference"/>.
/// </summary>
internal static unsafe class ConvEpilogue
{
    /// <summary>Applies the epilogue (see the class remarks).</summary>
    public static void Apply(int pixels, int channels, ReadOnlySpan<float> src, int srcStride, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        ReadOnlySpan<float> residual, bool relu, Span<float> dst, int dstStride)
    {
        Check(pixels, channels, src.Length, srcStride, scale.Length, shift.Length, residual.Length, dst.Length, dstStride);
        if (pixels == 0 || channels == 0) return;
        fixed (float* s = src) fixed (float* sc = scale) fixed (float* sh = shift) fixed (float* r = residual) fixed (float* d = dst)
        {
            float* scp = scale.IsEmpty ? null : sc, shp = shift.IsEmpty ? null : sh, rp = residual.IsEmpty ? null : r;
            for (int p = 0; p < pixels; p++)
                Row(channels, s + (nint)p * srcStride, scp, shp, rp == null ? null : rp + (nint)p * dstStride, relu, d + (nint)p * dstStride);
        }
    }

    internal static void Check(int pixels, int channels, int srcLen, int srcStride, int scaleLen, int shiftLen, int resLen, int dstLen, int dstStride)
    {
        if (pixels < 0 || channels < 0 || srcStride < channels || dstStride < channels)
            throw new ArgumentException($"{nameof(ConvEpilogue)}: invalid shape {pixels}×{channels}, strides {srcStride}/{dstStride}.");
        if (pixels == 0) return;
        long srcNeed = (long)(pixels - 1) * srcStride + channels, dstNeed = (long)(pixels - 1) * dstStride + channels;
        if (srcLen < srcNeed || dstLen < dstNeed) throw new ArgumentException($"{nameof(ConvEpilogue)}: src/dst spans too short.");
        if ((scaleLen != 0 && scaleLen < channels) || (shiftLen != 0 && shiftLen < channels)) throw new ArgumentException($"{nameof(ConvEpilogue)}: scale/shift too short.");
        if (resLen != 0 && resLen < dstNeed) throw new ArgumentException($"{nameof(ConvEpilogue)}: residual span too short.");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(int n, float* s, float* sc, float* sh, float* r, bool relu, float* d)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; j <= n - 16; j += 16)
            {
                var v = Vector512.Load(s + j);
                if (sc != null) v *= Vector512.Load(sc + j);
                if (sh != null) v += Vector512.Load(sh + j);
                if (r != null) v += Vector512.Load(r + j);
                if (relu) v = Vector512.Max(v, Vector512<float>.Zero);
                v.Store(d + j);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; j <= n - 8; j += 8)
            {
                var v = Vector256.Load(s + j);
                if (sc != null) v *= Vector256.Load(sc + j);
                if (sh != null) v += Vector256.Load(sh + j);
                if (r != null) v += Vector256.Load(r + j);
                if (relu) v = Vector256.Max(v, Vector256<float>.Zero);
                v.Store(d + j);
            }
        for (; j < n; j++)
        {
            float v = s[j];
            if (sc != null) v *= sc[j];
            if (sh != null) v += sh[j];
            if (r != null) v += r[j];
            if (relu) v = MathF.Max(v, 0f);
            d[j] = v;
        }
    }
}

/// <summary>Naive twin of <see cref="ConvEpilogue"/>.</summary>
internal static class ConvEpilogueReference
{
    /// <summary>See <see cref="ConvEpilogue.Apply"/>.</summary>
    public static void Apply(int pixels, int channels, ReadOnlySpan<float> src, int srcStride, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        ReadOnlySpan<float> residual, bool relu, Span<float> dst, int dstStride)
    {
        ConvEpilogue.Check(pixels, channels, src.Length, srcStride, scale.Length, shift.Length, residual.Length, dst.Length, dstStride);
        for (int p = 0; p < pixels; p++)
            for (int j = 0; j < channels; j++)
            {
                float v = src[p * srcStride + j];
                if (!scale.IsEmpty) v *= scale[j];
                if (!shift.IsEmpty) v += shift[j];
                if (!residual.IsEmpty) v += residual[p * dstStride + j];
                if (relu) v = MathF.Max(v, 0f);
                dst[p * dstStride + j] = v;
            }
    }
}
