namespace ConvNet.Kernels;

/// <summary>
/// Direct (implicit-GEMM) NHWC convolution verbs. No im2col. Each verb validates its spans, then calls the entry point of
/// the <see cref="KernelTable"/> chosen at start-up: one <see cref="ConvDriver{TTiles}"/> per verb over the AVX-512, AVX2 or
/// portable Vector&lt;T&gt; tiles; the internal *On verbs take the backend explicitly (tests run every one).
/// Nothing allocates in steady state (backward-data keeps one per-thread rearranged-weight buffer).
/// x: (N, H, W, C) · w: (KH, KW, C, K) · y/dy: (N, OH, OW, K). Naive twins: <see cref="ConvReference"/>.
/// </summary>
public static unsafe class Conv
{
    /// <summary>y[n,oh,ow,:] = bias + Σ_{kh,kw,c} x[n,ih,iw,c] · w[kh,kw,c,:] (bias may be empty = 0).</summary>
    public static void ConvForward(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
        => ConvForwardOn(KernelTable.Current.Backend, g, x, w, bias, y);

    /// <summary>dx[n,ih,iw,c] += Σ_k dy[n,oh,ow,k] · w[kh,kw,c,k] for every (oh,ow,kh,kw) that reads (ih,iw).</summary>
    public static void ConvBackwardData(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
        => ConvBackwardDataOn(KernelTable.Current.Backend, g, dy, w, dx);

    /// <summary>dw[kh,kw,c,:] += Σ_{n,oh,ow} x[n,ih,iw,c] · dy[n,oh,ow,:]; dbias += Σ dy (dbias may be empty).</summary>
    public static void ConvBackwardFilter(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> dbias)
        => ConvBackwardFilterOn(KernelTable.Current.Backend, g, x, dy, dw, dbias);

    /// <summary>ConvForward on <paramref name="backend"/> (throws if this CPU cannot run it).</summary>
    internal static void ConvForwardOn(KernelBackend backend, in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        g.Require(x.Length, w.Length, y.Length, nameof(ConvForward));
        if (!bias.IsEmpty && bias.Length < g.K) throw new ArgumentException($"{nameof(ConvForward)}: bias has {bias.Length} elements, geometry needs {g.K}.");
        fixed (float* xp = x) fixed (float* wp = w) fixed (float* bp = bias) fixed (float* yp = y)
            KernelTable.For(backend).ConvForward(g, xp, wp, bias.IsEmpty ? null : bp, yp);
    }

    /// <summary>ConvBackwardData on <paramref name="backend"/>.</summary>
    internal static void ConvBackwardDataOn(KernelBackend backend, in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
    {
        g.Require(dx.Length, w.Length, dy.Length, nameof(ConvBackwardData));
        fixed (float* dyp = dy) fixed (float* wp = w) fixed (float* dxp = dx)
            KernelTable.For(backend).ConvBackwardData(g, dyp, wp, dxp);
    }

    /// <summary>ConvBackwardFilter on <paramref name="backend"/>.</summary>
    internal static void ConvBackwardFilterOn(KernelBackend backend, in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> dbias)
    {
        g.Require(x.Length, dw.Length, dy.Length, nameof(ConvBackwardFilter));
        if (!dbias.IsEmpty && dbias.Length < g.K) throw new ArgumentException($"{nameof(ConvBackwardFilter)}: dbias has {dbias.Length} elements, geometry needs {g.K}.");
        fixed (float* xp = x) fixed (float* dyp = dy) fixed (float* dwp = dw) fixed (float* dbp = dbias)
            KernelTable.For(backend).ConvBackwardFilter(g, xp, dyp, dwp, dbias.IsEmpty ? null : dbp);
    }
}
