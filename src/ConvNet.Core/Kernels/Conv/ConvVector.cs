using System.Numerics;
using System.Runtime.CompilerServices;

namespace ConvNet.Kernels;

/// <summary>
/// Portable <see cref="Vector{T}"/> tiles of the direct convolution (<see cref="ConvDriver{TTiles}"/> walks the geometry):
/// the <see cref="KernelBackend.Portable"/> backend, for CPUs without AVX2/FMA. Per pixel (or dw row), blocks of 4 vectors
/// of output channels in registers, then 1 vector, then a scalar tail; no instruction-set intrinsics.
/// </summary>
internal readonly unsafe struct ConvVector : IConvTiles
{
    public static bool IsSupported => true;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardRow(in FRun r)
    {
        for (int ow = 0; ow < r.OW; ow++)
        {
            if (ow == r.OwA) { ow = r.OwB; if (ow >= r.OW) break; }
            r.Border(ow, 0, out float* bx, out float* bw, out nint jn, out float* by, out float* bi);
            Pixels(r, 1, bx, 0, bw, jn, bi, 0, by);
        }
        r.Interior(0, out float* xp, out float* yp, out float* bp);
        Pixels(r, r.OwB - r.OwA, xp, r.Xs, r.W, r.Jn, bp, r.InitStride, yp);
    }

    /// <summary>count pixels (x pointers xs apart, y pointers K apart): y = init + Σ_{kh, j &lt; jn} x · w over every channel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pixels(in FRun r, int count, float* xp, nint xs, float* wp, nint jn, float* bp, nint bs, float* yp)
    {
        int V = Vector<float>.Count;
        nint K = r.K;
        for (int p = 0; p < count; p++, xp += xs, yp += K, bp += bs)
        {
            nint k = 0;
            for (; k + 4 * V <= K; k += 4 * V)
            {
                Vector<float> a0 = default, a1 = default, a2 = default, a3 = default;
                if (bp != null) { a0 = Vector.Load(bp + k); a1 = Vector.Load(bp + k + V); a2 = Vector.Load(bp + k + 2 * V); a3 = Vector.Load(bp + k + 3 * V); }
                for (int kh = 0; kh < r.KhN; kh++)
                {
                    float* xq = xp + kh * r.XRow, wq = wp + kh * r.WRow + k;
                    for (nint j = 0; j < jn; j++, wq += K)
                    {
                        var xv = new Vector<float>(xq[j]);
                        a0 = Vector.FusedMultiplyAdd(xv, Vector.Load(wq), a0);
                        a1 = Vector.FusedMultiplyAdd(xv, Vector.Load(wq + V), a1);
                        a2 = Vector.FusedMultiplyAdd(xv, Vector.Load(wq + 2 * V), a2);
                        a3 = Vector.FusedMultiplyAdd(xv, Vector.Load(wq + 3 * V), a3);
                    }
                }
                Vector.Store(a0, yp + k); Vector.Store(a1, yp + k + V); Vector.Store(a2, yp + k + 2 * V); Vector.Store(a3, yp + k + 3 * V);
            }
            for (; k + V <= K; k += V)
            {
                var a = bp != null ? Vector.Load(bp + k) : default;
                for (int kh = 0; kh < r.KhN; kh++)
                {
                    float* xq = xp + kh * r.XRow, wq = wp + kh * r.WRow + k;
                    for (nint j = 0; j < jn; j++, wq += K) a = Vector.FusedMultiplyAdd(new Vector<float>(xq[j]), Vector.Load(wq), a);
                }
                Vector.Store(a, yp + k);
            }
            for (; k < K; k++)
            {
                float s = bp != null ? bp[k] : 0f;
                for (int kh = 0; kh < r.KhN; kh++)
                {
                    float* xq = xp + kh * r.XRow, wq = wp + kh * r.WRow + k;
                    for (nint j = 0; j < jn; j++) s = MathF.FusedMultiplyAdd(xq[j], wq[j * K], s);
                }
                yp[k] = s;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FilterRun(in BRun a, int jn, float* dw)
    {
        int V = Vector<float>.Count;
        nint K = a.K;
        for (int j = 0; j < jn; j++)
        {
            float* dwj = dw + j * K;
            nint k = 0;
            for (; k + 4 * V <= K; k += 4 * V)
            {
                Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
                for (int row = 0; row < a.Rows; row++)
                {
                    float* xq = a.X + row * a.XRow + j, dq = a.Dy + row * a.DyRow + k;
                    for (int col = 0; col < a.Cols; col++, xq += a.Xs, dq += K)
                    {
                        var xv = new Vector<float>(*xq);
                        s0 = Vector.FusedMultiplyAdd(xv, Vector.Load(dq), s0);
                        s1 = Vector.FusedMultiplyAdd(xv, Vector.Load(dq + V), s1);
                        s2 = Vector.FusedMultiplyAdd(xv, Vector.Load(dq + 2 * V), s2);
                        s3 = Vector.FusedMultiplyAdd(xv, Vector.Load(dq + 3 * V), s3);
                    }
                }
                AddTo(dwj + k, s0); AddTo(dwj + k + V, s1); AddTo(dwj + k + 2 * V, s2); AddTo(dwj + k + 3 * V, s3);
            }
            for (; k + V <= K; k += V)
            {
                Vector<float> s = default;
                for (int row = 0; row < a.Rows; row++)
                {
                    float* xq = a.X + row * a.XRow + j, dq = a.Dy + row * a.DyRow + k;
                    for (int col = 0; col < a.Cols; col++, xq += a.Xs, dq += K) s = Vector.FusedMultiplyAdd(new Vector<float>(*xq), Vector.Load(dq), s);
                }
                AddTo(dwj + k, s);
            }
            for (; k < K; k++)
            {
                float s = 0f;
                for (int row = 0; row < a.Rows; row++)
                {
                    float* xq = a.X + row * a.XRow + j, dq = a.Dy + row * a.DyRow + k;
                    for (int col = 0; col < a.Cols; col++, xq += a.Xs, dq += K) s = MathF.FusedMultiplyAdd(*xq, *dq, s);
                }
                dwj[k] += s;
            }
        }
    }

    public static void FilterRun3C1(in BRun a, float* dw) => FilterRun(a, 3, dw);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DotRow(in DRun r)
    {
        for (int ow = 0; ow < r.OW; ow++)
        {
            if (ow == r.OwA) { ow = r.OwB; if (ow >= r.OW) break; }
            r.Border(ow, out float* bx, out float* bw, out nint tn, out float* bo);
            *bo += Dots(r, bx, bw, tn);
        }
        r.Interior(out float* xp, out float* op);
        for (int p = r.OwA; p < r.OwB; p++, xp += r.Cin, op += r.Os) *op += Dots(r, xp, r.W, r.WRow);
    }

    /// <summary>Σ_{kh &lt; KhN} dot(x[kh·XRow ..], w[kh·WRow ..]) over tn values.</summary>
    private static float Dots(in DRun r, float* x, float* w, nint tn)
    {
        float s = 0f;
        for (int kh = 0; kh < r.KhN; kh++) s += Vec.Dot(ref x[kh * r.XRow], ref w[kh * r.WRow], (int)tn);
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo(float* p, Vector<float> v) => Vector.Store(Vector.Load(p) + v, p);
}
