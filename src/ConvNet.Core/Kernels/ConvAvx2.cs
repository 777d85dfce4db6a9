using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvNet.Kernels;

/// <summary>
/// AVX2 + FMA implicit-GEMM convolution kernels behind <see cref="Conv"/> (x86-64 only; <see cref="Conv"/> keeps the
/// portable <see cref="System.Numerics.Vector{T}"/> code as fallback). Everything is built from two register-tiled
/// micro-kernels over raw pointers (callers validated every length):
/// <list type="bullet">
/// <item><see cref="FTile{TR,TK}"/>: R ≤ 6 output pixels along OW × 16 output channels (12 Vector256 accumulators),
/// reducing over (kh, kw·C + c) — for a pixel whose window is inside the row, (kw, c) is one contiguous run in both x
/// and w (weights are (KH, KW, C, K), K-contiguous), so the inner loop is flat.</item>
/// <item><see cref="BTile{TR,TK}"/>: R ≤ 6 rows of dw (consecutive (kw, c)) × 16 channels, reducing over a rectangle
/// of output pixels held in registers the whole time.</item>
/// </list>
/// Channel tails use 8-wide blocks and then AVX masked loads/stores, so any K is handled without scalar code.
/// Backward-data with stride 1 runs as a forward convolution of dy with 180°-rotated, channel-swapped weights
/// (for C &lt; 8, e.g. conv1, as register-tiled dot products along (kw, k) instead, <see cref="DTile{TR}"/>); that
/// rearranged weight copy lives in a per-thread cached buffer (<see cref="_wT"/>, grown once, never shrunk), so the
/// kernels do not allocate in steady state. Backward-data with other strides returns false and <see cref="Conv"/>
/// uses its portable scatter code.
/// Backward-filter sweeps bands of output rows (sized to stay cache-resident) and, per kh, tiles the interior columns
/// over the flat (kw, c) run and the border columns per kw, so no pixel needs a bounds test in the hot loop.
/// </summary>
internal static unsafe class ConvAvx2
{
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Per-thread transposed-weight buffer for <see cref="BackwardData"/> (grown on demand, reused).</summary>
    [ThreadStatic] private static float[]? _wT;

    // ---- compile-time tile shapes: struct type arguments make the JIT specialise (and unroll) each instantiation ----
    internal interface IRows { static abstract int R { get; } }
    internal struct R1 : IRows { public static int R => 1; }
    internal struct R2 : IRows { public static int R => 2; }
    internal struct R3 : IRows { public static int R => 3; }
    internal struct R4 : IRows { public static int R => 4; }
    internal struct R5 : IRows { public static int R => 5; }
    internal struct R6 : IRows { public static int R => 6; }

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

    private static int CeilDiv(int a, int b) => a >= 0 ? (a + b - 1) / b : -(-a / b);
    private static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    // =====================================================================================================
    // Forward
    // =====================================================================================================

    /// <summary>y = conv(x, w) + bias (bias may be null).</summary>
    public static void Forward(in ConvGeometry g, float* x, float* w, float* bias, float* y) => ForwardCore(g, x, w, bias, y, accumulate: false);

