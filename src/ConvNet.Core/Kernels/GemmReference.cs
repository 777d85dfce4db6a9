namespace ConvNet.Kernels;

/// <summary>Naive scalar twins of <see cref="Gemm"/>. All matrices row-major; every verb accumulates into C.</summary>
public static class GemmReference
{
    /// <summary>C[M×N] += A[M×K] · B[K×N].</summary>
    public static void GemmNN(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c)
    {
        Gemm.Check(m, n, k, a.Length, b.Length, c.Length, nameof(GemmNN));
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            float s = 0;
            for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
            c[i * n + j] += s;
        }
    }

    /// <summary>C[M×N] += A[M×K] · B[N×K]ᵀ.</summary>
    public static void GemmNT(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c)
    {
        Gemm.Check(m, n, k, a.Length, b.Length, c.Length, nameof(GemmNT));
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            float s = 0;
            for (int p = 0; p < k; p++) s += a[i * k + p] * b[j * k + p];
            c[i * n + j] += s;
        }
    }

    /// <summary>C[M×N] += A[K×M]ᵀ · B[K×N]; rows of A are <paramref name="lda"/> apart (0 = M).</summary>
    public static void GemmTN(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int lda = 0)
    {
        if (lda == 0) lda = m;
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            float s = 0;
            for (int p = 0; p < k; p++) s += a[p * lda + i] * b[p * n + j];
            c[i * n + j] += s;
        }
    }
}
