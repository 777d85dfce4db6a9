using System.Runtime.CompilerServices;

namespace ConvNet.Kernels;

/// <summary>
/// The instruction-set half of the direct NHWC convolution; <see cref="ConvDriver{TTiles}"/> is the other half (geometry,
/// border/interior split, window clipping, weight rotation, bands). A tile set covers one run of output pixels (or dw rows)
/// for every output channel: it blocks the channels by its vector width and the run by its register tile widths.
/// Pointers only, no allocation; the driver validated every length. Implementations: <see cref="ConvAvx512"/>, <see cref="ConvAvx2"/>.
/// </summary>
internal unsafe interface IConvTiles
{
    /// <summary>True if this CPU runs the tiles.</summary>
    static abstract bool IsSupported { get; }

    /// <summary>
    /// One output row of the forward, every channel: y[ow·K + :] = init[ow] + Σ_{kh &lt; KhN} Σ_{j} x[…] · w[…] — the border
    /// columns one pixel each with the window clipped (<see cref="FRun.Border"/>), then the interior columns as one run
    /// (<see cref="FRun.Interior"/>).
    /// </summary>
    static abstract void ForwardRow(in FRun r);

    /// <summary>dw[j·K + :] += Σ_{row &lt; Rows, col &lt; Cols} x[row·XRow + col·Xs + j] · dy[row·DyRow + col·K + :] for j &lt; jn.</summary>
    static abstract void FilterRun(in BRun r, int jn, float* dw);

    /// <summary><see cref="FilterRun"/> with jn = 3 for one input channel, KW = 3, stride 1 (conv1's interior).</summary>
    static abstract void FilterRun3C1(in BRun r, float* dw);

    /// <summary>
    /// One output row of backward-data with C &lt; 8, one channel: out[ow·Os] += Σ_{kh &lt; KhN} dot(x window, w) — border
    /// columns clipped (<see cref="DRun.Border"/>), then the interior run.
    /// </summary>
    static abstract void DotRow(in DRun r);
}

/// <summary>
/// One forward output row. Pointers are row bases: X at input column 0 of the first window row, W at that kernel row,
/// Y at output column 0, Init = the bias (InitStride 0), the output row itself (accumulate, InitStride K) or null (0).
/// </summary>
internal unsafe struct FRun
{
    public float* X, W, Init, Y;
    public nint XRow, WRow, K, C, InitStride;
    public int KhN, SW, PL, Width, KW, OW, OwA, OwB;
    /// <summary>Stride 1, KW = 3: interior tiles may broadcast each x once for the 3 pixels reading it.</summary>
    public bool ThreeWide;

    /// <summary>Border column <paramref name="ow"/>, channels from k0: its clipped window is one (kw, c) run of <paramref name="jn"/> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Border(int ow, nint k0, out float* x, out float* w, out nint jn, out float* y, out float* init)
    {
        int iw0 = ow * SW - PL, kw0 = Math.Max(0, -iw0), kw1 = Math.Min(KW, Width - iw0);
        x = X + (nint)(iw0 + kw0) * C;
        w = W + (nint)kw0 * C * K + k0;
        jn = (nint)Math.Max(0, kw1 - kw0) * C;
        y = Y + (nint)ow * K + k0;
        init = Init == null ? null : Init + ow * InitStride + k0;
    }

    /// <summary>The interior run [OwA, OwB), channels from k0: pixels Xs = SW·C apart in x, K apart in y, each reading Jn = KW·C values per kernel row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Interior(nint k0, out float* x, out float* y, out float* init)
    {
        x = X + ((nint)OwA * SW - PL) * C;
        y = Y + (nint)OwA * K + k0;
        init = Init == null ? null : Init + OwA * InitStride + k0;
    }

    public readonly nint Xs => (nint)SW * C;
    public readonly nint Jn => (nint)KW * C;
}

/// <summary>A backward-filter run over a Rows × Cols rectangle of output pixels (x pixels Xs apart, dy pixels K apart).</summary>
internal unsafe struct BRun
{
    public float* X, Dy;
    public nint Xs, XRow, DyRow, K;
    public int Rows, Cols;
}

/// <summary>
/// One row of dot products (stride 1): X at input column 0 of the first window row, W at this channel's first kernel row
/// (runs of KW·Cin values, WRow apart), Out at output column 0 of this channel (outputs Os apart).
/// </summary>
internal unsafe struct DRun
{
    public float* X, W, Out;
    public nint XRow, WRow, Cin, Os;
    public int KhN, PL, Width, KW, OW, OwA, OwB;

    /// <summary>Border column <paramref name="ow"/>: its clipped window as one run of <paramref name="tn"/> values (0: nothing to add).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Border(int ow, out float* x, out float* w, out nint tn, out float* o)
    {
        int iw0 = ow - PL, kw0 = Math.Max(0, -iw0), kw1 = Math.Min(KW, Width - iw0);
        x = X + (nint)(iw0 + kw0) * Cin;
        w = W + (nint)kw0 * Cin;
        tn = (nint)Math.Max(0, kw1 - kw0) * Cin;
        o = Out + ow * Os;
    }

    /// <summary>The interior run [OwA, OwB): x pixels Cin apart, outputs Os apart, KW·Cin values per kernel row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Interior(out float* x, out float* o)
    {
        x = X + (nint)(OwA - PL) * Cin;
        o = Out + OwA * Os;
    }
}

/// <summary>Compile-time tile widths: struct type arguments make the JIT specialise (and unroll) each instantiation.</summary>
internal interface IRows { static abstract int R { get; } }
internal struct R1 : IRows { public static int R => 1; }
internal struct R2 : IRows { public static int R => 2; }
internal struct R3 : IRows { public static int R => 3; }
internal struct R4 : IRows { public static int R => 4; }
internal struct R5 : IRows { public static int R => 5; }
internal struct R6 : IRows { public static int R => 6; }
internal struct R7 : IRows { public static int R => 7; }
internal struct R8 : IRows { public static int R => 8; }
internal struct R9 : IRows { public static int R => 9; }
internal struct R10 : IRows { public static int R => 10; }
internal struct R11 : IRows { public static int R => 11; }
internal struct R12 : IRows { public static int R => 12; }

/// <summary>How a run of <c>cnt</c> pixels or rows is cut into register tiles.</summary>
internal static class Tiling
{
    /// <summary>Tiles of 6, with 7..9 left split 4 + rest (no 1- or 2-wide leftovers after a 6).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Six(int cnt) => cnt >= 10 || cnt == 6 ? 6 : cnt >= 7 ? 4 : cnt;

    /// <summary>Tiles of <paramref name="max"/>, with a leftover between max and 2·max split in two halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int UpTo(int cnt, int max) => cnt <= max ? cnt : cnt >= 2 * max ? max : (cnt + 1) / 2;
}
