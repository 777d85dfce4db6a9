using System.Numerics.Tensors;

namespace ConvNet.Kernels;

/// <summary>
/// Activation kernels. The elementwise ones are operator structs (<see cref="IActivationOp"/>) run by the one loop of
/// <see cref="Elementwise"/>; ReLU and tanh forward use TensorPrimitives. Backward verbs add into dx.
/// Naive twins: <see cref="ActivationsReference"/>.
/// </summary>
public static partial class Activations
{
    /// <summary>y = max(x, 0).</summary>
    public static void ReluForward(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckSame(x.Length, y.Length, nameof(ReluForward));
        TensorPrimitives.Max(x, 0f, y);
    }

    /// <summary>dx += dy where y &gt; 0 (the derivative at 0 is 0, as in TF).</summary>
    public static void ReluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => MapBackward(new ReluOp(), y, y, dy, dx);

    /// <summary>y = tanh(x).</summary>
    public static void TanhForward(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckSame(x.Length, y.Length, nameof(TanhForward));
        TensorPrimitives.Tanh(x, y);
    }

    /// <summary>dx += dy · (1 − y²).</summary>
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => MapBackward(new TanhOp(), y, y, dy, dx);

    /// <summary>Row-wise softmax of x (rows × cols): y = exp(x − max) / Σ exp(x − max).</summary>
    public static void SoftmaxForward(int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        CheckRows(rows, cols, x.Length, y.Length, nameof(SoftmaxForward));
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * cols, cols); var yr = y.Slice(r * cols, cols);
            TensorPrimitives.Subtract(xr, TensorPrimitives.Max(xr), yr);
            TensorPrimitives.Exp(yr, yr);
            TensorPrimitives.Divide(yr, TensorPrimitives.Sum(yr), yr);
        }
    }

    /// <summary>dx += y ⊙ (dy − Σ_j dy_j·y_j), per row.</summary>
    public static void SoftmaxBackward(int rows, int cols, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckRows(rows, cols, y.Length, dy.Length, nameof(SoftmaxBackward)); CheckRows(rows, cols, y.Length, dx.Length, nameof(SoftmaxBackward));
        for (int r = 0; r < rows; r++)
        {
            var yr = y.Slice(r * cols, cols); var dyr = dy.Slice(r * cols, cols); var dxr = dx.Slice(r * cols, cols);
            float dot = TensorPrimitives.Dot(yr, dyr);
            for (int j = 0; j < cols; j++) dxr[j] += yr[j] * (dyr[j] - dot);
        }
    }

    internal static void CheckSame(int a, int b, string kernel)
    {
        if (a != b) throw new ArgumentException($"{kernel}: spans have different lengths ({a} and {b}).");
    }

    internal static void CheckRows(int rows, int cols, int a, int b, string kernel)
    {
        if (rows < 0 || cols <= 0 || a < (long)rows * cols || b < (long)rows * cols)
            throw new ArgumentException($"{kernel}: {rows}×{cols} needs {(long)rows * cols} elements, spans have {a} and {b}.");
    }
}
