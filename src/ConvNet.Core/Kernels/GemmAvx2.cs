using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static ConvNet.Kernels.ConvAvx2;

namespace ConvNet.Kernels;

/// <summary>
/// AVX2 + FMA register-tiled GEMM verbs behind <see cref="Gemm"/> (row-major, every verb accumulates into C; callers
/// validated all lengths). Tile shapes are compile-time struct type arguments (shared with <see cref="ConvAvx2"/>), so
/// each instantiation is specialised and unrolled by the JIT:
/// <list type="bullet">
/// <item>NN and TN: up to 6 rows of C × 16 columns (12 Vector256 accumulators), broadcasting A and loading two
/// vectors of a row of B per step of the reduction; column tails as one 8-wide or one masked vector.
/// NN blocks the reduction in slices of <see cref="KcNN"/> so a B panel slice stays in L1 across the row tiles.</item>
/// <item>NT: dot products along K, 3 rows of A × 4 rows of B (12 accumulators), reduced with horizontal adds
/// straight into four adjacent elements of C; the K tail uses masked loads.</item>
/// </list>
/// </summary>
internal static unsafe class GemmAvx2
{

    /// <summary>Reduction slice of <see cref="NN"/> (B slice 16 KB per 16-column panel).</summary>
    private const int KcNN = 256;

