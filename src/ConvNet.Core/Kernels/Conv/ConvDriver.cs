using System.Numerics;
using System.Runtime.CompilerServices;

namespace ConvNet.Kernels;

/// <summary>
/// The one driver of each convolution verb, shared by every register-tiled instruction set (<typeparamref name="TTiles"/>,
/// see <see cref="IConvTiles"/>): it walks the geometry and hands runs of pixels to the tiles.
/// <list type="bullet">
/// <item>Forward: row by row; in each row the tiles take the border columns one pixel at a time with the kw range clipped
/// (still one contiguous (kw, c) run in x and w, <see cref="FRun.Border"/>), then the interior columns as one run.</item>
/// <item>Backward-data, stride 1: a forward convolution of dy with 180°-rotated, channel-swapped weights (for C &lt; 8 as
/// dot products along (kw, k) instead); the rearranged weights live in a per-thread buffer (grown once, never shrunk).
/// Other strides run the scatter code of <see cref="ConvPortable"/>.</item>
/// <item>Backward-filter: bands of output rows sized to stay cache-resident; per kh the interior columns as one run over
/// j = kw·C + c, the border columns per kw.</item>
/// </list>
/// x: (N, H, W, C) · w: (KH, KW, C, K) · y/dy: (N, OH, OW, K). Callers validated every length.
/// </summary>
internal static unsafe class ConvDriver<TTiles> where TTiles : struct, IConvTiles
{
    /// <summary>y = conv(x, w) + bias (bias null = 0).</summary>
    public static void Forward(in ConvGeometry g, float* x, float* w, float* bias, float* y) => Forward(g, x, w, bias, y, accumulate: false);

    /// <summary>dx += Σ dy·w over every (oh, ow, kh, kw) that reads (ih, iw).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardData(in ConvGeometry g, float* dy, float* w, float* dx)
    {
        if (g.SH != 1 || g.SW != 1 || g.PadTop > g.KH - 1 || g.PadLeft > g.KW - 1)
        {
            ConvPortable.ScatterBackwardData(g, dy, w, dx);
            return;
        }
        int KH = g.KH, KW = g.KW, C = g.C, K = g.K;
        var gt = new ConvGeometry(g.N, g.OH, g.OW, K, KH, KW, 1, 1, KH - 1 - g.PadTop, KW - 1 - g.PadLeft, g.H, g.W, C);
        fixed (float* wr = ConvScratch.Weights(g.WeightSize))
        {
            if (C < 8)
            {
                // Few input channels (conv1): vectorising over C would waste lanes → dot products along (kw, k).
                // wr[c, kh', kw', k] = w[KH−1−kh', KW−1−kw', c, k]
                for (int c = 0; c < C; c++)
                for (int kh = 0; kh < KH; kh++)
                for (int kw = 0; kw < KW; kw++)
                    new ReadOnlySpan<float>(w + ((nint)((KH - 1 - kh) * KW + (KW - 1 - kw)) * C + c) * K, K)
                        .CopyTo(new Span<float>(wr + ((nint)(c * KH + kh) * KW + kw) * K, K));
                Dot(gt, dy, wr, dx);
                return;
            }
            // wr[kh', kw', k, c] = w[KH−1−kh', KW−1−kw', c, k]
            for (int kh = 0; kh < KH; kh++)
            for (int kw = 0; kw < KW; kw++)
            {
                float* src = w + (nint)((KH - 1 - kh) * KW + (KW - 1 - kw)) * C * K;
                float* dst = wr + (nint)(kh * KW + kw) * K * C;
                for (int c = 0; c < C; c++)
                for (int k = 0; k < K; k++)
                    dst[k * C + c] = src[c * K + k];
            }
            Forward(gt, dy, wr, null, dx, accumulate: true);
        }
    }

