namespace ConvNet.Kernels;

/// <summary>
/// Naive scalar twins of <see cref="Conv"/>: the definitions, written as plainly as possible.
/// Same signatures; used by tests as the ground truth.
/// </summary>
public static class ConvReference
{
    /// <summary>y[n,oh,ow,k] = bias[k] + Σ_{kh,kw,c} x[n, oh·SH−PT+kh, ow·SW−PL+kw, c] · w[kh,kw,c,k] (out-of-range x = 0).</summary>
    public static void ConvForward(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> bias, Span<float> y)
    {
        g.Require(x.Length, w.Length, y.Length, nameof(ConvForward));
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        for (int ow = 0; ow < g.OW; ow++)
        for (int k = 0; k < g.K; k++)
        {
            float s = bias.IsEmpty ? 0f : bias[k];
            for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ih = oh * g.SH - g.PadTop + kh, iw = ow * g.SW - g.PadLeft + kw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                for (int c = 0; c < g.C; c++)
                    s += x[((n * g.H + ih) * g.W + iw) * g.C + c] * w[((kh * g.KW + kw) * g.C + c) * g.K + k];
            }
            y[((n * g.OH + oh) * g.OW + ow) * g.K + k] = s;
        }
    }

    /// <summary>dx[n,ih,iw,c] += Σ dy[n,oh,ow,k] · w[kh,kw,c,k] over all (oh,ow,kh,kw) that read (ih,iw).</summary>
    public static void ConvBackwardData(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx)
    {
        g.Require(dx.Length, w.Length, dy.Length, nameof(ConvBackwardData));
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        for (int ow = 0; ow < g.OW; ow++)
        for (int kh = 0; kh < g.KH; kh++)
        for (int kw = 0; kw < g.KW; kw++)
        {
            int ih = oh * g.SH - g.PadTop + kh, iw = ow * g.SW - g.PadLeft + kw;
            if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
            for (int c = 0; c < g.C; c++)
            for (int k = 0; k < g.K; k++)
                dx[((n * g.H + ih) * g.W + iw) * g.C + c] += dy[((n * g.OH + oh) * g.OW + ow) * g.K + k] * w[((kh * g.KW + kw) * g.C + c) * g.K + k];
        }
    }

    /// <summary>dw[kh,kw,c,k] += Σ_{n,oh,ow} x[n,ih,iw,c] · dy[n,oh,ow,k]; dbias[k] += Σ dy[n,oh,ow,k] (dbias may be empty).</summary>
    public static void ConvBackwardFilter(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, Span<float> dbias)
    {
        g.Require(x.Length, dw.Length, dy.Length, nameof(ConvBackwardFilter));
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        for (int ow = 0; ow < g.OW; ow++)
        for (int k = 0; k < g.K; k++)
        {
            float d = dy[((n * g.OH + oh) * g.OW + ow) * g.K + k];
            if (!dbias.IsEmpty) dbias[k] += d;
            for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ih = oh * g.SH - g.PadTop + kh, iw = ow * g.SW - g.PadLeft + kw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                for (int c = 0; c < g.C; c++)
                    dw[((kh * g.KW + kw) * g.C + c) * g.K + k] += x[((n * g.H + ih) * g.W + iw) * g.C + c] * d;
            }
        }
    }
}
