using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConvNet.Kernels;

/// <summary>
/// Backward verbs that OVERWRITE their output instead of accumulating into a cleared buffer, so the layers' hot paths
/// skip a full-buffer clear (one write pass instead of clear + read-modify-write). Reference: clear, then the
/// accumulating verb (<see cref="Pool.MaxPoolBackward"/>, <see cref="Activations.ReluBackward"/>).
/// </summary>
public static class Overwrite
{
    /// <summary>dx = dy where y &gt; 0, else 0 (the ReLU derivative at 0 is 0, as in TF): <see cref="ReluOp"/> in the assigning loop.</summary>
    public static void ReluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        if (y.Length != dy.Length || y.Length != dx.Length)
            throw new ArgumentException($"{nameof(ReluBackward)}: lengths differ (y {y.Length}, dy {dy.Length}, dx {dx.Length}).");
        Elementwise.Backward<ReluOp, Assign>(new ReluOp(), y, y, dy, dx);
    }

    /// <summary>True if <see cref="MaxPoolBackward"/> handles the geometry (non-overlapping windows).</summary>
    public static bool SupportsMaxPool(in ConvGeometry g) => g.SH >= g.KH && g.SW >= g.KW;

    /// <summary>
    /// dx = the max-pool input gradient: dy[o] at argmax[o] (flat x index from <see cref="Pool.MaxPoolForward"/>), 0
    /// elsewhere. Non-overlapping windows only (<see cref="SupportsMaxPool"/>); pixels outside every window are zeroed.
    /// </summary>
    public static void MaxPoolBackward(in ConvGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx)
    {
        Pool.Check(g, dx.Length, dy.Length, argmax.Length, nameof(MaxPoolBackward));
        if (!SupportsMaxPool(g)) throw new ArgumentException($"{nameof(MaxPoolBackward)}: overlapping windows ({g}) are not supported.");
        bool tiled = g.SH == g.KH && g.SW == g.KW && g.PadTop == 0 && g.PadLeft == 0 && g.OH * g.KH >= g.H && g.OW * g.KW >= g.W;
        if (!tiled) dx.Slice(0, g.N * g.InImage).Clear();
        ref float dyr = ref MemoryMarshal.GetReference(dy);
        ref int ar = ref MemoryMarshal.GetReference(argmax);
        ref float dxr = ref MemoryMarshal.GetReference(dx);
        int V = Vector<float>.Count, C = g.C;
        var lane = Vector<int>.Indices;
        for (int n = 0; n < g.N; n++)
        for (int oh = 0; oh < g.OH; oh++)
        {
            g.RowWindow(oh, out int ih0, out int kh0, out int kh1);
            for (int ow = 0; ow < g.OW; ow++)
            {
                g.ColWindow(ow, out int iw0, out int kw0, out int kw1);
                int o = ((n * g.OH + oh) * g.OW + ow) * C, c = 0;
                for (; c + V <= C; c += V)
                {
                    var d = Vector.LoadUnsafe(ref dyr, (nuint)(o + c));
                    var a = Vector.LoadUnsafe(ref ar, (nuint)(o + c));
                    for (int kh = kh0; kh < kh1; kh++)
                    for (int kw = kw0; kw < kw1; kw++)
                    {
                        int i = ((n * g.H + ih0 + kh) * g.W + iw0 + kw) * C + c;
                        var hit = Vector.Equals(a, new Vector<int>(i) + lane);
                        Vector.StoreUnsafe(Vector.ConditionalSelect(hit, d, Vector<float>.Zero), ref dxr, (nuint)i);
                    }
                }
                for (; c < C; c++)
                {
                    float d = Unsafe.Add(ref dyr, o + c);
                    int a = Unsafe.Add(ref ar, o + c);
                    for (int kh = kh0; kh < kh1; kh++)
                    for (int kw = kw0; kw < kw1; kw++)
                    {
                        int i = ((n * g.H + ih0 + kh) * g.W + iw0 + kw) * C + c;
                        Unsafe.Add(ref dxr, i) = i == a ? d : 0f;
                    }
                }
            }
        }
    }
}
