using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConvNet.Kernels;

/// <summary>
/// Batch-normalisation kernels on a tensor viewed as (rows, C, inner): the normalised axis has C channels, <c>rows</c> is
/// everything before it (batch included) and <c>inner</c> everything after it (1 for the usual channels-last axis, where the
/// kernels vectorise over C; otherwise they vectorise over <c>inner</c>). Sums add into their outputs; <see cref="ScaleShift"/>
/// and <see cref="BackwardData"/> overwrite theirs. Naive twins: <see cref="BatchNormReference"/>.
/// </summary>
public static class BatchNorm
{
    /// <summary>sum[c] += Σ_{r,j} x[r, c, j].</summary>
    public static void ChannelSum(int rows, int channels, int inner, ReadOnlySpan<float> x, Span<float> sum)
    {
        Check(rows, channels, inner, x.Length, sum.Length, nameof(ChannelSum));
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float sr = ref MemoryMarshal.GetReference(sum);
        if (inner == 1)
        {
            for (int r = 0; r < rows; r++) Vec.Add(ref Unsafe.Add(ref xr, r * channels), ref sr, channels);
            return;
        }
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < channels; c++)
            Unsafe.Add(ref sr, c) += System.Numerics.Tensors.TensorPrimitives.Sum(x.Slice((r * channels + c) * inner, inner));
    }

    /// <summary>sq[c] += Σ_{r,j} (x[r, c, j] − mean[c])².</summary>
    public static void ChannelSquaredDeviation(int rows, int channels, int inner, ReadOnlySpan<float> x, ReadOnlySpan<float> mean, Span<float> sq)
    {
        Check(rows, channels, inner, x.Length, sq.Length, nameof(ChannelSquaredDeviation));
        Check(rows, channels, inner, x.Length, mean.Length, nameof(ChannelSquaredDeviation));
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float mr = ref MemoryMarshal.GetReference(mean);
        ref float qr = ref MemoryMarshal.GetReference(sq);
        int V = Vector<float>.Count;
        if (inner == 1)
        {
            for (int r = 0; r < rows; r++)
            {
                ref float row = ref Unsafe.Add(ref xr, r * channels);
                int c = 0;
                for (; c + V <= channels; c += V)
                {
                    var d = Vector.LoadUnsafe(ref row, (nuint)c) - Vector.LoadUnsafe(ref mr, (nuint)c);
                    Vector.StoreUnsafe(Vector.FusedMultiplyAdd(d, d, Vector.LoadUnsafe(ref qr, (nuint)c)), ref qr, (nuint)c);
                }
                for (; c < channels; c++) { float d = Unsafe.Add(ref row, c) - Unsafe.Add(ref mr, c); Unsafe.Add(ref qr, c) += d * d; }
            }
            return;
        }
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < channels; c++)
        {
            ref float p = ref Unsafe.Add(ref xr, (r * channels + c) * inner);
            var m = new Vector<float>(Unsafe.Add(ref mr, c));
            var acc = Vector<float>.Zero;
            int j = 0;
            for (; j + V <= inner; j += V) { var d = Vector.LoadUnsafe(ref p, (nuint)j) - m; acc = Vector.FusedMultiplyAdd(d, d, acc); }
            float s = Vector.Sum(acc);
            for (; j < inner; j++) { float d = Unsafe.Add(ref p, j) - Unsafe.Add(ref mr, c); s += d * d; }
            Unsafe.Add(ref qr, c) += s;
        }
    }

    /// <summary>Training-forward statistics of one block in one read of memory (the block should fit in L1: the second pass hits
    /// cache): mean[c] = Σ x[r, c, j] / n, dev[c] = Σ (x − mean[c]) (the rounding residue of the mean), sq[c] = Σ (x − mean[c])²,
    /// n = rows·inner; all three overwritten. Blocks combine exactly (Chan et al.): about any shift s,
    /// Σ(x − s) = n·(mean − s) + dev and Σ(x − s)² = sq + 2·(mean − s)·dev + n·(mean − s)².</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ChannelMoments(int rows, int channels, int inner, ReadOnlySpan<float> x, Span<float> mean, Span<float> dev, Span<float> sq)
    {
        Check(rows, channels, inner, x.Length, mean.Length, nameof(ChannelMoments));
        Check(rows, channels, inner, x.Length, dev.Length, nameof(ChannelMoments));
        Check(rows, channels, inner, x.Length, sq.Length, nameof(ChannelMoments));
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float mr = ref MemoryMarshal.GetReference(mean);
        ref float er = ref MemoryMarshal.GetReference(dev);
        ref float qr = ref MemoryMarshal.GetReference(sq);
        int V = Vector<float>.Count;
        float invN = rows == 0 ? 0f : 1f / ((float)rows * inner);
        if (inner == 1)
        {
            // per block of 4 channel vectors, both passes down the rows with the sums in registers
            int c = 0;
            for (; c + 4 * V <= channels; c += 4 * V)
            {
                Vector<float> s0 = Vector<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
                for (int r = 0; r < rows; r++)
                {
                    ref float p = ref Unsafe.Add(ref xr, r * channels + c);
                    s0 += Vector.LoadUnsafe(ref p); s1 += Vector.LoadUnsafe(ref p, (nuint)V);
                    s2 += Vector.LoadUnsafe(ref p, (nuint)(2 * V)); s3 += Vector.LoadUnsafe(ref p, (nuint)(3 * V));
                }
                Vector<float> m0 = s0 * invN, m1 = s1 * invN, m2 = s2 * invN, m3 = s3 * invN;
                Vector<float> e0 = Vector<float>.Zero, e1 = e0, e2 = e0, e3 = e0, q0 = e0, q1 = e0, q2 = e0, q3 = e0;
                for (int r = 0; r < rows; r++)
                {
                    ref float p = ref Unsafe.Add(ref xr, r * channels + c);
                    var d0 = Vector.LoadUnsafe(ref p) - m0; var d1 = Vector.LoadUnsafe(ref p, (nuint)V) - m1;
                    var d2 = Vector.LoadUnsafe(ref p, (nuint)(2 * V)) - m2; var d3 = Vector.LoadUnsafe(ref p, (nuint)(3 * V)) - m3;
                    e0 += d0; e1 += d1; e2 += d2; e3 += d3;
                    q0 = Vector.FusedMultiplyAdd(d0, d0, q0); q1 = Vector.FusedMultiplyAdd(d1, d1, q1);
                    q2 = Vector.FusedMultiplyAdd(d2, d2, q2); q3 = Vector.FusedMultiplyAdd(d3, d3, q3);
                }
                Vector.StoreUnsafe(m0, ref mr, (nuint)c); Vector.StoreUnsafe(m1, ref mr, (nuint)(c + V));
                Vector.StoreUnsafe(m2, ref mr, (nuint)(c + 2 * V)); Vector.StoreUnsafe(m3, ref mr, (nuint)(c + 3 * V));
                Vector.StoreUnsafe(e0, ref er, (nuint)c); Vector.StoreUnsafe(e1, ref er, (nuint)(c + V));
                Vector.StoreUnsafe(e2, ref er, (nuint)(c + 2 * V)); Vector.StoreUnsafe(e3, ref er, (nuint)(c + 3 * V));
                Vector.StoreUnsafe(q0, ref qr, (nuint)c); Vector.StoreUnsafe(q1, ref qr, (nuint)(c + V));
                Vector.StoreUnsafe(q2, ref qr, (nuint)(c + 2 * V)); Vector.StoreUnsafe(q3, ref qr, (nuint)(c + 3 * V));
            }
            for (; c + V <= channels; c += V)
            {
                var s0 = Vector<float>.Zero;
                for (int r = 0; r < rows; r++) s0 += Vector.LoadUnsafe(ref xr, (nuint)(r * channels + c));
                Vector<float> m0 = s0 * invN, e0 = Vector<float>.Zero, q0 = e0;
                for (int r = 0; r < rows; r++)
                {
                    var d0 = Vector.LoadUnsafe(ref xr, (nuint)(r * channels + c)) - m0;
                    e0 += d0; q0 = Vector.FusedMultiplyAdd(d0, d0, q0);
                }
                Vector.StoreUnsafe(m0, ref mr, (nuint)c); Vector.StoreUnsafe(e0, ref er, (nuint)c); Vector.StoreUnsafe(q0, ref qr, (nuint)c);
            }
            for (; c < channels; c++)
            {
                float s0 = 0f;
                for (int r = 0; r < rows; r++) s0 += Unsafe.Add(ref xr, r * channels + c);
                float m0 = s0 * invN, e0 = 0f, q0 = 0f;
                for (int r = 0; r < rows; r++) { float d = Unsafe.Add(ref xr, r * channels + c) - m0; e0 += d; q0 += d * d; }
                Unsafe.Add(ref mr, c) = m0; Unsafe.Add(ref er, c) = e0; Unsafe.Add(ref qr, c) = q0;
            }
            return;
        }
        mean.Slice(0, channels).Clear();
        dev.Slice(0, channels).Clear();
        sq.Slice(0, channels).Clear();
        if (rows == 0) return;
        ChannelSum(rows, channels, inner, x, mean);
        for (int c = 0; c < channels; c++) mean[c] *= invN;
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < channels; c++)
        {
            ref float p = ref Unsafe.Add(ref xr, (r * channels + c) * inner);
            float mc = Unsafe.Add(ref mr, c);
            var m = new Vector<float>(mc);
            Vector<float> a1 = Vector<float>.Zero, a2 = Vector<float>.Zero;
            int j = 0;
            for (; j + V <= inner; j += V) { var d = Vector.LoadUnsafe(ref p, (nuint)j) - m; a1 += d; a2 = Vector.FusedMultiplyAdd(d, d, a2); }
            float s1 = Vector.Sum(a1), s2 = Vector.Sum(a2);
            for (; j < inner; j++) { float d = Unsafe.Add(ref p, j) - mc; s1 += d; s2 += d * d; }
            Unsafe.Add(ref er, c) += s1;
            Unsafe.Add(ref qr, c) += s2;
        }
    }

    /// <summary>y[r, c, j] = x[r, c, j] · scale[c] + shift[c] (overwrites y; y may be x).</summary>
    public static void ScaleShift(int rows, int channels, int inner, ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y)
        => Affine(rows, channels, inner, x, scale, shift, y, nameof(ScaleShift));

    /// <summary>sumDy[c] += Σ dy[r, c, j]; sumDyXc[c] += Σ dy[r, c, j] · (x[r, c, j] − mean[c]).</summary>
    public static void BackwardSums(int rows, int channels, int inner, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> mean,
        Span<float> sumDy, Span<float> sumDyXc)
    {
        Check(rows, channels, inner, x.Length, mean.Length, nameof(BackwardSums));
        Check(rows, channels, inner, dy.Length, sumDy.Length, nameof(BackwardSums));
        Check(rows, channels, inner, dy.Length, sumDyXc.Length, nameof(BackwardSums));
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(dy);
        ref float mr = ref MemoryMarshal.GetReference(mean);
        ref float s1 = ref MemoryMarshal.GetReference(sumDy);
        ref float s2 = ref MemoryMarshal.GetReference(sumDyXc);
        int V = Vector<float>.Count;
        if (inner == 1)
        {
            for (int r = 0; r < rows; r++)
            {
                ref float xrow = ref Unsafe.Add(ref xr, r * channels);
                ref float grow = ref Unsafe.Add(ref gr, r * channels);
                int c = 0;
                for (; c + V <= channels; c += V)
                {
                    var g = Vector.LoadUnsafe(ref grow, (nuint)c);
                    var d = Vector.LoadUnsafe(ref xrow, (nuint)c) - Vector.LoadUnsafe(ref mr, (nuint)c);
                    Vector.StoreUnsafe(Vector.LoadUnsafe(ref s1, (nuint)c) + g, ref s1, (nuint)c);
                    Vector.StoreUnsafe(Vector.FusedMultiplyAdd(g, d, Vector.LoadUnsafe(ref s2, (nuint)c)), ref s2, (nuint)c);
                }
                for (; c < channels; c++)
                {
                    float g = Unsafe.Add(ref grow, c);
                    Unsafe.Add(ref s1, c) += g;
                    Unsafe.Add(ref s2, c) += g * (Unsafe.Add(ref xrow, c) - Unsafe.Add(ref mr, c));
                }
            }
            return;
        }
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < channels; c++)
        {
            int o = (r * channels + c) * inner;
            ref float xp = ref Unsafe.Add(ref xr, o);
            ref float gp = ref Unsafe.Add(ref gr, o);
            float mc = Unsafe.Add(ref mr, c);
            var m = new Vector<float>(mc);
            Vector<float> a1 = Vector<float>.Zero, a2 = Vector<float>.Zero;
            int j = 0;
            for (; j + V <= inner; j += V)
            {
                var g = Vector.LoadUnsafe(ref gp, (nuint)j);
                a1 += g;
                a2 = Vector.FusedMultiplyAdd(g, Vector.LoadUnsafe(ref xp, (nuint)j) - m, a2);
            }
            float t1 = Vector.Sum(a1), t2 = Vector.Sum(a2);
            for (; j < inner; j++) { float g = Unsafe.Add(ref gp, j); t1 += g; t2 += g * (Unsafe.Add(ref xp, j) - mc); }
            Unsafe.Add(ref s1, c) += t1;
            Unsafe.Add(ref s2, c) += t2;
        }
    }

    /// <summary>dx[r, c, j] = a[c] · dy[r, c, j] + b[c] · x[r, c, j] + d[c] (overwrites dx). With a = γ/σ, b = −a·S₂/(M·σ²),
    /// d = −a·S₁/M − b·μ this is the full training-mode gradient; with b = d = 0 the inference-mode one. One pass.</summary>
    public static void BackwardData(int rows, int channels, int inner, ReadOnlySpan<float> x, ReadOnlySpan<float> dy,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> d, Span<float> dx)
    {
        Check(rows, channels, inner, x.Length, b.Length, nameof(BackwardData));
        Check(rows, channels, inner, dy.Length, a.Length, nameof(BackwardData));
        Check(rows, channels, inner, dx.Length, d.Length, nameof(BackwardData));
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float gr = ref MemoryMarshal.GetReference(dy);
        ref float ar = ref MemoryMarshal.GetReference(a);
        ref float br = ref MemoryMarshal.GetReference(b);
        ref float cr = ref MemoryMarshal.GetReference(d);
        ref float dr = ref MemoryMarshal.GetReference(dx);
        int V = Vector<float>.Count;
        if (inner == 1)
        {
            for (int r = 0; r < rows; r++)
            {
                int o = r * channels, c = 0;
                for (; c + V <= channels; c += V)
                    Vector.StoreUnsafe(Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref br, (nuint)c), Vector.LoadUnsafe(ref xr, (nuint)(o + c)),
                        Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref ar, (nuint)c), Vector.LoadUnsafe(ref gr, (nuint)(o + c)), Vector.LoadUnsafe(ref cr, (nuint)c))),
                        ref dr, (nuint)(o + c));
                for (; c < channels; c++)
                    Unsafe.Add(ref dr, o + c) = MathF.FusedMultiplyAdd(Unsafe.Add(ref br, c), Unsafe.Add(ref xr, o + c),
                        MathF.FusedMultiplyAdd(Unsafe.Add(ref ar, c), Unsafe.Add(ref gr, o + c), Unsafe.Add(ref cr, c)));
            }
            return;
        }
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < channels; c++)
        {
            int o = (r * channels + c) * inner, j = 0;
            float sa = Unsafe.Add(ref ar, c), sb = Unsafe.Add(ref br, c), sd = Unsafe.Add(ref cr, c);
            Vector<float> va = new(sa), vb = new(sb), vd = new(sd);
            for (; j + V <= inner; j += V)
                Vector.StoreUnsafe(Vector.FusedMultiplyAdd(vb, Vector.LoadUnsafe(ref xr, (nuint)(o + j)), Vector.FusedMultiplyAdd(va, Vector.LoadUnsafe(ref gr, (nuint)(o + j)), vd)),
                    ref dr, (nuint)(o + j));
            for (; j < inner; j++)
                Unsafe.Add(ref dr, o + j) = MathF.FusedMultiplyAdd(sb, Unsafe.Add(ref xr, o + j), MathF.FusedMultiplyAdd(sa, Unsafe.Add(ref gr, o + j), sd));
        }
    }

    private static void Affine(int rows, int channels, int inner, ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y, string kernel)
    {
        Check(rows, channels, inner, x.Length, scale.Length, kernel);
        Check(rows, channels, inner, y.Length, shift.Length, kernel);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float ar = ref MemoryMarshal.GetReference(scale);
        ref float br = ref MemoryMarshal.GetReference(shift);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int V = Vector<float>.Count;
        if (inner == 1)
        {
            for (int r = 0; r < rows; r++)
            {
                int o = r * channels, c = 0;
                for (; c + V <= channels; c += V)
                    Vector.StoreUnsafe(Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref xr, (nuint)(o + c)), Vector.LoadUnsafe(ref ar, (nuint)c),
                        Vector.LoadUnsafe(ref br, (nuint)c)), ref yr, (nuint)(o + c));
                for (; c < channels; c++) Unsafe.Add(ref yr, o + c) = MathF.FusedMultiplyAdd(Unsafe.Add(ref xr, o + c), Unsafe.Add(ref ar, c), Unsafe.Add(ref br, c));
            }
            return;
        }
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < channels; c++)
        {
            int o = (r * channels + c) * inner, j = 0;
            float sc = Unsafe.Add(ref ar, c), sh = Unsafe.Add(ref br, c);
            Vector<float> a = new(sc), b = new(sh);
            for (; j + V <= inner; j += V)
                Vector.StoreUnsafe(Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref xr, (nuint)(o + j)), a, b), ref yr, (nuint)(o + j));
            for (; j < inner; j++) Unsafe.Add(ref yr, o + j) = MathF.FusedMultiplyAdd(Unsafe.Add(ref xr, o + j), sc, sh);
        }
    }

    internal static void Check(int rows, int channels, int inner, int dataLen, int channelLen, string kernel)
    {
        if (rows < 0 || channels <= 0 || inner <= 0)
            throw new ArgumentException($"{kernel}: invalid view ({rows}, {channels}, {inner}).");
        if (dataLen < (long)rows * channels * inner || channelLen < channels)
            throw new ArgumentException($"{kernel}: ({rows}, {channels}, {inner}) needs {(long)rows * channels * inner} elements and {channels} per-channel values; spans have {dataLen} and {channelLen}.");
    }
}