    private static Vector256<float> Mask(int rem) =>
        Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(rem)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Ld<TK>(float* p, Vector256<float> mask) where TK : struct, IKBlock
        => TK.Masked ? Avx.MaskLoad(p, mask) : Avx.LoadVector256(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo<TK>(float* p, Vector256<float> v0, Vector256<float> v1, Vector256<float> mask) where TK : struct, IKBlock
    {
        if (TK.Masked) Avx.MaskStore(p, mask, Avx.Add(Avx.MaskLoad(p, mask), v0));
        else Avx.Store(p, Avx.Add(Avx.LoadVector256(p), v0));
        if (TK.Two) Avx.Store(p + 8, Avx.Add(Avx.LoadVector256(p + 8), v1));
    }

    private static int RowTile(int cnt) => cnt >= 10 || cnt == 6 ? 6 : cnt >= 7 ? 4 : cnt;

    // =====================================================================================================
    // NN and TN: C[i, j] += Σ_p A(i, p) · B[p, j] where A(i, p) = a[i·ars + p·aps]
    // =====================================================================================================

    /// <summary>C[M×N] += A[M×K] · B[K×N].</summary>
    public static void NN(int m, int n, int k, float* a, float* b, float* c)
    {
        for (int p0 = 0; p0 < k; p0 += KcNN)
        {
            int kc = Math.Min(KcNN, k - p0);
            Sweep(m, n, kc, a + p0, k, 1, b + (nint)p0 * n, c);
        }
    }

    /// <summary>C[M×N] += A[K×M]ᵀ · B[K×N]; rows of A are <paramref name="lda"/> apart.</summary>
    public static void TN(int m, int n, int k, float* a, int lda, float* b, float* c)
    {
        if (k == 0) return;
        // Row tiles outermost: A[:, i..i+6] (k cache lines) stays in L1 while every column block of B sweeps it.
        for (int i = 0; i < m;)
        {
            int r = RowTile(m - i);
            Sweep(r, n, k, a + i, 1, lda, b, c + (nint)i * n);
            i += r;
        }
    }

    /// <summary>All column blocks × row tiles of C[m×n] += Σ_{p &lt; kc} A(i, p)·B[p, :] (B rows n apart).</summary>
    private static void Sweep(int m, int n, int kc, float* a, nint ars, nint aps, float* b, float* c)
    {
        for (int j = 0; j < n;)
        {
            int rem = n - j;
            if (rem >= 16) { Rows<KB16>(m, n, kc, a, ars, aps, b + j, c + j, default); j += 16; }
            else if (rem >= 8) { Rows<KB8>(m, n, kc, a, ars, aps, b + j, c + j, default); j += 8; }
            else { Rows<KBM>(m, n, kc, a, ars, aps, b + j, c + j, Mask(rem)); j = n; }
        }
    }

    private static void Rows<TK>(int m, int n, int kc, float* a, nint ars, nint aps, float* b, float* c, Vector256<float> mask) where TK : struct, IKBlock
    {
        for (int i = 0; i < m;)
        {
            int r = RowTile(m - i);
            float* ai = a + i * ars, ci = c + (nint)i * n;
            switch (r)
            {
                case 6: Tile<R6, TK>(ai, ars, aps, b, n, kc, ci, n, mask); break;
                case 5: Tile<R5, TK>(ai, ars, aps, b, n, kc, ci, n, mask); break;
                case 4: Tile<R4, TK>(ai, ars, aps, b, n, kc, ci, n, mask); break;
                case 3: Tile<R3, TK>(ai, ars, aps, b, n, kc, ci, n, mask); break;
                case 2: Tile<R2, TK>(ai, ars, aps, b, n, kc, ci, n, mask); break;
                default: Tile<R1, TK>(ai, ars, aps, b, n, kc, ci, n, mask); break;
            }
            i += r;
        }
    }

    /// <summary>C[r, :blk] += Σ_{p &lt; kc} a[r·ars + p·aps] · b[p·ldb + :blk] for r &lt; R.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TR, TK>(float* a, nint ars, nint aps, float* b, nint ldb, int kc, float* c, nint ldc, Vector256<float> mask)
        where TR : struct, IRows where TK : struct, IKBlock
    {
        int R = TR.R; bool two = TK.Two;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
                         c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        float* a0 = a, a1 = a + ars, a2 = a1 + ars, a3 = a2 + ars, a4 = a3 + ars, a5 = a4 + ars;
        for (int p = 0; p < kc; p++, b += ldb)
        {
            var b0 = Ld<TK>(b, mask);
            var b1 = two ? Avx.LoadVector256(b + 8) : default;
            nint q = p * aps;
            var x = Vector256.Create(a0[q]); c00 = Fma.MultiplyAdd(x, b0, c00); if (two) c01 = Fma.MultiplyAdd(x, b1, c01);
            if (R > 1) { x = Vector256.Create(a1[q]); c10 = Fma.MultiplyAdd(x, b0, c10); if (two) c11 = Fma.MultiplyAdd(x, b1, c11); }
            if (R > 2) { x = Vector256.Create(a2[q]); c20 = Fma.MultiplyAdd(x, b0, c20); if (two) c21 = Fma.MultiplyAdd(x, b1, c21); }
            if (R > 3) { x = Vector256.Create(a3[q]); c30 = Fma.MultiplyAdd(x, b0, c30); if (two) c31 = Fma.MultiplyAdd(x, b1, c31); }
            if (R > 4) { x = Vector256.Create(a4[q]); c40 = Fma.MultiplyAdd(x, b0, c40); if (two) c41 = Fma.MultiplyAdd(x, b1, c41); }
            if (R > 5) { x = Vector256.Create(a5[q]); c50 = Fma.MultiplyAdd(x, b0, c50); if (two) c51 = Fma.MultiplyAdd(x, b1, c51); }
        }
        AddTo<TK>(c, c00, c01, mask);
        if (R > 1) AddTo<TK>(c + ldc, c10, c11, mask);
        if (R > 2) AddTo<TK>(c + 2 * ldc, c20, c21, mask);
        if (R > 3) AddTo<TK>(c + 3 * ldc, c30, c31, mask);
        if (R > 4) AddTo<TK>(c + 4 * ldc, c40, c41, mask);
        if (R > 5) AddTo<TK>(c + 5 * ldc, c50, c51, mask);
    }

    // =====================================================================================================
    // NT: C[i, j] += dot(A[i, :], B[j, :])
    // =====================================================================================================

    /// <summary>C[M×N] += A[M×K] · B[N×K]ᵀ.</summary>
    public static void NT(int m, int n, int k, float* a, float* b, float* c)
    {
        if (k == 0) return;
        var mask = Mask(k & 7);
        // B-row groups outermost: each row of B is read from memory once and reused from L1 by every row tile of A.
        int j = 0;
        for (; j + 4 <= n; j += 4) NtRows<R4>(m, n, k, a, b + (nint)j * k, c + j, mask);
        for (; j < n; j++) NtRows<R1>(m, n, k, a, b + (nint)j * k, c + j, mask);
    }

    private static void NtRows<TJ>(int m, int n, int k, float* a, float* b, float* c, Vector256<float> mask) where TJ : struct, IRows
    {
        int i = 0;
        for (; i + 3 <= m; i += 3) NtTile<R3, TJ>(a + (nint)i * k, b, k, c + (nint)i * n, n, mask);
        if (m - i == 2) NtTile<R2, TJ>(a + (nint)i * k, b, k, c + (nint)i * n, n, mask);
        else if (m - i == 1) NtTile<R1, TJ>(a + (nint)i * k, b, k, c + (nint)i * n, n, mask);
    }

    /// <summary>C[r·ldc + j] += dot(a[r·k ..], b[j·k ..]) for r &lt; R (≤ 3), j &lt; J (1 or 4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NtTile<TR, TJ>(float* a, float* b, int k, float* c, nint ldc, Vector256<float> mask)
        where TR : struct, IRows where TJ : struct, IRows
    {
        int R = TR.R; bool four = TJ.R == 4;
        Vector256<float> s00 = default, s01 = default, s02 = default, s03 = default,
                         s10 = default, s11 = default, s12 = default, s13 = default,
                         s20 = default, s21 = default, s22 = default, s23 = default;
        float* a0 = a, a1 = a + k, a2 = a1 + k;
        float* b0 = b, b1 = b + k, b2 = b1 + k, b3 = b2 + k;
        int p = 0;
        for (; p + 8 <= k; p += 8)
        {
            var x0 = Avx.LoadVector256(a0 + p);
            var x1 = R > 1 ? Avx.LoadVector256(a1 + p) : default;
            var x2 = R > 2 ? Avx.LoadVector256(a2 + p) : default;
            var w = Avx.LoadVector256(b0 + p);
            s00 = Fma.MultiplyAdd(x0, w, s00); if (R > 1) s10 = Fma.MultiplyAdd(x1, w, s10); if (R > 2) s20 = Fma.MultiplyAdd(x2, w, s20);
            if (four)
            {
                w = Avx.LoadVector256(b1 + p);
                s01 = Fma.MultiplyAdd(x0, w, s01); if (R > 1) s11 = Fma.MultiplyAdd(x1, w, s11); if (R > 2) s21 = Fma.MultiplyAdd(x2, w, s21);
                w = Avx.LoadVector256(b2 + p);
                s02 = Fma.MultiplyAdd(x0, w, s02); if (R > 1) s12 = Fma.MultiplyAdd(x1, w, s12); if (R > 2) s22 = Fma.MultiplyAdd(x2, w, s22);
                w = Avx.LoadVector256(b3 + p);
                s03 = Fma.MultiplyAdd(x0, w, s03); if (R > 1) s13 = Fma.MultiplyAdd(x1, w, s13); if (R > 2) s23 = Fma.MultiplyAdd(x2, w, s23);
            }
        }
        if (p < k)
        {
            // Masked lanes load as 0 and add nothing.
            var x0 = Avx.MaskLoad(a0 + p, mask);
            var x1 = R > 1 ? Avx.MaskLoad(a1 + p, mask) : default;
            var x2 = R > 2 ? Avx.MaskLoad(a2 + p, mask) : default;
            var w = Avx.MaskLoad(b0 + p, mask);
            s00 = Fma.MultiplyAdd(x0, w, s00); if (R > 1) s10 = Fma.MultiplyAdd(x1, w, s10); if (R > 2) s20 = Fma.MultiplyAdd(x2, w, s20);
            if (four)
            {
                w = Avx.MaskLoad(b1 + p, mask);
                s01 = Fma.MultiplyAdd(x0, w, s01); if (R > 1) s11 = Fma.MultiplyAdd(x1, w, s11); if (R > 2) s21 = Fma.MultiplyAdd(x2, w, s21);
                w = Avx.MaskLoad(b2 + p, mask);
                s02 = Fma.MultiplyAdd(x0, w, s02); if (R > 1) s12 = Fma.MultiplyAdd(x1, w, s12); if (R > 2) s22 = Fma.MultiplyAdd(x2, w, s22);
                w = Avx.MaskLoad(b3 + p, mask);
                s03 = Fma.MultiplyAdd(x0, w, s03); if (R > 1) s13 = Fma.MultiplyAdd(x1, w, s13); if (R > 2) s23 = Fma.MultiplyAdd(x2, w, s23);
            }
        }
        if (four)
        {
            Sum4(c, s00, s01, s02, s03);
            if (R > 1) Sum4(c + ldc, s10, s11, s12, s13);
            if (R > 2) Sum4(c + 2 * ldc, s20, s21, s22, s23);
        }
        else
        {
            c[0] += Vector256.Sum(s00);
            if (R > 1) c[ldc] += Vector256.Sum(s10);
            if (R > 2) c[2 * ldc] += Vector256.Sum(s20);
        }
    }

    /// <summary>c[0..4) += (Σ s0, Σ s1, Σ s2, Σ s3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Sum4(float* c, Vector256<float> s0, Vector256<float> s1, Vector256<float> s2, Vector256<float> s3)
    {
        var h = Avx.HorizontalAdd(Avx.HorizontalAdd(s0, s1), Avx.HorizontalAdd(s2, s3));   // per 128-bit lane: [Σs0, Σs1, Σs2, Σs3] halves
        Sse.Store(c, Sse.Add(Sse.LoadVector128(c), Sse.Add(h.GetLower(), h.GetUpper())));
    }
}
