using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ConvNet.Kernels;

/// <summary>
/// Fused convolution + (ReLU) + max pooling over NHWC. The convolution (geometry <c>conv</c>: x (N,H,W,C), weights
/// (KH,KW,C,K), pre-activation z (N,OH,OW,K)) is computed a band of output rows at a time into a small per-thread
/// buffer that stays in L1/L2 — the full-resolution z is never written — and each band is max-pooled right away
/// into y (N,POH,POW,K). Since max(relu(z)) = relu(max(z)) exactly, the window maximum of z is taken first and ReLU
/// is applied to the pooled value. argmax holds, per pooled output, the window index kh·poolW + kw of the FIRST
/// maximum of z in row-major window order (window coordinates, padding included).
/// Supported pools: non-overlapping windows (stride ≥ pool size on both axes) with at most 256 positions; other
/// configurations run unfused. The pool geometry is the <see cref="Pool"/> geometry over z: Valid/Same arithmetic,
/// windows clipped to the real pixels. Naive twins: <see cref="ConvPoolReference"/>.
/// </summary>
public static class ConvPool
{
    /// <summary>Per-thread band buffer (grown on demand, never shrunk: no allocation in steady state).</summary>
    [ThreadStatic] private static float[]? _band;

    /// <summary>True if the fused kernels handle this pool configuration (non-overlapping windows, ≤ 256 positions).</summary>
    public static bool Supports(int poolH, int poolW, int poolSH, int poolSW) =>
        poolH > 0 && poolW > 0 && poolSH >= poolH && poolSW >= poolW && poolH * poolW <= 256;

    /// <summary>The <see cref="Pool"/> geometry of the pool over the conv output (K = C = conv.K).</summary>
    public static ConvGeometry PoolGeometry(in ConvGeometry conv, int poolH, int poolW, int poolSH, int poolSW, int poolPadTop, int poolPadLeft, int poolOH, int poolOW) =>
        new(conv.N, conv.OH, conv.OW, conv.K, poolH, poolW, poolSH, poolSW, poolPadTop, poolPadLeft, poolOH, poolOW, conv.K);

    internal static ConvGeometry Check(in ConvGeometry conv, int poolH, int poolW, int poolSH, int poolSW, int poolPadTop, int poolPadLeft, int poolOH, int poolOW,
        int xLen, int wLen, int yLen, int argLen, string kernel)
    {
        if (!Supports(poolH, poolW, poolSH, poolSW))
            throw new ArgumentException($"{kernel}: pool {poolH}×{poolW} stride {poolSH}×{poolSW} is not supported (windows must not overlap, ≤ 256 positions).");
        conv.Require(xLen, wLen, conv.N * conv.OutImage, kernel);
        if (conv.OH <= 0 || conv.OW <= 0) throw new ArgumentException($"{kernel}: empty convolution output {conv}.");
        var pg = PoolGeometry(conv, poolH, poolW, poolSH, poolSW, poolPadTop, poolPadLeft, poolOH, poolOW);
        if (poolPadTop < 0 || poolPadLeft < 0) throw new ArgumentException($"{kernel}: negative pool padding.");
        Pool.Check(pg, conv.N * conv.OutImage, yLen, -1, kernel);
        if (argLen < pg.N * pg.OutImage) throw new ArgumentException($"{kernel}: argmax span has {argLen} elements, geometry needs {pg.N * pg.OutImage}.");
        return pg;
    }

    /// <summary>
    /// y[n,po,pw,k] = act(max over the pool window of z), z = conv(x, w) + bias (bias may be empty); act = ReLU if
    /// <paramref name="relu"/>, else identity. argmax = window index kh·poolW + kw of the first maximum of z.
    /// </summary>
    public static void ConvPoolForward(in ConvGeometry conv, int poolH, int poolW, int poolSH, int poolSW, int poolPadTop, int poolPadLeft, int poolOH, int poolOW,
        bool relu, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Span<byte> argmax)
        => ConvPoolForwardOn(KernelTable.Current.Backend, conv, poolH, poolW, poolSH, poolSW, poolPadTop, poolPadLeft, poolOH, poolOW, relu, x, w, bias, y, argmax);

