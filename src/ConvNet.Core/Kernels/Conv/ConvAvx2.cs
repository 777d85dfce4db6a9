using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvNet.Kernels;

/// <summary>
/// AVX2 + FMA tiles of the direct convolution (<see cref="ConvDriver{TTiles}"/> walks the geometry). Register tiles over raw
/// pointers, each specialised by compile-time struct type arguments (tile width R, channel block):
/// <list type="bullet">
/// <item><see cref="FTile{TR,TK}"/>: R ≤ 6 output pixels × 16 output channels (12 Vector256 accumulators), reducing over
/// (kh, kw·C + c) — for a pixel whose window is inside the row, (kw, c) is one contiguous run in both x and w.</item>
/// <item><see cref="BTile{TR,TK}"/>: R ≤ 6 rows of dw (consecutive (kw, c)) × 16 channels over a rectangle of pixels.</item>
/// <item><see cref="DTile{TR}"/>: R ≤ 6 dot products along (kw, k) for backward-data with C &lt; 8 (conv1).</item>
/// </list>
/// Channel tails use 8-wide blocks and then AVX masked loads/stores, so any K runs without scalar code.
/// </summary>
internal readonly unsafe struct ConvAvx2 : IConvTiles
{
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>y = conv(x, w) + bias (bias may be null): the driver on these tiles.</summary>
    public static void Forward(in ConvGeometry g, float* x, float* w, float* bias, float* y) => ConvDriver<ConvAvx2>.Forward(g, x, w, bias, y);

    /// <summary>dx += Σ dy·w for stride 1; returns false (nothing done) for other strides, which only the portable code covers.</summary>
    public static bool BackwardData(in ConvGeometry g, float* dy, float* w, float* dx)
    {
        if (g.SH != 1 || g.SW != 1 || g.PadTop > g.KH - 1 || g.PadLeft > g.KW - 1) return false;
        ConvDriver<ConvAvx2>.BackwardData(g, dy, w, dx);
        return true;
    }

    /// <summary>dw += Σ x·dy; dbias += Σ dy (dbias may be null).</summary>
    public static void BackwardFilter(in ConvGeometry g, float* x, float* dy, float* dw, float* dbias) => ConvDriver<ConvAvx2>.BackwardFilter(g, x, dy, dw, dbias);

    /// <summary>Channel block: 16 (two vectors), 8 (one vector) or 1..7 (one masked vector).</summary>
    internal interface IKBlock { static abstract bool Two { get; } static abstract bool Masked { get; } }
    internal struct KB16 : IKBlock { public static bool Two => true; public static bool Masked => false; }
    internal struct KB8 : IKBlock { public static bool Two => false; public static bool Masked => false; }
    internal struct KBM : IKBlock { public static bool Two => false; public static bool Masked => true; }

    private static Vector256<float> TailMask(int rem) =>
        Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(rem)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Ld<TK>(float* p, Vector256<float> mask) where TK : struct, IKBlock
        => TK.Masked ? Avx.MaskLoad(p, mask) : Avx.LoadVector256(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void St<TK>(float* p, Vector256<float> v, Vector256<float> mask) where TK : struct, IKBlock
    {
        if (TK.Masked) Avx.MaskStore(p, mask, v); else Avx.Store(p, v);
    }

    // =====================================================================================================
    // Runs: channel blocks × register tiles
    // =====================================================================================================

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardRow(in FRun r)
    {
        for (nint k0 = 0; k0 < r.K;)
        {
            int rem = (int)(r.K - k0);
            if (rem >= 16) { ForwardBlock<KB16>(r, k0, default); k0 += 16; }
            else if (rem >= 8) { ForwardBlock<KB8>(r, k0, default); k0 += 8; }
            else { ForwardBlock<KBM>(r, k0, TailMask(rem)); k0 = r.K; }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardBlock<TK>(in FRun a, nint k0, Vector256<float> mask) where TK : struct, IKBlock
    {
        nint K = a.K;
        for (int ow = 0; ow < a.OW; ow++)
        {
            if (ow == a.OwA) { ow = a.OwB; if (ow >= a.OW) break; }
            a.Border(ow, k0, out float* bx, out float* bw, out nint jn, out float* by, out float* bi);
            FTile<R1, TK>(bx, 0, a.XRow, bw, a.WRow, K, a.KhN, jn, bi, 0, by, K, mask);
        }
        a.Interior(k0, out float* xp, out float* yp, out float* bp);
        float* wk = a.W + k0;
        nint xs = a.Xs, jnI = a.Jn;
        for (int cnt = a.OwB - a.OwA; cnt > 0;)
        {
            int r = Tiling.Six(cnt);
            switch (r)
            {
                case 6: FTile<R6, TK>(xp, xs, a.XRow, wk, a.WRow, K, a.KhN, jnI, bp, a.InitStride, yp, K, mask); break;
                case 5: FTile<R5, TK>(xp, xs, a.XRow, wk, a.WRow, K, a.KhN, jnI, bp, a.InitStride, yp, K, mask); break;
                case 4: FTile<R4, TK>(xp, xs, a.XRow, wk, a.WRow, K, a.KhN, jnI, bp, a.InitStride, yp, K, mask); break;
                case 3: FTile<R3, TK>(xp, xs, a.XRow, wk, a.WRow, K, a.KhN, jnI, bp, a.InitStride, yp, K, mask); break;
                case 2: FTile<R2, TK>(xp, xs, a.XRow, wk, a.WRow, K, a.KhN, jnI, bp, a.InitStride, yp, K, mask); break;
                default: FTile<R1, TK>(xp, xs, a.XRow, wk, a.WRow, K, a.KhN, jnI, bp, a.InitStride, yp, K, mask); break;
            }
            xp += r * xs; yp += r * K; if (bp != null) bp += r * a.InitStride;
            cnt -= r;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FilterRun(in BRun a, int jn, float* dw)
    {
        for (nint k0 = 0; k0 < a.K;)
        {
            int rem = (int)(a.K - k0);
            if (rem >= 16) { FilterBlock<KB16>(a, jn, dw, k0, default); k0 += 16; }
            else if (rem >= 8) { FilterBlock<KB8>(a, jn, dw, k0, default); k0 += 8; }
            else { FilterBlock<KBM>(a, jn, dw, k0, TailMask(rem)); k0 = a.K; }
        }
    }

    public static void FilterRun3C1(in BRun a, float* dw) => FilterRun(a, 3, dw);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FilterBlock<TK>(in BRun a, int jn, float* dw, nint k0, Vector256<float> mask) where TK : struct, IKBlock
    {
        int j = 0, cnt = jn;
        while (cnt > 0)
        {
            int r = Tiling.Six(cnt);
            float* xp = a.X + j, dp = a.Dy + k0, wp = dw + j * a.K + k0;
            switch (r)
            {
                case 6: BTile<R6, TK>(xp, a.Xs, a.XRow, dp, a.K, a.DyRow, a.Rows, a.Cols, wp, a.K, mask); break;
                case 5: BTile<R5, TK>(xp, a.Xs, a.XRow, dp, a.K, a.DyRow, a.Rows, a.Cols, wp, a.K, mask); break;
                case 4: BTile<R4, TK>(xp, a.Xs, a.XRow, dp, a.K, a.DyRow, a.Rows, a.Cols, wp, a.K, mask); break;
                case 3: BTile<R3, TK>(xp, a.Xs, a.XRow, dp, a.K, a.DyRow, a.Rows, a.Cols, wp, a.K, mask); break;
                case 2: BTile<R2, TK>(xp, a.Xs, a.XRow, dp, a.K, a.DyRow, a.Rows, a.Cols, wp, a.K, mask); break;
                default: BTile<R1, TK>(xp, a.Xs, a.XRow, dp, a.K, a.DyRow, a.Rows, a.Cols, wp, a.K, mask); break;
            }
            j += r; cnt -= r;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DotRow(in DRun a)
    {
        for (int ow = 0; ow < a.OW; ow++)
        {
            if (ow == a.OwA) { ow = a.OwB; if (ow >= a.OW) break; }
            a.Border(ow, out float* bx, out float* bw, out nint tn, out float* bo);
            if (tn > 0) DTile<R1>(bx, 0, a.XRow, bw, a.WRow, a.KhN, tn, bo, 0);
        }
        a.Interior(out float* xp, out float* op);
        nint xs = a.Cin, tnI = a.WRow;
        for (int cnt = a.OwB - a.OwA; cnt > 0;)
        {
            int r = Tiling.Six(cnt);
            switch (r)
            {
                case 6: DTile<R6>(xp, xs, a.XRow, a.W, a.WRow, a.KhN, tnI, op, a.Os); break;
                case 5: DTile<R5>(xp, xs, a.XRow, a.W, a.WRow, a.KhN, tnI, op, a.Os); break;
                case 4: DTile<R4>(xp, xs, a.XRow, a.W, a.WRow, a.KhN, tnI, op, a.Os); break;
                case 3: DTile<R3>(xp, xs, a.XRow, a.W, a.WRow, a.KhN, tnI, op, a.Os); break;
                case 2: DTile<R2>(xp, xs, a.XRow, a.W, a.WRow, a.KhN, tnI, op, a.Os); break;
                default: DTile<R1>(xp, xs, a.XRow, a.W, a.WRow, a.KhN, tnI, op, a.Os); break;
            }
            xp += r * xs; op += r * a.Os; cnt -= r;
        }
    }

    // =====================================================================================================
    // Tiles
    // =====================================================================================================

    /// <summary>
    /// R output pixels (x pointers <paramref name="xs"/> apart) × one channel block:
    /// y[r] = init[r] + Σ_{kh &lt; khN} Σ_{j &lt; jn} x[r][kh·xRow + j] · w[kh·wRow + j·K].
    /// init[r] = bp[r·bs] (bp null → 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FTile<TR, TK>(float* xp, nint xs, nint xRow, float* wp, nint wRow, nint K, int khN, nint jn,
        float* bp, nint bs, float* yp, nint ys, Vector256<float> mask)
        where TR : struct, IRows where TK : struct, IKBlock
    {
        int R = TR.R; bool two = TK.Two;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default,
                         a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        if (bp != null)
        {
            a00 = Ld<TK>(bp, mask); if (two) a01 = Avx.LoadVector256(bp + 8);
            if (R > 1) { a10 = Ld<TK>(bp + bs, mask); if (two) a11 = Avx.LoadVector256(bp + bs + 8); }
            if (R > 2) { a20 = Ld<TK>(bp + 2 * bs, mask); if (two) a21 = Avx.LoadVector256(bp + 2 * bs + 8); }
            if (R > 3) { a30 = Ld<TK>(bp + 3 * bs, mask); if (two) a31 = Avx.LoadVector256(bp + 3 * bs + 8); }
            if (R > 4) { a40 = Ld<TK>(bp + 4 * bs, mask); if (two) a41 = Avx.LoadVector256(bp + 4 * bs + 8); }
            if (R > 5) { a50 = Ld<TK>(bp + 5 * bs, mask); if (two) a51 = Avx.LoadVector256(bp + 5 * bs + 8); }
        }
        for (int kh = 0; kh < khN; kh++)
        {
            float* x0 = xp + kh * xRow;
            float* x1 = x0 + xs, x2 = x1 + xs, x3 = x2 + xs, x4 = x3 + xs, x5 = x4 + xs;
            float* wj = wp + kh * wRow;
            nint j = 0;
            if (R <= 3)
            {
                // Narrow tiles: odd j go to the spare accumulators a3x..a5x so ≥ 4 FMA chains stay in flight.
                for (; j + 1 < jn; j += 2, wj += 2 * K)
                {
                    var w0 = Ld<TK>(wj, mask);
                    var w1 = two ? Avx.LoadVector256(wj + 8) : default;
                    var xv = Vector256.Create(x0[j]);
                    a00 = Fma.MultiplyAdd(xv, w0, a00); if (two) a01 = Fma.MultiplyAdd(xv, w1, a01);
                    if (R > 1) { xv = Vector256.Create(x1[j]); a10 = Fma.MultiplyAdd(xv, w0, a10); if (two) a11 = Fma.MultiplyAdd(xv, w1, a11); }
                    if (R > 2) { xv = Vector256.Create(x2[j]); a20 = Fma.MultiplyAdd(xv, w0, a20); if (two) a21 = Fma.MultiplyAdd(xv, w1, a21); }
                    w0 = Ld<TK>(wj + K, mask);
                    w1 = two ? Avx.LoadVector256(wj + K + 8) : default;
                    xv = Vector256.Create(x0[j + 1]);
                    a30 = Fma.MultiplyAdd(xv, w0, a30); if (two) a31 = Fma.MultiplyAdd(xv, w1, a31);
                    if (R > 1) { xv = Vector256.Create(x1[j + 1]); a40 = Fma.MultiplyAdd(xv, w0, a40); if (two) a41 = Fma.MultiplyAdd(xv, w1, a41); }
                    if (R > 2) { xv = Vector256.Create(x2[j + 1]); a50 = Fma.MultiplyAdd(xv, w0, a50); if (two) a51 = Fma.MultiplyAdd(xv, w1, a51); }
                }
            }
            for (; j < jn; j++, wj += K)
            {
                var w0 = Ld<TK>(wj, mask);
                var w1 = two ? Avx.LoadVector256(wj + 8) : default;
                var xv = Vector256.Create(x0[j]);
                a00 = Fma.MultiplyAdd(xv, w0, a00); if (two) a01 = Fma.MultiplyAdd(xv, w1, a01);
                if (R > 1) { xv = Vector256.Create(x1[j]); a10 = Fma.MultiplyAdd(xv, w0, a10); if (two) a11 = Fma.MultiplyAdd(xv, w1, a11); }
                if (R > 2) { xv = Vector256.Create(x2[j]); a20 = Fma.MultiplyAdd(xv, w0, a20); if (two) a21 = Fma.MultiplyAdd(xv, w1, a21); }
                if (R > 3) { xv = Vector256.Create(x3[j]); a30 = Fma.MultiplyAdd(xv, w0, a30); if (two) a31 = Fma.MultiplyAdd(xv, w1, a31); }
                if (R > 4) { xv = Vector256.Create(x4[j]); a40 = Fma.MultiplyAdd(xv, w0, a40); if (two) a41 = Fma.MultiplyAdd(xv, w1, a41); }
                if (R > 5) { xv = Vector256.Create(x5[j]); a50 = Fma.MultiplyAdd(xv, w0, a50); if (two) a51 = Fma.MultiplyAdd(xv, w1, a51); }
            }
        }
        if (R <= 3)
        {
            a00 = Avx.Add(a00, a30); a01 = Avx.Add(a01, a31);
            a10 = Avx.Add(a10, a40); a11 = Avx.Add(a11, a41);
            a20 = Avx.Add(a20, a50); a21 = Avx.Add(a21, a51);
        }
        St<TK>(yp, a00, mask); if (two) Avx.Store(yp + 8, a01);
        if (R > 1) { St<TK>(yp + ys, a10, mask); if (two) Avx.Store(yp + ys + 8, a11); }
        if (R > 2) { St<TK>(yp + 2 * ys, a20, mask); if (two) Avx.Store(yp + 2 * ys + 8, a21); }
        if (R > 3) { St<TK>(yp + 3 * ys, a30, mask); if (two) Avx.Store(yp + 3 * ys + 8, a31); }
        if (R > 4) { St<TK>(yp + 4 * ys, a40, mask); if (two) Avx.Store(yp + 4 * ys + 8, a41); }
        if (R > 5) { St<TK>(yp + 5 * ys, a50, mask); if (two) Avx.Store(yp + 5 * ys + 8, a51); }
    }

    /// <summary>
    /// dw[r·K + :] += Σ_{row &lt; rows, col &lt; cols} x[row·xRow + col·xs + r] · dy[row·dyRow + col·dys + :] for r &lt; R.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BTile<TR, TK>(float* xp, nint xs, nint xRow, float* dp, nint dys, nint dyRow, int rows, int cols,
        float* wp, nint K, Vector256<float> mask)
        where TR : struct, IRows where TK : struct, IKBlock
    {
        int R = TR.R; bool two = TK.Two;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default,
                         a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        for (int row = 0; row < rows; row++)
        {
            float* xq = xp + row * xRow, dq = dp + row * dyRow;
            int col = 0;
            if (R <= 3)
            {
                // Narrow tiles: odd pixels go to the spare accumulators a3x..a5x so ≥ 4 FMA chains stay in flight.
                for (; col + 1 < cols; col += 2, xq += 2 * xs, dq += 2 * dys)
                {
                    var d0 = Ld<TK>(dq, mask);
                    var d1 = two ? Avx.LoadVector256(dq + 8) : default;
                    var xv = Vector256.Create(xq[0]);
                    a00 = Fma.MultiplyAdd(xv, d0, a00); if (two) a01 = Fma.MultiplyAdd(xv, d1, a01);
                    if (R > 1) { xv = Vector256.Create(xq[1]); a10 = Fma.MultiplyAdd(xv, d0, a10); if (two) a11 = Fma.MultiplyAdd(xv, d1, a11); }
                    if (R > 2) { xv = Vector256.Create(xq[2]); a20 = Fma.MultiplyAdd(xv, d0, a20); if (two) a21 = Fma.MultiplyAdd(xv, d1, a21); }
                    d0 = Ld<TK>(dq + dys, mask);
                    d1 = two ? Avx.LoadVector256(dq + dys + 8) : default;
                    xv = Vector256.Create(xq[xs]);
                    a30 = Fma.MultiplyAdd(xv, d0, a30); if (two) a31 = Fma.MultiplyAdd(xv, d1, a31);
                    if (R > 1) { xv = Vector256.Create(xq[xs + 1]); a40 = Fma.MultiplyAdd(xv, d0, a40); if (two) a41 = Fma.MultiplyAdd(xv, d1, a41); }
                    if (R > 2) { xv = Vector256.Create(xq[xs + 2]); a50 = Fma.MultiplyAdd(xv, d0, a50); if (two) a51 = Fma.MultiplyAdd(xv, d1, a51); }
                }
            }
            for (; col < cols; col++, xq += xs, dq += dys)
            {
                var d0 = Ld<TK>(dq, mask);
                var d1 = two ? Avx.LoadVector256(dq + 8) : default;
                var xv = Vector256.Create(xq[0]);
                a00 = Fma.MultiplyAdd(xv, d0, a00); if (two) a01 = Fma.MultiplyAdd(xv, d1, a01);
                if (R > 1) { xv = Vector256.Create(xq[1]); a10 = Fma.MultiplyAdd(xv, d0, a10); if (two) a11 = Fma.MultiplyAdd(xv, d1, a11); }
                if (R > 2) { xv = Vector256.Create(xq[2]); a20 = Fma.MultiplyAdd(xv, d0, a20); if (two) a21 = Fma.MultiplyAdd(xv, d1, a21); }
                if (R > 3) { xv = Vector256.Create(xq[3]); a30 = Fma.MultiplyAdd(xv, d0, a30); if (two) a31 = Fma.MultiplyAdd(xv, d1, a31); }
                if (R > 4) { xv = Vector256.Create(xq[4]); a40 = Fma.MultiplyAdd(xv, d0, a40); if (two) a41 = Fma.MultiplyAdd(xv, d1, a41); }
                if (R > 5) { xv = Vector256.Create(xq[5]); a50 = Fma.MultiplyAdd(xv, d0, a50); if (two) a51 = Fma.MultiplyAdd(xv, d1, a51); }
            }
        }
        if (R <= 3)
        {
            a00 = Avx.Add(a00, a30); a01 = Avx.Add(a01, a31);
            a10 = Avx.Add(a10, a40); a11 = Avx.Add(a11, a41);
            a20 = Avx.Add(a20, a50); a21 = Avx.Add(a21, a51);
        }
        AddTo<TK>(wp, a00, a01, mask);
        if (R > 1) AddTo<TK>(wp + K, a10, a11, mask);
        if (R > 2) AddTo<TK>(wp + 2 * K, a20, a21, mask);
        if (R > 3) AddTo<TK>(wp + 3 * K, a30, a31, mask);
        if (R > 4) AddTo<TK>(wp + 4 * K, a40, a41, mask);
        if (R > 5) AddTo<TK>(wp + 5 * K, a50, a51, mask);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo<TK>(float* p, Vector256<float> v0, Vector256<float> v1, Vector256<float> mask) where TK : struct, IKBlock
    {
        St<TK>(p, Avx.Add(Ld<TK>(p, mask), v0), mask);
        if (TK.Two) Avx.Store(p + 8, Avx.Add(Avx.LoadVector256(p + 8), v1));
    }

    /// <summary>op[r·os] += Σ_{kh &lt; khN} Σ_{t &lt; tn} x[r·xs + kh·xRow + t] · w[kh·wRow + t] for r &lt; R (two accumulators per pixel).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DTile<TR>(float* xp, nint xs, nint xRow, float* wp, nint wRow, int khN, nint tn, float* op, nint os)
        where TR : struct, IRows
    {
        int R = TR.R;
        nint tFull = tn & ~(nint)7;
        var mask = TailMask((int)(tn - tFull));
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default,
                         a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        for (int kh = 0; kh < khN; kh++)
        {
            float* x0 = xp + kh * xRow;
            float* x1 = x0 + xs, x2 = x1 + xs, x3 = x2 + xs, x4 = x3 + xs, x5 = x4 + xs;
            float* w = wp + kh * wRow;
            nint t = 0;
            for (; t + 16 <= tFull; t += 16)
            {
                var w0 = Avx.LoadVector256(w + t); var w1 = Avx.LoadVector256(w + t + 8);
                a00 = Fma.MultiplyAdd(Avx.LoadVector256(x0 + t), w0, a00); a01 = Fma.MultiplyAdd(Avx.LoadVector256(x0 + t + 8), w1, a01);
                if (R > 1) { a10 = Fma.MultiplyAdd(Avx.LoadVector256(x1 + t), w0, a10); a11 = Fma.MultiplyAdd(Avx.LoadVector256(x1 + t + 8), w1, a11); }
                if (R > 2) { a20 = Fma.MultiplyAdd(Avx.LoadVector256(x2 + t), w0, a20); a21 = Fma.MultiplyAdd(Avx.LoadVector256(x2 + t + 8), w1, a21); }
                if (R > 3) { a30 = Fma.MultiplyAdd(Avx.LoadVector256(x3 + t), w0, a30); a31 = Fma.MultiplyAdd(Avx.LoadVector256(x3 + t + 8), w1, a31); }
                if (R > 4) { a40 = Fma.MultiplyAdd(Avx.LoadVector256(x4 + t), w0, a40); a41 = Fma.MultiplyAdd(Avx.LoadVector256(x4 + t + 8), w1, a41); }
                if (R > 5) { a50 = Fma.MultiplyAdd(Avx.LoadVector256(x5 + t), w0, a50); a51 = Fma.MultiplyAdd(Avx.LoadVector256(x5 + t + 8), w1, a51); }
            }
            if (t < tFull)
            {
                var w0 = Avx.LoadVector256(w + t);
                a00 = Fma.MultiplyAdd(Avx.LoadVector256(x0 + t), w0, a00);
                if (R > 1) a10 = Fma.MultiplyAdd(Avx.LoadVector256(x1 + t), w0, a10);
                if (R > 2) a20 = Fma.MultiplyAdd(Avx.LoadVector256(x2 + t), w0, a20);
                if (R > 3) a30 = Fma.MultiplyAdd(Avx.LoadVector256(x3 + t), w0, a30);
                if (R > 4) a40 = Fma.MultiplyAdd(Avx.LoadVector256(x4 + t), w0, a40);
                if (R > 5) a50 = Fma.MultiplyAdd(Avx.LoadVector256(x5 + t), w0, a50);
                t += 8;
            }
            if (t < tn)
            {
                var w1 = Avx.MaskLoad(w + t, mask);
                a01 = Fma.MultiplyAdd(Avx.MaskLoad(x0 + t, mask), w1, a01);
                if (R > 1) a11 = Fma.MultiplyAdd(Avx.MaskLoad(x1 + t, mask), w1, a11);
                if (R > 2) a21 = Fma.MultiplyAdd(Avx.MaskLoad(x2 + t, mask), w1, a21);
                if (R > 3) a31 = Fma.MultiplyAdd(Avx.MaskLoad(x3 + t, mask), w1, a31);
                if (R > 4) a41 = Fma.MultiplyAdd(Avx.MaskLoad(x4 + t, mask), w1, a41);
                if (R > 5) a51 = Fma.MultiplyAdd(Avx.MaskLoad(x5 + t, mask), w1, a51);
            }
        }
        op[0] += Vector256.Sum(Avx.Add(a00, a01));
        if (R > 1) op[os] += Vector256.Sum(Avx.Add(a10, a11));
        if (R > 2) op[2 * os] += Vector256.Sum(Avx.Add(a20, a21));
        if (R > 3) op[3 * os] += Vector256.Sum(Avx.Add(a30, a31));
        if (R > 4) op[4 * os] += Vector256.Sum(Avx.Add(a40, a41));
        if (R > 5) op[5 * os] += Vector256.Sum(Avx.Add(a50, a51));
    }
}
