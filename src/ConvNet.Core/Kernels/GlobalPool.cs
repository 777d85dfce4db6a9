using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConvNet.Kernels;

/// <summary>Global max pooling over the pixels of NHWC images (vectorised over channels, indices tracked in a parallel
/// <see cref="Vector{T}"/> of ints). Ties pick the first pixel, as <see cref="Pool.MaxPoolForward"/> does. Naive twin: <see cref="GlobalPoolReference"/>.</summary>
public static class GlobalPool
{
    /// <summary>y[n, c] = max_p x[n, p, c]; argmax[n, c] = the first p that attains it.</summary>
    public static void GlobalMaxPoolForward(int images, int pixels, int channels, ReadOnlySpan<float> x, Span<float> y, Span<int> argmax)
    {
        Check(images, pixels, channels, x.Length, y.Length, argmax.Length, nameof(GlobalMaxPoolForward));
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref int ar = ref MemoryMarshal.GetReference(argmax);
        int V = Vector<float>.Count;
        for (int n = 0; n < images; n++)
        {
            ref float img = ref Unsafe.Add(ref xr, n * pixels * channels);
            int c = 0, o = n * channels;
            for (; c + V <= channels; c += V)
            {
                var best = Vector.LoadUnsafe(ref img, (nuint)c);
                var idx = Vector<int>.Zero;
                for (int p = 1; p < pixels; p++)
                {
                    var v = Vector.LoadUnsafe(ref img, (nuint)(p * channels + c));
                    var gt = Vector.GreaterThan(v, best);
                    best = Vector.ConditionalSelect(gt, v, best);
                    idx = Vector.ConditionalSelect(gt, new Vector<int>(p), idx);
                }
                Vector.StoreUnsafe(best, ref yr, (nuint)(o + c));
                Vector.StoreUnsafe(idx, ref ar, (nuint)(o + c));
            }
            for (; c < channels; c++)
            {
                float best = Unsafe.Add(ref img, c); int bi = 0;
                for (int p = 1; p < pixels; p++) { float v = Unsafe.Add(ref img, p * channels + c); if (v > best) { best = v; bi = p; } }
                Unsafe.Add(ref yr, o + c) = best; Unsafe.Add(ref ar, o + c) = bi;
            }
        }
    }

    /// <summary>dx[n, argmax[n, c], c] += dy[n, c].</summary>
    public static void GlobalMaxPoolBackward(int images, int pixels, int channels, ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx)
    {
        Check(images, pixels, channels, dx.Length, dy.Length, argmax.Length, nameof(GlobalMaxPoolBackward));
        for (int n = 0; n < images; n++)
        for (int c = 0; c < channels; c++)
        {
            int p = argmax[n * channels + c];
            if ((uint)p >= (uint)pixels) throw new ArgumentException($"{nameof(GlobalMaxPoolBackward)}: argmax {p} outside [0, {pixels}).");
            dx[(n * pixels + p) * channels + c] += dy[n * channels + c];
        }
    }

    private static void Check(int images, int pixels, int channels, int xLen, int yLen, int aLen, string kernel)
    {
        if (images < 0 || pixels <= 0 || channels <= 0 || xLen < (long)images * pixels * channels || yLen < (long)images * channels || aLen < (long)images * channels)
            throw new ArgumentException($"{kernel}: ({images}, {pixels}, {channels}) needs {(long)images * pixels * channels} inputs and {(long)images * channels} outputs; spans have {xLen}, {yLen} and {aLen}.");
    }
}

/// <summary>Naive twin of <see cref="GlobalPool"/>.</summary>
public static class GlobalPoolReference
{
    /// <summary>y[n, c] = max_p x[n, p, c]; argmax = the first such p.</summary>
    public static void GlobalMaxPoolForward(int images, int pixels, int channels, ReadOnlySpan<float> x, Span<float> y, Span<int> argmax)
    {
        for (int n = 0; n < images; n++)
        for (int c = 0; c < channels; c++)
        {
            int bi = 0;
            for (int p = 1; p < pixels; p++) if (x[(n * pixels + p) * channels + c] > x[(n * pixels + bi) * channels + c]) bi = p;
            y[n * channels + c] = x[(n * pixels + bi) * channels + c];
            argmax[n * channels + c] = bi;
        }
    }

    /// <summary>dx[n, argmax[n, c], c] += dy[n, c].</summary>
    public static void GlobalMaxPoolBackward(int images, int pixels, int channels, ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx)
    {
        for (int n = 0; n < images; n++)
        for (int c = 0; c < channels; c++)
            dx[(n * pixels + argmax[n * channels + c]) * channels + c] += dy[n * channels + c];
    }
}
