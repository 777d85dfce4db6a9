using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConvNet.Kernels;

/// <summary>
/// Counter-based dropout masks: element <c>i</c> of a call with key <c>k</c> is kept iff <c>Hash(k, i) ≥ rate·2³²</c>, so a mask
/// is a pure function of (key, index) — reproducible, independent of threading, generated in SIMD registers and never stored
/// (the backward pass regenerates it). Hash: the index is mixed with the key's two halves and finished with MurmurHash3's
/// 32-bit finaliser. Kept elements are scaled by 1/(1 − rate) (inverted dropout). Naive twin: <see cref="DropoutMaskReference"/>.
/// </summary>
public static class DropoutMask
{
    /// <summary>A per-call key from a seed and a call counter (SplitMix64).</summary>
    public static ulong Key(long seed, long call)
    {
        ulong z = (ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)call * 0xD1B54A32D192ED03UL + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The keep threshold: an element is kept iff its hash ≥ this (P = 1 − rate up to 2⁻³²).</summary>
    public static uint Threshold(float rate) => (uint)Math.Min(rate * 4294967296.0, uint.MaxValue);

    /// <summary>The 32-bit hash of element <paramref name="index"/> under <paramref name="key"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Hash(ulong key, uint index)
    {
        uint h = (index ^ (uint)key) * 0x9E3779B1u + (uint)(key >> 32);
        h ^= h >> 16; h *= 0x85EBCA6Bu; h ^= h >> 13; h *= 0xC2B2AE35u; h ^= h >> 16;
        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<uint> Hash(ulong key, Vector<uint> index)
    {
        var h = (index ^ new Vector<uint>((uint)key)) * new Vector<uint>(0x9E3779B1u) + new Vector<uint>((uint)(key >> 32));
        h ^= Vector.ShiftRightLogical(h, 16); h *= new Vector<uint>(0x85EBCA6Bu);
        h ^= Vector.ShiftRightLogical(h, 13); h *= new Vector<uint>(0xC2B2AE35u);
        return h ^ Vector.ShiftRightLogical(h, 16);
    }

    /// <summary>y[i] = x[i]/(1 − rate) where element <c>offset + i</c> is kept, else 0 (y may be x). The same call on dy gives dx.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y, ulong key, long offset, float rate)
    {
        Activations.CheckSame(x.Length, y.Length, nameof(Apply));
        CheckRate(rate);
        uint t = Threshold(rate);
        float scale = 1f / (1f - rate);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int V = Vector<uint>.Count, i = 0, n = x.Length;
        var lane = Vector<uint>.Indices;
        var tv = new Vector<uint>(t);
        var sv = new Vector<float>(scale);
        for (; i + V <= n; i += V)
        {
            var keep = Vector.GreaterThanOrEqual(Hash(key, lane + new Vector<uint>((uint)(offset + i))), tv);
            var v = Vector.LoadUnsafe(ref xr, (nuint)i) * sv;
            Vector.StoreUnsafe(Vector.ConditionalSelect(keep.As<uint, float>(), v, Vector<float>.Zero), ref yr, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref yr, i) = Hash(key, (uint)(offset + i)) >= t ? Unsafe.Add(ref xr, i) * scale : 0f;
    }

    /// <summary>Spatial dropout over NHWC: one decision per (image, channel), element <c>(firstImage + n)·C + c</c> of the key;
    /// y[n, p, c] = x[n, p, c]/(1 − rate) or 0 for all pixels p. <paramref name="scratch"/> holds ≥ C floats.</summary>
    public static void ApplyPerChannel(ReadOnlySpan<float> x, Span<float> y, int images, int pixels, int channels, ulong key, long firstImage, float rate, Span<float> scratch)
    {
        long len = (long)images * pixels * channels;
        if (x.Length < len || y.Length < len || scratch.Length < channels)
            throw new ArgumentException($"{nameof(ApplyPerChannel)}: ({images}, {pixels}, {channels}) needs {len} elements and {channels} scratch; spans have {x.Length}, {y.Length} and {scratch.Length}.");
        CheckRate(rate);
        var m = scratch[..channels];
        for (int n = 0; n < images; n++)
        {
            m.Fill(1f);
            Apply(m, m, key, (firstImage + n) * channels, rate);
            for (int p = 0; p < pixels; p++)
            {
                int o = (n * pixels + p) * channels;
                System.Numerics.Tensors.TensorPrimitives.Multiply(x.Slice(o, channels), m, y.Slice(o, channels));
            }
        }
    }

    internal static void CheckRate(float rate)
    {
        if (!(rate >= 0f && rate < 1f)) throw new ArgumentOutOfRangeException(nameof(rate), $"Dropout rate must be in [0, 1), got {rate}.");
    }
}

/// <summary>Naive twin of <see cref="DropoutMask"/>: the definition, one element at a time.</summary>
public static class DropoutMaskReference
{
    /// <summary>y[i] = x[i]/(1 − rate) if Hash(key, offset + i) ≥ rate·2³², else 0.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y, ulong key, long offset, float rate)
    {
        for (int i = 0; i < x.Length; i++)
            y[i] = DropoutMask.Hash(key, (uint)(offset + i)) >= DropoutMask.Threshold(rate) ? x[i] * (1f / (1f - rate)) : 0f;
    }

    /// <summary>One decision per (image, channel) as <see cref="DropoutMask.ApplyPerChannel"/>.</summary>
    public static void ApplyPerChannel(ReadOnlySpan<float> x, Span<float> y, int images, int pixels, int channels, ulong key, long firstImage, float rate, Span<float> scratch)
    {
        for (int n = 0; n < images; n++)
        for (int p = 0; p < pixels; p++)
        for (int c = 0; c < channels; c++)
        {
            int i = (n * pixels + p) * channels + c;
            bool keep = DropoutMask.Hash(key, (uint)((firstImage + n) * channels + c)) >= DropoutMask.Threshold(rate);
            y[i] = keep ? x[i] * (1f / (1f - rate)) : 0f;
        }
    }
}
