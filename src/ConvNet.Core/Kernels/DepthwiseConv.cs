using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConvNet.Kernels;

/// <summary>
/// Depthwise convolution over NHWC input, as Keras/TF define it: x (N, H, W, C), kernel (KH, KW, C, M), output channel
/// <c>c·M + m</c> = Σ_{kh,kw} x[n, ih, iw, c] · w[kh, kw, c, m] (+ bias). The geometry is a <see cref="ConvGeometry"/> whose K is
/// C·M. Because w[kh, kw] flattens to C·M values in output-channel order, every kernel works on channel-aligned vectors:
/// with M = 1 directly, with M &gt; 1 on the input image replicated M times per channel (a per-thread scratch image; backward-data
/// reduces the replicated gradient back). Vectorised over channels with <see cref="Vector{T}"/> (4 vectors of accumulators in
/// registers, then 1, then a scalar tail); backward-data gathers (no read-modify-write per tap); nothing allocates in steady
/// state. Forward overwrites y; the backward verbs add. Naive twin: <see cref="DepthwiseConvReference"/>.
/// </summary>
public static class DepthwiseConv
{
    [ThreadStatic] private static float[]? _rep;
    [ThreadStatic] private static float[]? _drep;

    /// <summary>y[n,oh,ow,c·M+m] = bias[c·M+m] + Σ_{kh,kw} x[n,ih,iw,c]·w[kh,kw,c,m] (bias may be empty = 0).</summary>
    public static void DepthwiseConvForward(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        Require(g, x.Length, w.Length, y.Length, nameof(DepthwiseConvForward));
        if (!bias.IsEmpty && bias.Length < g.K) throw new ArgumentException($"{nameof(DepthwiseConvForward)}: bias has {bias.Length} elements, geometry needs {g.K}.");
        int m = g.K / g.C;
        for (int n = 0; n < g.N; n++)
        {
            var xi = x.Slice(n * g.InImage, g.InImage);
            if (m > 1) xi = Replicate(xi, g.H * g.W, g.C, m);
            ForwardImage(g, xi, w, bias, y.Slice(n * g.OutImage, g.OutImage));
        }
    }

