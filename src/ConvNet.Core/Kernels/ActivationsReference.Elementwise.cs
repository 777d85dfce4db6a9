namespace ConvNet.Kernels;

public static partial class ActivationsReference
{
    private const double SeluAlpha = 1.6732632423543772848170429916717, SeluScale = 1.0507009873554804934193349852946;

    /// <summary>y = 1/(1 + e^(−x)).</summary>
    public static void SigmoidForward(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = (float)(1 / (1 + Math.Exp(-x[i]))); }
    /// <summary>dx += dy · y(1 − y).</summary>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) { for (int i = 0; i < y.Length; i++) dx[i] += dy[i] * y[i] * (1 - y[i]); }
    /// <summary>y = eˣ.</summary>
    public static void ExponentialForward(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = (float)Math.Exp(x[i]); }
    /// <summary>dx += dy · y.</summary>
    public static void ExponentialBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) { for (int i = 0; i < y.Length; i++) dx[i] += dy[i] * y[i]; }
    /// <summary>y = x &gt; 0 ? x : slope·x.</summary>
    public static void LeakyReluForward(ReadOnlySpan<float> x, Span<float> y, float negativeSlope) { for (int i = 0; i < x.Length; i++) y[i] = x[i] > 0 ? x[i] : negativeSlope * x[i]; }
    /// <summary>dx += dy · (y &gt; 0 ? 1 : slope).</summary>
    public static void LeakyReluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, float negativeSlope) { for (int i = 0; i < y.Length; i++) dx[i] += dy[i] * (y[i] > 0 ? 1 : negativeSlope); }
    /// <summary>y = x &gt; 0 ? x : eˣ − 1.</summary>
    public static void EluForward(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = x[i] > 0 ? x[i] : (float)(Math.Exp(x[i]) - 1); }
    /// <summary>dx += dy · (y &gt; 0 ? 1 : y + 1).</summary>
    public static void EluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) { for (int i = 0; i < y.Length; i++) dx[i] += dy[i] * (y[i] > 0 ? 1 : y[i] + 1); }
    /// <summary>y = scale·(x &gt; 0 ? x : alpha·(eˣ − 1)).</summary>
    public static void SeluForward(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = (float)(SeluScale * (x[i] > 0 ? x[i] : SeluAlpha * (Math.Exp(x[i]) - 1))); }
    /// <summary>dx += dy · (y &gt; 0 ? scale : y + scale·alpha).</summary>
    public static void SeluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) { for (int i = 0; i < y.Length; i++) dx[i] += (float)(dy[i] * (y[i] > 0 ? SeluScale : y[i] + SeluScale * SeluAlpha)); }
    /// <summary>y = x·σ(x).</summary>
    public static void SiluForward(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = (float)(x[i] / (1 + Math.Exp(-x[i]))); }
    /// <summary>dx += dy · σ(x)(1 + x(1 − σ(x))).</summary>
    public static void SiluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < x.Length; i++) { double s = 1 / (1 + Math.Exp(-x[i])); dx[i] += (float)(dy[i] * s * (1 + x[i] * (1 - s))); }
    }
    /// <summary>y = x·Φ(x) with an exact (series / continued-fraction) erf, or the tanh approximation.</summary>
    public static void GeluForward(ReadOnlySpan<float> x, Span<float> y, bool approximate = false)
    {
        for (int i = 0; i < x.Length; i++) y[i] = (float)Gelu(x[i], approximate).Value;
    }
    /// <summary>dx += dy · GELU'(x).</summary>
    public static void GeluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, bool approximate = false)
    {
        for (int i = 0; i < x.Length; i++) dx[i] += (float)(dy[i] * Gelu(x[i], approximate).Derivative);
    }

    internal static (double Value, double Derivative) Gelu(double x, bool approximate)
    {
        if (approximate)
        {
            const double k = 0.79788456080286535588, c = 0.044715;
            double t = Math.Tanh(k * (x + c * x * x * x));
            return (0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * c * x * x));
        }
        double phi = 0.5 * Erfc(-x / Math.Sqrt(2));
        return (x * phi, phi + x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI));
    }

    /// <summary>erfc in double: Maclaurin series of erf for |z| &lt; 2.5, Lentz continued fraction beyond (relative error ≲ 1e-13).</summary>
    internal static double Erfc(double z)
    {
        if (z < 0) return 2 - Erfc(-z);
        if (z < 2.5)
        {
            double sum = 0, term = z;
            for (int n = 0; n < 200; n++)
            {
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
                term *= -z * z / (n + 1);
            }
            return 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }
        // erfc(z) = e^(−z²)/√π · 1/(z + 1/2/(z + 1/(z + 3/2/(z + …)))) evaluated bottom-up
        double f = z;
        for (int k = 60; k >= 1; k--) f = z + k / 2.0 / f;
        return Math.Exp(-z * z) / Math.Sqrt(Math.PI) / f;
    }
}
