using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConvNet.Kernels;

/// <summary>
/// The portable <see cref="Vector{T}"/> convolution kernels: the <see cref="KernelBackend.Portable"/> entries of the
/// <see cref="KernelTable"/> (and backward-data with strides ≠ 1 on every backend). Same contracts as <see cref="Conv"/>;
/// callers validate the spans first.
/// </summary>
internal static unsafe class ConvPortable
{
    // Pointer entry points for the kernel table (lengths from the geometry; callers validated them).
    public static void Forward(in ConvGeometry g, float* x, float* w, float* bias, float* y) =>
        ConvForward(g, new ReadOnlySpan<float>(x, g.N * g.InImage), new ReadOnlySpan<float>(w, g.WeightSize),
            bias == null ? default : new ReadOnlySpan<float>(bias, g.K), new Span<float>(y, g.N * g.OutImage));

    public static void BackwardData(in ConvGeometry g, float* dy, float* w, float* dx) =>
        ConvBackwardData(g, new ReadOnlySpan<float>(dy, g.N * g.OutImage), new ReadOnlySpan<float>(w, g.WeightSize), new Span<float>(dx, g.N * g.InImage));

    public static void BackwardFilter(in ConvGeometry g, float* x, float* dy, float* dw, float* dbias) =>
        ConvBackwardFilter(g, new ReadOnlySpan<float>(x, g.N * g.InImage), new ReadOnlySpan<float>(dy, g.N * g.OutImage),
            new Span<float>(dw, g.WeightSize), dbias == null ? default : new Span<float>(dbias, g.K));

