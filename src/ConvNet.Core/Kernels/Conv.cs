using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConvNet.Kernels;

/// <summary>
/// Direct (implicit-GEMM) NHWC convolution kernels. No im2col. Naive twins: <see cref="ConvReference"/>.
/// Each public method validates its spans, then dispatches to the AVX-512 register-tiled kernels in
/// <see cref="ConvAvx512"/> when the CPU has them, else to the AVX2+FMA ones in <see cref="ConvAvx2"/>; the <see cref="Vector{T}"/> code in <see cref="ConvPortable"/> is the portable fallback
/// (and also serves backward-data with strides ≠ 1). Nothing allocates in steady state (backward-data keeps one
/// per-thread transposed-weight buffer, see <see cref="ConvAvx2"/>).
/// x: (N, H, W, C) · w: (KH, KW, C, K) · y/dy: (N, OH, OW, K).
/// </summary>
public static unsafe class Conv
{
    /// <summary>y[n,oh,ow,:] = bias + Σ_{kh,kw,c} x[n,ih,iw,c] · w[kh,kw,c,:] (bias may be empty = 0).</summary>
    public static void ConvForward(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        g.Require(x.Length, w.Length, y.Length, nameof(ConvForward));
        if (!bias.IsEmpty && bias.Length < g.K) throw new ArgumentException($"{nameof(ConvForward)}: bias has {bias.Length} elements, geometry needs {g.K}.");
        if (ConvAvx512.IsSupported)
        {
            fixed (float* xp = x) fixed (float* wp = w) fixed (float* bp = bias) fixed (float* yp = y)
                ConvAvx512.Forward(g, xp, wp, bias.IsEmpty ? null : bp, yp);
            return;
        }
        if (ConvAvx2.IsSupported)
        {
            fixed (float* xp = x) fixed (float* wp = w) fixed (float* bp = bias) fixed (float* yp = y)
                ConvAvx2.Forward(g, xp, wp, bias.IsEmpty ? null : bp, yp);
            return;
        }
        ConvPortable.ConvForward(g, x, w, bias, y);
    }

    /// <summary>dx[n,ih,iw,c] += Σ_k dy[n,oh,ow,k] · w[kh,kw,c,k] for every (oh,ow,kh,kw) that reads (ih,iw).</summary>
    public static void ConvBackwardData(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
    {
        g.Require(dx.Length, w.Length, dy.Length, nameof(ConvBackwardData));
        if (ConvAvx512.IsSupported)
        {
            fixed (float* dyp = dy) fixed (float* wp = w) fixed (float* dxp = dx)
                if (ConvAvx512.BackwardData(g, dyp, wp, dxp)) return;
        }
        else if (ConvAvx2.IsSupported)
        {
            fixed (float* dyp = dy) fixed (float* wp = w) fixed (float* dxp = dx)
                if (ConvAvx2.BackwardData(g, dyp, wp, dxp)) return;
        }
        ConvPortable.ConvBackwardData(g, dy, w, dx);
    }

    /// <summary>dw[kh,kw,c,:] += Σ_{n,oh,ow} x[n,ih,iw,c] · dy[n,oh,ow,:]; dbias += Σ dy (dbias may be empty).</summary>
    public static void ConvBackwardFilter(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> dbias)
    {
        g.Require(x.Length, dw.Length, dy.Length, nameof(ConvBackwardFilter));
        if (!dbias.IsEmpty && dbias.Length < g.K) throw new ArgumentException($"{nameof(ConvBackwardFilter)}: dbias has {dbias.Length} elements, geometry needs {g.K}.");
        if (ConvAvx512.IsSupported)
        {
            fixed (float* xp = x) fixed (float* dyp = dy) fixed (float* dwp = dw) fixed (float* dbp = dbias)
                ConvAvx512.BackwardFilter(g, xp, dyp, dwp, dbias.IsEmpty ? null : dbp);
            return;
        }
        if (ConvAvx2.IsSupported)
        {
            fixed (float* xp = x) fixed (float* dyp = dy) fixed (float* dwp = dw) fixed (float* dbp = dbias)
                ConvAvx2.BackwardFilter(g, xp, dyp, dwp, dbias.IsEmpty ? null : dbp);
            return;
        }
        ConvPortable.ConvBackwardFilter(g, x, dy, dw, dbias);
    }
}
