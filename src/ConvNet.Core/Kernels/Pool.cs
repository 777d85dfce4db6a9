using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConvNet.Kernels;

/// <summary>
/// NHWC pooling kernels vectorised over channels. Geometry: x (N,H,W,C), y (N,OH,OW,C), K = C.
/// Windows clipped to the real pixels (TF semantics for Same padding). Naive twins: <see cref="PoolReference"/>.
/// </summary>
public static class Pool
{
    internal static void Check(in ConvGeometry g, int xLen, int yLen, int argLen, string kernel)
    {
        if (g.K != g.C) throw new ArgumentException($"{kernel}: pooling geometry needs K == C, got K={g.K}, C={g.C}.");
        g.Require(xLen, g.WeightSize, yLen, kernel);
        if (argLen >= 0 && argLen < g.N * g.OutImage) throw new ArgumentException($"{kernel}: argmax span has {argLen} elements, geometry needs {g.N * g.OutImage}.");
        if (g.OH > 0 && g.OW > 0 && ((g.OH - 1) * g.SH - g.PadTop >= g.H || (g.OW - 1) * g.SW - g.PadLeft >= g.W || g.KH <= g.PadTop || g.KW <= g.PadLeft))
            throw new ArgumentException($"{kernel}: geometry {g} has windows with no real pixel.");
    }

    /// <summary>y = max over the window; argmax = flat x index of the first maximum in row-major window order (ties keep the first).</summary>
    public static void MaxPoolForward(in ConvGeometry g, ReadOnlySpan<float> x, Span<float> y, Span<int> argmax)
    {
        Check(g, x.Length, y.Length, argmax.Length, nameof(MaxPoolForward));
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref int ar = ref MemoryMarshal.GetReference(argmax);
        int V = Vector<float>.Count, C = g.C;
        var lane = Vector<int>.Indices;
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        {
            g.RowWindow(oh, out int ih0, out int kh0, out int kh1);
            for (int ow = 0; ow < g.OW; ow++)
            {
                g.ColWindow(ow, out int iw0, out int kw0, out int kw1);
                int o = ((n * g.OH + oh) * g.OW + ow) * C;
                int first = ((n * g.H + ih0 + kh0) * g.W + iw0 + kw0) * C;
                int c = 0;
                for (; c + V <= C; c += V)
                {
                    var best = Vector.LoadUnsafe(ref xr, (nuint)(first + c));
                    var arg = new Vector<int>(first + c) + lane;
                    for (int kh = kh0; kh < kh1; kh++)
                    for (int kw = kw0; kw < kw1; kw++)
                    {
                        int i = ((n * g.H + ih0 + kh) * g.W + iw0 + kw) * C + c;
                        var v = Vector.LoadUnsafe(ref xr, (nuint)i);
                        var gt = Vector.GreaterThan(v, best);   // strict: ties keep the earlier pixel
                        best = Vector.ConditionalSelect(gt, v, best);
                        arg = Vector.ConditionalSelect(gt, new Vector<int>(i) + lane, arg);
                    }
                    Vector.StoreUnsafe(best, ref yr, (nuint)(o + c));
                    Vector.StoreUnsafe(arg, ref ar, (nuint)(o + c));
                }
                for (; c < C; c++)
                {
                    int arg = first + c; float best = Unsafe.Add(ref xr, arg);
                    for (int kh = kh0; kh < kh1; kh++)
                    for (int kw = kw0; kw < kw1; kw++)
                    {
                        int i = ((n * g.H + ih0 + kh) * g.W + iw0 + kw) * C + c;
                        float v = Unsafe.Add(ref xr, i);
                        if (v > best) { best = v; arg = i; }
                    }
                    Unsafe.Add(ref yr, o + c) = best; Unsafe.Add(ref ar, o + c) = arg;
                }
            }
        }
    }

    /// <summary>dx[argmax[o]] += dy[o]. Scatter; argmax indices must come from <see cref="MaxPoolForward"/> with the same geometry.</summary>
    public static void MaxPoolBackward(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx)
    {
        Check(g, dx.Length, dy.Length, argmax.Length, nameof(MaxPoolBackward));
        int total = g.N * g.OutImage, limit = g.N * g.InImage;
        for (int o = 0; o < total; o++)
        {
            int i = argmax[o];
            if ((uint)i >= (uint)limit) throw new ArgumentException($"{nameof(MaxPoolBackward)}: argmax[{o}] = {i} is outside the input of {limit} elements.");
            dx[i] += dy[o];
        }
    }

    /// <summary>y = Σ window / (number of real pixels in the window).</summary>
    public static void AvgPoolForward(in ConvGeometry g, ReadOnlySpan<float> x, Span<float> y)
    {
        Check(g, x.Length, y.Length, -1, nameof(AvgPoolForward));
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int C = g.C;
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        {
            g.RowWindow(oh, out int ih0, out int kh0, out int kh1);
            for (int ow = 0; ow < g.OW; ow++)
            {
                g.ColWindow(ow, out int iw0, out int kw0, out int kw1);
                ref float yp = ref Unsafe.Add(ref yr, ((n * g.OH + oh) * g.OW + ow) * C);
                MemoryMarshal.CreateSpan(ref yp, C).Clear();
                for (int kh = kh0; kh < kh1; kh++)
                for (int kw = kw0; kw < kw1; kw++)
                    Vec.Add(ref Unsafe.Add(ref xr, ((n * g.H + ih0 + kh) * g.W + iw0 + kw) * C), ref yp, C);
                Scale(ref yp, 1f / ((kh1 - kh0) * (kw1 - kw0)), C);
            }
        }
    }

    /// <summary>dx[window pixel] += dy / (number of real pixels in the window).</summary>
    public static void AvgPoolBackward(in ConvGeometry g, ReadOnlySpan<float> dy, Span<float> dx)
    {
        Check(g, dx.Length, dy.Length, -1, nameof(AvgPoolBackward));
        ref float dyr = ref MemoryMarshal.GetReference(dy);
        ref float dxr = ref MemoryMarshal.GetReference(dx);
        int C = g.C;
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        {
            g.RowWindow(oh, out int ih0, out int kh0, out int kh1);
            for (int ow = 0; ow < g.OW; ow++)
            {
                g.ColWindow(ow, out int iw0, out int kw0, out int kw1);
                ref float dyp = ref Unsafe.Add(ref dyr, ((n * g.OH + oh) * g.OW + ow) * C);
                float inv = 1f / ((kh1 - kh0) * (kw1 - kw0));
                for (int kh = kh0; kh < kh1; kh++)
                for (int kw = kw0; kw < kw1; kw++)
                    Vec.Axpy(inv, ref dyp, ref Unsafe.Add(ref dxr, ((n * g.H + ih0 + kh) * g.W + iw0 + kw) * C), C);
            }
        }
    }

    private static void Scale(ref float p, float s, int n)
    {
        int V = Vector<float>.Count, i = 0;
        for (; i + V <= n; i += V) Vector.StoreUnsafe(Vector.LoadUnsafe(ref p, (nuint)i) * s, ref p, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref p, i) *= s;
    }
}
