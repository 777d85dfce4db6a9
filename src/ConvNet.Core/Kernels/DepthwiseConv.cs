using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvNet.Kernels;

/// <summary>
/// Depthwise convolution over NHWC input, as Keras/TF define it: x (N, H, W, C), kernel (KH, KW, C, M), output channel
/// <c>c·M + m</c> = Σ_{kh,kw} x[n, ih, iw, c] · w[kh, kw, c, m] (+ bias). The geometry is a <see cref="ConvGeometry"/> whose K is
/// C·M. Because w[kh, kw] flattens to C·M values in output-channel order, every kernel works on channel-aligned vectors:
/// with M = 1 directly, with M &gt; 1 on the input image replicated M times per channel (a per-thread scratch image; backward-data
/// reduces the replicated gradient back). Pixel-major (each pixel's K channels stream contiguously), vectorised over channels in
/// runs of the widest vector, then AVX2's 8 lanes, then scalars; interior pixels in tiles of 4 × 1 vector, 3-tap rows unrolled.
/// Forward and stride-1 backward-data are one correlation kernel (backward-data reads the kernel rotated by 180°); strided
/// backward-data gathers per input pixel; backward-filter adds each tile's 4 products per tap into dw. Written once over an
/// <see cref="ISimdOps{TV}"/> operator struct and instantiated for AVX-512 (<see cref="Vector512{T}"/>), AVX2+FMA
/// (<see cref="Vector256{T}"/>), portable <see cref="Vector{T}"/> and scalar; nothing allocates in steady
/// state. Forward overwrites y; the backward verbs add. Naive twin: <see cref="DepthwiseConvReference"/>.
/// </summary>
public static class DepthwiseConv
{
    /// <summary>Benchmark switch: false runs every output pixel through the 1-pixel path (A/B of the 4-pixel tiles).</summary>
    internal static bool ForwardTiles = true;

    /// <summary>Benchmark switch: false skips the software prefetch of the next output row's new input row.</summary>
    internal static bool PrefetchRows = true;

    [ThreadStatic] private static float[]? _rep;
    [ThreadStatic] private static float[]? _drep;

    /// <summary>The instruction set the public verbs use: the kernel table's, chosen once (<see cref="KernelTable.Current"/>).</summary>
    internal static KernelBackend Best => KernelTable.Current.Backend;

    /// <summary>True if this CPU can run <paramref name="isa"/> (tests run every supported path against the twin).</summary>
    internal static bool IsSupported(KernelBackend isa) => KernelTable.IsRunnable(isa);