    /// <summary>ConvPoolForward on <paramref name="backend"/> (throws if this CPU cannot run it).</summary>
    internal static void ConvPoolForwardOn(KernelBackend backend, in ConvGeometry conv, int poolH, int poolW, int poolSH, int poolSW, int poolPadTop, int poolPadLeft, int poolOH, int poolOW,
        bool relu, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Span<byte> argmax)
    {
        KernelTable.For(backend);   // throws if this CPU cannot run it
        var pg = Check(conv, poolH, poolW, poolSH, poolSW, poolPadTop, poolPadLeft, poolOH, poolOW, x.Length, w.Length, y.Length, argmax.Length, nameof(ConvPoolForward));
        if (!bias.IsEmpty && bias.Length < conv.K) throw new ArgumentException($"{nameof(ConvPoolForward)}: bias has {bias.Length} elements, geometry needs {conv.K}.");
        int K = conv.K, OW = conv.OW, OH = conv.OH;
        int rowLen = OW * K, poolRow = poolOW * K;
        var band = _band;
        if (band is null || band.Length < poolH * rowLen) _band = band = new float[poolH * rowLen];
        for (int n = 0; n < conv.N; n++)
        for (int po = 0; po < poolOH; po++)
        {
            int r0 = po * poolSH - poolPadTop;
            int kh0 = Math.Max(0, -r0), kh1 = Math.Min(poolH, OH - r0);
            int rows = kh1 - kh0;
            ConvRows(backend, conv, n, r0 + kh0, rows, x, w, bias, band.AsSpan(0, rows * rowLen));
            var yRow = y.Slice(((n * poolOH) + po) * poolRow, poolRow);
            PoolBand(backend, pg, band, kh0, rows, yRow, argmax.Slice(((n * poolOH) + po) * poolRow, poolRow));
            if (relu) TensorPrimitives.Max(yRow, 0f, yRow);   // exactly the unfused ReLU (same primitive)
        }
    }

    /// <summary>Rows [oh0, oh0 + count) of image n of the convolution into dst (count·OW·K floats), via <see cref="Conv.ConvForwardOn"/>.</summary>
    private static void ConvRows(KernelBackend backend, in ConvGeometry g, int n, int oh0, int count, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> dst)
    {
        // A one-image geometry whose output rows are exactly rows oh0.. of the full one (same clipping, same tiles).
        int ihStart = oh0 * g.SH - g.PadTop, img = g.H * g.W * g.C;
        ConvGeometry sub;
        ReadOnlySpan<float> xs;
        if (ihStart >= 0)
        {
            sub = g with { N = 1, H = g.H - ihStart, PadTop = 0, OH = count };
            xs = x.Slice(n * img + ihStart * g.W * g.C, (g.H - ihStart) * g.W * g.C);
        }
        else
        {
            sub = g with { N = 1, PadTop = -ihStart, OH = count };
            xs = x.Slice(n * img, img);
        }
        Conv.ConvForwardOn(backend, sub, xs, w, bias, dst);
    }

    /// <summary>Max-pools one band of conv rows (window rows kh0 .. kh0+rows of pooled row) into yRow / argRow.</summary>
    private static void PoolBand(KernelBackend backend, in ConvGeometry pg, float[] band, int kh0, int rows, Span<float> yRow, Span<byte> argRow)
    {
        int K = pg.C, OW = pg.W, PW = pg.KW;
        ref float br = ref MemoryMarshal.GetArrayDataReference(band);
        ref float yr = ref MemoryMarshal.GetReference(yRow);
        ref byte ar = ref MemoryMarshal.GetReference(argRow);
        for (int pw = 0; pw < pg.OW; pw++)
        {
            int c0 = pw * pg.SW - pg.PadLeft;
            int kw0 = Math.Max(0, -c0), kw1 = Math.Min(PW, OW - c0);
            int o = pw * K, k = 0;
            if (backend >= KernelBackend.Avx2)
            {
                for (; k + 8 <= K; k += 8)
                {
                    var best = Vector256.LoadUnsafe(ref br, (nuint)((c0 + kw0) * K + k));
                    var arg = Vector256.Create(kh0 * PW + kw0);
                    for (int r = 0; r < rows; r++)
                    for (int kw = kw0; kw < kw1; kw++)
                    {
                        if (r == 0 && kw == kw0) continue;
                        var v = Vector256.LoadUnsafe(ref br, (nuint)((r * OW + c0 + kw) * K + k));
                        var gt = Vector256.GreaterThan(v, best);   // strict: ties keep the earlier position
                        best = Vector256.ConditionalSelect(gt, v, best);
                        arg = Vector256.ConditionalSelect(gt.AsInt32(), Vector256.Create((kh0 + r) * PW + kw), arg);
                    }
                    best.StoreUnsafe(ref yr, (nuint)(o + k));
                    var s16 = Vector128.Narrow(arg.GetLower(), arg.GetUpper());
                    var b8 = Vector128.Narrow(s16, s16);
                    Unsafe.WriteUnaligned(ref Unsafe.Add(ref ar, o + k), b8.AsUInt64().ToScalar());
                }
            }
            for (; k < K; k++)
            {
                float best = Unsafe.Add(ref br, (c0 + kw0) * K + k);
                int arg = kh0 * PW + kw0;
                for (int r = 0; r < rows; r++)
                for (int kw = kw0; kw < kw1; kw++)
                {
                    float v = Unsafe.Add(ref br, (r * OW + c0 + kw) * K + k);
                    if (v > best) { best = v; arg = (kh0 + r) * PW + kw; }
                }
                Unsafe.Add(ref yr, o + k) = best;
                Unsafe.Add(ref ar, o + k) = (byte)arg;
            }
        }
    }

