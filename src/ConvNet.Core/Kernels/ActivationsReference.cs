namespace ConvNet.Kernels;

/// <summary>Naive scalar twins of <see cref="Activations"/>.</summary>
public static partial class ActivationsReference
{
    /// <summary>y = max(x, 0).</summary>
    public static void ReluForward(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = x[i] > 0 ? x[i] : 0f; }
    /// <summary>dx += dy where y &gt; 0.</summary>
    public static void ReluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) { for (int i = 0; i < y.Length; i++) if (y[i] > 0) dx[i] += dy[i]; }
    /// <summary>y = tanh(x).</summary>
    public static void TanhForward(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = (float)Math.Tanh(x[i]); }
    /// <summary>dx += dy · (1 − y²).</summary>
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) { for (int i = 0; i < y.Length; i++) dx[i] += dy[i] * (1 - y[i] * y[i]); }

    /// <summary>Row-wise softmax.</summary>
    public static void SoftmaxForward(int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int j = 0; j < cols; j++) max = Math.Max(max, x[r * cols + j]);
            for (int j = 0; j < cols; j++) sum += Math.Exp(x[r * cols + j] - max);
            for (int j = 0; j < cols; j++) y[r * cols + j] = (float)(Math.Exp(x[r * cols + j] - max) / sum);
        }
    }

    /// <summary>dx += y ⊙ (dy − Σ dy·y), per row.</summary>
    public static void SoftmaxBackward(int rows, int cols, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int r = 0; r < rows; r++)
        {
            double dot = 0;
            for (int j = 0; j < cols; j++) dot += y[r * cols + j] * dy[r * cols + j];
            for (int j = 0; j < cols; j++) dx[r * cols + j] += (float)(y[r * cols + j] * (dy[r * cols + j] - dot));
        }
    }
}
