using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvNet.Kernels;

/// <summary>
/// AVX-512 tiles of the direct convolution (<see cref="ConvDriver{TTiles}"/> walks the geometry), used before
/// <see cref="ConvAvx2"/> when the CPU has AVX-512F (.NET 10: <c>DOTNET_EnableAVX512=0</c> turns it off). A channel block
/// is N·16 channels in N ∈ {1, 2, 4} zmm registers: 64-channel blocks while ≥ 64 channels remain, then 32, 16, and one
/// masked 1..15-channel tail (<c>Avx512F.MaskLoad</c> / <c>MaskStore</c>), so any K runs without scalar code. Tiles
/// (bodies in <c>ConvAvx512.Tiles.cs</c>, every (row, vector) statement guarded by the compile-time R and N, which the
/// JIT folds per instantiation):
/// <list type="bullet">
/// <item><see cref="FTile{TR,TK}"/>: R ≤ 6 output pixels × N vectors (up to 24 accumulators), reducing over the flat
/// (kw, c) run; the general forward tile.</item>
/// <item><see cref="FTile3{TR,TK}"/>: stride 1, KW = 3, N ≤ 2 (conv1/conv2 forward, conv2/conv3 backward-data):
/// R ≤ 12 (N = 1) / 8 (N = 2) pixels; every input value is broadcast once and feeds the ≤ 3 pixels whose windows
/// contain it, which cuts the broadcast loads per FMA by ~3× (the limit for 16-channel blocks).</item>
/// <item><see cref="BTile{TR,TK}"/>: R ≤ 12 (N ≤ 2) / 6 (N = 4) dw rows × N vectors over a rectangle of pixels.</item>
/// <item><see cref="BTile3C1{TK}"/>: backward-filter with one input channel, KW = 3, stride 1 (conv1): four columns
/// × three kw per step, each x broadcast once.</item>
/// </list>
/// Small FTile/BTile tiles (R·N ≤ 6) alternate odd reduction steps into spare accumulators to keep enough FMA chains
/// in flight. Backward-data's dot-product runs (C &lt; 8) are <see cref="ConvAvx2"/>'s.
/// </summary>
internal readonly unsafe partial struct ConvAvx512 : IConvTiles
{
    public static bool IsSupported => Avx512F.IsSupported && Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Channel block: N zmm vectors of 16 channels; Masked → one vector of 1..15 channels.</summary>
    internal interface IKBlock { static abstract int N { get; } static abstract bool Masked { get; } }
    internal struct KB64 : IKBlock { public static int N => 4; public static bool Masked => false; }
    internal struct KB32 : IKBlock { public static int N => 2; public static bool Masked => false; }
    internal struct KB16 : IKBlock { public static int N => 1; public static bool Masked => false; }
    internal struct KBM : IKBlock { public static int N => 1; public static bool Masked => true; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Split<TR, TK>() where TR : struct, IRows where TK : struct, IKBlock => TK.N <= 2 && TR.R * TK.N <= 6;

    private static Vector512<float> TailMask(int rem) =>
        Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(rem)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Ld<TK>(float* p, Vector512<float> mask) where TK : struct, IKBlock
        => TK.Masked ? Avx512F.MaskLoad(p, mask, Vector512<float>.Zero) : Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void St<TK>(float* p, Vector512<float> v, Vector512<float> mask) where TK : struct, IKBlock
    {
        if (TK.Masked) Avx512F.MaskStore(p, mask, v); else Vector512.Store(v, p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo<TK>(float* p, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3,
        Vector512<float> mask) where TK : struct, IKBlock
    {
        St<TK>(p, Avx512F.Add(Ld<TK>(p, mask), v0), mask);
        if (TK.N > 1) Vector512.Store(Avx512F.Add(Vector512.Load(p + 16), v1), p + 16);
        if (TK.N > 2) Vector512.Store(Avx512F.Add(Vector512.Load(p + 32), v2), p + 32);
        if (TK.N > 3) Vector512.Store(Avx512F.Add(Vector512.Load(p + 48), v3), p + 48);
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
            if (rem >= 64) { ForwardBlock<KB64>(r, k0, default); k0 += 64; }
            else if (rem >= 32) { ForwardBlock<KB32>(r, k0, default); k0 += 32; }
            else if (rem >= 16) { ForwardBlock<KB16>(r, k0, default); k0 += 16; }
            else { ForwardBlock<KBM>(r, k0, TailMask(rem)); k0 = r.K; }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardBlock<TK>(in FRun a, nint k0, Vector512<float> mask) where TK : struct, IKBlock
    {
        nint K = a.K, C = a.C;
        for (int ow = 0; ow < a.OW; ow++)
        {
            if (ow == a.OwA) { ow = a.OwB; if (ow >= a.OW) break; }
            a.Border(ow, k0, out float* bx, out float* bw, out nint jn, out float* by, out float* bi);
            FTile<R1, TK>(bx, 0, a.XRow, bw, a.WRow, K, a.KhN, jn, bi, 0, by, K, mask);
        }
        a.Interior(k0, out float* xp, out float* yp, out float* bp);
        float* wk = a.W + k0;
        nint xs = a.Xs, jnI = a.Jn;
        if (TK.N <= 2 && a.ThreeWide)
        {
            // 16- or 32-channel block, 3-wide kernel, stride 1 (conv1/conv2 forward, conv2/conv3 backward-data): tiles of
            // up to 12 (N = 1) / 8 (N = 2) pixels that broadcast each input value once for all the pixels reading it.
            for (int cnt = a.OwB - a.OwA; cnt > 0;)
            {
                int r = Tiling.UpTo(cnt, TK.N == 1 ? 12 : 8);
                switch (r)
                {
                    case 12: FTile3<R12, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, a.InitStride, yp, K, mask); break;
                    case 11: FTile3<R11, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, a.InitStride, yp, K, mask); break;
                    case 10: FTile3<R10, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, a.InitStride, yp, K, mask); break;
                    case 9: FTile3<R9, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, a.InitStride, yp, K, mask); break;
                    case 8: FTile3<R8, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, a.InitStride, yp, K, mask); break;
                    case 7: FTile3<R7, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, a.InitStride, yp, K, mask); break;
                    case 6: FTile3<R6, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, a.InitStride, yp, K, mask); break;
                    case 5: FTile3<R5, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, a.InitStride, yp, K, mask); break;
                    case 4: FTile3<R4, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, a.InitStride, yp, K, mask); break;
                    case 3: FTile3<R3, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, a.InitStride, yp, K, mask); break;
                    case 2: FTile3<R2, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, a.InitStride, yp, K, mask); break;
                    default: FTile3<R1, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, a.InitStride, yp, K, mask); break;
                }
                xp += r * xs; yp += r * K; if (bp != null) bp += r * a.InitStride;
                cnt -= r;
            }
            return;
        }
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
            if (rem >= 64) { FilterBlock<KB64>(a, jn, dw, k0, default); k0 += 64; }
            else if (rem >= 32) { FilterBlock<KB32>(a, jn, dw, k0, default); k0 += 32; }
            else if (rem >= 16) { FilterBlock<KB16>(a, jn, dw, k0, default); k0 += 16; }
            else { FilterBlock<KBM>(a, jn, dw, k0, TailMask(rem)); k0 = a.K; }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FilterBlock<TK>(in BRun a, int jn, float* dw, nint k0, Vector512<float> mask) where TK : struct, IKBlock
    {
        // Up to 12 dw rows per tile for 16/32-channel blocks (≤ 24 accumulators), 6 for 64-channel blocks.
        int j = 0, cnt = jn;
        while (cnt > 0)
        {
            int r = TK.N == 4 ? Tiling.Six(cnt) : Tiling.UpTo(cnt, 12);
            float* xp = a.X + j, dp = a.Dy + k0, wp = dw + j * a.K + k0;
            switch (r)
            {
                case 12: BTile<R12, TK>(xp, a.Xs, a.XRow, dp, a.K, a.DyRow, a.Rows, a.Cols, wp, a.K, mask); break;
                case 11: BTile<R11, TK>(xp, a.Xs, a.XRow, dp, a.K, a.DyRow, a.Rows, a.Cols, wp, a.K, mask); break;
                case 10: BTile<R10, TK>(xp, a.Xs, a.XRow, dp, a.K, a.DyRow, a.Rows, a.Cols, wp, a.K, mask); break;
                case 9: BTile<R9, TK>(xp, a.Xs, a.XRow, dp, a.K, a.DyRow, a.Rows, a.Cols, wp, a.K, mask); break;
                case 8: BTile<R8, TK>(xp, a.Xs, a.XRow, dp, a.K, a.DyRow, a.Rows, a.Cols, wp, a.K, mask); break;
                case 7: BTile<R7, TK>(xp, a.Xs, a.XRow, dp, a.K, a.DyRow, a.Rows, a.Cols, wp, a.K, mask); break;
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

    /// <summary>C = 1, KW = 3, stride 1 (conv1): the three dw rows of one kh in 16-channel blocks (<see cref="BTile3C1{TK}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FilterRun3C1(in BRun a, float* dw)
    {
        nint K = a.K;
        for (nint k0 = 0; k0 < K; k0 += 16)
        {
            if (K - k0 >= 16) BTile3C1<KB16>(a.X, a.XRow, a.Dy + k0, a.DyRow, a.Rows, a.Cols, dw + k0, K, default);
            else BTile3C1<KBM>(a.X, a.XRow, a.Dy + k0, a.DyRow, a.Rows, a.Cols, dw + k0, K, TailMask((int)(K - k0)));
        }
    }

    /// <summary>Backward-data with C &lt; 8 reduces along (kw, k) in short runs: the AVX2 dot tiles.</summary>
    public static void DotRow(in DRun r) => ConvAvx2.DotRow(r);
}