    /// <summary>
    /// The conv-output gradient of the fused layer: dz (N,OH,OW,K) is overwritten with dy at each pooled output's argmax
    /// position — only where the pooled value y &gt; 0 if <paramref name="relu"/> (the ReLU derivative at 0 is 0) — and
    /// 0 everywhere else. Windows do not overlap, so every dz element receives at most one value.
    /// </summary>
    public static void MaxPoolScatter(in ConvGeometry conv, int poolH, int poolW, int poolSH, int poolSW, int poolPadTop, int poolPadLeft, int poolOH, int poolOW,
        bool relu, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, ReadOnlySpan<byte> argmax, Span<float> dz)
        => MaxPoolScatterOn(KernelTable.Current.Backend, conv, poolH, poolW, poolSH, poolSW, poolPadTop, poolPadLeft, poolOH, poolOW, relu, y, dy, argmax, dz);

    /// <summary>MaxPoolScatter on <paramref name="backend"/>.</summary>
    internal static void MaxPoolScatterOn(KernelBackend backend, in ConvGeometry conv, int poolH, int poolW, int poolSH, int poolSW, int poolPadTop, int poolPadLeft, int poolOH, int poolOW,
        bool relu, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, ReadOnlySpan<byte> argmax, Span<float> dz)
    {
        KernelTable.For(backend);   // throws if this CPU cannot run it
        var pg = Check(conv, poolH, poolW, poolSH, poolSW, poolPadTop, poolPadLeft, poolOH, poolOW, int.MaxValue, int.MaxValue, y.Length, argmax.Length, nameof(MaxPoolScatter));
        int total = pg.N * pg.OutImage;
        if (dy.Length < total) throw new ArgumentException($"{nameof(MaxPoolScatter)}: dy has {dy.Length} elements, geometry needs {total}.");
        if (dz.Length < conv.N * conv.OutImage) throw new ArgumentException($"{nameof(MaxPoolScatter)}: dz has {dz.Length} elements, geometry needs {conv.N * conv.OutImage}.");
        int K = conv.K, OW = conv.OW, OH = conv.OH;
        // Windows tile z exactly (no gaps) → every dz element is written below and no clear is needed.
        bool tiled = poolSH == poolH && poolSW == poolW && poolPadTop == 0 && poolPadLeft == 0 && poolOH * poolH >= OH && poolOW * poolW >= OW;
        if (!tiled) dz.Slice(0, conv.N * conv.OutImage).Clear();
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref float dyr = ref MemoryMarshal.GetReference(dy);
        ref byte ar = ref MemoryMarshal.GetReference(argmax);
        ref float dzr = ref MemoryMarshal.GetReference(dz);
        for (int n = 0; n < conv.N; n++)
        for (int po = 0; po < poolOH; po++)
        {
            int r0 = po * poolSH - poolPadTop;
            int kh0 = Math.Max(0, -r0), kh1 = Math.Min(poolH, OH - r0);
            for (int pw = 0; pw < poolOW; pw++)
            {
                int c0 = pw * poolSW - poolPadLeft;
                int kw0 = Math.Max(0, -c0), kw1 = Math.Min(poolW, OW - c0);
                int o = ((n * poolOH + po) * poolOW + pw) * K, k = 0;
                int zBase = (n * OH + r0) * OW + c0;   // pixel index of window position (0, 0)
                if (backend >= KernelBackend.Avx2)
                {
                    for (; k + 8 <= K; k += 8)
                    {
                        var d = Vector256.LoadUnsafe(ref dyr, (nuint)(o + k));
                        if (relu) d = Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.LoadUnsafe(ref yr, (nuint)(o + k)), Vector256<float>.Zero), d, Vector256<float>.Zero);
                        var a = Avx2.ConvertToVector256Int32(Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref ar, o + k))).AsByte());
                        for (int kh = kh0; kh < kh1; kh++)
                        for (int kw = kw0; kw < kw1; kw++)
                        {
                            var hit = Vector256.Equals(a, Vector256.Create(kh * poolW + kw)).AsSingle();
                            Vector256.BitwiseAnd(hit, d).StoreUnsafe(ref dzr, (nuint)(((zBase + kh * OW + kw) * K) + k));
                        }
                    }
                }
                for (; k < K; k++)
                {
                    float d = Unsafe.Add(ref dyr, o + k);
                    if (relu && !(Unsafe.Add(ref yr, o + k) > 0f)) d = 0f;
                    int a = Unsafe.Add(ref ar, o + k);
                    for (int kh = kh0; kh < kh1; kh++)
                    for (int kw = kw0; kw < kw1; kw++)
                        Unsafe.Add(ref dzr, (zBase + kh * OW + kw) * K + k) = kh * poolW + kw == a ? d : 0f;
                }
            }
        }
    }
}

