using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConvNet.Kernels;

/// <summary>
/// The portable <see cref="Vector{T}"/> GEMM verbs (register tiles of 4 rows × 2 vectors): the <see cref="KernelBackend.Portable"/>
/// entries of the <see cref="KernelTable"/>. Same contracts as <see cref="Gemm"/>; callers validated every length.
/// </summary>
internal static unsafe class GemmPortable
{
    /// <summary>C[M×N] += A[M×K] · B[K×N].</summary>
    public static void NN(int m, int n, int k, float* a, float* b, float* c) => NN(m, n, k, new ReadOnlySpan<float>(a, m * k), new ReadOnlySpan<float>(b, k * n), new Span<float>(c, m * n));

    /// <summary>C[M×N] += A[M×K] · B[N×K]ᵀ.</summary>
    public static void NT(int m, int n, int k, float* a, float* b, float* c) => NT(m, n, k, new ReadOnlySpan<float>(a, m * k), new ReadOnlySpan<float>(b, n * k), new Span<float>(c, m * n));

    /// <summary>C[M×N] += A[K×M]ᵀ · B[K×N], rows of A <paramref name="lda"/> apart.</summary>
    public static void TN(int m, int n, int k, float* a, int lda, float* b, float* c) =>
        TN(m, n, k, new ReadOnlySpan<float>(a, k == 0 ? 0 : (k - 1) * lda + m), lda, new ReadOnlySpan<float>(b, k * n), new Span<float>(c, m * n));

    private static void NN(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c)
    {
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float br = ref MemoryMarshal.GetReference(b);
        ref float cr = ref MemoryMarshal.GetReference(c);
        int V = Vector<float>.Count, i = 0;
        for (; i + 4 <= m; i += 4)
        {
            ref float a0 = ref Unsafe.Add(ref ar, i * k);
            ref float a1 = ref Unsafe.Add(ref a0, k);
            ref float a2 = ref Unsafe.Add(ref a1, k);
            ref float a3 = ref Unsafe.Add(ref a2, k);
            int j = 0;
            for (; j + 2 * V <= n; j += 2 * V)
            {
                Vector<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
                for (int p = 0; p < k; p++)
                {
                    ref float bp = ref Unsafe.Add(ref br, p * n + j);
                    var b0 = Vector.LoadUnsafe(ref bp);
                    var b1 = Vector.LoadUnsafe(ref bp, (nuint)V);
                    var x = new Vector<float>(Unsafe.Add(ref a0, p)); c00 = Vector.FusedMultiplyAdd(x, b0, c00); c01 = Vector.FusedMultiplyAdd(x, b1, c01);
                    x = new Vector<float>(Unsafe.Add(ref a1, p)); c10 = Vector.FusedMultiplyAdd(x, b0, c10); c11 = Vector.FusedMultiplyAdd(x, b1, c11);
                    x = new Vector<float>(Unsafe.Add(ref a2, p)); c20 = Vector.FusedMultiplyAdd(x, b0, c20); c21 = Vector.FusedMultiplyAdd(x, b1, c21);
                    x = new Vector<float>(Unsafe.Add(ref a3, p)); c30 = Vector.FusedMultiplyAdd(x, b0, c30); c31 = Vector.FusedMultiplyAdd(x, b1, c31);
                }
                AddStore(ref cr, i * n + j, V, c00, c01);
                AddStore(ref cr, (i + 1) * n + j, V, c10, c11);
                AddStore(ref cr, (i + 2) * n + j, V, c20, c21);
                AddStore(ref cr, (i + 3) * n + j, V, c30, c31);
            }
            if (j < n) for (int r = 0; r < 4; r++) RowTail(ref Unsafe.Add(ref ar, (i + r) * k), ref br, ref Unsafe.Add(ref cr, (i + r) * n), n, k, j);
        }
        for (; i < m; i++) RowTail(ref Unsafe.Add(ref ar, i * k), ref br, ref Unsafe.Add(ref cr, i * n), n, k, 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddStore(ref float c, int at, int v, Vector<float> x0, Vector<float> x1)
    {
        ref float p = ref Unsafe.Add(ref c, at);
        Vector.StoreUnsafe(Vector.LoadUnsafe(ref p) + x0, ref p);
        Vector.StoreUnsafe(Vector.LoadUnsafe(ref p, (nuint)v) + x1, ref p, (nuint)v);
    }

    // c[j0..n) += Σ_p a[p] · B[p, j0..n): one row, axpy per p.
    private static void RowTail(ref float a, ref float b, ref float c, int n, int k, int j0)
    {
        for (int p = 0; p < k; p++)
            Vec.Axpy(Unsafe.Add(ref a, p), ref Unsafe.Add(ref b, p * n + j0), ref Unsafe.Add(ref c, j0), n - j0);
    }

    private static void NT(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c)
    {
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float br = ref MemoryMarshal.GetReference(b);
        ref float cr = ref MemoryMarshal.GetReference(c);
        int V = Vector<float>.Count;
        for (int i = 0; i < m; i++)
        {
            ref float ai = ref Unsafe.Add(ref ar, i * k);
            int j = 0;
            // Four dot products at a time share the loads of row i of A.
            for (; j + 4 <= n; j += 4)
            {
                ref float b0 = ref Unsafe.Add(ref br, j * k);
                ref float b1 = ref Unsafe.Add(ref b0, k);
                ref float b2 = ref Unsafe.Add(ref b1, k);
                ref float b3 = ref Unsafe.Add(ref b2, k);
                Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
                int p = 0;
                for (; p + V <= k; p += V)
                {
                    var x = Vector.LoadUnsafe(ref ai, (nuint)p);
                    s0 = Vector.FusedMultiplyAdd(x, Vector.LoadUnsafe(ref b0, (nuint)p), s0);
                    s1 = Vector.FusedMultiplyAdd(x, Vector.LoadUnsafe(ref b1, (nuint)p), s1);
                    s2 = Vector.FusedMultiplyAdd(x, Vector.LoadUnsafe(ref b2, (nuint)p), s2);
                    s3 = Vector.FusedMultiplyAdd(x, Vector.LoadUnsafe(ref b3, (nuint)p), s3);
                }
                float t0 = Vector.Sum(s0), t1 = Vector.Sum(s1), t2 = Vector.Sum(s2), t3 = Vector.Sum(s3);
                for (; p < k; p++)
                {
                    float x = Unsafe.Add(ref ai, p);
                    t0 += x * Unsafe.Add(ref b0, p); t1 += x * Unsafe.Add(ref b1, p);
                    t2 += x * Unsafe.Add(ref b2, p); t3 += x * Unsafe.Add(ref b3, p);
                }
                ref float ci = ref Unsafe.Add(ref cr, i * n + j);
                ci += t0; Unsafe.Add(ref ci, 1) += t1; Unsafe.Add(ref ci, 2) += t2; Unsafe.Add(ref ci, 3) += t3;
            }
            for (; j < n; j++) Unsafe.Add(ref cr, i * n + j) += Vec.Dot(ref ai, ref Unsafe.Add(ref br, j * k), k);
        }
    }

    private static void TN(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, Span<float> c)
    {
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float br = ref MemoryMarshal.GetReference(b);
        ref float cr = ref MemoryMarshal.GetReference(c);
        for (int i = 0; i < m; i++)
        {
            ref float ci = ref Unsafe.Add(ref cr, i * n);
            for (int p = 0; p < k; p++)
            {
                float x = Unsafe.Add(ref ar, p * lda + i);
                if (x != 0f) Vec.Axpy(x, ref Unsafe.Add(ref br, p * n), ref ci, n);
            }
        }
    }
}
