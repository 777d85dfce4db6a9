using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConvNet.Kernels;

/// <summary>
/// Sparse backward of the fused conv + (ReLU) + max pool (<see cref="ConvPool"/>). The conv-output gradient dz is
/// non-zero only at one window position per pooled output and channel (its argmax), and only where the pooled value
/// is &gt; 0 with ReLU, so instead of scattering dz and running the dense backward convolutions over ≥ 4× as many
/// pixels, every non-zero dz[n, zh, zw, k] = g is applied directly:
/// <c>dw[kh, kw, :, k] += g · x[n, zh·SH − PT + kh, zw·SW − PL + kw, :]</c>, <c>db[k] += g</c> and
/// <c>dx[n, zh·SH − PT + kh, zw·SW − PL + kw, :] += g · w[kh, kw, :, k]</c>. For a fixed kh the (kw, c) run is contiguous
/// in x, dx and in the channel-major weight copies (K, KH, KW, C) kept in a per-thread buffer, so each update is one
/// vector axpy of KW·C floats. Channels are processed in blocks so the weight copies stay in L1.
/// The same sums as the dense path in another order: equal up to float rounding. Worth it when C is a few vectors
/// wide: the layer uses it for C ≥ 24 (lecture conv3, C = 32: ≈ 35% faster than dense; at C = 16 about even, at C = 1 far slower). Reference: <see cref="ConvPoolReference.MaxPoolScatter"/> then
/// <see cref="ConvReference.ConvBackwardFilter"/> / <see cref="ConvReference.ConvBackwardData"/>.
/// </summary>
public static class ConvPoolBackward
{
    [ThreadStatic] private static float[]? _scratch;