/// <summary>Naive scalar twins of <see cref="BatchNorm"/> (same signatures and semantics).</summary>
public static class BatchNormReference
{
    /// <summary>sum[c] += Σ_{r,j} x[r, c, j].</summary>
    public static void ChannelSum(int rows, int channels, int inner, ReadOnlySpan<float> x, Span<float> sum)
    {
        for (int r = 0; r < rows; r++) for (int c = 0; c < channels; c++) for (int j = 0; j < inner; j++) sum[c] += x[(r * channels + c) * inner + j];
    }

    /// <summary>sq[c] += Σ_{r,j} (x[r, c, j] − mean[c])².</summary>
    public static void ChannelSquaredDeviation(int rows, int channels, int inner, ReadOnlySpan<float> x, ReadOnlySpan<float> mean, Span<float> sq)
    {
        for (int r = 0; r < rows; r++) for (int c = 0; c < channels; c++) for (int j = 0; j < inner; j++)
        {
            float d = x[(r * channels + c) * inner + j] - mean[c];
            sq[c] += d * d;
        }
    }

    /// <summary>mean[c] = Σ x / n, dev[c] = Σ (x − mean[c]), sq[c] = Σ (x − mean[c])², n = rows·inner (overwritten).</summary>
    internal static void ChannelMoments(int rows, int channels, int inner, ReadOnlySpan<float> x, Span<float> mean, Span<float> dev, Span<float> sq)
    {
        for (int c = 0; c < channels; c++)
        {
            float s = 0f;
            for (int r = 0; r < rows; r++) for (int j = 0; j < inner; j++) s += x[(r * channels + c) * inner + j];
            float m = rows == 0 ? 0f : s / ((float)rows * inner), e = 0f, q = 0f;
            for (int r = 0; r < rows; r++) for (int j = 0; j < inner; j++) { float d = x[(r * channels + c) * inner + j] - m; e += d; q += d * d; }
            mean[c] = m; dev[c] = e; sq[c] = q;
        }
    }

