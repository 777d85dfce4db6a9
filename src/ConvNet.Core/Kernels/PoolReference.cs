namespace ConvNet.Kernels;

/// <summary>Naive scalar twins of <see cref="Pool"/>. Geometry: x (N,H,W,C), y (N,OH,OW,C); K must equal C; weights unused.</summary>
public static class PoolReference
{
    /// <summary>y = max over the window's real pixels; argmax = flat index into x of the first maximum (row-major window order).</summary>
    public static void MaxPoolForward(in ConvGeometry g, ReadOnlySpan<float> x, Span<float> y, Span<int> argmax)
    {
        Pool.Check(g, x.Length, y.Length, argmax.Length, nameof(MaxPoolForward));
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        for (int ow = 0; ow < g.OW; ow++)
        for (int c = 0; c < g.C; c++)
        {
            float best = float.NegativeInfinity; int arg = -1;
            for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ih = oh * g.SH - g.PadTop + kh, iw = ow * g.SW - g.PadLeft + kw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                int i = ((n * g.H + ih) * g.W + iw) * g.C + c;
                if (arg < 0 || x[i] > best) { best = x[i]; arg = i; }
            }
            int o = ((n * g.OH + oh) * g.OW + ow) * g.C + c;
            y[o] = best; argmax[o] = arg;
        }
    }

    /// <summary>dx[argmax[o]] += dy[o].</summary>
    public static void MaxPoolBackward(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx)
    {
        Pool.Check(g, dx.Length, dy.Length, argmax.Length, nameof(MaxPoolBackward));
        for (int o = 0; o < g.N * g.OutImage; o++) dx[argmax[o]] += dy[o];
    }

    /// <summary>y = mean over the window's real (non-padding) pixels, as TF does.</summary>
    public static void AvgPoolForward(in ConvGeometry g, ReadOnlySpan<float> x, Span<float> y)
    {
        Pool.Check(g, x.Length, y.Length, -1, nameof(AvgPoolForward));
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        for (int ow = 0; ow < g.OW; ow++)
        for (int c = 0; c < g.C; c++)
        {
            float s = 0; int count = 0;
            for (int kh = 0; kh < g.KH; kh++)
            for (int kw = 0; kw < g.KW; kw++)
            {
                int ih = oh * g.SH - g.PadTop + kh, iw = ow * g.SW - g.PadLeft + kw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                s += x[((n * g.H + ih) * g.W + iw) * g.C + c]; count++;
            }
            y[((n * g.OH + oh) * g.OW + ow) * g.C + c] = s / count;
        }
    }

    /// <summary>dx[window pixel] += dy / (number of real pixels in the window).</summary>
    public static void AvgPoolBackward(in ConvGeometry g, ReadOnlySpan<float> dy, Span<float> dx)
    {
        Pool.Check(g, dx.Length, dy.Length, -1, nameof(AvgPoolBackward));
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        for (int ow = 0; ow < g.OW; ow++)
        {
            int ih0 = oh * g.SH - g.PadTop, iw0 = ow * g.SW - g.PadLeft;
            int count = (Math.Min(g.KH, g.H - ih0) - Math.Max(0, -ih0)) * (Math.Min(g.KW, g.W - iw0) - Math.Max(0, -iw0));
            for (int c = 0; c < g.C; c++)
            {
                float d = dy[((n * g.OH + oh) * g.OW + ow) * g.C + c] / count;
                for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++)
                {
                    int ih = ih0 + kh, iw = iw0 + kw;
                    if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                    dx[((n * g.H + ih) * g.W + iw) * g.C + c] += d;
                }
            }
        }
    }
}
