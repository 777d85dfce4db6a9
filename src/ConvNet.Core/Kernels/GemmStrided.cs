using System.Numerics;
using System.Runtime.CompilerServices;

namespace ConvNet.Kernels;

/// <summary>
/// C[M×N] += A[M×K] · B[K×N] with explicit row strides, for a column slice B[:, j0..j1) (a Dense layer's share of output
/// units): B is read from memory once, in slices of 256 rows that stay in cache across the tiles of up to 4 rows of A.
/// Each element sums in the order of <see cref="Gemm.GemmNN"/> (on AVX2, slices of 256 of the reduction, each an FMA chain
/// from 0 added to C), so a Dense layer gives bit-identical results either way. Naive twin: <see cref="GemmStridedReference"/>.
/// </summary>
internal static unsafe class GemmStrided
{
    // GemmAvx2.KcNN (256) where Gemm.GemmNN runs GemmAvx2; its portable loop sums the whole reduction in one chain.
    private static readonly int Kc = KernelTable.Current.Backend != KernelBackend.Portable ? 256 : int.MaxValue;

    /// <summary>C[i, j] += Σ_p A[i, p]·B[p, j]; rows of A, B, C are lda, ldb, ldc apart.</summary>
    public static void NN(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc)
    {
        Check(m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0 || k == 0) return;
        fixed (float* ap = a) fixed (float* bp = b) fixed (float* cp = c)
            for (int p0 = 0; p0 < k; p0 += Math.Min(Kc, k - p0))   // a slice of B stays in cache across the row tiles
                for (int i = 0; i < m; i += 4)
                    Tile(Math.Min(4, m - i), n, Math.Min(Kc, k - p0), ap + (nint)i * lda + p0, lda, bp + (nint)p0 * ldb, ldb, cp + (nint)i * ldc, ldc);
    }

    internal static void Check(int m, int n, int k, int aLen, int lda, int bLen, int ldb, int cLen, int ldc)
    {
        if (m < 0 || n < 0 || k < 0 || lda < k || ldb < n || ldc < n) throw new ArgumentException($"{nameof(GemmStrided)}: invalid sizes {m}×{n}×{k}, strides {lda}/{ldb}/{ldc}.");
        if (m == 0 || n == 0 || k == 0) return;
        if (aLen < (long)(m - 1) * lda + k || bLen < (long)(k - 1) * ldb + n || cLen < (long)(m - 1) * ldc + n)
            throw new ArgumentException($"{nameof(GemmStrided)}: a span is too short for {m}×{n}×{k}.");
    }

    // Up to 4 rows × all columns: blocks of 4 vectors, then single vectors, then scalars.
    private static void Tile(int r, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        int v = Vector<float>.Count, j = 0;
        for (; j <= n - 4 * v; j += 4 * v) Block4(r, k, a, lda, b + j, ldb, c + j, ldc);
        for (; j <= n - v; j += v) Block1(r, k, a, lda, b + j, ldb, c + j, ldc);
        for (; j < n; j++)
            for (int i = 0; i < r; i++)
            {
                float s = 0;
                for (int p = 0; p < k; p++) s = MathF.FusedMultiplyAdd(a[(nint)i * lda + p], b[(nint)p * ldb + j], s);
                c[(nint)i * ldc + j] += s;
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4(int r, int k, float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        int v = Vector<float>.Count;
        Vector<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector<float> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        float* a1 = a + (r > 1 ? lda : 0), a2 = a + (r > 2 ? 2 * lda : 0), a3 = a + (r > 3 ? 3 * lda : 0);
        for (int p = 0; p < k; p++)
        {
            float* bp = b + (nint)p * ldb;
            var b0 = Unsafe.ReadUnaligned<Vector<float>>(bp);
            var b1 = Unsafe.ReadUnaligned<Vector<float>>(bp + v);
            var b2 = Unsafe.ReadUnaligned<Vector<float>>(bp + 2 * v);
            var b3 = Unsafe.ReadUnaligned<Vector<float>>(bp + 3 * v);
            var x0 = new Vector<float>(a[p]);
            c00 = Vector.FusedMultiplyAdd(x0, b0, c00); c01 = Vector.FusedMultiplyAdd(x0, b1, c01);
            c02 = Vector.FusedMultiplyAdd(x0, b2, c02); c03 = Vector.FusedMultiplyAdd(x0, b3, c03);
            if (r > 1)
            {
                var x1 = new Vector<float>(a1[p]);
                c10 = Vector.FusedMultiplyAdd(x1, b0, c10); c11 = Vector.FusedMultiplyAdd(x1, b1, c11);
                c12 = Vector.FusedMultiplyAdd(x1, b2, c12); c13 = Vector.FusedMultiplyAdd(x1, b3, c13);
            }
            if (r > 2)
            {
                var x2 = new Vector<float>(a2[p]);
                c20 = Vector.FusedMultiplyAdd(x2, b0, c20); c21 = Vector.FusedMultiplyAdd(x2, b1, c21);
                c22 = Vector.FusedMultiplyAdd(x2, b2, c22); c23 = Vector.FusedMultiplyAdd(x2, b3, c23);
            }
            if (r > 3)
            {
                var x3 = new Vector<float>(a3[p]);
                c30 = Vector.FusedMultiplyAdd(x3, b0, c30); c31 = Vector.FusedMultiplyAdd(x3, b1, c31);
                c32 = Vector.FusedMultiplyAdd(x3, b2, c32); c33 = Vector.FusedMultiplyAdd(x3, b3, c33);
            }
        }
        Add(c, v, c00, c01, c02, c03);
        if (r > 1) Add(c + ldc, v, c10, c11, c12, c13);
        if (r > 2) Add(c + 2 * (nint)ldc, v, c20, c21, c22, c23);
        if (r > 3) Add(c + 3 * (nint)ldc, v, c30, c31, c32, c33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add(float* c, int v, Vector<float> s0, Vector<float> s1, Vector<float> s2, Vector<float> s3)
    {
        Unsafe.WriteUnaligned(c, Unsafe.ReadUnaligned<Vector<float>>(c) + s0);
        Unsafe.WriteUnaligned(c + v, Unsafe.ReadUnaligned<Vector<float>>(c + v) + s1);
        Unsafe.WriteUnaligned(c + 2 * v, Unsafe.ReadUnaligned<Vector<float>>(c + 2 * v) + s2);
        Unsafe.WriteUnaligned(c + 3 * v, Unsafe.ReadUnaligned<Vector<float>>(c + 3 * v) + s3);
    }

    private static void Block1(int r, int k, float* a, int lda, float* b, int ldb, float* c, int ldc)
    {
        for (int i = 0; i < r; i++)
        {
            Vector<float> s = default;
            float* ai = a + (nint)i * lda;
            for (int p = 0; p < k; p++) s = Vector.FusedMultiplyAdd(new Vector<float>(ai[p]), Unsafe.ReadUnaligned<Vector<float>>(b + (nint)p * ldb), s);
            float* ci = c + (nint)i * ldc;
            Unsafe.WriteUnaligned(ci, Unsafe.ReadUnaligned<Vector<float>>(ci) + s);
        }
    }
}

/// <summary>Naive twin of <see cref="GemmStrided"/>.</summary>
internal static class GemmStridedReference
{
    /// <summary>See <see cref="GemmStrided.NN"/>.</summary>
    public static void NN(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc)
    {
        GemmStrided.Check(m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int p = 0; p < k; p++) s += a[i * lda + p] * b[p * ldb + j];
                c[i * ldc + j] += s;
            }
    }
}