    /// <summary>y[r, c, j] = x[r, c, j] · scale[c] + shift[c].</summary>
    public static void ScaleShift(int rows, int channels, int inner, ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> y)
    {
        for (int r = 0; r < rows; r++) for (int c = 0; c < channels; c++) for (int j = 0; j < inner; j++)
        {
            int i = (r * channels + c) * inner + j;
            y[i] = x[i] * scale[c] + shift[c];
        }
    }

    /// <summary>sumDy[c] += Σ dy; sumDyXc[c] += Σ dy · (x − mean[c]).</summary>
    public static void BackwardSums(int rows, int channels, int inner, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, ReadOnlySpan<float> mean,
        Span<float> sumDy, Span<float> sumDyXc)
    {
        for (int r = 0; r < rows; r++) for (int c = 0; c < channels; c++) for (int j = 0; j < inner; j++)
        {
            int i = (r * channels + c) * inner + j;
            sumDy[c] += dy[i];
            sumDyXc[c] += dy[i] * (x[i] - mean[c]);
        }
    }

    /// <summary>dx[r, c, j] = a[c] · dy[r, c, j] + b[c] · x[r, c, j] + d[c].</summary>
    public static void BackwardData(int rows, int channels, int inner, ReadOnlySpan<float> x, ReadOnlySpan<float> dy,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> d, Span<float> dx)
    {
        for (int r = 0; r < rows; r++) for (int c = 0; c < channels; c++) for (int j = 0; j < inner; j++)
        {
            int i = (r * channels + c) * inner + j;
            dx[i] = a[c] * dy[i] + b[c] * x[i] + d[c];
        }
    }
}