/// <summary>Naive twins of <see cref="ConvPool"/>: <see cref="ConvReference"/> and <see cref="PoolReference"/> composed.</summary>
public static class ConvPoolReference
{
    /// <summary>Reference of <see cref="ConvPool.ConvPoolForward"/>: full z, then max pool, then ReLU; argmax as window index.</summary>
    public static void ConvPoolForward(in ConvGeometry conv, int poolH, int poolW, int poolSH, int poolSW, int poolPadTop, int poolPadLeft, int poolOH, int poolOW,
        bool relu, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y, Span<byte> argmax)
    {
        var pg = ConvPool.Check(conv, poolH, poolW, poolSH, poolSW, poolPadTop, poolPadLeft, poolOH, poolOW, x.Length, w.Length, y.Length, argmax.Length, nameof(ConvPoolForward));
        var z = new float[conv.N * conv.OutImage];
        ConvReference.ConvForward(conv, x, w, bias, z);
        var flat = new int[pg.N * pg.OutImage];
        PoolReference.MaxPoolForward(pg, z, y, flat);
        for (int o = 0; o < flat.Length; o++)
        {
            int pix = o / pg.C, pw = pix % pg.OW, po = pix / pg.OW % pg.OH;
            int zp = flat[o] / pg.C, zw = zp % pg.W, zh = zp / pg.W % pg.H;
            argmax[o] = (byte)((zh - (po * pg.SH - pg.PadTop)) * pg.KW + zw - (pw * pg.SW - pg.PadLeft));
            if (relu) y[o] = Math.Max(y[o], 0f);
        }
    }

    /// <summary>Reference of <see cref="ConvPool.MaxPoolScatter"/>: dz = 0, then dz[argmax] += dy where (not relu or y &gt; 0).</summary>
    public static void MaxPoolScatter(in ConvGeometry conv, int poolH, int poolW, int poolSH, int poolSW, int poolPadTop, int poolPadLeft, int poolOH, int poolOW,
        bool relu, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, ReadOnlySpan<byte> argmax, Span<float> dz)
    {
        var pg = ConvPool.Check(conv, poolH, poolW, poolSH, poolSW, poolPadTop, poolPadLeft, poolOH, poolOW, int.MaxValue, int.MaxValue, y.Length, argmax.Length, nameof(MaxPoolScatter));
        dz.Slice(0, conv.N * conv.OutImage).Clear();
        for (int n = 0; n < pg.N; n++)
        for (int po = 0; po < pg.OH; po++)
        for (int pw = 0; pw < pg.OW; pw++)
        for (int k = 0; k < pg.C; k++)
        {
            int o = ((n * pg.OH + po) * pg.OW + pw) * pg.C + k;
            if (relu && !(y[o] > 0f)) continue;
            int zh = po * pg.SH - pg.PadTop + argmax[o] / pg.KW, zw = pw * pg.SW - pg.PadLeft + argmax[o] % pg.KW;
            dz[((n * pg.H + zh) * pg.W + zw) * pg.C + k] += dy[o];
        }
    }
}
