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

    /// <summary>y[p·K + :] = init[p] + Σ_{kh &lt; KhN} Σ_{j &lt; Jn} x[p·Xs + kh·XRow + j] · w[kh·WRow + j·K + :] for p &lt; Count (see <see cref="FRun"/>).</summary>
    static abstract void ForwardRun(in FRun r);

    /// <summary>dw[j·K + :] += Σ_{row &lt; Rows, col &lt; Cols} x[row·XRow + col·Xs + j] · dy[row·DyRow + col·K + :] for j &lt; jn.</summary>
    static abstract void FilterRun(in BRun r, int jn, float* dw);

    /// <summary><see cref="FilterRun"/> with jn = 3 for one input channel, KW = 3, stride 1 (conv1's interior).</summary>
    static abstract void FilterRun3C1(in BRun r, float* dw);

    /// <summary>out[p·Os] += Σ_{kh &lt; KhN} Σ_{t &lt; Tn} x[p·Xs + kh·XRow + t] · w[kh·WRow + t] for p &lt; Count (backward-data with C &lt; 8).</summary>
    static abstract void DotRun(in DRun r);
}

/// <summary>A forward run: Count output pixels, x and y pixel pointers Xs and K apart; init[p] = Init[p·InitStride + :] (Init null → 0).</summary>
internal unsafe struct FRun
{
    public float* X, W, Init, Y;
    public nint Xs, XRow, WRow, K, C, Jn, InitStride;
    public int KhN, Count;
    /// <summary>Stride 1, KW = 3, windows inside the row (Jn = 3·C): tiles may broadcast each x once for the 3 pixels reading it.</summary>
    public bool ThreeWide;
}

/// <summary>A backward-filter run over a Rows × Cols rectangle of output pixels (x pixels Xs apart, dy pixels K apart).</summary>
internal unsafe struct BRun
{
    public float* X, Dy;
    public nint Xs, XRow, DyRow, K;
    public int Rows, Cols;
}

/// <summary>A dot-product run: Count outputs Os apart, x pixels Xs apart.</summary>
internal unsafe struct DRun
{
    public float* X, W, Out;
    public nint Xs, XRow, WRow, Tn, Os;
    public int KhN, Count;
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