    /// <summary>y[n,oh,ow,c·M+m] = bias[c·M+m] + Σ_{kh,kw} x[n,ih,iw,c]·w[kh,kw,c,m] (bias may be empty = 0).</summary>
    public static void DepthwiseConvForward(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
        => DepthwiseConvForward(Best, g, x, w, bias, y);

    /// <summary>dx[n,ih,iw,c] += Σ_m Σ dy[n,oh,ow,c·M+m]·w[kh,kw,c,m] over every (oh,ow,kh,kw) that reads (ih,iw).</summary>
    public static void DepthwiseConvBackwardData(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
        => DepthwiseConvBackwardData(Best, g, dy, w, dx);

    /// <summary>dw[kh,kw,c,m] += Σ_{n,oh,ow} x[n,ih,iw,c]·dy[n,oh,ow,c·M+m]; dbias += Σ dy (dbias may be empty).</summary>
    public static void DepthwiseConvBackwardFilter(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> dbias)
        => DepthwiseConvBackwardFilter(Best, g, x, dy, dw, dbias);

    /// <summary><see cref="DepthwiseConvForward(in ConvGeometry, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> on a chosen instruction set.</summary>
    internal static void DepthwiseConvForward(KernelBackend isa, in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        Require(g, x.Length, w.Length, y.Length, nameof(DepthwiseConvForward));
        if (!bias.IsEmpty && bias.Length < g.K) throw new ArgumentException($"{nameof(DepthwiseConvForward)}: bias has {bias.Length} elements, geometry needs {g.K}.");
        CheckIsa(isa);
        int m = g.K / g.C;
        for (int n = 0; n < g.N; n++)
        {
            var xi = x.Slice(n * g.InImage, g.InImage);
            if (m > 1) xi = Replicate(xi, g.H * g.W, g.C, m);
            Correlate(isa, g, xi, w, 0, g.KW * g.K, g.K, bias, false, y.Slice(n * g.OutImage, g.OutImage));
        }
    }

    /// <summary>Backward-data on a chosen instruction set.</summary>
    internal static void DepthwiseConvBackwardData(KernelBackend isa, in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
    {
        Require(g, dx.Length, w.Length, dy.Length, nameof(DepthwiseConvBackwardData));
        CheckIsa(isa);
        int m = g.K / g.C, pixels = g.H * g.W;
        // Stride 1: dx[ih,iw] += Σ dy[ih + PT − kh, iw + PL − kw]·w[kh,kw] is a correlation of dy (OH×OW) with the kernel rotated by
        // 180° (weights read backwards from the last tap) and pads KH−1−PT, KW−1−PL, giving H×W.
        var rot = new ConvGeometry(1, g.OH, g.OW, g.K, g.KH, g.KW, 1, 1, g.KH - 1 - g.PadTop, g.KW - 1 - g.PadLeft, g.H, g.W, g.K);
        bool unitStride = g.SH == 1 && g.SW == 1;
        for (int n = 0; n < g.N; n++)
        {
            var dxi = dx.Slice(n * g.InImage, g.InImage);
            var dyi = dy.Slice(n * g.OutImage, g.OutImage);
            var d = dxi;
            if (m > 1)
            {
                int len = pixels * g.K;
                if (_drep is null || _drep.Length < len) _drep = new float[len];
                d = _drep.AsSpan(0, len);
                d.Clear();
            }
            if (unitStride) Correlate(isa, rot, dyi, w, (g.KH * g.KW - 1) * g.K, -g.KW * g.K, -g.K, [], true, d);
            else
                switch (isa)
                {
                    case KernelBackend.Avx512: BackwardDataImage<Vector512<float>, Avx512Ops>(g, dyi, w, d); break;
                    case KernelBackend.Avx2: BackwardDataImage<Vector256<float>, Avx2Ops>(g, dyi, w, d); break;
                    default: BackwardDataImage<Vector<float>, PortableOps>(g, dyi, w, d); break;
                }
            if (m == 1) continue;
            // dx[p, c] += Σ_m d[p, c·M + m]
            for (int p = 0; p < pixels; p++)
            for (int c = 0; c < g.C; c++)
            {
                float s = 0f;
                for (int j = 0; j < m; j++) s += d[(p * g.C + c) * m + j];
                dxi[p * g.C + c] += s;
            }
        }
    }

    /// <summary>Backward-filter on a chosen instruction set.</summary>
    internal static void DepthwiseConvBackwardFilter(KernelBackend isa, in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> dbias)
    {
        Require(g, x.Length, dw.Length, dy.Length, nameof(DepthwiseConvBackwardFilter));
        if (!dbias.IsEmpty && dbias.Length < g.K) throw new ArgumentException($"{nameof(DepthwiseConvBackwardFilter)}: dbias has {dbias.Length} elements, geometry needs {g.K}.");
        CheckIsa(isa);
        int m = g.K / g.C, K = g.K;
        for (int n = 0; n < g.N; n++)
        {
            var xi = x.Slice(n * g.InImage, g.InImage);
            if (m > 1) xi = Replicate(xi, g.H * g.W, g.C, m);
            var dyi = dy.Slice(n * g.OutImage, g.OutImage);
            int k = 0, e;
            if (isa == KernelBackend.Avx512 && (e = K - K % 16) > k) { BackwardFilterImage<Vector512<float>, Avx512Ops>(g, xi, dyi, dw, dbias, k, e); k = e; }
            if (isa >= KernelBackend.Avx2 && (e = k + (K - k) / 8 * 8) > k) { BackwardFilterImage<Vector256<float>, Avx2Ops>(g, xi, dyi, dw, dbias, k, e); k = e; }
            if (isa == KernelBackend.Portable && (e = k + (K - k) / Vector<float>.Count * Vector<float>.Count) > k) { BackwardFilterImage<Vector<float>, PortableOps>(g, xi, dyi, dw, dbias, k, e); k = e; }
            if (k < K) BackwardFilterImage<float, ScalarOps>(g, xi, dyi, dw, dbias, k, K);
        }
    }

    // One image through CorrelateImage: channels [0, K) in runs of the isa's widest vector, then AVX2's 8 (after AVX-512), then scalars.
    private static void Correlate(KernelBackend isa, in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, int w0, int wRow, int wCol,
        ReadOnlySpan<float> bias, bool accumulate, Span<float> y)
    {
        int K = g.K, k = 0, e;
        if (isa == KernelBackend.Avx512 && (e = K - K % 16) > k) { CorrelateImage<Vector512<float>, Avx512Ops>(g, x, w, w0, wRow, wCol, bias, accumulate, y, k, e); k = e; }
        if (isa >= KernelBackend.Avx2 && (e = k + (K - k) / 8 * 8) > k) { CorrelateImage<Vector256<float>, Avx2Ops>(g, x, w, w0, wRow, wCol, bias, accumulate, y, k, e); k = e; }
        if (isa == KernelBackend.Portable && (e = k + (K - k) / Vector<float>.Count * Vector<float>.Count) > k) { CorrelateImage<Vector<float>, PortableOps>(g, x, w, w0, wRow, wCol, bias, accumulate, y, k, e); k = e; }
        if (k < K) CorrelateImage<float, ScalarOps>(g, x, w, w0, wRow, wCol, bias, accumulate, y, k, K);
    }

    private static void CheckIsa(KernelBackend isa)
    {
        if (!IsSupported(isa)) throw new PlatformNotSupportedException($"DepthwiseConv: this CPU does not support {isa}.");
    }

    /// <summary>The input image with each channel repeated M times (channel-aligned with the output), in a per-thread buffer.</summary>
    private static ReadOnlySpan<float> Replicate(ReadOnlySpan<float> x, int pixels, int c, int m)
    {
        int len = pixels * c * m;
        if (_rep is null || _rep.Length < len) _rep = new float[len];
        var r = _rep.AsSpan(0, len);
        for (int i = 0; i < pixels * c; i++) r.Slice(i * m, m).Fill(x[i]);
        return r;
    }

    // One image, channel-aligned (x H×W and y OH×OW both have K channels), channels [k0, k1) in blocks of one vector:
    //   y[oh,ow,k] = init + Σ_{kh,kw} x[oh·SH − PT + kh, ow·SW − PL + kw, k] · w[w0 + kh·wRow + kw·wCol + k]
    // with init = bias (or 0), or y itself when accumulating. Forward: w0 = 0, wRow = KW·K, wCol = K; backward-data (stride 1) reads
    // the taps backwards. Pixel-major (each pixel's K channels stream contiguously; sweeping one channel block along the row
    // measured slower). Interior pixels (window inside the row) go in tiles of 4 × 1 vector; for KW = 3 the taps are unrolled and,
    // at stride 1, the 6 input columns of a tile row are loaded once (9 loads per 12 FMAs).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CorrelateImage<TV, TOps>(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, int w0, int wRow, int wCol,
        ReadOnlySpan<float> bias, bool accumulate, Span<float> y, int k0, int k1)
        where TV : struct where TOps : struct, ISimdOps<TV>
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float wr = ref Unsafe.Add(ref MemoryMarshal.GetReference(w), w0);
        ref float br = ref MemoryMarshal.GetReference(bias);
        ref float yr = ref MemoryMarshal.GetReference(y);
        bool hasBias = !bias.IsEmpty;
        int V = TOps.Count, K = g.K, W = g.W, OW = g.OW, KW = g.KW, SW = g.SW, PL = g.PadLeft, step = SW * K;
        bool kw3 = KW == 3, unit = kw3 && SW == 1;
        g.InteriorCols(out int owA, out int owB);   // whole windows inside the row
        if (!ForwardTiles) owB = owA;
        for (int oh = 0; oh < g.OH; oh++)
        {
            g.RowWindow(oh, out int ih0, out int kh0, out int kh1);
            int nextRow = ih0 + g.KH;   // the input row output row oh + 1 adds (stride 1 only: at stride 2 it measured slower)
            bool prefetch = PrefetchRows && g.SH == 1 && nextRow >= 0 && nextRow < g.H;
            {
                int c0 = k0, c1 = k1, ow = 0;
                for (; ow < owA; ow++)
                    CorrelatePixel<TV, TOps>(g, ref xr, ref wr, wRow, wCol, ref br, hasBias, accumulate, ref yr, oh, ow, ih0, kh0, kh1, c0, c1);
                for (; ow + 4 <= owB; ow += 4)
                for (int k = c0; k < c1; k += V)
                {
                    ref float yp = ref Unsafe.Add(ref yr, (oh * OW + ow) * K + k);
                    TV a0, a1, a2, a3;
                    if (accumulate)
                    {
                        a0 = TOps.Load(ref yp); a1 = TOps.Load(ref yp, (nuint)K);
                        a2 = TOps.Load(ref yp, (nuint)(2 * K)); a3 = TOps.Load(ref yp, (nuint)(3 * K));
                    }
                    else a0 = a1 = a2 = a3 = hasBias ? TOps.Load(ref br, (nuint)k) : TOps.Zero;
                    if (prefetch)
                    {
                        // the input row the next output row reads first (a miss to L3/DRAM otherwise): this tile's 4 pixels
                        ref float np = ref Unsafe.Add(ref xr, (nextRow * W + ow * SW) * K + k);
                        Prefetch(ref np); Prefetch(ref Unsafe.Add(ref np, step)); Prefetch(ref Unsafe.Add(ref np, 2 * step)); Prefetch(ref Unsafe.Add(ref np, 3 * step));
                    }
                    for (int kh = kh0; kh < kh1; kh++)
                    {
                        ref float xp = ref Unsafe.Add(ref xr, ((ih0 + kh) * W + ow * SW - PL) * K + k);   // tap (kh, 0) of the tile's first pixel
                        ref float wp = ref Unsafe.Add(ref wr, kh * wRow + k);
                        if (unit)
                        {
                            // 3 taps × 4 pixels from the 6 input columns the row segment spans
                            var w0v = TOps.Load(ref wp); var w1v = TOps.Load(ref Unsafe.Add(ref wp, wCol)); var w2v = TOps.Load(ref Unsafe.Add(ref wp, 2 * wCol));
                            var x0 = TOps.Load(ref xp); var x1 = TOps.Load(ref xp, (nuint)K); var x2 = TOps.Load(ref xp, (nuint)(2 * K));
                            a0 = TOps.Fma(x0, w0v, a0); a1 = TOps.Fma(x1, w0v, a1); a2 = TOps.Fma(x2, w0v, a2);
                            a0 = TOps.Fma(x1, w1v, a0); a1 = TOps.Fma(x2, w1v, a1);
                            a0 = TOps.Fma(x2, w2v, a0);
                            var x3 = TOps.Load(ref xp, (nuint)(3 * K)); var x4 = TOps.Load(ref xp, (nuint)(4 * K)); var x5 = TOps.Load(ref xp, (nuint)(5 * K));
                            a3 = TOps.Fma(x3, w0v, a3); a2 = TOps.Fma(x3, w1v, a2); a1 = TOps.Fma(x3, w2v, a1);
                            a3 = TOps.Fma(x4, w1v, a3); a2 = TOps.Fma(x4, w2v, a2);
                            a3 = TOps.Fma(x5, w2v, a3);
                        }
                        else if (kw3)
                        {
                            var w0v = TOps.Load(ref wp); var w1v = TOps.Load(ref Unsafe.Add(ref wp, wCol)); var w2v = TOps.Load(ref Unsafe.Add(ref wp, 2 * wCol));
                            a0 = TOps.Fma(TOps.Load(ref xp), w0v, a0); a1 = TOps.Fma(TOps.Load(ref xp, (nuint)step), w0v, a1);
                            a2 = TOps.Fma(TOps.Load(ref xp, (nuint)(2 * step)), w0v, a2); a3 = TOps.Fma(TOps.Load(ref xp, (nuint)(3 * step)), w0v, a3);
                            a0 = TOps.Fma(TOps.Load(ref xp, (nuint)K), w1v, a0); a1 = TOps.Fma(TOps.Load(ref xp, (nuint)(step + K)), w1v, a1);
                            a2 = TOps.Fma(TOps.Load(ref xp, (nuint)(2 * step + K)), w1v, a2); a3 = TOps.Fma(TOps.Load(ref xp, (nuint)(3 * step + K)), w1v, a3);
                            a0 = TOps.Fma(TOps.Load(ref xp, (nuint)(2 * K)), w2v, a0); a1 = TOps.Fma(TOps.Load(ref xp, (nuint)(step + 2 * K)), w2v, a1);
                            a2 = TOps.Fma(TOps.Load(ref xp, (nuint)(2 * step + 2 * K)), w2v, a2); a3 = TOps.Fma(TOps.Load(ref xp, (nuint)(3 * step + 2 * K)), w2v, a3);
                        }
                        else
                            for (int kw = 0; kw < KW; kw++)
                            {
                                var wv = TOps.Load(ref Unsafe.Add(ref wp, kw * wCol));
                                ref float xq = ref Unsafe.Add(ref xp, kw * K);
                                a0 = TOps.Fma(TOps.Load(ref xq), wv, a0);
                                a1 = TOps.Fma(TOps.Load(ref xq, (nuint)step), wv, a1);
                                a2 = TOps.Fma(TOps.Load(ref xq, (nuint)(2 * step)), wv, a2);
                                a3 = TOps.Fma(TOps.Load(ref xq, (nuint)(3 * step)), wv, a3);
                            }
                    }
                    TOps.Store(a0, ref yp, 0); TOps.Store(a1, ref yp, (nuint)K);
                    TOps.Store(a2, ref yp, (nuint)(2 * K)); TOps.Store(a3, ref yp, (nuint)(3 * K));
                }
                if (kw3)
                    for (; ow < owB; ow++)   // interior pixels left over from the tiles: 3 taps unrolled
                    for (int k = c0; k < c1; k += V)
                    {
                        ref float yp = ref Unsafe.Add(ref yr, (oh * OW + ow) * K + k);
                        TV a0 = accumulate ? TOps.Load(ref yp) : hasBias ? TOps.Load(ref br, (nuint)k) : TOps.Zero, a1 = TOps.Zero;
                        for (int kh = kh0; kh < kh1; kh++)
                        {
                            ref float xp = ref Unsafe.Add(ref xr, ((ih0 + kh) * W + ow * SW - PL) * K + k);
                            ref float wp = ref Unsafe.Add(ref wr, kh * wRow + k);
                            a0 = TOps.Fma(TOps.Load(ref xp), TOps.Load(ref wp), a0);
                            a1 = TOps.Fma(TOps.Load(ref xp, (nuint)K), TOps.Load(ref Unsafe.Add(ref wp, wCol)), a1);
                            a0 = TOps.Fma(TOps.Load(ref xp, (nuint)(2 * K)), TOps.Load(ref Unsafe.Add(ref wp, 2 * wCol)), a0);
                        }
                        TOps.Store(TOps.Add(a0, a1), ref yp, 0);
                    }
                for (; ow < OW; ow++)
                    CorrelatePixel<TV, TOps>(g, ref xr, ref wr, wRow, wCol, ref br, hasBias, accumulate, ref yr, oh, ow, ih0, kh0, kh1, c0, c1);
            }
        }
    }

    // One output pixel of CorrelateImage, channels [c0, c1), with the window clipped to the input: 4 channel vectors at a time
    // (4 independent FMA chains), then 1.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CorrelatePixel<TV, TOps>(in ConvGeometry g, ref float xr, ref float wr, int wRow, int wCol, ref float br, bool hasBias, bool accumulate,
        ref float yr, int oh, int ow, int ih0, int kh0, int kh1, int c0, int c1)
        where TV : struct where TOps : struct, ISimdOps<TV>
    {
        int V = TOps.Count, K = g.K, k = c0;
        g.ColWindow(ow, out int iw0, out int kw0, out int kw1);
        for (; k + 4 * V <= c1; k += 4 * V)
        {
            ref float yp = ref Unsafe.Add(ref yr, (oh * g.OW + ow) * K + k);
            TV a0, a1, a2, a3;
            if (accumulate) { a0 = TOps.Load(ref yp); a1 = TOps.Load(ref yp, (nuint)V); a2 = TOps.Load(ref yp, (nuint)(2 * V)); a3 = TOps.Load(ref yp, (nuint)(3 * V)); }
            else if (hasBias) { a0 = TOps.Load(ref br, (nuint)k); a1 = TOps.Load(ref br, (nuint)(k + V)); a2 = TOps.Load(ref br, (nuint)(k + 2 * V)); a3 = TOps.Load(ref br, (nuint)(k + 3 * V)); }
            else a0 = a1 = a2 = a3 = TOps.Zero;
            for (int kh = kh0; kh < kh1; kh++)
            {
                int xo = ((ih0 + kh) * g.W + iw0) * K + k, wo = kh * wRow + k;
                for (int kw = kw0; kw < kw1; kw++)
                {
                    ref float xp = ref Unsafe.Add(ref xr, xo + kw * K);
                    ref float wp = ref Unsafe.Add(ref wr, wo + kw * wCol);
                    a0 = TOps.Fma(TOps.Load(ref xp), TOps.Load(ref wp), a0);
                    a1 = TOps.Fma(TOps.Load(ref xp, (nuint)V), TOps.Load(ref wp, (nuint)V), a1);
                    a2 = TOps.Fma(TOps.Load(ref xp, (nuint)(2 * V)), TOps.Load(ref wp, (nuint)(2 * V)), a2);
                    a3 = TOps.Fma(TOps.Load(ref xp, (nuint)(3 * V)), TOps.Load(ref wp, (nuint)(3 * V)), a3);
                }
            }
            TOps.Store(a0, ref yp, 0); TOps.Store(a1, ref yp, (nuint)V); TOps.Store(a2, ref yp, (nuint)(2 * V)); TOps.Store(a3, ref yp, (nuint)(3 * V));
        }
        for (; k < c1; k += V)
        {
            ref float yp = ref Unsafe.Add(ref yr, (oh * g.OW + ow) * K + k);
            var a = accumulate ? TOps.Load(ref yp) : hasBias ? TOps.Load(ref br, (nuint)k) : TOps.Zero;
            for (int kh = kh0; kh < kh1; kh++)
            {
                int xo = ((ih0 + kh) * g.W + iw0) * K + k, wo = kh * wRow + k;
                for (int kw = kw0; kw < kw1; kw++)
                    a = TOps.Fma(TOps.Load(ref Unsafe.Add(ref xr, xo + kw * K)), TOps.Load(ref Unsafe.Add(ref wr, wo + kw * wCol)), a);
            }
            TOps.Store(a, ref yp, 0);
        }
    }

