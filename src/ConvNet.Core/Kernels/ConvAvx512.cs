using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvNet.Kernels;

/// <summary>
/// AVX-512 implicit-GEMM convolution kernels behind <see cref="Conv"/>, dispatched before <see cref="ConvAvx2"/> when
/// <see cref="Avx512F.IsSupported"/> (.NET 10: <c>DOTNET_EnableAVX512=0</c> turns it off and the AVX2 kernels run;
/// the older <c>DOTNET_EnableAVX512F</c> knob is no longer honoured). Same structure as <see cref="ConvAvx2"/> —
/// interior/border column split, backward-filter in cache-sized bands of output rows, backward-data with stride 1 as
/// a forward convolution of dy with 180°-rotated, channel-swapped weights (per-thread buffer, no steady-state
/// allocation) — with a channel block of N·16 channels in N ∈ {1, 2, 4} zmm registers: 64-channel blocks while ≥ 64
/// channels remain, then 32, 16, and one masked 1..15-channel tail (<c>Avx512F.MaskLoad</c> / <c>MaskStore</c>), so
/// any K runs without scalar code. Tiles (bodies in <c>ConvAvx512.Tiles.cs</c>, every (row, vector) statement
/// guarded by the compile-time R and N, which the JIT folds per instantiation):
/// <list type="bullet">
/// <item><see cref="FTile{TR,TK}"/>: R ≤ 6 output pixels × N vectors (up to 24 accumulators), reducing over the flat
/// (kw, c) run; the general forward tile.</item>
/// <item><see cref="FTile3{TR,TK}"/>: stride 1, KW = 3, N ≤ 2 (conv1/conv2 forward, conv2/conv3 backward-data):
/// R ≤ 12 (N = 1) / 8 (N = 2) pixels; every input value is broadcast once and feeds the ≤ 3 pixels whose windows
/// contain it, which cuts the broadcast loads per FMA by ~3× (the limit for 16-channel blocks).</item>
/// <item><see cref="BTile{TR,TK}"/>: R ≤ 12 (N ≤ 2) / 6 (N = 4) dw rows × N vectors over a band of pixels.</item>
/// <item><see cref="BTile3C1{TK}"/>: backward-filter with one input channel, KW = 3, stride 1 (conv1): four columns
/// × three kw per step, each x broadcast once.</item>
/// </list>
/// Small FTile/BTile tiles (R·N ≤ 6) alternate odd reduction steps into spare accumulators to keep enough FMA chains
/// in flight. Backward-data with C &lt; 8 (dot-product tiles) and strides ≠ 1 is left to <see cref="ConvAvx2"/> /
/// the portable code.
/// </summary>
internal static unsafe partial class ConvAvx512
{
    public static bool IsSupported => Avx512F.IsSupported && Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Per-thread transposed-weight buffer for <see cref="BackwardData"/> (grown on demand, reused).</summary>
    [ThreadStatic] private static float[]? _wT;

    // ---- compile-time tile shapes: struct type arguments make the JIT specialise each instantiation ----
    internal interface IRows { static abstract int R { get; } }
    internal struct R1 : IRows { public static int R => 1; }
    internal struct R2 : IRows { public static int R => 2; }
    internal struct R3 : IRows { public static int R => 3; }
    internal struct R4 : IRows { public static int R => 4; }
    internal struct R5 : IRows { public static int R => 5; }
    internal struct R6 : IRows { public static int R => 6; }
    // R7..R12: FTile3 and BTile with N ≤ 2 only (FTile handles R ≤ 6, BTile R ≤ 6 for N = 4).
    internal struct R7 : IRows { public static int R => 7; }
    internal struct R8 : IRows { public static int R => 8; }
    internal struct R9 : IRows { public static int R => 9; }
    internal struct R10 : IRows { public static int R => 10; }
    internal struct R11 : IRows { public static int R => 11; }
    internal struct R12 : IRows { public static int R => 12; }

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

