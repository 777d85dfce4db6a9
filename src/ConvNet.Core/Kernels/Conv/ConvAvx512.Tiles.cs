// Tile bodies of ConvAvx512: every (row, vector) statement written out, guarded by the compile-time R and N.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvNet.Kernels;

internal readonly unsafe partial struct ConvAvx512
{
    /// <summary>
    /// R output pixels (x pointers <paramref name="xs"/> apart) × one channel block of N·16 channels:
    /// y[r] = init[r] + Σ_{kh &lt; khN} Σ_{j &lt; jn} x[r][kh·xRow + j] · w[kh·wRow + j·K]; init[r] = bp[r·bs] (bp null → 0).
    /// Small tiles (<see cref="Split{TR,TK}"/>) alternate odd j into spare accumulators so more FMA chains are in flight.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FTile<TR, TK>(float* xp, nint xs, nint xRow, float* wp, nint wRow, nint K, int khN, nint jn,
        float* bp, nint bs, float* yp, nint ys, Vector512<float> mask)
        where TR : struct, IRows where TK : struct, IKBlock
    {
        int R = TR.R, N = TK.N; bool split = Split<TR, TK>();
        Vector512<float> a0_0 = default, a0_1 = default, a0_2 = default, a0_3 = default, a1_0 = default, a1_1 = default, a1_2 = default, a1_3 = default;
        Vector512<float> a2_0 = default, a2_1 = default, a2_2 = default, a2_3 = default, a3_0 = default, a3_1 = default, a3_2 = default, a3_3 = default;
        Vector512<float> a4_0 = default, a4_1 = default, a4_2 = default, a4_3 = default, a5_0 = default, a5_1 = default, a5_2 = default, a5_3 = default;
        Vector512<float> s0_0 = default, s0_1 = default, s1_0 = default, s1_1 = default, s2_0 = default, s2_1 = default, s3_0 = default, s3_1 = default;
        Vector512<float> s4_0 = default, s4_1 = default, s5_0 = default, s5_1 = default;
        Vector512<float> w0, w1 = default, w2 = default, w3 = default, xv;
        if (bp != null)
        {
            a0_0 = Ld<TK>(bp + 0 * bs, mask);
            if (N > 1) a0_1 = Vector512.Load(bp + 0 * bs + 16);
            if (N > 2) a0_2 = Vector512.Load(bp + 0 * bs + 32);
            if (N > 3) a0_3 = Vector512.Load(bp + 0 * bs + 48);
            if (R > 1) a1_0 = Ld<TK>(bp + 1 * bs, mask);
            if (R > 1 && N > 1) a1_1 = Vector512.Load(bp + 1 * bs + 16);
            if (R > 1 && N > 2) a1_2 = Vector512.Load(bp + 1 * bs + 32);
            if (R > 1 && N > 3) a1_3 = Vector512.Load(bp + 1 * bs + 48);
            if (R > 2) a2_0 = Ld<TK>(bp + 2 * bs, mask);
            if (R > 2 && N > 1) a2_1 = Vector512.Load(bp + 2 * bs + 16);
            if (R > 2 && N > 2) a2_2 = Vector512.Load(bp + 2 * bs + 32);
            if (R > 2 && N > 3) a2_3 = Vector512.Load(bp + 2 * bs + 48);
            if (R > 3) a3_0 = Ld<TK>(bp + 3 * bs, mask);
            if (R > 3 && N > 1) a3_1 = Vector512.Load(bp + 3 * bs + 16);
            if (R > 3 && N > 2) a3_2 = Vector512.Load(bp + 3 * bs + 32);
            if (R > 3 && N > 3) a3_3 = Vector512.Load(bp + 3 * bs + 48);
            if (R > 4) a4_0 = Ld<TK>(bp + 4 * bs, mask);
            if (R > 4 && N > 1) a4_1 = Vector512.Load(bp + 4 * bs + 16);
            if (R > 4 && N > 2) a4_2 = Vector512.Load(bp + 4 * bs + 32);
            if (R > 4 && N > 3) a4_3 = Vector512.Load(bp + 4 * bs + 48);
            if (R > 5) a5_0 = Ld<TK>(bp + 5 * bs, mask);
            if (R > 5 && N > 1) a5_1 = Vector512.Load(bp + 5 * bs + 16);
            if (R > 5 && N > 2) a5_2 = Vector512.Load(bp + 5 * bs + 32);
            if (R > 5 && N > 3) a5_3 = Vector512.Load(bp + 5 * bs + 48);
        }
        for (int kh = 0; kh < khN; kh++)
        {
            float* x0 = xp + kh * xRow;
            float* x1 = x0 + xs, x2 = x1 + xs, x3 = x2 + xs, x4 = x3 + xs, x5 = x4 + xs;
            float* wj = wp + kh * wRow;
            nint j = 0;
            if (split)
            {
                for (; j + 1 < jn; j += 2, wj += 2 * K)
                {
                    w0 = Ld<TK>(wj, mask);
                    if (N > 1) w1 = Vector512.Load(wj + 16);
                    if (N > 2) w2 = Vector512.Load(wj + 32);
                    if (N > 3) w3 = Vector512.Load(wj + 48);
                    { xv = Vector512.Create(x0[j]); a0_0 = Avx512F.FusedMultiplyAdd(xv, w0, a0_0); if (N > 1) a0_1 = Avx512F.FusedMultiplyAdd(xv, w1, a0_1); if (N > 2) a0_2 = Avx512F.FusedMultiplyAdd(xv, w2, a0_2); if (N > 3) a0_3 = Avx512F.FusedMultiplyAdd(xv, w3, a0_3); }
                    if (R > 1) { xv = Vector512.Create(x1[j]); a1_0 = Avx512F.FusedMultiplyAdd(xv, w0, a1_0); if (N > 1) a1_1 = Avx512F.FusedMultiplyAdd(xv, w1, a1_1); if (N > 2) a1_2 = Avx512F.FusedMultiplyAdd(xv, w2, a1_2); if (N > 3) a1_3 = Avx512F.FusedMultiplyAdd(xv, w3, a1_3); }
                    if (R > 2) { xv = Vector512.Create(x2[j]); a2_0 = Avx512F.FusedMultiplyAdd(xv, w0, a2_0); if (N > 1) a2_1 = Avx512F.FusedMultiplyAdd(xv, w1, a2_1); if (N > 2) a2_2 = Avx512F.FusedMultiplyAdd(xv, w2, a2_2); if (N > 3) a2_3 = Avx512F.FusedMultiplyAdd(xv, w3, a2_3); }
                    if (R > 3) { xv = Vector512.Create(x3[j]); a3_0 = Avx512F.FusedMultiplyAdd(xv, w0, a3_0); if (N > 1) a3_1 = Avx512F.FusedMultiplyAdd(xv, w1, a3_1); if (N > 2) a3_2 = Avx512F.FusedMultiplyAdd(xv, w2, a3_2); if (N > 3) a3_3 = Avx512F.FusedMultiplyAdd(xv, w3, a3_3); }
                    if (R > 4) { xv = Vector512.Create(x4[j]); a4_0 = Avx512F.FusedMultiplyAdd(xv, w0, a4_0); if (N > 1) a4_1 = Avx512F.FusedMultiplyAdd(xv, w1, a4_1); if (N > 2) a4_2 = Avx512F.FusedMultiplyAdd(xv, w2, a4_2); if (N > 3) a4_3 = Avx512F.FusedMultiplyAdd(xv, w3, a4_3); }
                    if (R > 5) { xv = Vector512.Create(x5[j]); a5_0 = Avx512F.FusedMultiplyAdd(xv, w0, a5_0); if (N > 1) a5_1 = Avx512F.FusedMultiplyAdd(xv, w1, a5_1); if (N > 2) a5_2 = Avx512F.FusedMultiplyAdd(xv, w2, a5_2); if (N > 3) a5_3 = Avx512F.FusedMultiplyAdd(xv, w3, a5_3); }
                    w0 = Ld<TK>((wj + K), mask);
                    if (N > 1) w1 = Vector512.Load((wj + K) + 16);
                    if (N > 2) w2 = Vector512.Load((wj + K) + 32);
                    if (N > 3) w3 = Vector512.Load((wj + K) + 48);
                    { xv = Vector512.Create(x0[j + 1]); s0_0 = Avx512F.FusedMultiplyAdd(xv, w0, s0_0); if (N > 1) s0_1 = Avx512F.FusedMultiplyAdd(xv, w1, s0_1); if (N > 2) a0_2 = Avx512F.FusedMultiplyAdd(xv, w2, a0_2); if (N > 3) a0_3 = Avx512F.FusedMultiplyAdd(xv, w3, a0_3); }
                    if (R > 1) { xv = Vector512.Create(x1[j + 1]); s1_0 = Avx512F.FusedMultiplyAdd(xv, w0, s1_0); if (N > 1) s1_1 = Avx512F.FusedMultiplyAdd(xv, w1, s1_1); if (N > 2) a1_2 = Avx512F.FusedMultiplyAdd(xv, w2, a1_2); if (N > 3) a1_3 = Avx512F.FusedMultiplyAdd(xv, w3, a1_3); }
                    if (R > 2) { xv = Vector512.Create(x2[j + 1]); s2_0 = Avx512F.FusedMultiplyAdd(xv, w0, s2_0); if (N > 1) s2_1 = Avx512F.FusedMultiplyAdd(xv, w1, s2_1); if (N > 2) a2_2 = Avx512F.FusedMultiplyAdd(xv, w2, a2_2); if (N > 3) a2_3 = Avx512F.FusedMultiplyAdd(xv, w3, a2_3); }
                    if (R > 3) { xv = Vector512.Create(x3[j + 1]); s3_0 = Avx512F.FusedMultiplyAdd(xv, w0, s3_0); if (N > 1) s3_1 = Avx512F.FusedMultiplyAdd(xv, w1, s3_1); if (N > 2) a3_2 = Avx512F.FusedMultiplyAdd(xv, w2, a3_2); if (N > 3) a3_3 = Avx512F.FusedMultiplyAdd(xv, w3, a3_3); }
                    if (R > 4) { xv = Vector512.Create(x4[j + 1]); s4_0 = Avx512F.FusedMultiplyAdd(xv, w0, s4_0); if (N > 1) s4_1 = Avx512F.FusedMultiplyAdd(xv, w1, s4_1); if (N > 2) a4_2 = Avx512F.FusedMultiplyAdd(xv, w2, a4_2); if (N > 3) a4_3 = Avx512F.FusedMultiplyAdd(xv, w3, a4_3); }
                    if (R > 5) { xv = Vector512.Create(x5[j + 1]); s5_0 = Avx512F.FusedMultiplyAdd(xv, w0, s5_0); if (N > 1) s5_1 = Avx512F.FusedMultiplyAdd(xv, w1, s5_1); if (N > 2) a5_2 = Avx512F.FusedMultiplyAdd(xv, w2, a5_2); if (N > 3) a5_3 = Avx512F.FusedMultiplyAdd(xv, w3, a5_3); }
                }
            }
            for (; j < jn; j++, wj += K)
            {
                w0 = Ld<TK>(wj, mask);
                if (N > 1) w1 = Vector512.Load(wj + 16);
                if (N > 2) w2 = Vector512.Load(wj + 32);
                if (N > 3) w3 = Vector512.Load(wj + 48);
                { xv = Vector512.Create(x0[j]); a0_0 = Avx512F.FusedMultiplyAdd(xv, w0, a0_0); if (N > 1) a0_1 = Avx512F.FusedMultiplyAdd(xv, w1, a0_1); if (N > 2) a0_2 = Avx512F.FusedMultiplyAdd(xv, w2, a0_2); if (N > 3) a0_3 = Avx512F.FusedMultiplyAdd(xv, w3, a0_3); }
                if (R > 1) { xv = Vector512.Create(x1[j]); a1_0 = Avx512F.FusedMultiplyAdd(xv, w0, a1_0); if (N > 1) a1_1 = Avx512F.FusedMultiplyAdd(xv, w1, a1_1); if (N > 2) a1_2 = Avx512F.FusedMultiplyAdd(xv, w2, a1_2); if (N > 3) a1_3 = Avx512F.FusedMultiplyAdd(xv, w3, a1_3); }
                if (R > 2) { xv = Vector512.Create(x2[j]); a2_0 = Avx512F.FusedMultiplyAdd(xv, w0, a2_0); if (N > 1) a2_1 = Avx512F.FusedMultiplyAdd(xv, w1, a2_1); if (N > 2) a2_2 = Avx512F.FusedMultiplyAdd(xv, w2, a2_2); if (N > 3) a2_3 = Avx512F.FusedMultiplyAdd(xv, w3, a2_3); }
                if (R > 3) { xv = Vector512.Create(x3[j]); a3_0 = Avx512F.FusedMultiplyAdd(xv, w0, a3_0); if (N > 1) a3_1 = Avx512F.FusedMultiplyAdd(xv, w1, a3_1); if (N > 2) a3_2 = Avx512F.FusedMultiplyAdd(xv, w2, a3_2); if (N > 3) a3_3 = Avx512F.FusedMultiplyAdd(xv, w3, a3_3); }
                if (R > 4) { xv = Vector512.Create(x4[j]); a4_0 = Avx512F.FusedMultiplyAdd(xv, w0, a4_0); if (N > 1) a4_1 = Avx512F.FusedMultiplyAdd(xv, w1, a4_1); if (N > 2) a4_2 = Avx512F.FusedMultiplyAdd(xv, w2, a4_2); if (N > 3) a4_3 = Avx512F.FusedMultiplyAdd(xv, w3, a4_3); }
                if (R > 5) { xv = Vector512.Create(x5[j]); a5_0 = Avx512F.FusedMultiplyAdd(xv, w0, a5_0); if (N > 1) a5_1 = Avx512F.FusedMultiplyAdd(xv, w1, a5_1); if (N > 2) a5_2 = Avx512F.FusedMultiplyAdd(xv, w2, a5_2); if (N > 3) a5_3 = Avx512F.FusedMultiplyAdd(xv, w3, a5_3); }
            }
        }
        if (split)
        {
            a0_0 = Avx512F.Add(a0_0, s0_0);
            if (N > 1) a0_1 = Avx512F.Add(a0_1, s0_1);
            if (R > 1) a1_0 = Avx512F.Add(a1_0, s1_0);
            if (R > 1 && N > 1) a1_1 = Avx512F.Add(a1_1, s1_1);
            if (R > 2) a2_0 = Avx512F.Add(a2_0, s2_0);
            if (R > 2 && N > 1) a2_1 = Avx512F.Add(a2_1, s2_1);
            if (R > 3) a3_0 = Avx512F.Add(a3_0, s3_0);
            if (R > 3 && N > 1) a3_1 = Avx512F.Add(a3_1, s3_1);
            if (R > 4) a4_0 = Avx512F.Add(a4_0, s4_0);
            if (R > 4 && N > 1) a4_1 = Avx512F.Add(a4_1, s4_1);
            if (R > 5) a5_0 = Avx512F.Add(a5_0, s5_0);
            if (R > 5 && N > 1) a5_1 = Avx512F.Add(a5_1, s5_1);
        }
        St<TK>(yp + 0 * ys, a0_0, mask);
        if (N > 1) Vector512.Store(a0_1, yp + 0 * ys + 16);
        if (N > 2) Vector512.Store(a0_2, yp + 0 * ys + 32);
        if (N > 3) Vector512.Store(a0_3, yp + 0 * ys + 48);
        if (R > 1) St<TK>(yp + 1 * ys, a1_0, mask);
        if (R > 1 && N > 1) Vector512.Store(a1_1, yp + 1 * ys + 16);
        if (R > 1 && N > 2) Vector512.Store(a1_2, yp + 1 * ys + 32);
        if (R > 1 && N > 3) Vector512.Store(a1_3, yp + 1 * ys + 48);
        if (R > 2) St<TK>(yp + 2 * ys, a2_0, mask);
        if (R > 2 && N > 1) Vector512.Store(a2_1, yp + 2 * ys + 16);
        if (R > 2 && N > 2) Vector512.Store(a2_2, yp + 2 * ys + 32);
        if (R > 2 && N > 3) Vector512.Store(a2_3, yp + 2 * ys + 48);
        if (R > 3) St<TK>(yp + 3 * ys, a3_0, mask);
        if (R > 3 && N > 1) Vector512.Store(a3_1, yp + 3 * ys + 16);
        if (R > 3 && N > 2) Vector512.Store(a3_2, yp + 3 * ys + 32);
        if (R > 3 && N > 3) Vector512.Store(a3_3, yp + 3 * ys + 48);
        if (R > 4) St<TK>(yp + 4 * ys, a4_0, mask);
        if (R > 4 && N > 1) Vector512.Store(a4_1, yp + 4 * ys + 16);
        if (R > 4 && N > 2) Vector512.Store(a4_2, yp + 4 * ys + 32);
        if (R > 4 && N > 3) Vector512.Store(a4_3, yp + 4 * ys + 48);
        if (R > 5) St<TK>(yp + 5 * ys, a5_0, mask);
        if (R > 5 && N > 1) Vector512.Store(a5_1, yp + 5 * ys + 16);
        if (R > 5 && N > 2) Vector512.Store(a5_2, yp + 5 * ys + 32);
        if (R > 5 && N > 3) Vector512.Store(a5_3, yp + 5 * ys + 48);
    }

    /// <summary>
    /// dw[r·K + :] += Σ_{row &lt; rows, col &lt; cols} x[row·xRow + col·xs + r] · dy[row·dyRow + col·dys + :] for r &lt; R
    /// (R ≤ 12 for N ≤ 2, ≤ 6 for N = 4), one channel block of N·16 channels (small tiles alternate odd columns into spare accumulators).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BTile<TR, TK>(float* xp, nint xs, nint xRow, float* dp, nint dys, nint dyRow, int rows, int cols,
        float* wp, nint K, Vector512<float> mask)
        where TR : struct, IRows where TK : struct, IKBlock
    {
        int R = TR.R, N = TK.N; bool split = Split<TR, TK>();
        Vector512<float> a0_0 = default, a0_1 = default, a0_2 = default, a0_3 = default, a1_0 = default, a1_1 = default, a1_2 = default, a1_3 = default;
        Vector512<float> a2_0 = default, a2_1 = default, a2_2 = default, a2_3 = default, a3_0 = default, a3_1 = default, a3_2 = default, a3_3 = default;
        Vector512<float> a4_0 = default, a4_1 = default, a4_2 = default, a4_3 = default, a5_0 = default, a5_1 = default, a5_2 = default, a5_3 = default;
        Vector512<float> a6_0 = default, a6_1 = default, a6_2 = default, a6_3 = default, a7_0 = default, a7_1 = default, a7_2 = default, a7_3 = default;
        Vector512<float> a8_0 = default, a8_1 = default, a8_2 = default, a8_3 = default, a9_0 = default, a9_1 = default, a9_2 = default, a9_3 = default;
        Vector512<float> a10_0 = default, a10_1 = default, a10_2 = default, a10_3 = default, a11_0 = default, a11_1 = default, a11_2 = default, a11_3 = default;
        Vector512<float> s0_0 = default, s0_1 = default, s1_0 = default, s1_1 = default, s2_0 = default, s2_1 = default, s3_0 = default, s3_1 = default;
        Vector512<float> s4_0 = default, s4_1 = default, s5_0 = default, s5_1 = default;
        Vector512<float> w0, w1 = default, w2 = default, w3 = default, xv;
        for (int row = 0; row < rows; row++)
        {
            float* xq = xp + row * xRow, dq = dp + row * dyRow;
            int col = 0;
            if (split)
            {
                for (; col + 1 < cols; col += 2, xq += 2 * xs, dq += 2 * dys)
                {
                    w0 = Ld<TK>(dq, mask);
                    if (N > 1) w1 = Vector512.Load(dq + 16);
                    if (N > 2) w2 = Vector512.Load(dq + 32);
                    if (N > 3) w3 = Vector512.Load(dq + 48);
                    { xv = Vector512.Create(xq[0]); a0_0 = Avx512F.FusedMultiplyAdd(xv, w0, a0_0); if (N > 1) a0_1 = Avx512F.FusedMultiplyAdd(xv, w1, a0_1); if (N > 2) a0_2 = Avx512F.FusedMultiplyAdd(xv, w2, a0_2); if (N > 3) a0_3 = Avx512F.FusedMultiplyAdd(xv, w3, a0_3); }
                    if (R > 1) { xv = Vector512.Create(xq[1]); a1_0 = Avx512F.FusedMultiplyAdd(xv, w0, a1_0); if (N > 1) a1_1 = Avx512F.FusedMultiplyAdd(xv, w1, a1_1); if (N > 2) a1_2 = Avx512F.FusedMultiplyAdd(xv, w2, a1_2); if (N > 3) a1_3 = Avx512F.FusedMultiplyAdd(xv, w3, a1_3); }
                    if (R > 2) { xv = Vector512.Create(xq[2]); a2_0 = Avx512F.FusedMultiplyAdd(xv, w0, a2_0); if (N > 1) a2_1 = Avx512F.FusedMultiplyAdd(xv, w1, a2_1); if (N > 2) a2_2 = Avx512F.FusedMultiplyAdd(xv, w2, a2_2); if (N > 3) a2_3 = Avx512F.FusedMultiplyAdd(xv, w3, a2_3); }
                    if (R > 3) { xv = Vector512.Create(xq[3]); a3_0 = Avx512F.FusedMultiplyAdd(xv, w0, a3_0); if (N > 1) a3_1 = Avx512F.FusedMultiplyAdd(xv, w1, a3_1); if (N > 2) a3_2 = Avx512F.FusedMultiplyAdd(xv, w2, a3_2); if (N > 3) a3_3 = Avx512F.FusedMultiplyAdd(xv, w3, a3_3); }
                    if (R > 4) { xv = Vector512.Create(xq[4]); a4_0 = Avx512F.FusedMultiplyAdd(xv, w0, a4_0); if (N > 1) a4_1 = Avx512F.FusedMultiplyAdd(xv, w1, a4_1); if (N > 2) a4_2 = Avx512F.FusedMultiplyAdd(xv, w2, a4_2); if (N > 3) a4_3 = Avx512F.FusedMultiplyAdd(xv, w3, a4_3); }
                    if (R > 5) { xv = Vector512.Create(xq[5]); a5_0 = Avx512F.FusedMultiplyAdd(xv, w0, a5_0); if (N > 1) a5_1 = Avx512F.FusedMultiplyAdd(xv, w1, a5_1); if (N > 2) a5_2 = Avx512F.FusedMultiplyAdd(xv, w2, a5_2); if (N > 3) a5_3 = Avx512F.FusedMultiplyAdd(xv, w3, a5_3); }
                    w0 = Ld<TK>((dq + dys), mask);
                    if (N > 1) w1 = Vector512.Load((dq + dys) + 16);
                    if (N > 2) w2 = Vector512.Load((dq + dys) + 32);
                    if (N > 3) w3 = Vector512.Load((dq + dys) + 48);
                    { xv = Vector512.Create(xq[xs + 0]); s0_0 = Avx512F.FusedMultiplyAdd(xv, w0, s0_0); if (N > 1) s0_1 = Avx512F.FusedMultiplyAdd(xv, w1, s0_1); if (N > 2) a0_2 = Avx512F.FusedMultiplyAdd(xv, w2, a0_2); if (N > 3) a0_3 = Avx512F.FusedMultiplyAdd(xv, w3, a0_3); }
                    if (R > 1) { xv = Vector512.Create(xq[xs + 1]); s1_0 = Avx512F.FusedMultiplyAdd(xv, w0, s1_0); if (N > 1) s1_1 = Avx512F.FusedMultiplyAdd(xv, w1, s1_1); if (N > 2) a1_2 = Avx512F.FusedMultiplyAdd(xv, w2, a1_2); if (N > 3) a1_3 = Avx512F.FusedMultiplyAdd(xv, w3, a1_3); }
                    if (R > 2) { xv = Vector512.Create(xq[xs + 2]); s2_0 = Avx512F.FusedMultiplyAdd(xv, w0, s2_0); if (N > 1) s2_1 = Avx512F.FusedMultiplyAdd(xv, w1, s2_1); if (N > 2) a2_2 = Avx512F.FusedMultiplyAdd(xv, w2, a2_2); if (N > 3) a2_3 = Avx512F.FusedMultiplyAdd(xv, w3, a2_3); }
                    if (R > 3) { xv = Vector512.Create(xq[xs + 3]); s3_0 = Avx512F.FusedMultiplyAdd(xv, w0, s3_0); if (N > 1) s3_1 = Avx512F.FusedMultiplyAdd(xv, w1, s3_1); if (N > 2) a3_2 = Avx512F.FusedMultiplyAdd(xv, w2, a3_2); if (N > 3) a3_3 = Avx512F.FusedMultiplyAdd(xv, w3, a3_3); }
                    if (R > 4) { xv = Vector512.Create(xq[xs + 4]); s4_0 = Avx512F.FusedMultiplyAdd(xv, w0, s4_0); if (N > 1) s4_1 = Avx512F.FusedMultiplyAdd(xv, w1, s4_1); if (N > 2) a4_2 = Avx512F.FusedMultiplyAdd(xv, w2, a4_2); if (N > 3) a4_3 = Avx512F.FusedMultiplyAdd(xv, w3, a4_3); }
                    if (R > 5) { xv = Vector512.Create(xq[xs + 5]); s5_0 = Avx512F.FusedMultiplyAdd(xv, w0, s5_0); if (N > 1) s5_1 = Avx512F.FusedMultiplyAdd(xv, w1, s5_1); if (N > 2) a5_2 = Avx512F.FusedMultiplyAdd(xv, w2, a5_2); if (N > 3) a5_3 = Avx512F.FusedMultiplyAdd(xv, w3, a5_3); }
                }
            }
            for (; col < cols; col++, xq += xs, dq += dys)
            {
                w0 = Ld<TK>(dq, mask);
                if (N > 1) w1 = Vector512.Load(dq + 16);
                if (N > 2) w2 = Vector512.Load(dq + 32);
                if (N > 3) w3 = Vector512.Load(dq + 48);
                { xv = Vector512.Create(xq[0]); a0_0 = Avx512F.FusedMultiplyAdd(xv, w0, a0_0); if (N > 1) a0_1 = Avx512F.FusedMultiplyAdd(xv, w1, a0_1); if (N > 2) a0_2 = Avx512F.FusedMultiplyAdd(xv, w2, a0_2); if (N > 3) a0_3 = Avx512F.FusedMultiplyAdd(xv, w3, a0_3); }
                if (R > 1) { xv = Vector512.Create(xq[1]); a1_0 = Avx512F.FusedMultiplyAdd(xv, w0, a1_0); if (N > 1) a1_1 = Avx512F.FusedMultiplyAdd(xv, w1, a1_1); if (N > 2) a1_2 = Avx512F.FusedMultiplyAdd(xv, w2, a1_2); if (N > 3) a1_3 = Avx512F.FusedMultiplyAdd(xv, w3, a1_3); }
                if (R > 2) { xv = Vector512.Create(xq[2]); a2_0 = Avx512F.FusedMultiplyAdd(xv, w0, a2_0); if (N > 1) a2_1 = Avx512F.FusedMultiplyAdd(xv, w1, a2_1); if (N > 2) a2_2 = Avx512F.FusedMultiplyAdd(xv, w2, a2_2); if (N > 3) a2_3 = Avx512F.FusedMultiplyAdd(xv, w3, a2_3); }
                if (R > 3) { xv = Vector512.Create(xq[3]); a3_0 = Avx512F.FusedMultiplyAdd(xv, w0, a3_0); if (N > 1) a3_1 = Avx512F.FusedMultiplyAdd(xv, w1, a3_1); if (N > 2) a3_2 = Avx512F.FusedMultiplyAdd(xv, w2, a3_2); if (N > 3) a3_3 = Avx512F.FusedMultiplyAdd(xv, w3, a3_3); }
                if (R > 4) { xv = Vector512.Create(xq[4]); a4_0 = Avx512F.FusedMultiplyAdd(xv, w0, a4_0); if (N > 1) a4_1 = Avx512F.FusedMultiplyAdd(xv, w1, a4_1); if (N > 2) a4_2 = Avx512F.FusedMultiplyAdd(xv, w2, a4_2); if (N > 3) a4_3 = Avx512F.FusedMultiplyAdd(xv, w3, a4_3); }
                if (R > 5) { xv = Vector512.Create(xq[5]); a5_0 = Avx512F.FusedMultiplyAdd(xv, w0, a5_0); if (N > 1) a5_1 = Avx512F.FusedMultiplyAdd(xv, w1, a5_1); if (N > 2) a5_2 = Avx512F.FusedMultiplyAdd(xv, w2, a5_2); if (N > 3) a5_3 = Avx512F.FusedMultiplyAdd(xv, w3, a5_3); }
                if (R > 6) { xv = Vector512.Create(xq[6]); a6_0 = Avx512F.FusedMultiplyAdd(xv, w0, a6_0); if (N > 1) a6_1 = Avx512F.FusedMultiplyAdd(xv, w1, a6_1); if (N > 2) a6_2 = Avx512F.FusedMultiplyAdd(xv, w2, a6_2); if (N > 3) a6_3 = Avx512F.FusedMultiplyAdd(xv, w3, a6_3); }
                if (R > 7) { xv = Vector512.Create(xq[7]); a7_0 = Avx512F.FusedMultiplyAdd(xv, w0, a7_0); if (N > 1) a7_1 = Avx512F.FusedMultiplyAdd(xv, w1, a7_1); if (N > 2) a7_2 = Avx512F.FusedMultiplyAdd(xv, w2, a7_2); if (N > 3) a7_3 = Avx512F.FusedMultiplyAdd(xv, w3, a7_3); }
                if (R > 8) { xv = Vector512.Create(xq[8]); a8_0 = Avx512F.FusedMultiplyAdd(xv, w0, a8_0); if (N > 1) a8_1 = Avx512F.FusedMultiplyAdd(xv, w1, a8_1); if (N > 2) a8_2 = Avx512F.FusedMultiplyAdd(xv, w2, a8_2); if (N > 3) a8_3 = Avx512F.FusedMultiplyAdd(xv, w3, a8_3); }
                if (R > 9) { xv = Vector512.Create(xq[9]); a9_0 = Avx512F.FusedMultiplyAdd(xv, w0, a9_0); if (N > 1) a9_1 = Avx512F.FusedMultiplyAdd(xv, w1, a9_1); if (N > 2) a9_2 = Avx512F.FusedMultiplyAdd(xv, w2, a9_2); if (N > 3) a9_3 = Avx512F.FusedMultiplyAdd(xv, w3, a9_3); }
                if (R > 10) { xv = Vector512.Create(xq[10]); a10_0 = Avx512F.FusedMultiplyAdd(xv, w0, a10_0); if (N > 1) a10_1 = Avx512F.FusedMultiplyAdd(xv, w1, a10_1); if (N > 2) a10_2 = Avx512F.FusedMultiplyAdd(xv, w2, a10_2); if (N > 3) a10_3 = Avx512F.FusedMultiplyAdd(xv, w3, a10_3); }
                if (R > 11) { xv = Vector512.Create(xq[11]); a11_0 = Avx512F.FusedMultiplyAdd(xv, w0, a11_0); if (N > 1) a11_1 = Avx512F.FusedMultiplyAdd(xv, w1, a11_1); if (N > 2) a11_2 = Avx512F.FusedMultiplyAdd(xv, w2, a11_2); if (N > 3) a11_3 = Avx512F.FusedMultiplyAdd(xv, w3, a11_3); }
            }
        }
        if (split)
        {
            a0_0 = Avx512F.Add(a0_0, s0_0);
            if (N > 1) a0_1 = Avx512F.Add(a0_1, s0_1);
            if (R > 1) a1_0 = Avx512F.Add(a1_0, s1_0);
            if (R > 1 && N > 1) a1_1 = Avx512F.Add(a1_1, s1_1);
            if (R > 2) a2_0 = Avx512F.Add(a2_0, s2_0);
            if (R > 2 && N > 1) a2_1 = Avx512F.Add(a2_1, s2_1);
            if (R > 3) a3_0 = Avx512F.Add(a3_0, s3_0);
            if (R > 3 && N > 1) a3_1 = Avx512F.Add(a3_1, s3_1);
            if (R > 4) a4_0 = Avx512F.Add(a4_0, s4_0);
            if (R > 4 && N > 1) a4_1 = Avx512F.Add(a4_1, s4_1);
            if (R > 5) a5_0 = Avx512F.Add(a5_0, s5_0);
            if (R > 5 && N > 1) a5_1 = Avx512F.Add(a5_1, s5_1);
        }
        AddTo<TK>(wp + 0 * K, a0_0, a0_1, a0_2, a0_3, mask);
        if (R > 1) AddTo<TK>(wp + 1 * K, a1_0, a1_1, a1_2, a1_3, mask);
        if (R > 2) AddTo<TK>(wp + 2 * K, a2_0, a2_1, a2_2, a2_3, mask);
        if (R > 3) AddTo<TK>(wp + 3 * K, a3_0, a3_1, a3_2, a3_3, mask);
        if (R > 4) AddTo<TK>(wp + 4 * K, a4_0, a4_1, a4_2, a4_3, mask);
        if (R > 5) AddTo<TK>(wp + 5 * K, a5_0, a5_1, a5_2, a5_3, mask);
        if (R > 6) AddTo<TK>(wp + 6 * K, a6_0, a6_1, a6_2, a6_3, mask);
        if (R > 7) AddTo<TK>(wp + 7 * K, a7_0, a7_1, a7_2, a7_3, mask);
        if (R > 8) AddTo<TK>(wp + 8 * K, a8_0, a8_1, a8_2, a8_3, mask);
        if (R > 9) AddTo<TK>(wp + 9 * K, a9_0, a9_1, a9_2, a9_3, mask);
        if (R > 10) AddTo<TK>(wp + 10 * K, a10_0, a10_1, a10_2, a10_3, mask);
        if (R > 11) AddTo<TK>(wp + 11 * K, a11_0, a11_1, a11_2, a11_3, mask);
    }

    /// <summary>
    /// Stride-1, 3-wide-kernel forward tile for one channel block of N ≤ 2 vectors: R consecutive output pixels
    /// (R ≤ 12 for N = 1, ≤ 8 for N = 2), y[r] = init[r] + Σ_{kh &lt; khN} Σ_c Σ_{kw &lt; 3} x[kh·xRow + (r + kw)·C + c] · w[kh·wRow + (kw·C + c)·K].
    /// Each input value x[kh, t, c] (t &lt; R + 2) is broadcast once and feeds the up to three pixels whose windows
    /// contain it (R + 2 broadcasts and 3·N weight loads per 3·R·N FMAs instead of 3·R broadcasts and 3·N loads).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FTile3<TR, TK>(float* xp, nint C, nint xRow, float* wp, nint wRow, nint K, int khN,
        float* bp, nint bs, float* yp, nint ys, Vector512<float> mask)
        where TR : struct, IRows where TK : struct, IKBlock
    {
        int R = TR.R, N = TK.N;
        Vector512<float> a0_0 = default, a0_1 = default, a1_0 = default, a1_1 = default, a2_0 = default, a2_1 = default, a3_0 = default, a3_1 = default;
        Vector512<float> a4_0 = default, a4_1 = default, a5_0 = default, a5_1 = default, a6_0 = default, a6_1 = default, a7_0 = default, a7_1 = default;
        Vector512<float> a8_0 = default, a8_1 = default, a9_0 = default, a9_1 = default, a10_0 = default, a10_1 = default, a11_0 = default, a11_1 = default;
        Vector512<float> w0, w1, w2, u0 = default, u1 = default, u2 = default, xv;
        if (bp != null)
        {
            a0_0 = Ld<TK>(bp + 0 * bs, mask);
            if (N > 1) a0_1 = Vector512.Load(bp + 0 * bs + 16);
            if (R > 1) a1_0 = Ld<TK>(bp + 1 * bs, mask);
            if (R > 1 && N > 1) a1_1 = Vector512.Load(bp + 1 * bs + 16);
            if (R > 2) a2_0 = Ld<TK>(bp + 2 * bs, mask);
            if (R > 2 && N > 1) a2_1 = Vector512.Load(bp + 2 * bs + 16);
            if (R > 3) a3_0 = Ld<TK>(bp + 3 * bs, mask);
            if (R > 3 && N > 1) a3_1 = Vector512.Load(bp + 3 * bs + 16);
            if (R > 4) a4_0 = Ld<TK>(bp + 4 * bs, mask);
            if (R > 4 && N > 1) a4_1 = Vector512.Load(bp + 4 * bs + 16);
            if (R > 5) a5_0 = Ld<TK>(bp + 5 * bs, mask);
            if (R > 5 && N > 1) a5_1 = Vector512.Load(bp + 5 * bs + 16);
            if (R > 6) a6_0 = Ld<TK>(bp + 6 * bs, mask);
            if (R > 6 && N > 1) a6_1 = Vector512.Load(bp + 6 * bs + 16);
            if (R > 7) a7_0 = Ld<TK>(bp + 7 * bs, mask);
            if (R > 7 && N > 1) a7_1 = Vector512.Load(bp + 7 * bs + 16);
            if (R > 8) a8_0 = Ld<TK>(bp + 8 * bs, mask);
            if (R > 8 && N > 1) a8_1 = Vector512.Load(bp + 8 * bs + 16);
            if (R > 9) a9_0 = Ld<TK>(bp + 9 * bs, mask);
            if (R > 9 && N > 1) a9_1 = Vector512.Load(bp + 9 * bs + 16);
            if (R > 10) a10_0 = Ld<TK>(bp + 10 * bs, mask);
            if (R > 10 && N > 1) a10_1 = Vector512.Load(bp + 10 * bs + 16);
            if (R > 11) a11_0 = Ld<TK>(bp + 11 * bs, mask);
            if (R > 11 && N > 1) a11_1 = Vector512.Load(bp + 11 * bs + 16);
        }
        nint C2 = 2 * C, CK = C * K;
        for (int kh = 0; kh < khN; kh++)
        {
            float* q0 = xp + kh * xRow, q3 = q0 + 3 * C, q6 = q3 + 3 * C, q9 = q6 + 3 * C, q12 = q9 + 3 * C;
            float* wq = wp + kh * wRow;
            for (nint c = 0; c < C; c++, q0++, q3++, q6++, q9++, q12++, wq += K)
            {
                w0 = Ld<TK>(wq, mask); w1 = Ld<TK>(wq + CK, mask); w2 = Ld<TK>(wq + 2 * CK, mask);
                if (N > 1) { u0 = Vector512.Load(wq + 16); u1 = Vector512.Load(wq + CK + 16); u2 = Vector512.Load(wq + 2 * CK + 16); }
                { xv = Vector512.Create(*q0); a0_0 = Avx512F.FusedMultiplyAdd(xv, w0, a0_0); if (N > 1) a0_1 = Avx512F.FusedMultiplyAdd(xv, u0, a0_1); }
                if (R + 2 > 1) { xv = Vector512.Create(q0[C]); if (R > 1) a1_0 = Avx512F.FusedMultiplyAdd(xv, w0, a1_0); if (R > 1 && N > 1) a1_1 = Avx512F.FusedMultiplyAdd(xv, u0, a1_1); a0_0 = Avx512F.FusedMultiplyAdd(xv, w1, a0_0); if (N > 1) a0_1 = Avx512F.FusedMultiplyAdd(xv, u1, a0_1); }
                if (R + 2 > 2) { xv = Vector512.Create(q0[C2]); if (R > 2) a2_0 = Avx512F.FusedMultiplyAdd(xv, w0, a2_0); if (R > 2 && N > 1) a2_1 = Avx512F.FusedMultiplyAdd(xv, u0, a2_1); if (R > 1) a1_0 = Avx512F.FusedMultiplyAdd(xv, w1, a1_0); if (R > 1 && N > 1) a1_1 = Avx512F.FusedMultiplyAdd(xv, u1, a1_1); a0_0 = Avx512F.FusedMultiplyAdd(xv, w2, a0_0); if (N > 1) a0_1 = Avx512F.FusedMultiplyAdd(xv, u2, a0_1); }
                if (R + 2 > 3) { xv = Vector512.Create(*q3); if (R > 3) a3_0 = Avx512F.FusedMultiplyAdd(xv, w0, a3_0); if (R > 3 && N > 1) a3_1 = Avx512F.FusedMultiplyAdd(xv, u0, a3_1); if (R > 2) a2_0 = Avx512F.FusedMultiplyAdd(xv, w1, a2_0); if (R > 2 && N > 1) a2_1 = Avx512F.FusedMultiplyAdd(xv, u1, a2_1); if (R > 1) a1_0 = Avx512F.FusedMultiplyAdd(xv, w2, a1_0); if (R > 1 && N > 1) a1_1 = Avx512F.FusedMultiplyAdd(xv, u2, a1_1); }
                if (R + 2 > 4) { xv = Vector512.Create(q3[C]); if (R > 4) a4_0 = Avx512F.FusedMultiplyAdd(xv, w0, a4_0); if (R > 4 && N > 1) a4_1 = Avx512F.FusedMultiplyAdd(xv, u0, a4_1); if (R > 3) a3_0 = Avx512F.FusedMultiplyAdd(xv, w1, a3_0); if (R > 3 && N > 1) a3_1 = Avx512F.FusedMultiplyAdd(xv, u1, a3_1); if (R > 2) a2_0 = Avx512F.FusedMultiplyAdd(xv, w2, a2_0); if (R > 2 && N > 1) a2_1 = Avx512F.FusedMultiplyAdd(xv, u2, a2_1); }
                if (R + 2 > 5) { xv = Vector512.Create(q3[C2]); if (R > 5) a5_0 = Avx512F.FusedMultiplyAdd(xv, w0, a5_0); if (R > 5 && N > 1) a5_1 = Avx512F.FusedMultiplyAdd(xv, u0, a5_1); if (R > 4) a4_0 = Avx512F.FusedMultiplyAdd(xv, w1, a4_0); if (R > 4 && N > 1) a4_1 = Avx512F.FusedMultiplyAdd(xv, u1, a4_1); if (R > 3) a3_0 = Avx512F.FusedMultiplyAdd(xv, w2, a3_0); if (R > 3 && N > 1) a3_1 = Avx512F.FusedMultiplyAdd(xv, u2, a3_1); }
                if (R + 2 > 6) { xv = Vector512.Create(*q6); if (R > 6) a6_0 = Avx512F.FusedMultiplyAdd(xv, w0, a6_0); if (R > 6 && N > 1) a6_1 = Avx512F.FusedMultiplyAdd(xv, u0, a6_1); if (R > 5) a5_0 = Avx512F.FusedMultiplyAdd(xv, w1, a5_0); if (R > 5 && N > 1) a5_1 = Avx512F.FusedMultiplyAdd(xv, u1, a5_1); if (R > 4) a4_0 = Avx512F.FusedMultiplyAdd(xv, w2, a4_0); if (R > 4 && N > 1) a4_1 = Avx512F.FusedMultiplyAdd(xv, u2, a4_1); }
                if (R + 2 > 7) { xv = Vector512.Create(q6[C]); if (R > 7) a7_0 = Avx512F.FusedMultiplyAdd(xv, w0, a7_0); if (R > 7 && N > 1) a7_1 = Avx512F.FusedMultiplyAdd(xv, u0, a7_1); if (R > 6) a6_0 = Avx512F.FusedMultiplyAdd(xv, w1, a6_0); if (R > 6 && N > 1) a6_1 = Avx512F.FusedMultiplyAdd(xv, u1, a6_1); if (R > 5) a5_0 = Avx512F.FusedMultiplyAdd(xv, w2, a5_0); if (R > 5 && N > 1) a5_1 = Avx512F.FusedMultiplyAdd(xv, u2, a5_1); }
                if (R + 2 > 8) { xv = Vector512.Create(q6[C2]); if (R > 8) a8_0 = Avx512F.FusedMultiplyAdd(xv, w0, a8_0); if (R > 8 && N > 1) a8_1 = Avx512F.FusedMultiplyAdd(xv, u0, a8_1); if (R > 7) a7_0 = Avx512F.FusedMultiplyAdd(xv, w1, a7_0); if (R > 7 && N > 1) a7_1 = Avx512F.FusedMultiplyAdd(xv, u1, a7_1); if (R > 6) a6_0 = Avx512F.FusedMultiplyAdd(xv, w2, a6_0); if (R > 6 && N > 1) a6_1 = Avx512F.FusedMultiplyAdd(xv, u2, a6_1); }
                if (R + 2 > 9) { xv = Vector512.Create(*q9); if (R > 9) a9_0 = Avx512F.FusedMultiplyAdd(xv, w0, a9_0); if (R > 9 && N > 1) a9_1 = Avx512F.FusedMultiplyAdd(xv, u0, a9_1); if (R > 8) a8_0 = Avx512F.FusedMultiplyAdd(xv, w1, a8_0); if (R > 8 && N > 1) a8_1 = Avx512F.FusedMultiplyAdd(xv, u1, a8_1); if (R > 7) a7_0 = Avx512F.FusedMultiplyAdd(xv, w2, a7_0); if (R > 7 && N > 1) a7_1 = Avx512F.FusedMultiplyAdd(xv, u2, a7_1); }
                if (R + 2 > 10) { xv = Vector512.Create(q9[C]); if (R > 10) a10_0 = Avx512F.FusedMultiplyAdd(xv, w0, a10_0); if (R > 10 && N > 1) a10_1 = Avx512F.FusedMultiplyAdd(xv, u0, a10_1); if (R > 9) a9_0 = Avx512F.FusedMultiplyAdd(xv, w1, a9_0); if (R > 9 && N > 1) a9_1 = Avx512F.FusedMultiplyAdd(xv, u1, a9_1); if (R > 8) a8_0 = Avx512F.FusedMultiplyAdd(xv, w2, a8_0); if (R > 8 && N > 1) a8_1 = Avx512F.FusedMultiplyAdd(xv, u2, a8_1); }
                if (R + 2 > 11) { xv = Vector512.Create(q9[C2]); if (R > 11) a11_0 = Avx512F.FusedMultiplyAdd(xv, w0, a11_0); if (R > 11 && N > 1) a11_1 = Avx512F.FusedMultiplyAdd(xv, u0, a11_1); if (R > 10) a10_0 = Avx512F.FusedMultiplyAdd(xv, w1, a10_0); if (R > 10 && N > 1) a10_1 = Avx512F.FusedMultiplyAdd(xv, u1, a10_1); if (R > 9) a9_0 = Avx512F.FusedMultiplyAdd(xv, w2, a9_0); if (R > 9 && N > 1) a9_1 = Avx512F.FusedMultiplyAdd(xv, u2, a9_1); }
                if (R + 2 > 12) { xv = Vector512.Create(*q12); if (R > 11) a11_0 = Avx512F.FusedMultiplyAdd(xv, w1, a11_0); if (R > 11 && N > 1) a11_1 = Avx512F.FusedMultiplyAdd(xv, u1, a11_1); if (R > 10) a10_0 = Avx512F.FusedMultiplyAdd(xv, w2, a10_0); if (R > 10 && N > 1) a10_1 = Avx512F.FusedMultiplyAdd(xv, u2, a10_1); }
                if (R + 2 > 13) { xv = Vector512.Create(q12[C]); if (R > 11) a11_0 = Avx512F.FusedMultiplyAdd(xv, w2, a11_0); if (R > 11 && N > 1) a11_1 = Avx512F.FusedMultiplyAdd(xv, u2, a11_1); }
            }
        }
        St<TK>(yp + 0 * ys, a0_0, mask);
        if (N > 1) Vector512.Store(a0_1, yp + 0 * ys + 16);
        if (R > 1) St<TK>(yp + 1 * ys, a1_0, mask);
        if (R > 1 && N > 1) Vector512.Store(a1_1, yp + 1 * ys + 16);
        if (R > 2) St<TK>(yp + 2 * ys, a2_0, mask);
        if (R > 2 && N > 1) Vector512.Store(a2_1, yp + 2 * ys + 16);
        if (R > 3) St<TK>(yp + 3 * ys, a3_0, mask);
        if (R > 3 && N > 1) Vector512.Store(a3_1, yp + 3 * ys + 16);
        if (R > 4) St<TK>(yp + 4 * ys, a4_0, mask);
        if (R > 4 && N > 1) Vector512.Store(a4_1, yp + 4 * ys + 16);
        if (R > 5) St<TK>(yp + 5 * ys, a5_0, mask);
        if (R > 5 && N > 1) Vector512.Store(a5_1, yp + 5 * ys + 16);
        if (R > 6) St<TK>(yp + 6 * ys, a6_0, mask);
        if (R > 6 && N > 1) Vector512.Store(a6_1, yp + 6 * ys + 16);
        if (R > 7) St<TK>(yp + 7 * ys, a7_0, mask);
        if (R > 7 && N > 1) Vector512.Store(a7_1, yp + 7 * ys + 16);
        if (R > 8) St<TK>(yp + 8 * ys, a8_0, mask);
        if (R > 8 && N > 1) Vector512.Store(a8_1, yp + 8 * ys + 16);
        if (R > 9) St<TK>(yp + 9 * ys, a9_0, mask);
        if (R > 9 && N > 1) Vector512.Store(a9_1, yp + 9 * ys + 16);
        if (R > 10) St<TK>(yp + 10 * ys, a10_0, mask);
        if (R > 10 && N > 1) Vector512.Store(a10_1, yp + 10 * ys + 16);
        if (R > 11) St<TK>(yp + 11 * ys, a11_0, mask);
        if (R > 11 && N > 1) Vector512.Store(a11_1, yp + 11 * ys + 16);
    }

    /// <summary>
    /// dw[kw·K + :] += Σ_{row &lt; rows, col &lt; cols} x[row·xRow + col + kw] · dy[row·dyRow + col·K + :] for kw &lt; 3
    /// (one input channel, stride 1). Four columns at a time: 4 dy vectors and 6 broadcasts feed 12 FMAs into 12
    /// accumulators (kw × column mod 4), each x value broadcast once for the up to three (column, kw) pairs reading it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BTile3C1<TK>(float* xp, nint xRow, float* dp, nint dyRow, int rows, int cols, float* wp, nint K,
        Vector512<float> mask) where TK : struct, IKBlock
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default,
                         a12 = default, a13 = default, a20 = default, a21 = default, a22 = default, a23 = default;
        for (int row = 0; row < rows; row++)
        {
            float* xq = xp + row * xRow, dq = dp + row * dyRow;
            int col = 0;
            for (; col + 4 <= cols; col += 4, xq += 4, dq += 4 * K)
            {
                var d0 = Ld<TK>(dq, mask); var d1 = Ld<TK>(dq + K, mask); var d2 = Ld<TK>(dq + 2 * K, mask); var d3 = Ld<TK>(dq + 3 * K, mask);
                var xv = Vector512.Create(xq[0]);
                a00 = Avx512F.FusedMultiplyAdd(xv, d0, a00);
                xv = Vector512.Create(xq[1]);
                a01 = Avx512F.FusedMultiplyAdd(xv, d1, a01); a10 = Avx512F.FusedMultiplyAdd(xv, d0, a10);
                xv = Vector512.Create(xq[2]);
                a02 = Avx512F.FusedMultiplyAdd(xv, d2, a02); a11 = Avx512F.FusedMultiplyAdd(xv, d1, a11); a20 = Avx512F.FusedMultiplyAdd(xv, d0, a20);
                xv = Vector512.Create(xq[3]);
                a03 = Avx512F.FusedMultiplyAdd(xv, d3, a03); a12 = Avx512F.FusedMultiplyAdd(xv, d2, a12); a21 = Avx512F.FusedMultiplyAdd(xv, d1, a21);
                xv = Vector512.Create(xq[4]);
                a13 = Avx512F.FusedMultiplyAdd(xv, d3, a13); a22 = Avx512F.FusedMultiplyAdd(xv, d2, a22);
                xv = Vector512.Create(xq[5]);
                a23 = Avx512F.FusedMultiplyAdd(xv, d3, a23);
            }
            for (; col < cols; col++, xq++, dq += K)
            {
                var d0 = Ld<TK>(dq, mask);
                a00 = Avx512F.FusedMultiplyAdd(Vector512.Create(xq[0]), d0, a00);
                a10 = Avx512F.FusedMultiplyAdd(Vector512.Create(xq[1]), d0, a10);
                a20 = Avx512F.FusedMultiplyAdd(Vector512.Create(xq[2]), d0, a20);
            }
        }
        var z = Vector512<float>.Zero;
        AddTo<TK>(wp, Avx512F.Add(Avx512F.Add(a00, a01), Avx512F.Add(a02, a03)), z, z, z, mask);
        AddTo<TK>(wp + K, Avx512F.Add(Avx512F.Add(a10, a11), Avx512F.Add(a12, a13)), z, z, z, mask);
        AddTo<TK>(wp + 2 * K, Avx512F.Add(Avx512F.Add(a20, a21), Avx512F.Add(a22, a23)), z, z, z, mask);
    }
}