    // One image, channel-aligned: dx[ih,iw,k] += Σ dy[oh,ow,k]·w[kh,kw,k] over the taps (kh,kw) and outputs (oh,ow) that read (ih,iw),
    // gathered per input pixel: oh = (ih + PadTop − kh)/SH when that divides exactly and lands in [0, OH).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardDataImage<TV, TOps>(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
        where TV : struct where TOps : struct, ISimdOps<TV>
    {
        ref float gr = ref MemoryMarshal.GetReference(dy);
        ref float wr = ref MemoryMarshal.GetReference(w);
        ref float dr = ref MemoryMarshal.GetReference(dx);
        int V = TOps.Count, K = g.K;
        Span<int> taps = stackalloc int[2 * Math.Min(g.KH * g.KW, 1024)];   // (dy pixel, tap) pairs of one input pixel
        bool small = g.KH * g.KW <= 1024;
        for (int ih = 0; ih < g.H; ih++)
        for (int iw = 0; iw < g.W; iw++)
        {
            if (!small) { BackwardDataPixelScalar(g, dy, w, dx, ih, iw); continue; }
            int t = 0;
            for (int kh = 0; kh < g.KH; kh++)
            {
                int r = ih + g.PadTop - kh;
                if (r < 0 || r % g.SH != 0 || r / g.SH >= g.OH) continue;
                for (int kw = 0; kw < g.KW; kw++)
                {
                    int q = iw + g.PadLeft - kw;
                    if (q < 0 || q % g.SW != 0 || q / g.SW >= g.OW) continue;
                    taps[t++] = ((r / g.SH) * g.OW + q / g.SW) * K;
                    taps[t++] = (kh * g.KW + kw) * K;
                }
            }
            if (t == 0) continue;
            ref float dp = ref Unsafe.Add(ref dr, (ih * g.W + iw) * K);
            int k = 0;
            for (; k + 4 * V <= K; k += 4 * V)
            {
                var a0 = TOps.Load(ref dp, (nuint)k); var a1 = TOps.Load(ref dp, (nuint)(k + V));
                var a2 = TOps.Load(ref dp, (nuint)(k + 2 * V)); var a3 = TOps.Load(ref dp, (nuint)(k + 3 * V));
                for (int i = 0; i < t; i += 2)
                {
                    ref float gp = ref Unsafe.Add(ref gr, taps[i] + k);
                    ref float wp = ref Unsafe.Add(ref wr, taps[i + 1] + k);
                    a0 = TOps.Fma(TOps.Load(ref gp), TOps.Load(ref wp), a0);
                    a1 = TOps.Fma(TOps.Load(ref gp, (nuint)V), TOps.Load(ref wp, (nuint)V), a1);
                    a2 = TOps.Fma(TOps.Load(ref gp, (nuint)(2 * V)), TOps.Load(ref wp, (nuint)(2 * V)), a2);
                    a3 = TOps.Fma(TOps.Load(ref gp, (nuint)(3 * V)), TOps.Load(ref wp, (nuint)(3 * V)), a3);
                }
                TOps.Store(a0, ref dp, (nuint)k); TOps.Store(a1, ref dp, (nuint)(k + V));
                TOps.Store(a2, ref dp, (nuint)(k + 2 * V)); TOps.Store(a3, ref dp, (nuint)(k + 3 * V));
            }
            for (; k + V <= K; k += V)
            {
                var a = TOps.Load(ref dp, (nuint)k);
                for (int i = 0; i < t; i += 2)
                    a = TOps.Fma(TOps.Load(ref gr, (nuint)(taps[i] + k)), TOps.Load(ref wr, (nuint)(taps[i + 1] + k)), a);
                TOps.Store(a, ref dp, (nuint)k);
            }
            for (; k < K; k++)
            {
                float a = Unsafe.Add(ref dp, k);
                for (int i = 0; i < t; i += 2) a = MathF.FusedMultiplyAdd(Unsafe.Add(ref gr, taps[i] + k), Unsafe.Add(ref wr, taps[i + 1] + k), a);
                Unsafe.Add(ref dp, k) = a;
            }
        }
    }