    private static int CeilDiv(int a, int b) => a >= 0 ? (a + b - 1) / b : -(-a / b);
    private static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    /// <summary>Tile width for <paramref name="cnt"/> remaining pixels / rows: 6s, with 7..9 split 4 + rest.</summary>
    private static int TileRows(int cnt) => cnt >= 10 || cnt == 6 ? 6 : cnt >= 7 ? 4 : cnt;

    // =====================================================================================================
    // Forward
    // =====================================================================================================

    /// <summary>y = conv(x, w) + bias (bias may be null).</summary>
    public static void Forward(in ConvGeometry g, float* x, float* w, float* bias, float* y) => ForwardCore(g, x, w, bias, y, accumulate: false);

    /// <summary>
    /// dx += Σ dy·w for stride 1 and C ≥ 8 (as a forward conv with transposed weights); otherwise delegates to
    /// <see cref="ConvAvx2.BackwardData"/> (which returns false — nothing done — for strides ≠ 1).
    /// </summary>
    public static bool BackwardData(in ConvGeometry g, float* dy, float* w, float* dx)
    {
        if (g.SH != 1 || g.SW != 1 || g.PadTop > g.KH - 1 || g.PadLeft > g.KW - 1 || g.C < 8)
            return ConvAvx2.BackwardData(g, dy, w, dx);
        int KH = g.KH, KW = g.KW, C = g.C, K = g.K, size = g.WeightSize;
        var buf = _wT;
        if (buf is null || buf.Length < size) _wT = buf = new float[size];
        var gt = new ConvGeometry(g.N, g.OH, g.OW, K, KH, KW, 1, 1, KH - 1 - g.PadTop, KW - 1 - g.PadLeft, g.H, g.W, C);
        fixed (float* wt = buf)
        {
            // wt[kh', kw', k, c] = w[KH−1−kh', KW−1−kw', c, k]
            for (int kh = 0; kh < KH; kh++)
            for (int kw = 0; kw < KW; kw++)
            {
                float* src = w + (nint)((KH - 1 - kh) * KW + (KW - 1 - kw)) * C * K;
                float* dst = wt + (nint)(kh * KW + kw) * K * C;
                for (int c = 0; c < C; c++)
                for (int k = 0; k < K; k++)
                    dst[k * C + c] = src[c * K + k];
            }
            ForwardCore(gt, dy, wt, null, dx, accumulate: true);
        }
        return true;
    }

    /// <summary>
    /// out[n,oh,ow,:] = init + Σ in[n, oh·SH−PT+kh, ow·SW−PL+kw, c] · w[kh,kw,c,:] where init is the bias, zero, or
    /// (accumulate) the existing output.
    /// </summary>
    private static void ForwardCore(in ConvGeometry g, float* x, float* w, float* bias, float* y, bool accumulate)
    {
        int K = g.K, C = g.C, KW = g.KW, OW = g.OW, SW = g.SW;
        int owA = Math.Min(OW, CeilDiv(g.PadLeft, SW));
        int owB = g.W - KW + g.PadLeft >= 0 ? Math.Min(OW, (g.W - KW + g.PadLeft) / SW + 1) : 0;
        if (owB < owA) owB = owA;
        var a = new FArgs
        {
            K = K, C = C, KW = KW, SW = SW, PL = g.PadLeft, W = g.W, OW = OW, OwA = owA, OwB = owB,
            Xs = SW * C, XRow = (nint)g.W * C, WRow = (nint)KW * C * K, Accumulate = accumulate,
        };
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        {
            g.RowWindow(oh, out int ih0, out int kh0, out int kh1);
            a.KhN = Math.Max(0, kh1 - kh0);
            a.XRowBase = x + ((nint)n * g.H + ih0 + kh0) * g.W * C;
            a.WBase = w + (nint)kh0 * a.WRow;
            a.YRow = y + ((nint)n * g.OH + oh) * OW * K;
            for (int k0 = 0; k0 < K;)
            {
                int rem = K - k0;
                a.Bias = bias == null ? null : bias + k0;
                if (rem >= 64) { FRow<KB64>(ref a, k0, default); k0 += 64; }
                else if (rem >= 32) { FRow<KB32>(ref a, k0, default); k0 += 32; }
                else if (rem >= 16) { FRow<KB16>(ref a, k0, default); k0 += 16; }
                else { FRow<KBM>(ref a, k0, TailMask(rem)); k0 = K; }
            }
        }
    }

