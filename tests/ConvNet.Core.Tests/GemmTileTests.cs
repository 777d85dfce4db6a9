using ConvNet.Kernels;
using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>
/// The GEMM verbs on every kernel backend the CPU runs (<c>GemmAvx2</c>'s register tiles, <c>GemmPortable</c>) agree with <see cref="GemmReference"/>
/// for every m, n, k in 0..3·8+1 (every row-tile, column-block and K tail), across the NN reduction-slice boundary, with
/// a strided A for GemmTN, and on the lecture model's Dense shapes. All verbs accumulate into C.
/// </summary>
public class GemmTileTests
{
    private const double Rtol = 1e-4;

    private static void Compare(KernelBackend backend, int m, int n, int k, int seed, int extraLda = 0)
    {
        var rng = new Rng(seed);
        string label = $"[{backend}] m={m} n={n} k={k}";
        // NN: A[m×k], B[k×n]
        var a = Uniform(rng, m * k); var b = Uniform(rng, k * n); var c0 = Uniform(rng, m * n);
        var c = (float[])c0.Clone(); var cr = (float[])c0.Clone();
        Gemm.GemmNNOn(backend, m, n, k, a, b, c); GemmReference.GemmNN(m, n, k, a, b, cr);
        AssertClose(c, cr, Rtol, $"{label}: GemmNN");
        // NT: A[m×k], B[n×k]
        var bt = Uniform(rng, n * k);
        c = (float[])c0.Clone(); cr = (float[])c0.Clone();
        Gemm.GemmNTOn(backend, m, n, k, a, bt, c); GemmReference.GemmNT(m, n, k, a, bt, cr);
        AssertClose(c, cr, Rtol, $"{label}: GemmNT");
        // TN: A[k×m] with rows lda apart, B[k×n]
        int lda = m + extraLda;
        var at = Uniform(rng, Math.Max(0, (k - 1) * lda + m));
        for (int i = 0; i < at.Length; i += 5) at[i] = 0f;   // exact zeros (the fallback skips them)
        c = (float[])c0.Clone(); cr = (float[])c0.Clone();
        Gemm.GemmTNOn(backend, m, n, k, at, b, c, lda); GemmReference.GemmTN(m, n, k, at, b, cr, lda);
        AssertClose(c, cr, Rtol, $"{label} lda={lda}: GemmTN");
    }

    [Theory, Backends]
    public void EverySmallShapeMatchesReference(string backend)
    {
        var kb = KernelBackendTests.Parse(backend);
        int max = 3 * V + 1;
        for (int m = 0; m <= max; m++)
        for (int n = 0; n <= max; n++)
        for (int k = 0; k <= max; k++)
            Compare(kb, m, n, k, m * 10000 + n * 100 + k, extraLda: (m + n + k) % 3);
    }

    [Theory]
    [InlineData(7, 19, 255)]
    [InlineData(7, 19, 256)]
    [InlineData(13, 33, 257)]
    [InlineData(6, 40, 600)]
    [InlineData(1, 1, 1000)]
    [InlineData(50, 3, 9)]
    public void ReductionSlicesAndOddShapesMatchReference(int m, int n, int k)
    {
        foreach (var b in KernelTable.Runnable) Compare(b, m, n, k, m + n + k, extraLda: 3);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(16)]
    [InlineData(5)]
    public void LectureDenseShapesMatchDoubleReference(int batch)
    {
        foreach (var b in KernelTable.Runnable) LectureDenseShapes(b, batch);
    }

    private static void LectureDenseShapes(KernelBackend backend, int batch)
    {
        const int inF = 6400, units = 128;
        var rng = new Rng(batch);
        var x = Uniform(rng, batch * inF); var w = Uniform(rng, inF * units); var dz = Uniform(rng, batch * units);
        // forward y = x·W
        var y = new float[batch * units];
        Gemm.GemmNNOn(backend, batch, units, inF, x, w, y);
        var yd = new double[y.Length];
        for (int i = 0; i < batch; i++)
        for (int p = 0; p < inF; p++)
        {
            double xv = x[i * inF + p];
            for (int j = 0; j < units; j++) yd[i * units + j] += xv * w[p * units + j];
        }
        AssertClose(y, yd, Rtol, $"[{backend}] GemmNN forward 6400→128");
        // dx = dz·Wᵀ
        var dx = new float[batch * inF];
        Gemm.GemmNTOn(backend, batch, inF, units, dz, w, dx);
        var dxd = new double[dx.Length];
        for (int i = 0; i < batch; i++)
        for (int p = 0; p < inF; p++)
        {
            double s = 0;
            for (int j = 0; j < units; j++) s += (double)dz[i * units + j] * w[p * units + j];
            dxd[i * inF + p] = s;
        }
        AssertClose(dx, dxd, Rtol, $"[{backend}] GemmNT dx");
        // dW = xᵀ·dz, as Dense splits it: rows [s, s+cnt) of dW with lda = inF
        var dw = new float[inF * units];
        int half = inF / 2 + 3;
        Gemm.GemmTNOn(backend, half, units, batch, x, dz, dw.AsSpan(0, half * units), inF);
        Gemm.GemmTNOn(backend, inF - half, units, batch, x.AsSpan(half), dz, dw.AsSpan(half * units), inF);
        var dwd = new double[dw.Length];
        for (int i = 0; i < batch; i++)
        for (int p = 0; p < inF; p++)
        {
            double xv = x[i * inF + p];
            for (int j = 0; j < units; j++) dwd[p * units + j] += xv * dz[i * units + j];
        }
        AssertClose(dw, dwd, Rtol, $"[{backend}] GemmTN dW");
    }
}