    // Kernels with more than 1024 taps (never in practice): the plain definition for one input pixel.
    private static void BackwardDataPixelScalar(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx, int ih, int iw)
    {
        for (int kh = 0; kh < g.KH; kh++)
        for (int kw = 0; kw < g.KW; kw++)
        {
            int r = ih + g.PadTop - kh, q = iw + g.PadLeft - kw;
            if (r < 0 || q < 0 || r % g.SH != 0 || q % g.SW != 0 || r / g.SH >= g.OH || q / g.SW >= g.OW) continue;
            for (int k = 0; k < g.K; k++) dx[(ih * g.W + iw) * g.K + k] += dy[((r / g.SH) * g.OW + q / g.SW) * g.K + k] * w[(kh * g.KW + kw) * g.K + k];
        }
    }

    // One image, channel-aligned, channels [k0, k1) in blocks of one vector: dw[kh,kw,k] += Σ_{oh,ow} x[ih,iw,k]·dy[oh,ow,k] and
    // dbias[k] += Σ dy[oh,ow,k]. Pixel-major like CorrelateImage: interior pixels in tiles of 4 whose dy vectors stay in registers
    // while each tap adds its 4 products into dw (for KW = 3 unrolled; at stride 1 each of the 6 input columns loaded once).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardFilterImage<TV, TOps>(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> dbias, int k0, int k1)
        where TV : struct where TOps : struct, ISimdOps<TV>
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(dy);
        ref float wr = ref MemoryMarshal.GetReference(dw);
        ref float br = ref MemoryMarshal.GetReference(dbias);
        bool hasBias = !dbias.IsEmpty;
        int V = TOps.Count, K = g.K, W = g.W, OW = g.OW, KW = g.KW, SW = g.SW, PL = g.PadLeft, step = SW * K;
        bool kw3 = KW == 3, unit = kw3 && SW == 1;
        g.InteriorCols(out int owA, out int owB);   // whole windows inside the row
        if (!ForwardTiles) owB = owA;
        for (int oh = 0; oh < g.OH; oh++)
        {
            g.RowWindow(oh, out int ih0, out int kh0, out int kh1);
            int ow = 0;
            int nextRow = ih0 + g.KH;   // the input row output row oh + 1 adds (stride 1 only: at stride 2 it measured slower)
            bool prefetch = PrefetchRows && g.SH == 1 && nextRow >= 0 && nextRow < g.H && oh + 1 < g.OH;
            for (; ow < owA; ow++) BackwardFilterPixel<TV, TOps>(g, ref xr, ref gr, ref wr, ref br, hasBias, oh, ow, ih0, kh0, kh1, k0, k1);
            for (; ow + 4 <= owB; ow += 4)
            for (int k = k0; k < k1; k += V)
            {
                ref float gp = ref Unsafe.Add(ref gr, (oh * OW + ow) * K + k);
                if (prefetch)
                {
                    // the next output row's dy and new input row, this tile's 4 pixels
                    ref float np = ref Unsafe.Add(ref xr, (nextRow * W + ow * SW) * K + k);
                    ref float nq = ref Unsafe.Add(ref gp, OW * K);
                    Prefetch(ref np); Prefetch(ref Unsafe.Add(ref np, step)); Prefetch(ref Unsafe.Add(ref np, 2 * step)); Prefetch(ref Unsafe.Add(ref np, 3 * step));
                    Prefetch(ref nq); Prefetch(ref Unsafe.Add(ref nq, K)); Prefetch(ref Unsafe.Add(ref nq, 2 * K)); Prefetch(ref Unsafe.Add(ref nq, 3 * K));
                }
                var g0 = TOps.Load(ref gp); var g1 = TOps.Load(ref gp, (nuint)K); var g2 = TOps.Load(ref gp, (nuint)(2 * K)); var g3 = TOps.Load(ref gp, (nuint)(3 * K));
                if (hasBias) TOps.Store(TOps.Add(TOps.Load(ref br, (nuint)k), TOps.Add(TOps.Add(g0, g1), TOps.Add(g2, g3))), ref br, (nuint)k);
                for (int kh = kh0; kh < kh1; kh++)
                {
                    ref float xp = ref Unsafe.Add(ref xr, ((ih0 + kh) * W + ow * SW - PL) * K + k);   // tap (kh, 0) of the tile's first pixel
                    ref float wp = ref Unsafe.Add(ref wr, kh * KW * K + k);
                    if (unit)
                    {
                        var x0 = TOps.Load(ref xp); var x1 = TOps.Load(ref xp, (nuint)K); var x2 = TOps.Load(ref xp, (nuint)(2 * K));
                        var x3 = TOps.Load(ref xp, (nuint)(3 * K)); var x4 = TOps.Load(ref xp, (nuint)(4 * K)); var x5 = TOps.Load(ref xp, (nuint)(5 * K));
                        var d0 = TOps.Fma(x3, g3, TOps.Fma(x2, g2, TOps.Fma(x1, g1, TOps.Fma(x0, g0, TOps.Load(ref wp)))));
                        var d1 = TOps.Fma(x4, g3, TOps.Fma(x3, g2, TOps.Fma(x2, g1, TOps.Fma(x1, g0, TOps.Load(ref wp, (nuint)K)))));
                        var d2 = TOps.Fma(x5, g3, TOps.Fma(x4, g2, TOps.Fma(x3, g1, TOps.Fma(x2, g0, TOps.Load(ref wp, (nuint)(2 * K))))));
                        TOps.Store(d0, ref wp, 0); TOps.Store(d1, ref wp, (nuint)K); TOps.Store(d2, ref wp, (nuint)(2 * K));
                    }
                    else
                        for (int kw = 0; kw < KW; kw++)
                        {
                            ref float xq = ref Unsafe.Add(ref xp, kw * K);
                            var d = TOps.Fma(TOps.Load(ref xq), g0, TOps.Load(ref wp, (nuint)(kw * K)));
                            d = TOps.Fma(TOps.Load(ref xq, (nuint)step), g1, d);
                            d = TOps.Fma(TOps.Load(ref xq, (nuint)(2 * step)), g2, d);
                            d = TOps.Fma(TOps.Load(ref xq, (nuint)(3 * step)), g3, d);
                            TOps.Store(d, ref wp, (nuint)(kw * K));
                        }
                }
            }
            for (; ow < OW; ow++) BackwardFilterPixel<TV, TOps>(g, ref xr, ref gr, ref wr, ref br, hasBias, oh, ow, ih0, kh0, kh1, k0, k1);
        }
    }

    // One output pixel of BackwardFilterImage, channels [k0, k1), window clipped to the input.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardFilterPixel<TV, TOps>(in ConvGeometry g, ref float xr, ref float gr, ref float wr, ref float br, bool hasBias,
        int oh, int ow, int ih0, int kh0, int kh1, int k0, int k1)
        where TV : struct where TOps : struct, ISimdOps<TV>
    {
        int V = TOps.Count, K = g.K;
        g.ColWindow(ow, out int iw0, out int kw0, out int kw1);
        for (int k = k0; k < k1; k += V)
        {
            var gv = TOps.Load(ref gr, (nuint)((oh * g.OW + ow) * K + k));
            if (hasBias) TOps.Store(TOps.Add(TOps.Load(ref br, (nuint)k), gv), ref br, (nuint)k);
            for (int kh = kh0; kh < kh1; kh++)
            for (int kw = kw0; kw < kw1; kw++)
            {
                ref float wp = ref Unsafe.Add(ref wr, (kh * g.KW + kw) * K + k);
                TOps.Store(TOps.Fma(TOps.Load(ref xr, (nuint)(((ih0 + kh) * g.W + iw0 + kw) * K + k)), gv, TOps.Load(ref wp)), ref wp, 0);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(ref float p)
    {
        if (Sse.IsSupported) Sse.Prefetch0(Unsafe.AsPointer(ref p));
    }

    /// <summary>Throws unless K is a positive multiple of C and the spans are long enough (weights: KH·KW·K).</summary>
    internal static void Require(in ConvGeometry g, int xLen, int wLen, int yLen, string kernel)
    {
        if (g.N < 0 || g.H <= 0 || g.W <= 0 || g.C <= 0 || g.K <= 0 || g.K % g.C != 0 || g.KH <= 0 || g.KW <= 0 || g.SH <= 0 || g.SW <= 0 || g.OH < 0 || g.OW < 0)
            throw new ArgumentException($"{kernel}: invalid depthwise geometry {g} (K must be C × depth multiplier).");
        if (xLen < (long)g.N * g.InImage) throw new ArgumentException($"{kernel}: input span has {xLen} elements, geometry needs {(long)g.N * g.InImage}.");
        if (wLen < g.KH * g.KW * g.K) throw new ArgumentException($"{kernel}: weight span has {wLen} elements, geometry needs {g.KH * g.KW * g.K}.");
        if (yLen < (long)g.N * g.OutImage) throw new ArgumentException($"{kernel}: output span has {yLen} elements, geometry needs {(long)g.N * g.OutImage}.");
    }
}

/// <summary>Naive scalar twins of <see cref="DepthwiseConv"/>: the definitions with the depth multiplier M = K/C explicit.</summary>
public static class DepthwiseConvReference
{
    /// <summary>y[n,oh,ow,c·M+m] = bias + Σ_{kh,kw} x[n, oh·SH−PT+kh, ow·SW−PL+kw, c]·w[kh,kw,c,m] (out-of-range x = 0).</summary>
    public static void DepthwiseConvForward(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        DepthwiseConv.Require(g, x.Length, w.Length, y.Length, nameof(DepthwiseConvForward));
        int m = g.K / g.C;
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        for (int ow = 0; ow < g.OW; ow++)
        for (int c = 0; c < g.C; c++)
        for (int j = 0; j < m; j++)
        {
            int k = c * m + j;
            float s = bias.IsEmpty ? 0f : bias[k];
            for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ih = oh * g.SH - g.PadTop + kh, iw = ow * g.SW - g.PadLeft + kw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                s += x[((n * g.H + ih) * g.W + iw) * g.C + c] * w[((kh * g.KW + kw) * g.C + c) * m + j];
            }
            y[((n * g.OH + oh) * g.OW + ow) * g.K + k] = s;
        }
    }

    /// <summary>dx[n,ih,iw,c] += Σ dy[n,oh,ow,c·M+m]·w[kh,kw,c,m] over all (oh,ow,kh,kw,m) that read (ih,iw).</summary>
    public static void DepthwiseConvBackwardData(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
    {
        DepthwiseConv.Require(g, dx.Length, w.Length, dy.Length, nameof(DepthwiseConvBackwardData));
        int m = g.K / g.C;
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        for (int ow = 0; ow < g.OW; ow++)
        for (int kh = 0; kh < g.KH; kh++)
        for (int kw = 0; kw < g.KW; kw++)
        {
            int ih = oh * g.SH - g.PadTop + kh, iw = ow * g.SW - g.PadLeft + kw;
            if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
            for (int c = 0; c < g.C; c++)
            for (int j = 0; j < m; j++)
                dx[((n * g.H + ih) * g.W + iw) * g.C + c] += dy[((n * g.OH + oh) * g.OW + ow) * g.K + c * m + j] * w[((kh * g.KW + kw) * g.C + c) * m + j];
        }
    }

    /// <summary>dw[kh,kw,c,m] += Σ x[n,ih,iw,c]·dy[n,oh,ow,c·M+m]; dbias[k] += Σ dy[n,oh,ow,k] (dbias may be empty).</summary>
    public static void DepthwiseConvBackwardFilter(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> dbias)
    {
        DepthwiseConv.Require(g, x.Length, dw.Length, dy.Length, nameof(DepthwiseConvBackwardFilter));
        int m = g.K / g.C;
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        for (int ow = 0; ow < g.OW; ow++)
        for (int c = 0; c < g.C; c++)
        for (int j = 0; j < m; j++)
        {
            float d = dy[((n * g.OH + oh) * g.OW + ow) * g.K + c * m + j];
            if (!dbias.IsEmpty) dbias[c * m + j] += d;
            for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ih = oh * g.SH - g.PadTop + kh, iw = ow * g.SW - g.PadLeft + kw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                dw[((kh * g.KW + kw) * g.C + c) * m + j] += x[((n * g.H + ih) * g.W + iw) * g.C + c] * d;
            }
        }
    }
}

/// <summary>The vector operations a width-generic kernel uses (the JIT specialises and inlines each struct instantiation).</summary>
internal interface ISimdOps<TV> where TV : struct
{
    static abstract int Count { get; }
    static abstract TV Zero { get; }
    static abstract TV Load(ref float p);
    static abstract TV Load(ref float p, nuint i);
    static abstract void Store(TV v, ref float p, nuint i);
    static abstract TV Fma(TV a, TV b, TV c);
    static abstract TV Add(TV a, TV b);
}

internal readonly struct PortableOps : ISimdOps<Vector<float>>
{
    public static int Count => Vector<float>.Count;
    public static Vector<float> Zero => Vector<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<float> Load(ref float p) => Vector.LoadUnsafe(ref p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<float> Load(ref float p, nuint i) => Vector.LoadUnsafe(ref p, i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector<float> v, ref float p, nuint i) => Vector.StoreUnsafe(v, ref p, i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<float> Fma(Vector<float> a, Vector<float> b, Vector<float> c) => Vector.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<float> Add(Vector<float> a, Vector<float> b) => a + b;
}

internal readonly struct Avx2Ops : ISimdOps<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float p) => Vector256.LoadUnsafe(ref p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float p, nuint i) => Vector256.LoadUnsafe(ref p, i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> v, ref float p, nuint i) => v.StoreUnsafe(ref p, i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Fma(Vector256<float> a, Vector256<float> b, Vector256<float> c) => System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
}

internal readonly struct Avx512Ops : ISimdOps<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float p) => Vector512.LoadUnsafe(ref p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float p, nuint i) => Vector512.LoadUnsafe(ref p, i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> v, ref float p, nuint i) => v.StoreUnsafe(ref p, i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Avx512F.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
}

/// <summary>One float at a time (the channel tail that no vector covers).</summary>
internal readonly struct ScalarOps : ISimdOps<float>
{
    public static int Count => 1;
    public static float Zero => 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(ref float p) => p;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(ref float p, nuint i) => Unsafe.Add(ref p, i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float v, ref float p, nuint i) => Unsafe.Add(ref p, i) = v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Fma(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Add(float a, float b) => a + b;
}