    /// <summary>
    /// out[n,oh,ow,:] = init + Σ in[n, oh·SH−PT+kh, ow·SW−PL+kw, c] · w[kh,kw,c,:] where init is the bias, zero, or
    /// (accumulate) the existing output.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Forward(in ConvGeometry g, float* x, float* w, float* bias, float* y, bool accumulate)
    {
        int K = g.K, C = g.C, OW = g.OW;
        g.InteriorCols(out int owA, out int owB);
        var r = new FRun
        {
            K = K, C = C, XRow = (nint)g.W * C, WRow = (nint)g.KW * C * K, InitStride = accumulate ? K : 0,
            SW = g.SW, PL = g.PadLeft, Width = g.W, KW = g.KW, OW = OW, OwA = owA, OwB = owB, ThreeWide = g.KW == 3 && g.SW == 1,
        };
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        {
            g.RowWindow(oh, out int ih0, out int kh0, out int kh1);
            r.KhN = Math.Max(0, kh1 - kh0);
            r.X = x + ((nint)n * g.H + ih0 + kh0) * r.XRow;
            r.W = w + (nint)kh0 * r.WRow;
            r.Y = y + ((nint)n * g.OH + oh) * OW * K;
            r.Init = accumulate ? r.Y : bias;
            TTiles.ForwardRow(r);
        }
    }

    /// <summary>
    /// Forward-shaped geometry <paramref name="g"/> (input = dy with g.C = K channels, output = dx with g.K = C channels):
    /// out[n,oh,ow,c] += Σ_{kh,kw} dot(in[n, oh−PT+kh, ow−PL+kw, :], wd[c,kh,kw,:]) with stride 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot(in ConvGeometry g, float* x, float* wd, float* y)
    {
        int Cout = g.K, KH = g.KH, OW = g.OW;
        g.InteriorCols(out int owA, out int owB);
        var r = new DRun
        {
            XRow = (nint)g.W * g.C, WRow = (nint)g.KW * g.C, Cin = g.C, Os = Cout,
            PL = g.PadLeft, Width = g.W, KW = g.KW, OW = OW, OwA = owA, OwB = owB,
        };
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        {
            g.RowWindow(oh, out int ih0, out int kh0, out int kh1);
            r.KhN = Math.Max(0, kh1 - kh0);
            if (r.KhN == 0) continue;
            r.X = x + ((nint)n * g.H + ih0 + kh0) * r.XRow;
            float* yRow = y + ((nint)n * g.OH + oh) * OW * Cout;
            for (int c = 0; c < Cout; c++)
            {
                r.W = wd + ((nint)c * KH + kh0) * r.WRow;
                r.Out = yRow + c;
                TTiles.DotRow(r);
            }
        }
    }