    /// <summary>gw[i] += g·x[i] and dx[i] += g·w[i] for i &lt; n in one pass (two independent FMA streams).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy2(float g, ref float x, ref float gw, ref float w, ref float dx, int n)
    {
        int V = System.Numerics.Vector<float>.Count, i = 0;
        var gv = new System.Numerics.Vector<float>(g);
        for (; i + V <= n; i += V)
        {
            var a = System.Numerics.Vector.FusedMultiplyAdd(gv, System.Numerics.Vector.LoadUnsafe(ref x, (nuint)i), System.Numerics.Vector.LoadUnsafe(ref gw, (nuint)i));
            var b = System.Numerics.Vector.FusedMultiplyAdd(gv, System.Numerics.Vector.LoadUnsafe(ref w, (nuint)i), System.Numerics.Vector.LoadUnsafe(ref dx, (nuint)i));
            System.Numerics.Vector.StoreUnsafe(a, ref gw, (nuint)i);
            System.Numerics.Vector.StoreUnsafe(b, ref dx, (nuint)i);
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref gw, i) = MathF.FusedMultiplyAdd(g, Unsafe.Add(ref x, i), Unsafe.Add(ref gw, i));
            Unsafe.Add(ref dx, i) = MathF.FusedMultiplyAdd(g, Unsafe.Add(ref w, i), Unsafe.Add(ref dx, i));
        }
    }

    /// <summary>Channels per block (the touched slices of the weight copies: 2·KH·KW·C·16 floats).</summary>
    private const int KBlock = 16;

    /// <summary>
    /// Accumulates the parameter gradients (dw (KH,KW,C,K), dbias (K) — may be empty) and, unless
    /// <paramref name="dx"/> is empty, the input gradient dx (N,H,W,C) of the fused layer for the pooled-output
    /// gradient dy, given the forward's pooled y and window-index argmax.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(in ConvGeometry conv, int poolH, int poolW, int poolSH, int poolSW, int poolPadTop, int poolPadLeft, int poolOH, int poolOW,
        bool relu, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, ReadOnlySpan<byte> argmax,
        Span<float> dw, Span<float> dbias, Span<float> dx)
    {
        var pg = ConvPool.Check(conv, poolH, poolW, poolSH, poolSW, poolPadTop, poolPadLeft, poolOH, poolOW, x.Length, w.Length, y.Length, argmax.Length, nameof(Backward));
        int total = pg.N * pg.OutImage;
        if (dy.Length < total) throw new ArgumentException($"{nameof(Backward)}: dy has {dy.Length} elements, geometry needs {total}.");
        if (dw.Length < conv.WeightSize) throw new ArgumentException($"{nameof(Backward)}: dw has {dw.Length} elements, geometry needs {conv.WeightSize}.");
        if (!dbias.IsEmpty && dbias.Length < conv.K) throw new ArgumentException($"{nameof(Backward)}: dbias has {dbias.Length} elements, geometry needs {conv.K}.");
        bool withDx = !dx.IsEmpty;
        if (withDx && dx.Length < conv.N * conv.InImage) throw new ArgumentException($"{nameof(Backward)}: dx has {dx.Length} elements, geometry needs {conv.N * conv.InImage}.");

        int K = conv.K, C = conv.C, KH = conv.KH, KW = conv.KW, H = conv.H, W = conv.W;
        int per = KH * KW * C;                          // one channel's slice of the channel-major copies
        int size = per * K;
        var scratch = _scratch;
        if (scratch is null || scratch.Length < 2 * size) _scratch = scratch = new float[2 * size];
        ref float gw = ref MemoryMarshal.GetArrayDataReference(scratch);   // dw, channel-major: gw[k·per + (kh·KW + kw)·C + c]
        ref float wt = ref Unsafe.Add(ref gw, size);                         // w, same layout
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float wr = ref MemoryMarshal.GetReference(w);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref float dyr = ref MemoryMarshal.GetReference(dy);
        ref byte ar = ref MemoryMarshal.GetReference(argmax);
        ref float dwr = ref MemoryMarshal.GetReference(dw);
        ref float dxr = ref MemoryMarshal.GetReference(dx);
        MemoryMarshal.CreateSpan(ref gw, size).Clear();
        if (withDx)
            for (int j = 0; j < per; j++)
            for (int k = 0; k < K; k++)
                Unsafe.Add(ref wt, k * per + j) = Unsafe.Add(ref wr, j * K + k);
        // Window index → (row, column) offset inside the window.
        Span<int> offH = stackalloc int[poolH * poolW], offW = stackalloc int[poolH * poolW];
        for (int i = 0; i < poolH * poolW; i++) { offH[i] = i / poolW; offW[i] = i % poolW; }
        bool hasBias = !dbias.IsEmpty;
        ref float dbr = ref MemoryMarshal.GetReference(dbias);
        int run = KW * C, xRow = W * C;
        // Image outermost: its x and dx stay in L2 while every channel block sweeps them; channel blocks keep the
        // touched slices of the channel-major copies in L1.
        for (int n = 0; n < pg.N; n++)
        for (int k0 = 0; k0 < K; k0 += KBlock)
        {
            int k1 = Math.Min(K, k0 + KBlock);
            for (int po = 0; po < pg.OH; po++)
            for (int pw = 0; pw < pg.OW; pw++)
            {
                int o = ((n * pg.OH + po) * pg.OW + pw) * K;
                int zh0 = po * poolSH - poolPadTop, zw0 = pw * poolSW - poolPadLeft;
                for (int k = k0; k < k1; k++)
                {
                    float g = Unsafe.Add(ref dyr, o + k);
                    if (relu && !(Unsafe.Add(ref yr, o + k) > 0f)) continue;
                    if (hasBias) Unsafe.Add(ref dbr, k) += g;
                    if (g == 0f) continue;
                    int a = Unsafe.Add(ref ar, o + k);
                    int ih0 = (zh0 + offH[a]) * conv.SH - conv.PadTop, iw0 = (zw0 + offW[a]) * conv.SW - conv.PadLeft;
                    ref float gk = ref Unsafe.Add(ref gw, k * per);
                    ref float wk = ref Unsafe.Add(ref wt, k * per);
                    if (ih0 >= 0 && iw0 >= 0 && ih0 + KH <= H && iw0 + KW <= W)
                    {
                        // Interior: KH full runs of KW·C.
                        int xi = ((n * H + ih0) * W + iw0) * C;
                        for (int kh = 0; kh < KH; kh++, xi += xRow)
                        {
                            if (withDx) Axpy2(g, ref Unsafe.Add(ref xr, xi), ref Unsafe.Add(ref gk, kh * run), ref Unsafe.Add(ref wk, kh * run), ref Unsafe.Add(ref dxr, xi), run);
                            else Vec.Axpy(g, ref Unsafe.Add(ref xr, xi), ref Unsafe.Add(ref gk, kh * run), run);
                        }
                        continue;
                    }
                    int kh0 = Math.Max(0, -ih0), kh1 = Math.Min(KH, H - ih0);
                    int kw0 = Math.Max(0, -iw0), kw1 = Math.Min(KW, W - iw0);
                    int len = (kw1 - kw0) * C;
                    if (len <= 0) continue;
                    for (int kh = kh0; kh < kh1; kh++)
                    {
                        int xi = ((n * H + ih0 + kh) * W + iw0 + kw0) * C;
                        int wi = (kh * KW + kw0) * C;
                        Vec.Axpy(g, ref Unsafe.Add(ref xr, xi), ref Unsafe.Add(ref gk, wi), len);
                        if (withDx) Vec.Axpy(g, ref Unsafe.Add(ref wk, wi), ref Unsafe.Add(ref dxr, xi), len);
                    }
                }
            }
        }
        // Fold back into dw (KH, KW, C, K).
        for (int j = 0; j < per; j++)
        for (int k = 0; k < K; k++)
            Unsafe.Add(ref dwr, j * K + k) += Unsafe.Add(ref gw, k * per + j);
    }
}