    /// <summary>dx += Σ dy·w for stride 1 (as a forward conv with transposed weights); returns false (nothing done) otherwise.</summary>
    public static bool BackwardData(in ConvGeometry g, float* dy, float* w, float* dx)
    {
        if (g.SH != 1 || g.SW != 1 || g.PadTop > g.KH - 1 || g.PadLeft > g.KW - 1) return false;
        int KH = g.KH, KW = g.KW, C = g.C, K = g.K, size = g.WeightSize;
        var buf = _wT;
        if (buf is null || buf.Length < size) _wT = buf = new float[size];
        var gt = new ConvGeometry(g.N, g.OH, g.OW, K, KH, KW, 1, 1, KH - 1 - g.PadTop, KW - 1 - g.PadLeft, g.H, g.W, C);
        if (C < 8)
        {
            // Few input channels (conv1): vectorising over C would waste lanes → dot products along (kw, k) instead.
            fixed (float* wd = buf)
            {
                // wd[c, kh', kw', k] = w[KH−1−kh', KW−1−kw', c, k]
                for (int c = 0; c < C; c++)
                for (int kh = 0; kh < KH; kh++)
                for (int kw = 0; kw < KW; kw++)
                    new ReadOnlySpan<float>(w + ((nint)((KH - 1 - kh) * KW + (KW - 1 - kw)) * C + c) * K, K)
                        .CopyTo(new Span<float>(wd + ((nint)(c * KH + kh) * KW + kw) * K, K));
                BackwardDataDot(gt, dy, wd, dx);
            }
            return true;
        }
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
    /// Forward-shaped geometry <paramref name="g"/> (input = dy with g.C = K channels, output = dx with g.K = C channels):
    /// out[n,oh,ow,c] += Σ_{kh,kw} dot(in[n, oh−PT+kh, ow−PL+kw, :], wd[c,kh,kw,:]) with stride 1.
    /// </summary>
    private static void BackwardDataDot(in ConvGeometry g, float* x, float* wd, float* y)
    {
        int Cin = g.C, Cout = g.K, KW = g.KW, KH = g.KH, OW = g.OW, PL = g.PadLeft;
        int owA = Math.Min(OW, PL);
        int owB = g.W - KW + PL >= 0 ? Math.Min(OW, g.W - KW + PL + 1) : 0;
        if (owB < owA) owB = owA;
        nint xRow = (nint)g.W * Cin, wRow = (nint)KW * Cin;
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        {
            int ih0 = oh - g.PadTop;
            int kh0 = Math.Max(0, -ih0), kh1 = Math.Min(KH, g.H - ih0), khN = Math.Max(0, kh1 - kh0);
            if (khN == 0) continue;
            float* xRowBase = x + ((nint)n * g.H + ih0 + kh0) * xRow;
            float* yRow = y + ((nint)n * g.OH + oh) * OW * Cout;
            for (int c = 0; c < Cout; c++)
            {
                float* wc = wd + ((nint)c * KH + kh0) * wRow;
                for (int ow = 0; ow < OW; ow++)
                {
                    if (ow == owA) { ow = owB; if (ow >= OW) break; }
                    int iw0 = ow - PL, kw0 = Math.Max(0, -iw0), kw1 = Math.Min(KW, g.W - iw0);
                    if (kw1 <= kw0) continue;
                    DTile<R1>(xRowBase + (nint)(iw0 + kw0) * Cin, 0, xRow, wc + (nint)kw0 * Cin, wRow, khN, (nint)(kw1 - kw0) * Cin, yRow + (nint)ow * Cout + c, 0);
                }
                int o = owA, cnt = owB - owA;
                while (cnt > 0)
                {
                    float* xp = xRowBase + (nint)(o - PL) * Cin;
                    float* yp = yRow + (nint)o * Cout + c;
                    int r = cnt >= 10 || cnt == 6 ? 6 : cnt >= 7 ? 4 : cnt;
                    switch (r)
                    {
                        case 6: DTile<R6>(xp, Cin, xRow, wc, wRow, khN, wRow, yp, Cout); break;
                        case 5: DTile<R5>(xp, Cin, xRow, wc, wRow, khN, wRow, yp, Cout); break;
                        case 4: DTile<R4>(xp, Cin, xRow, wc, wRow, khN, wRow, yp, Cout); break;
                        case 3: DTile<R3>(xp, Cin, xRow, wc, wRow, khN, wRow, yp, Cout); break;
                        case 2: DTile<R2>(xp, Cin, xRow, wc, wRow, khN, wRow, yp, Cout); break;
                        default: DTile<R1>(xp, Cin, xRow, wc, wRow, khN, wRow, yp, Cout); break;
                    }
                    o += r; cnt -= r;
                }
            }
        }
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

    /// <summary>
    /// out[n,oh,ow,:] = init + Σ in[n, oh·SH−PT+kh, ow·SW−PL+kw, c] · w[kh,kw,c,:] where init is the bias, zero, or
    /// (accumulate) the existing output.
    /// </summary>
    private static void ForwardCore(in ConvGeometry g, float* x, float* w, float* bias, float* y, bool accumulate)
    {
        int K = g.K, C = g.C, KW = g.KW, OW = g.OW, SW = g.SW;
        // Interior columns: window fully inside the row.
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
            a.XRowBase = x + ((nint)n * g.H + ih0 + kh0) * g.W * C;   // + iw·C
            a.WBase = w + (nint)kh0 * a.WRow;
            a.YRow = y + ((nint)n * g.OH + oh) * OW * K;
            for (int k0 = 0; k0 < K;)
            {
                int rem = K - k0;
                a.Bias = bias == null ? null : bias + k0;
                if (rem >= 16) { FRow<KB16>(ref a, k0, default); k0 += 16; }
                else if (rem >= 8) { FRow<KB8>(ref a, k0, default); k0 += 8; }
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
    private static void FRow<TK>(ref FArgs a, int k0, Vector256<float> mask) where TK : struct, IKBlock
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
        // Interior columns in tiles of up to 6 pixels.
        int o = a.OwA, cnt = a.OwB - a.OwA;
        nint bs = a.Accumulate ? K : 0;
        while (cnt > 0)
        {
            float* xp = a.XRowBase + ((nint)o * a.SW - a.PL) * C;
            float* yp = a.YRow + (nint)o * K + k0;
            float* bp = a.Accumulate ? yp : a.Bias;
            int r = cnt >= 10 || cnt == 6 ? 6 : cnt >= 7 ? 4 : cnt;
            switch (r)
            {
                case 6: FTile<R6, TK>(xp, a.Xs, a.XRow, wk, a.WRow, K, a.KhN, (nint)a.KW * C, bp, bs, yp, K, mask); break;
                case 5: FTile<R5, TK>(xp, a.Xs, a.XRow, wk, a.WRow, K, a.KhN, (nint)a.KW * C, bp, bs, yp, K, mask); break;
                case 4: FTile<R4, TK>(xp, a.Xs, a.XRow, wk, a.WRow, K, a.KhN, (nint)a.KW * C, bp, bs, yp, K, mask); break;
                case 3: FTile<R3, TK>(xp, a.Xs, a.XRow, wk, a.WRow, K, a.KhN, (nint)a.KW * C, bp, bs, yp, K, mask); break;
                case 2: FTile<R2, TK>(xp, a.Xs, a.XRow, wk, a.WRow, K, a.KhN, (nint)a.KW * C, bp, bs, yp, K, mask); break;
                default: FTile<R1, TK>(xp, a.Xs, a.XRow, wk, a.WRow, K, a.KhN, (nint)a.KW * C, bp, bs, yp, K, mask); break;
            }
            o += r; cnt -= r;
        }
    }

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
                    BRows(ref a, KW * C, dwKh);
                }
                for (int kw = 0; kw < KW; kw++)
                {
                    int lo = Math.Max(0, CeilDiv(PL - kw, SW)), hi = Math.Min(OW, FloorDiv(g.W - 1 + PL - kw, SW) + 1);
                    // Columns valid for this kw but outside the interior: [lo, min(hi, owA)) and [max(lo, owB), hi).
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

    /// <summary>dw[j, :] += Σ_pixels x[pixel][j] · dy[pixel][:] for j in [0, jn), tiled 6 rows × 16 channels.</summary>
    private static void BRows(ref BArgs a, int jn, float* dw)
    {
        int K = a.K;
        for (int k0 = 0; k0 < K;)
        {
            int rem = K - k0;
            if (rem >= 16) { BRowsK<KB16>(ref a, jn, dw, k0, default); k0 += 16; }
            else if (rem >= 8) { BRowsK<KB8>(ref a, jn, dw, k0, default); k0 += 8; }
            else { BRowsK<KBM>(ref a, jn, dw, k0, TailMask(rem)); k0 = K; }
        }
    }

    private static void BRowsK<TK>(ref BArgs a, int jn, float* dw, int k0, Vector256<float> mask) where TK : struct, IKBlock
    {
        int j = 0, cnt = jn;
        while (cnt > 0)
        {
            int r = cnt >= 10 || cnt == 6 ? 6 : cnt >= 7 ? 4 : cnt;
            float* xp = a.X + j, dp = a.Dy + k0, wp = dw + (nint)j * a.K + k0;
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

    /// <summary>db[:K] += Σ_{p &lt; pixels} dy[p·K + :].</summary>
    private static void BiasSum(float* dy, int pixels, int K, float* db)
    {
        int k = 0;
        for (; k + 8 <= K; k += 8)
        {
            Vector256<float> s0 = default, s1 = default;
            float* p = dy + k;
            int i = 0;
            for (; i + 2 <= pixels; i += 2, p += 2 * K) { s0 = Avx.Add(s0, Avx.LoadVector256(p)); s1 = Avx.Add(s1, Avx.LoadVector256(p + K)); }
            if (i < pixels) s0 = Avx.Add(s0, Avx.LoadVector256(p));
            Avx.Store(db + k, Avx.Add(Avx.LoadVector256(db + k), Avx.Add(s0, s1)));
        }
        for (; k < K; k++)
        {
            float s = 0;
            for (int i = 0; i < pixels; i++) s += dy[(nint)i * K + k];
            db[k] += s;
        }
    }
}