    /// <summary>dw[kh,kw,c,:] += Σ x[n,ih,iw,c]·dy[n,oh,ow,:]; dbias += Σ dy (dbias null = none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BackwardFilter(in ConvGeometry g, float* x, float* dy, float* dw, float* dbias)
    {
        int K = g.K, C = g.C, KH = g.KH, KW = g.KW, OW = g.OW, OH = g.OH, SW = g.SW, SH = g.SH, PL = g.PadLeft, PT = g.PadTop;
        if (OH == 0 || OW == 0) return;
        g.InteriorCols(out int owA, out int owB);
        bool threeC1 = C == 1 && KW == 3 && SW == 1;
        // Bands of output rows sized so one band's dy and x stay in L1/L2 while every dw tile sweeps it.
        int band = Math.Clamp(12288 / Math.Max(1, OW * K + SH * g.W * C), 1, OH);
        var r = new BRun { K = K, Xs = (nint)SW * C, XRow = (nint)SH * g.W * C, DyRow = (nint)OW * K };
        for (int n = 0; n < g.N; n++)
        for (int b0 = 0; b0 < OH; b0 += band)
        {
            int b1 = Math.Min(OH, b0 + band);
            if (dbias != null) BiasSum(dy + ((nint)n * OH + b0) * OW * K, (b1 - b0) * OW, K, dbias);
            for (int kh = 0; kh < KH; kh++)
            {
                g.RowsReading(kh, out int o0, out int o1);
                o0 = Math.Max(o0, b0); o1 = Math.Min(o1, b1);
                if (o1 <= o0) continue;
                r.Rows = o1 - o0;
                nint xRow0 = ((nint)n * g.H + o0 * SH - PT + kh) * g.W;   // pixel index of column 0 of the first row
                float* dyRow0 = dy + ((nint)n * OH + o0) * OW * K;
                float* dwKh = dw + (nint)kh * KW * C * K;
                if (owB > owA)
                {
                    // Interior columns: every kw is valid → one run over j = kw·C + c.
                    r.Cols = owB - owA;
                    r.X = x + (xRow0 + (nint)owA * SW - PL) * C;
                    r.Dy = dyRow0 + (nint)owA * K;
                    if (threeC1) TTiles.FilterRun3C1(r, dwKh);
                    else TTiles.FilterRun(r, KW * C, dwKh);
                }
                for (int kw = 0; kw < KW; kw++)
                {
                    g.ColsReading(kw, out int lo, out int hi);
                    // Columns valid for this kw but outside the interior: [lo, min(hi, owA)) and [max(lo, owB), hi).
                    for (int part = 0; part < 2; part++)
                    {
                        int c0 = part == 0 ? lo : Math.Max(lo, owB), c1 = part == 0 ? Math.Min(hi, owA) : hi;
                        if (c1 <= c0) continue;
                        r.Cols = c1 - c0;
                        r.X = x + (xRow0 + (nint)c0 * SW - PL + kw) * C;
                        r.Dy = dyRow0 + (nint)c0 * K;
                        TTiles.FilterRun(r, C, dwKh + (nint)kw * C * K);
                    }
                }
            }
        }
    }

    /// <summary>db[:K] += Σ_{p &lt; pixels} dy[p·K + :]: blocks of up to 4 vectors of channels, so one pass reads each pixel's channels once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BiasSum(float* dy, int pixels, int K, float* db)
    {
        int V = Vector<float>.Count, k = 0;
        for (; k + 4 * V <= K; k += 4 * V)
        {
            Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
            float* p = dy + k;
            for (int i = 0; i < pixels; i++, p += K)
            {
                s0 += Vector.Load(p); s1 += Vector.Load(p + V); s2 += Vector.Load(p + 2 * V); s3 += Vector.Load(p + 3 * V);
            }
            Vector.Store(Vector.Load(db + k) + s0, db + k); Vector.Store(Vector.Load(db + k + V) + s1, db + k + V);
            Vector.Store(Vector.Load(db + k + 2 * V) + s2, db + k + 2 * V); Vector.Store(Vector.Load(db + k + 3 * V) + s3, db + k + 3 * V);
        }
        for (; k + V <= K; k += V)
        {
            // one or two vectors left: two accumulators each (even and odd pixels)
            bool two = k + 2 * V <= K;
            Vector<float> s0 = default, s1 = default, t0 = default, t1 = default;
            float* p = dy + k;
            int i = 0;
            for (; i + 2 <= pixels; i += 2, p += 2 * K)
            {
                s0 += Vector.Load(p); s1 += Vector.Load(p + K);
                if (two) { t0 += Vector.Load(p + V); t1 += Vector.Load(p + K + V); }
            }
            if (i < pixels) { s0 += Vector.Load(p); if (two) t0 += Vector.Load(p + V); }
            Vector.Store(Vector.Load(db + k) + (s0 + s1), db + k);
            if (two) { Vector.Store(Vector.Load(db + k + V) + (t0 + t1), db + k + V); k += V; }
        }
        for (; k < K; k++)
        {
            float s = 0;
            for (int i = 0; i < pixels; i++) s += dy[(nint)i * K + k];
            db[k] += s;
        }
    }
}

/// <summary>The per-thread rearranged-weight buffer of <see cref="ConvDriver{TTiles}.BackwardData"/> (grown on demand, never shrunk).</summary>
internal static class ConvScratch
{
    [ThreadStatic] private static float[]? _weights;

    public static float[] Weights(int size)
    {
        var buf = _weights;
        if (buf is null || buf.Length < size) _weights = buf = new float[size];
        return buf;
    }
}