    private struct FArgs
    {
        public int K, C, KW, SW, PL, W, OW, OwA, OwB, KhN;
        public nint Xs, XRow, WRow;
        public bool Accumulate;
        public float* XRowBase, WBase, YRow, Bias;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FRow<TK>(ref FArgs a, int k0, Vector512<float> mask) where TK : struct, IKBlock
    {
        int K = a.K, C = a.C;
        float* wk = a.WBase + k0;
        // Border columns: one pixel at a time with the kw range clipped (still one contiguous (kw, c) run).
        for (int ow = 0; ow < a.OW; ow++)
        {
            if (ow == a.OwA) { ow = a.OwB; if (ow >= a.OW) break; }
            int iw0 = ow * a.SW - a.PL;
            int kw0 = Math.Max(0, -iw0), kw1 = Math.Min(a.KW, a.W - iw0);
            float* yp = a.YRow + (nint)ow * K + k0;
            float* bp = a.Accumulate ? yp : a.Bias;
            FTile<R1, TK>(a.XRowBase + (nint)(iw0 + kw0) * C, 0, a.XRow, wk + (nint)kw0 * C * K, a.WRow, K, a.KhN,
                Math.Max(0, kw1 - kw0) * C, bp, 0, yp, K, mask);
        }
        int o = a.OwA, cnt = a.OwB - a.OwA;
        nint bs = a.Accumulate ? K : 0, jn = (nint)a.KW * C;
        if (TK.N <= 2 && a.KW == 3 && a.SW == 1)
        {
            // 16- or 32-channel block, 3-wide kernel, stride 1 (conv1/conv2 forward, conv2/conv3 backward-data): tiles of
            // up to 12 (N = 1) / 8 (N = 2) pixels that broadcast each input value once for all the pixels reading it.
            int maxR = TK.N == 1 ? 12 : 8;
            while (cnt > 0)
            {
                float* xp = a.XRowBase + ((nint)o - a.PL) * C;
                float* yp = a.YRow + (nint)o * K + k0;
                float* bp = a.Accumulate ? yp : a.Bias;
                int r = cnt <= maxR ? cnt : cnt >= 2 * maxR ? maxR : (cnt + 1) / 2;
                switch (r)
                {
                    case 12: FTile3<R12, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, bs, yp, K, mask); break;
                    case 11: FTile3<R11, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, bs, yp, K, mask); break;
                    case 10: FTile3<R10, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, bs, yp, K, mask); break;
                    case 9: FTile3<R9, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, bs, yp, K, mask); break;
                    case 8: FTile3<R8, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, bs, yp, K, mask); break;
                    case 7: FTile3<R7, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, bs, yp, K, mask); break;
                    case 6: FTile3<R6, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, bs, yp, K, mask); break;
                    case 5: FTile3<R5, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, bs, yp, K, mask); break;
                    case 4: FTile3<R4, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, bs, yp, K, mask); break;
                    case 3: FTile3<R3, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, bs, yp, K, mask); break;
                    case 2: FTile3<R2, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, bs, yp, K, mask); break;
                    default: FTile3<R1, TK>(xp, C, a.XRow, wk, a.WRow, K, a.KhN, bp, bs, yp, K, mask); break;
                }
                o += r; cnt -= r;
            }
            return;
        }
        // Interior columns in tiles of up to 6 pixels.
        while (cnt > 0)
        {
            float* xp = a.XRowBase + ((nint)o * a.SW - a.PL) * C;
            float* yp = a.YRow + (nint)o * K + k0;
            float* bp = a.Accumulate ? yp : a.Bias;
            int r = TileRows(cnt);
            switch (r)
            {
                case 6: FTile<R6, TK>(xp, a.Xs, a.XRow, wk, a.WRow, K, a.KhN, jn, bp, bs, yp, K, mask); break;
                case 5: FTile<R5, TK>(xp, a.Xs, a.XRow, wk, a.WRow, K, a.KhN, jn, bp, bs, yp, K, mask); break;
                case 4: FTile<R4, TK>(xp, a.Xs, a.XRow, wk, a.WRow, K, a.KhN, jn, bp, bs, yp, K, mask); break;
                case 3: FTile<R3, TK>(xp, a.Xs, a.XRow, wk, a.WRow, K, a.KhN, jn, bp, bs, yp, K, mask); break;
                case 2: FTile<R2, TK>(xp, a.Xs, a.XRow, wk, a.WRow, K, a.KhN, jn, bp, bs, yp, K, mask); break;
                default: FTile<R1, TK>(xp, a.Xs, a.XRow, wk, a.WRow, K, a.KhN, jn, bp, bs, yp, K, mask); break;
            }
            o += r; cnt -= r;
        }
    }

    // =====================================================================================================
    // Backward filter
    // =====================================================================================================

    /// <summary>dw[kh,kw,c,:] += Σ x[n,ih,iw,c]·dy[n,oh,ow,:]; dbias += Σ dy (dbias may be null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardFilter(in ConvGeometry g, float* x, float* dy, float* dw, float* dbias)
    {
        int K = g.K, C = g.C, KH = g.KH, KW = g.KW, OW = g.OW, OH = g.OH, SW = g.SW, SH = g.SH, PL = g.PadLeft, PT = g.PadTop;
        if (OH == 0 || OW == 0) return;
        int owA = Math.Min(OW, CeilDiv(PL, SW));
        int owB = g.W - KW + PL >= 0 ? Math.Min(OW, (g.W - KW + PL) / SW + 1) : 0;
        if (owB < owA) owB = owA;
        // Bands of output rows sized so one band's dy and x stay in L1/L2 while every dw tile sweeps it.
        int band = Math.Clamp(12288 / Math.Max(1, OW * K + SH * g.W * C), 1, OH);
        var a = new BArgs { K = K, Xs = (nint)SW * C, XRow = (nint)SH * g.W * C, DyRow = (nint)OW * K };
        for (int n = 0; n < g.N; n++)
        for (int b0 = 0; b0 < OH; b0 += band)
        {
            int b1 = Math.Min(OH, b0 + band);
            if (dbias != null) BiasSum(dy + ((nint)n * OH + b0) * OW * K, (b1 - b0) * OW, K, dbias);
            for (int kh = 0; kh < KH; kh++)
            {
                int o0 = Math.Max(b0, CeilDiv(PT - kh, SH)), o1 = Math.Min(b1, FloorDiv(g.H - 1 + PT - kh, SH) + 1);
                if (o1 <= o0) continue;
                a.Rows = o1 - o0;
                nint xRow0 = ((nint)n * g.H + o0 * SH - PT + kh) * g.W;   // pixel index of column 0 of the first row
                float* dyRow0 = dy + ((nint)n * OH + o0) * OW * K;
                float* dwKh = dw + (nint)kh * KW * C * K;
                if (owB > owA)
                {
                    // Interior columns: every kw is valid → one run over j = kw·C + c.
                    a.Cols = owB - owA;
                    a.X = x + (xRow0 + (nint)owA * SW - PL) * C;
                    a.Dy = dyRow0 + (nint)owA * K;
                    if (C == 1 && KW == 3 && SW == 1) BRows3C1(ref a, dwKh);
                    else BRows(ref a, KW * C, dwKh);
                }
                for (int kw = 0; kw < KW; kw++)
                {
                    int lo = Math.Max(0, CeilDiv(PL - kw, SW)), hi = Math.Min(OW, FloorDiv(g.W - 1 + PL - kw, SW) + 1);
                    for (int part = 0; part < 2; part++)
                    {
                        int c0 = part == 0 ? lo : Math.Max(lo, owB), c1 = part == 0 ? Math.Min(hi, owA) : hi;
                        if (c1 <= c0) continue;
                        a.Cols = c1 - c0;
                        a.X = x + (xRow0 + (nint)c0 * SW - PL + kw) * C;
                        a.Dy = dyRow0 + (nint)c0 * K;
                        BRows(ref a, C, dwKh + (nint)kw * C * K);
                    }
                }
            }
        }
    }

    private struct BArgs
    {
        public int K, Rows, Cols;
        public nint Xs, XRow, DyRow;
        public float* X, Dy;
    }

    /// <summary>dw[j, :] += Σ_pixels x[pixel][j] · dy[pixel][:] for j in [0, jn), tiled up to 12 (N ≤ 2) or 6 (N = 4) rows × N·16 channels.</summary>
    private static void BRows(ref BArgs a, int jn, float* dw)
    {
        int K = a.K;
        for (int k0 = 0; k0 < K;)
        {
            int rem = K - k0;
            if (rem >= 64) { BRowsK<KB64>(ref a, jn, dw, k0, default); k0 += 64; }
            else if (rem >= 32) { BRowsK<KB32>(ref a, jn, dw, k0, default); k0 += 32; }
            else if (rem >= 16) { BRowsK<KB16>(ref a, jn, dw, k0, default); k0 += 16; }
            else { BRowsK<KBM>(ref a, jn, dw, k0, TailMask(rem)); k0 = K; }
        }
    }

    /// <summary>C = 1, KW = 3, stride 1 (conv1): the three dw rows of one kh in 16-channel blocks (<see cref="BTile3C1{TK}"/>).</summary>
    private static void BRows3C1(ref BArgs a, float* dw)
    {
        int K = a.K;
        for (int k0 = 0; k0 < K; k0 += 16)
        {
            if (K - k0 >= 16) BTile3C1<KB16>(a.X, a.XRow, a.Dy + k0, a.DyRow, a.Rows, a.Cols, dw + k0, K, default);
            else BTile3C1<KBM>(a.X, a.XRow, a.Dy + k0, a.DyRow, a.Rows, a.Cols, dw + k0, K, TailMask(K - k0));
        }
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

    private static void BRowsK<TK>(ref BArgs a, int jn, float* dw, int k0, Vector512<float> mask) where TK : struct, IKBlock
    {
        // Up to 12 dw rows per tile for 16/32-channel blocks (≤ 24 accumulators), 6 for 64-channel blocks.
        int j = 0, cnt = jn;
        while (cnt > 0)
        {
            int r = TK.N == 4 ? TileRows(cnt) : cnt <= 12 ? cnt : cnt >= 24 ? 12 : (cnt + 1) / 2;
            float* xp = a.X + j, dp = a.Dy + k0, wp = dw + (nint)j * a.K + k0;
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

    /// <summary>db[:K] += Σ_{p &lt; pixels} dy[p·K + :].</summary>
    private static void BiasSum(float* dy, int pixels, int K, float* db)
    {
        for (int k = 0; k < K; k += 16)
        {
            var mask = TailMask(K - k);
            Vector512<float> s0 = default, s1 = default;
            float* p = dy + k;
            int i = 0;
            for (; i + 2 <= pixels; i += 2, p += 2 * K)
            {
                s0 = Avx512F.Add(s0, Avx512F.MaskLoad(p, mask, Vector512<float>.Zero));
                s1 = Avx512F.Add(s1, Avx512F.MaskLoad(p + K, mask, Vector512<float>.Zero));
            }
            if (i < pixels) s0 = Avx512F.Add(s0, Avx512F.MaskLoad(p, mask, Vector512<float>.Zero));
            Avx512F.MaskStore(db + k, mask, Avx512F.Add(Avx512F.MaskLoad(db + k, mask, Vector512<float>.Zero), Avx512F.Add(s0, s1)));
        }
    }
}
