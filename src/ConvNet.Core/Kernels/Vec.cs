using System.Numerics;
using System.Runtime.CompilerServices;

namespace ConvNet.Kernels;

/// <summary>Small <see cref="Vector{T}"/> building blocks shared by the kernels (no bounds checks: callers validate).</summary>
internal static class Vec
{
    /// <summary>dst[0..n) += a · src[0..n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(float a, ref float src, ref float dst, int n)
    {
        int V = Vector<float>.Count, i = 0;
        var av = new Vector<float>(a);
        for (; i + V <= n; i += V)
            Vector.StoreUnsafe(Vector.FusedMultiplyAdd(av, Vector.LoadUnsafe(ref src, (nuint)i), Vector.LoadUnsafe(ref dst, (nuint)i)), ref dst, (nuint)i);
        for (; i < n; i++)
            Unsafe.Add(ref dst, i) = MathF.FusedMultiplyAdd(a, Unsafe.Add(ref src, i), Unsafe.Add(ref dst, i));
    }

    /// <summary>Σ a[i]·b[i] over [0..n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ref float a, ref float b, int n)
    {
        int V = Vector<float>.Count, i = 0;
        var acc = Vector<float>.Zero;
        for (; i + V <= n; i += V)
            acc = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref a, (nuint)i), Vector.LoadUnsafe(ref b, (nuint)i), acc);
        float s = Vector.Sum(acc);
        for (; i < n; i++) s = MathF.FusedMultiplyAdd(Unsafe.Add(ref a, i), Unsafe.Add(ref b, i), s);
        return s;
    }

    /// <summary>dst[0..n) += src[0..n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add(ref float src, ref float dst, int n)
    {
        int V = Vector<float>.Count, i = 0;
        for (; i + V <= n; i += V)
            Vector.StoreUnsafe(Vector.LoadUnsafe(ref src, (nuint)i) + Vector.LoadUnsafe(ref dst, (nuint)i), ref dst, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref dst, i) += Unsafe.Add(ref src, i);
    }
}
