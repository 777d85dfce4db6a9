using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConvNet.Kernels;

/// <summary>
/// Backward-data as a scatter (each output gradient pixel adds Σ_k dy·w into every input pixel its window reads): what
/// <see cref="ConvDriver{TTiles}"/> runs for strides ≠ 1 on every backend. Also the span entry points of the
/// <see cref="KernelBackend.Portable"/> backend (the benchmarks' baseline).
/// </summary>
internal static unsafe class ConvPortable
{
    /// <summary>Conv.ConvForward on the portable backend.</summary>
    public static void ConvForward(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y) =>
        Conv.ConvForwardOn(KernelBackend.Portable, g, x, w, bias, y);

    /// <summary>Conv.ConvBackwardData on the portable backend.</summary>
    public static void ConvBackwardData(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx) =>
        Conv.ConvBackwardDataOn(KernelBackend.Portable, g, dy, w, dx);

    /// <summary>Conv.ConvBackwardFilter on the portable backend.</summary>
    public static void ConvBackwardFilter(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> dbias) =>
        Conv.ConvBackwardFilterOn(KernelBackend.Portable, g, x, dy, dw, dbias);

    /// <summary>dx[n,ih,iw,c] += Σ_k dy[n,oh,ow,k] · w[kh,kw,c,k] for every (oh,ow,kh,kw) that reads (ih,iw), any stride.</summary>
    public static void ScatterBackwardData(in ConvGeometry g, float* dyPtr, float* wPtr, float* dxPtr)
    {
        var dy = new ReadOnlySpan<float>(dyPtr, g.N * g.OutImage);
        var w = new ReadOnlySpan<float>(wPtr, g.WeightSize);
        var dx = new Span<float>(dxPtr, g.N * g.InImage);
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
}
