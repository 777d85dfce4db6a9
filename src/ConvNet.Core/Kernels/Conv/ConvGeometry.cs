namespace ConvNet.Kernels;

/// <summary>
/// The integers that describe one 2-D convolution or pooling over an NHWC batch:
/// x is (N, H, W, C), y is (N, OH, OW, K), weights are (KH, KW, C, K) like Keras.
/// Output pixel (oh, ow) reads input rows <c>oh·SH − PadTop + kh</c> and columns <c>ow·SW − PadLeft + kw</c>.
/// </summary>
public readonly record struct ConvGeometry(
    int N, int H, int W, int C,
    int KH, int KW, int SH, int SW,
    int PadTop, int PadLeft,
    int OH, int OW, int K)
{
    /// <summary>Elements of one input image, H·W·C.</summary>
    public int InImage => H * W * C;
    /// <summary>Elements of one output image, OH·OW·K.</summary>
    public int OutImage => OH * OW * K;
    /// <summary>Elements of the weight tensor, KH·KW·C·K.</summary>
    public int WeightSize => KH * KW * C * K;

    /// <summary>Output size and leading pad of one spatial axis, exactly as TF/Keras.</summary>
    /// <remarks>Valid: <c>out = floor((in − k)/s) + 1</c>, no pad. Same: <c>out = ceil(in/s)</c>,
    /// <c>padTotal = max((out − 1)·s + k − in, 0)</c>, <c>padBefore = padTotal/2</c> (the extra pixel goes after).</remarks>
    public static (int Out, int PadBefore) Axis(int input, int kernel, int stride, Padding padding)
    {
        if (padding == Padding.Valid)
            return (input < kernel ? 0 : (input - kernel) / stride + 1, 0);
        // 64-bit: input + stride and (o − 1)·s + k can pass int.MaxValue for huge inputs or kernels.
        int o = (int)(((long)input + stride - 1) / stride);
        long total = Math.Max((long)(o - 1) * stride + kernel - input, 0);
        return (o, (int)Math.Min(total / 2, int.MaxValue));
    }

    /// <summary>Builds the geometry for an input (N, H, W, C); throws nothing — callers validate first.</summary>
    public static ConvGeometry Create(int n, int h, int w, int c, int kh, int kw, int sh, int sw, Padding padding, int k)
    {
        var (oh, pt) = Axis(h, kh, sh, padding);
        var (ow, pl) = Axis(w, kw, sw, padding);
        return new ConvGeometry(n, h, w, c, kh, kw, sh, sw, pt, pl, oh, ow, k);
    }

    /// <summary>Window rows of output row <paramref name="oh"/>: first input row <c>ih0 = oh·SH − PadTop</c> and the
    /// kernel rows [kh0, kh1) that fall inside the input (the rest read zero padding).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal void RowWindow(int oh, out int ih0, out int kh0, out int kh1)
    {
        ih0 = oh * SH - PadTop;
        kh0 = Math.Max(0, -ih0);
        kh1 = Math.Min(KH, H - ih0);
    }

    /// <summary>Window columns of output column <paramref name="ow"/>: first input column <c>iw0 = ow·SW − PadLeft</c> and
    /// the kernel columns [kw0, kw1) that fall inside the input.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal void ColWindow(int ow, out int iw0, out int kw0, out int kw1)
    {
        iw0 = ow * SW - PadLeft;
        kw0 = Math.Max(0, -iw0);
        kw1 = Math.Min(KW, W - iw0);
    }

    /// <summary>Output columns [owA, owB) whose whole window lies inside the row; the others are border columns (clipped windows).</summary>
    internal void InteriorCols(out int owA, out int owB)
    {
        owA = Math.Min(OW, CeilDiv(PadLeft, SW));
        owB = W - KW + PadLeft >= 0 ? Math.Min(OW, (W - KW + PadLeft) / SW + 1) : 0;
        if (owB < owA) owB = owA;
    }

    /// <summary>Output rows [o0, o1) whose kernel row <paramref name="kh"/> reads an input row (0 ≤ oh·SH − PadTop + kh &lt; H).</summary>
    internal void RowsReading(int kh, out int o0, out int o1)
    {
        o0 = Math.Max(0, CeilDiv(PadTop - kh, SH));
        o1 = Math.Min(OH, FloorDiv(H - 1 + PadTop - kh, SH) + 1);
    }

    /// <summary>Output columns [o0, o1) whose kernel column <paramref name="kw"/> reads an input column.</summary>
    internal void ColsReading(int kw, out int o0, out int o1)
    {
        o0 = Math.Max(0, CeilDiv(PadLeft - kw, SW));
        o1 = Math.Min(OW, FloorDiv(W - 1 + PadLeft - kw, SW) + 1);
    }

    private static int CeilDiv(int a, int b) => a >= 0 ? (a + b - 1) / b : -(-a / b);
    private static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    /// <summary>The same geometry for <paramref name="n"/> images.</summary>
    public ConvGeometry WithBatch(int n) => this with { N = n };

    /// <summary>Throws if a span is shorter than the geometry needs (kernels call this once, before any loop).</summary>
    internal void Require(int xLen, int wLen, int yLen, string kernel)
    {
        if (N < 0 || H <= 0 || W <= 0 || C <= 0 || K <= 0 || KH <= 0 || KW <= 0 || SH <= 0 || SW <= 0 || OH < 0 || OW < 0)
            throw new ArgumentException($"{kernel}: invalid geometry {this}.");
        if (xLen < N * InImage) throw new ArgumentException($"{kernel}: input span has {xLen} elements, geometry needs {(long)N * InImage}.");
        if (wLen < WeightSize) throw new ArgumentException($"{kernel}: weight span has {wLen} elements, geometry needs {WeightSize}.");
        if (yLen < N * OutImage) throw new ArgumentException($"{kernel}: output span has {yLen} elements, geometry needs {(long)N * OutImage}.");
    }
}