    /// <summary>y[n,oh,ow,:] = bias + Σ_{kh,kw,c} x[n,ih,iw,c] · w[kh,kw,c,:] (bias may be empty = 0).</summary>
    public static void ConvForward(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float wr = ref MemoryMarshal.GetReference(w);
        ref float br = ref MemoryMarshal.GetReference(bias);
        ref float yr = ref MemoryMarshal.GetReference(y);
        bool hasBias = !bias.IsEmpty;
        int V = Vector<float>.Count, K = g.K, C = g.C;
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        {
            g.RowWindow(oh, out int ih0, out int kh0, out int kh1);
            for (int ow = 0; ow < g.OW; ow++)
            {
                g.ColWindow(ow, out int iw0, out int kw0, out int kw1);
                ref float yp = ref Unsafe.Add(ref yr, ((n * g.OH + oh) * g.OW + ow) * K);
                int k = 0;
                // Four vectors of output channels at a time: 4 accumulators in registers.
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
                        ref float xp = ref Unsafe.Add(ref xr, ((n * g.H + ih0 + kh) * g.W + iw0 + kw) * C);
                        ref float wp = ref Unsafe.Add(ref wr, (kh * g.KW + kw) * C * K + k);
                        for (int c = 0; c < C; c++, wp = ref Unsafe.Add(ref wp, K))
                        {
                            var xv = new Vector<float>(Unsafe.Add(ref xp, c));
                            a0 = Vector.FusedMultiplyAdd(xv, Vector.LoadUnsafe(ref wp), a0);
                            a1 = Vector.FusedMultiplyAdd(xv, Vector.LoadUnsafe(ref wp, (nuint)V), a1);
                            a2 = Vector.FusedMultiplyAdd(xv, Vector.LoadUnsafe(ref wp, (nuint)(2 * V)), a2);
                            a3 = Vector.FusedMultiplyAdd(xv, Vector.LoadUnsafe(ref wp, (nuint)(3 * V)), a3);
                        }
                    }
                    Vector.StoreUnsafe(a0, ref yp, (nuint)k); Vector.StoreUnsafe(a1, ref yp, (nuint)(k + V));
                    Vector.StoreUnsafe(a2, ref yp, (nuint)(k + 2 * V)); Vector.StoreUnsafe(a3, ref yp, (nuint)(k + 3 * V));
                }
                for (; k + V <= K; k += V)
                {
                    var a = hasBias ? Vector.LoadUnsafe(ref br, (nuint)k) : Vector<float>.Zero;
                    for (int kh = kh0; kh < kh1; kh++)
                    for (int kw = kw0; kw < kw1; kw++)
                    {
                        ref float xp = ref Unsafe.Add(ref xr, ((n * g.H + ih0 + kh) * g.W + iw0 + kw) * C);
                        ref float wp = ref Unsafe.Add(ref wr, (kh * g.KW + kw) * C * K + k);
                        for (int c = 0; c < C; c++, wp = ref Unsafe.Add(ref wp, K))
                            a = Vector.FusedMultiplyAdd(new Vector<float>(Unsafe.Add(ref xp, c)), Vector.LoadUnsafe(ref wp), a);
                    }
                    Vector.StoreUnsafe(a, ref yp, (nuint)k);
                }
                for (; k < K; k++)
                {
                    float s = hasBias ? Unsafe.Add(ref br, k) : 0f;
                    for (int kh = kh0; kh < kh1; kh++)
                    for (int kw = kw0; kw < kw1; kw++)
                    {
                        ref float xp = ref Unsafe.Add(ref xr, ((n * g.H + ih0 + kh) * g.W + iw0 + kw) * C);
                        ref float wp = ref Unsafe.Add(ref wr, (kh * g.KW + kw) * C * K + k);
                        for (int c = 0; c < C; c++) s = MathF.FusedMultiplyAdd(Unsafe.Add(ref xp, c), Unsafe.Add(ref wp, c * K), s);
                    }
                    Unsafe.Add(ref yp, k) = s;
                }
            }
        }
    }

    /// <summary>dx[n,ih,iw,c] += Σ_k dy[n,oh,ow,k] · w[kh,kw,c,k] for every (oh,ow,kh,kw) that reads (ih,iw).</summary>
    public static void ConvBackwardData(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
    {
        ref float dyr = ref MemoryMarshal.GetReference(dy);
        ref float wr = ref MemoryMarshal.GetReference(w);
        ref float dxr = ref MemoryMarshal.GetReference(dx);
        int K = g.K, C = g.C;
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        {
            g.RowWindow(oh, out int ih0, out int kh0, out int kh1);
            for (int ow = 0; ow < g.OW; ow++)
            {
                g.ColWindow(ow, out int iw0, out int kw0, out int kw1);
                ref float dyp = ref Unsafe.Add(ref dyr, ((n * g.OH + oh) * g.OW + ow) * K);
                for (int kh = kh0; kh < kh1; kh++)
                for (int kw = kw0; kw < kw1; kw++)
                {
                    ref float dxp = ref Unsafe.Add(ref dxr, ((n * g.H + ih0 + kh) * g.W + iw0 + kw) * C);
                    ref float wp = ref Unsafe.Add(ref wr, (kh * g.KW + kw) * C * K);
                    for (int c = 0; c < C; c++)
                        Unsafe.Add(ref dxp, c) += Vec.Dot(ref dyp, ref Unsafe.Add(ref wp, c * K), K);
                }
            }
        }
    }

    /// <summary>dw[kh,kw,c,:] += Σ_{n,oh,ow} x[n,ih,iw,c] · dy[n,oh,ow,:]; dbias += Σ dy (dbias may be empty).</summary>
    public static void ConvBackwardFilter(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> dbias)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float dyr = ref MemoryMarshal.GetReference(dy);
        ref float dwr = ref MemoryMarshal.GetReference(dw);
        ref float dbr = ref MemoryMarshal.GetReference(dbias);
        bool hasBias = !dbias.IsEmpty;
        int K = g.K, C = g.C;
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        {
            g.RowWindow(oh, out int ih0, out int kh0, out int kh1);
            for (int ow = 0; ow < g.OW; ow++)
            {
                g.ColWindow(ow, out int iw0, out int kw0, out int kw1);
                ref float dyp = ref Unsafe.Add(ref dyr, ((n * g.OH + oh) * g.OW + ow) * K);
                if (hasBias) Vec.Add(ref dyp, ref dbr, K);
                for (int kh = kh0; kh < kh1; kh++)
                for (int kw = kw0; kw < kw1; kw++)
                {
                    ref float xp = ref Unsafe.Add(ref xr, ((n * g.H + ih0 + kh) * g.W + iw0 + kw) * C);
                    ref float dwp = ref Unsafe.Add(ref dwr, (kh * g.KW + kw) * C * K);
                    for (int c = 0; c < C; c++)
                    {
                        float xv = Unsafe.Add(ref xp, c);
                        if (xv != 0f) Vec.Axpy(xv, ref dyp, ref Unsafe.Add(ref dwp, c * K), K);
                    }
                }
            }
        }
    }
}