    /// <summary>dx[n,ih,iw,c] += Σ_m Σ dy[n,oh,ow,c·M+m]·w[kh,kw,c,m] over every (oh,ow,kh,kw) that reads (ih,iw).</summary>
    public static void DepthwiseConvBackwardData(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
    {
        Require(g, dx.Length, w.Length, dy.Length, nameof(DepthwiseConvBackwardData));
        int m = g.K / g.C, pixels = g.H * g.W;
        for (int n = 0; n < g.N; n++)
        {
            var dxi = dx.Slice(n * g.InImage, g.InImage);
            var dyi = dy.Slice(n * g.OutImage, g.OutImage);
            if (m == 1) { BackwardDataImage(g, dyi, w, dxi); continue; }
            int len = pixels * g.K;
            if (_drep is null || _drep.Length < len) _drep = new float[len];
            var d = _drep.AsSpan(0, len);
            d.Clear();
            BackwardDataImage(g, dyi, w, d);
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

    /// <summary>dw[kh,kw,c,m] += Σ_{n,oh,ow} x[n,ih,iw,c]·dy[n,oh,ow,c·M+m]; dbias += Σ dy (dbias may be empty).</summary>
    public static void DepthwiseConvBackwardFilter(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> dbias)
    {
        Require(g, x.Length, dw.Length, dy.Length, nameof(DepthwiseConvBackwardFilter));
        if (!dbias.IsEmpty && dbias.Length < g.K) throw new ArgumentException($"{nameof(DepthwiseConvBackwardFilter)}: dbias has {dbias.Length} elements, geometry needs {g.K}.");
        int m = g.K / g.C;
        for (int n = 0; n < g.N; n++)
        {
            var xi = x.Slice(n * g.InImage, g.InImage);
            if (m > 1) xi = Replicate(xi, g.H * g.W, g.C, m);
            var dyi = dy.Slice(n * g.OutImage, g.OutImage);
            BackwardFilterImage(g, xi, dyi, dw);
            if (!dbias.IsEmpty)
                for (int p = 0; p < g.OH * g.OW; p++) Vec.Add(ref MemoryMarshal.GetReference(dyi.Slice(p * g.K, g.K)), ref MemoryMarshal.GetReference(dbias), g.K);
        }
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

    // One image, channel-aligned (x has K channels): y[oh,ow,k] = b[k] + Σ_taps x[ih,iw,k]·w[tap,k].
    private static void ForwardImage(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float wr = ref MemoryMarshal.GetReference(w);
        ref float br = ref MemoryMarshal.GetReference(bias);
        ref float yr = ref MemoryMarshal.GetReference(y);
        bool hasBias = !bias.IsEmpty;
        int V = Vector<float>.Count, K = g.K;
        for (int oh = 0; oh < g.OH; oh++)
        {
            g.RowWindow(oh, out int ih0, out int kh0, out int kh1);
            for (int ow = 0; ow < g.OW; ow++)
            {
                g.ColWindow(ow, out int iw0, out int kw0, out int kw1);
                ref float yp = ref Unsafe.Add(ref yr, (oh * g.OW + ow) * K);
                int k = 0;
                for (; k + 4 * V <= K; k += 4 * V)
                {
                    Vector<float> a0, a1, a2, a3;
                    if (hasBias)
                    {
                        a0 = Vector.LoadUnsafe(ref br, (nuint)k); a1 = Vector.LoadUnsafe(ref br, (nuint)(k + V));
                        a2 = Vector.LoadUnsafe(ref br, (nuint)(k + 2 * V)); a3 = Vector.LoadUnsafe(ref br, (nuint)(k + 3 * V));
                    }
                    else a0 = a1 = a2 = a3 = Vector<float>.Zero;
                    for (int kh = kh0; kh < kh1; kh++)
                    for (int kw = kw0; kw < kw1; kw++)
                    {
                        ref float xp = ref Unsafe.Add(ref xr, ((ih0 + kh) * g.W + iw0 + kw) * K + k);
                        ref float wp = ref Unsafe.Add(ref wr, (kh * g.KW + kw) * K + k);
                        a0 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref xp), Vector.LoadUnsafe(ref wp), a0);
                        a1 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref xp, (nuint)V), Vector.LoadUnsafe(ref wp, (nuint)V), a1);
                        a2 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref xp, (nuint)(2 * V)), Vector.LoadUnsafe(ref wp, (nuint)(2 * V)), a2);
                        a3 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref xp, (nuint)(3 * V)), Vector.LoadUnsafe(ref wp, (nuint)(3 * V)), a3);
                    }
                    Vector.StoreUnsafe(a0, ref yp, (nuint)k); Vector.StoreUnsafe(a1, ref yp, (nuint)(k + V));
                    Vector.StoreUnsafe(a2, ref yp, (nuint)(k + 2 * V)); Vector.StoreUnsafe(a3, ref yp, (nuint)(k + 3 * V));
                }
                for (; k + V <= K; k += V)
                {
                    var a = hasBias ? Vector.LoadUnsafe(ref br, (nuint)k) : Vector<float>.Zero;
                    for (int kh = kh0; kh < kh1; kh++)
                    for (int kw = kw0; kw < kw1; kw++)
                        a = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref xr, (nuint)(((ih0 + kh) * g.W + iw0 + kw) * K + k)),
                            Vector.LoadUnsafe(ref wr, (nuint)((kh * g.KW + kw) * K + k)), a);
                    Vector.StoreUnsafe(a, ref yp, (nuint)k);
                }
                for (; k < K; k++)
                {
                    float a = hasBias ? Unsafe.Add(ref br, k) : 0f;
                    for (int kh = kh0; kh < kh1; kh++)
                    for (int kw = kw0; kw < kw1; kw++)
                        a = MathF.FusedMultiplyAdd(Unsafe.Add(ref xr, ((ih0 + kh) * g.W + iw0 + kw) * K + k), Unsafe.Add(ref wr, (kh * g.KW + kw) * K + k), a);
                    Unsafe.Add(ref yp, k) = a;
                }
            }
        }
    }

    // One image, channel-aligned: dx[ih,iw,k] += Σ dy[oh,ow,k]·w[kh,kw,k] over the taps (kh,kw) and outputs (oh,ow) that read (ih,iw),
    // gathered per input pixel: oh = (ih + PadTop − kh)/SH when that divides exactly and lands in [0, OH).
    private static void BackwardDataImage(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
    {
        ref float gr = ref MemoryMarshal.GetReference(dy);
        ref float wr = ref MemoryMarshal.GetReference(w);
        ref float dr = ref MemoryMarshal.GetReference(dx);
        int V = Vector<float>.Count, K = g.K;
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
                var a0 = Vector.LoadUnsafe(ref dp, (nuint)k); var a1 = Vector.LoadUnsafe(ref dp, (nuint)(k + V));
                var a2 = Vector.LoadUnsafe(ref dp, (nuint)(k + 2 * V)); var a3 = Vector.LoadUnsafe(ref dp, (nuint)(k + 3 * V));
                for (int i = 0; i < t; i += 2)
                {
                    ref float gp = ref Unsafe.Add(ref gr, taps[i] + k);
                    ref float wp = ref Unsafe.Add(ref wr, taps[i + 1] + k);
                    a0 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref gp), Vector.LoadUnsafe(ref wp), a0);
                    a1 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref gp, (nuint)V), Vector.LoadUnsafe(ref wp, (nuint)V), a1);
                    a2 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref gp, (nuint)(2 * V)), Vector.LoadUnsafe(ref wp, (nuint)(2 * V)), a2);
                    a3 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref gp, (nuint)(3 * V)), Vector.LoadUnsafe(ref wp, (nuint)(3 * V)), a3);
                }
                Vector.StoreUnsafe(a0, ref dp, (nuint)k); Vector.StoreUnsafe(a1, ref dp, (nuint)(k + V));
                Vector.StoreUnsafe(a2, ref dp, (nuint)(k + 2 * V)); Vector.StoreUnsafe(a3, ref dp, (nuint)(k + 3 * V));
            }
            for (; k + V <= K; k += V)
            {
                var a = Vector.LoadUnsafe(ref dp, (nuint)k);
                for (int i = 0; i < t; i += 2)
                    a = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref gr, (nuint)(taps[i] + k)), Vector.LoadUnsafe(ref wr, (nuint)(taps[i + 1] + k)), a);
                Vector.StoreUnsafe(a, ref dp, (nuint)k);
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

    // One image, channel-aligned: dw[tap,k] += Σ_{oh,ow} x[ih,iw,k]·dy[oh,ow,k], accumulated in registers per tap and channel block.
    private static void BackwardFilterImage(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(dy);
        ref float wr = ref MemoryMarshal.GetReference(dw);
        int V = Vector<float>.Count, K = g.K;
        for (int kh = 0; kh < g.KH; kh++)
        for (int kw = 0; kw < g.KW; kw++)
        {
            // outputs whose window row/column kh/kw falls inside the input
            int oh0 = CeilDiv(g.PadTop - kh, g.SH), oh1 = Math.Min(g.OH, FloorDiv(g.H - 1 + g.PadTop - kh, g.SH) + 1);
            int ow0 = CeilDiv(g.PadLeft - kw, g.SW), ow1 = Math.Min(g.OW, FloorDiv(g.W - 1 + g.PadLeft - kw, g.SW) + 1);
            oh0 = Math.Max(oh0, 0); ow0 = Math.Max(ow0, 0);
            if (oh0 >= oh1 || ow0 >= ow1) continue;
            ref float wp = ref Unsafe.Add(ref wr, (kh * g.KW + kw) * K);
            int k = 0;
            for (; k + 4 * V <= K; k += 4 * V)
            {
                Vector<float> a0 = Vector<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                for (int oh = oh0; oh < oh1; oh++)
                for (int ow = ow0; ow < ow1; ow++)
                {
                    ref float xp = ref Unsafe.Add(ref xr, ((oh * g.SH - g.PadTop + kh) * g.W + ow * g.SW - g.PadLeft + kw) * K + k);
                    ref float gp = ref Unsafe.Add(ref gr, (oh * g.OW + ow) * K + k);
                    a0 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref xp), Vector.LoadUnsafe(ref gp), a0);
                    a1 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref xp, (nuint)V), Vector.LoadUnsafe(ref gp, (nuint)V), a1);
                    a2 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref xp, (nuint)(2 * V)), Vector.LoadUnsafe(ref gp, (nuint)(2 * V)), a2);
                    a3 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref xp, (nuint)(3 * V)), Vector.LoadUnsafe(ref gp, (nuint)(3 * V)), a3);
                }
                Vector.StoreUnsafe(Vector.LoadUnsafe(ref wp, (nuint)k) + a0, ref wp, (nuint)k);
                Vector.StoreUnsafe(Vector.LoadUnsafe(ref wp, (nuint)(k + V)) + a1, ref wp, (nuint)(k + V));
                Vector.StoreUnsafe(Vector.LoadUnsafe(ref wp, (nuint)(k + 2 * V)) + a2, ref wp, (nuint)(k + 2 * V));
                Vector.StoreUnsafe(Vector.LoadUnsafe(ref wp, (nuint)(k + 3 * V)) + a3, ref wp, (nuint)(k + 3 * V));
            }
            for (; k + V <= K; k += V)
            {
                var a = Vector<float>.Zero;
                for (int oh = oh0; oh < oh1; oh++)
                for (int ow = ow0; ow < ow1; ow++)
                    a = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref xr, (nuint)(((oh * g.SH - g.PadTop + kh) * g.W + ow * g.SW - g.PadLeft + kw) * K + k)),
                        Vector.LoadUnsafe(ref gr, (nuint)((oh * g.OW + ow) * K + k)), a);
                Vector.StoreUnsafe(Vector.LoadUnsafe(ref wp, (nuint)k) + a, ref wp, (nuint)k);
            }
            for (; k < K; k++)
            {
                float a = 0f;
                for (int oh = oh0; oh < oh1; oh++)
                for (int ow = ow0; ow < ow1; ow++)
                    a = MathF.FusedMultiplyAdd(Unsafe.Add(ref xr, ((oh * g.SH - g.PadTop + kh) * g.W + ow * g.SW - g.PadLeft + kw) * K + k),
                        Unsafe.Add(ref gr, (oh * g.OW + ow) * K + k), a);
                Unsafe.Add(ref wp, k) += a;
            }
        }
    }

    private static int CeilDiv(int a, int b) => a <= 0 ? -(-a / b) : (a + b - 1) / b;
    private static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

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
