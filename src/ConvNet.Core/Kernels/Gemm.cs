namespace ConvNet.Kernels;

/// <summary>
/// Row-major single-precision GEMM verbs for Dense layers. Every verb accumulates into C. Each verb validates its
/// spans, then calls the <see cref="KernelTable"/> entry chosen at start-up (the AVX2+FMA register tiles of
/// <see cref="GemmAvx2"/>, else <see cref="GemmPortable"/>); the internal overloads take the backend explicitly.
/// Naive twins: <see cref="GemmReference"/>.
/// </summary>
public static unsafe class Gemm
{
    internal static void Check(int m, int n, int k, int aLen, int bLen, int cLen, string kernel)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"{kernel}: negative size m={m}, n={n}, k={k}.");
        if (aLen < (long)m * k) throw new ArgumentException($"{kernel}: A has {aLen} elements, needs {(long)m * k}.");
        if (bLen < (long)k * n) throw new ArgumentException($"{kernel}: B has {bLen} elements, needs {(long)k * n}.");
        if (cLen < (long)m * n) throw new ArgumentException($"{kernel}: C has {cLen} elements, needs {(long)m * n}.");
    }

    /// <summary>C[M×N] += A[M×K] · B[K×N].</summary>
    public static void GemmNN(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c) => GemmNNOn(KernelTable.Current.Backend, m, n, k, a, b, c);

    /// <summary>C[M×N] += A[M×K] · B[N×K]ᵀ (dot products along K).</summary>
    public static void GemmNT(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c) => GemmNTOn(KernelTable.Current.Backend, m, n, k, a, b, c);

    /// <summary>C[M×N] += A[K×M]ᵀ · B[K×N] (sum of outer products over K). Rows of A are <paramref name="lda"/> apart (0 = M).</summary>
    public static void GemmTN(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int lda = 0) => GemmTNOn(KernelTable.Current.Backend, m, n, k, a, b, c, lda);

    /// <summary>GemmNN on <paramref name="backend"/> (throws if this CPU cannot run it).</summary>
    internal static void GemmNNOn(KernelBackend backend, int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c)
    {
        Check(m, n, k, a.Length, b.Length, c.Length, nameof(GemmNN));
        if (m == 0 || n == 0) return;
        fixed (float* ap = a) fixed (float* bp = b) fixed (float* cp = c) KernelTable.For(backend).GemmNN(m, n, k, ap, bp, cp);
    }

    /// <summary>GemmNT on <paramref name="backend"/> (throws if this CPU cannot run it).</summary>
    internal static void GemmNTOn(KernelBackend backend, int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c)
    {
        Check(m, n, k, a.Length, b.Length, c.Length, nameof(GemmNT));
        if (m == 0 || n == 0) return;
        fixed (float* ap = a) fixed (float* bp = b) fixed (float* cp = c) KernelTable.For(backend).GemmNT(m, n, k, ap, bp, cp);
    }

    /// <summary>GemmTN on <paramref name="backend"/> (throws if this CPU cannot run it).</summary>
    internal static void GemmTNOn(KernelBackend backend, int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int lda)
    {
        if (lda == 0) lda = m;
        if (lda < m) throw new ArgumentException($"{nameof(GemmTN)}: lda {lda} is smaller than m {m}.");
        Check(m, n, k, k == 0 ? 0 : a.Length - (k - 1) * (lda - m), b.Length, c.Length, nameof(GemmTN));
        if (m == 0 || n == 0) return;
        fixed (float* ap = a) fixed (float* bp = b) fixed (float* cp = c) KernelTable.For(backend).GemmTN(m, n, k, ap, lda, bp, cp);
    }
}
