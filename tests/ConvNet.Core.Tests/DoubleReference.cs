namespace ConvNet.Core.Tests;

/// <summary>
/// Tiny double-precision forward passes written directly from the formulas (independent of the
/// library's kernels and of <c>ConvGeometry</c>): the ground truth for finite-difference gradient checks.
/// Layouts as in the library: x (N,H,W,C), kernel (KH,KW,C,K), y (N,OH,OW,K).
/// </summary>
internal static class DoubleReference
{
    /// <summary>TF/Keras output size and leading pad of one axis, from the formulas.</summary>
    public static (int Out, int PadBefore) Axis(int input, int kernel, int stride, Padding padding)
    {
        if (padding == Padding.Valid)
            return (input < kernel ? 0 : (int)Math.Floor((input - kernel) / (double)stride) + 1, 0);
        int o = (int)Math.Ceiling(input / (double)stride);
        int total = Math.Max((o - 1) * stride + kernel - input, 0);
        return (o, (int)Math.Floor(total / 2.0));
    }

    public static double[] Conv2D(double[] x, int n, int h, int w, int c, double[] kernel, double[]? bias,
        int kh, int kw, int sh, int sw, Padding padding, int k, Activation act)
    {
        var (oh, pt) = Axis(h, kh, sh, padding);
        var (ow, pl) = Axis(w, kw, sw, padding);
        var y = new double[n * oh * ow * k];
        for (int b = 0; b < n; b++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        for (int f = 0; f < k; f++)
        {
            double s = bias is null ? 0 : bias[f];
            for (int u = 0; u < kh; u++)
            for (int v = 0; v < kw; v++)
            {
                int r = i * sh - pt + u, q = j * sw - pl + v;
                if (r < 0 || r >= h || q < 0 || q >= w) continue;   // zero padding
                for (int ch = 0; ch < c; ch++)
                    s += x[((b * h + r) * w + q) * c + ch] * kernel[((u * kw + v) * c + ch) * k + f];
            }
            y[((b * oh + i) * ow + j) * k + f] = s;
        }
        Apply(act, y, k);
        return y;
    }

    /// <summary>Max (or mean over the real pixels) of each window, per channel.</summary>
    public static double[] Pool(double[] x, int n, int h, int w, int c, int ph, int pw, int sh, int sw, Padding padding, bool max)
    {
        var (oh, pt) = Axis(h, ph, sh, padding);
        var (ow, pl) = Axis(w, pw, sw, padding);
        var y = new double[n * oh * ow * c];
        for (int b = 0; b < n; b++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        for (int ch = 0; ch < c; ch++)
        {
            double best = double.NegativeInfinity, sum = 0; int count = 0;
            for (int u = 0; u < ph; u++)
            for (int v = 0; v < pw; v++)
            {
                int r = i * sh - pt + u, q = j * sw - pl + v;
                if (r < 0 || r >= h || q < 0 || q >= w) continue;
                double val = x[((b * h + r) * w + q) * c + ch];
                best = Math.Max(best, val); sum += val; count++;
            }
            y[((b * oh + i) * ow + j) * c + ch] = max ? best : sum / count;
        }
        return y;
    }

    public static double[] Dense(double[] x, int n, int inF, double[] kernel, double[]? bias, int units, Activation act)
    {
        var y = new double[n * units];
        for (int b = 0; b < n; b++)
        for (int u = 0; u < units; u++)
        {
            double s = bias is null ? 0 : bias[u];
            for (int i = 0; i < inF; i++) s += x[b * inF + i] * kernel[i * units + u];
            y[b * units + u] = s;
        }
        Apply(act, y, units);
        return y;
    }

    public static double[] GlobalAveragePooling(double[] x, int n, int h, int w, int c)
    {
        var y = new double[n * c];
        for (int b = 0; b < n; b++)
        for (int p = 0; p < h * w; p++)
        for (int ch = 0; ch < c; ch++)
            y[b * c + ch] += x[(b * h * w + p) * c + ch] / (h * w);
        return y;
    }

    /// <summary>Activation in place; softmax over rows of <paramref name="cols"/>.</summary>
    public static double[] Apply(Activation act, double[] y, int cols)
    {
        switch (act)
        {
            case Activation.Relu:
                for (int i = 0; i < y.Length; i++) y[i] = Math.Max(y[i], 0);
                break;
            case Activation.Tanh:
                for (int i = 0; i < y.Length; i++) y[i] = Math.Tanh(y[i]);
                break;
            case Activation.Softmax:
                for (int r = 0; r < y.Length / cols; r++)
                {
                    double m = double.NegativeInfinity, s = 0;
                    for (int j = 0; j < cols; j++) m = Math.Max(m, y[r * cols + j]);
                    for (int j = 0; j < cols; j++) s += Math.Exp(y[r * cols + j] - m);
                    for (int j = 0; j < cols; j++) y[r * cols + j] = Math.Exp(y[r * cols + j] - m) / s;
                }
                break;
            default:
                for (int i = 0; i < y.Length; i++) y[i] = Elementwise(act, y[i], 0.2);
                break;
        }
        return y;
    }

    /// <summary>The elementwise activations from their definitions (Keras' constants; leaky ReLU with <paramref name="slope"/>).</summary>
    public static double Elementwise(Activation act, double x, double slope)
    {
        const double seluAlpha = 1.6732632423543772848170429916717, seluScale = 1.0507009873554804934193349852946;
        return act switch
        {
            Activation.None => x,
            Activation.Sigmoid => 1 / (1 + Math.Exp(-x)),
            Activation.Exponential => Math.Exp(x),
            Activation.LeakyRelu => x > 0 ? x : slope * x,
            Activation.Elu => x > 0 ? x : Math.Exp(x) - 1,
            Activation.Selu => seluScale * (x > 0 ? x : seluAlpha * (Math.Exp(x) - 1)),
            Activation.Silu => x / (1 + Math.Exp(-x)),
            Activation.Gelu => 0.5 * x * Erfc(-x / Math.Sqrt(2)),
            Activation.GeluApproximate => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
            _ => throw new ArgumentOutOfRangeException(nameof(act), act, "not elementwise"),
        };
    }

    /// <summary>erfc from its definitions, independent of the library: Maclaurin series of erf below 2.5, the continued fraction above.</summary>
    public static double Erfc(double z)
    {
        if (z < 0) return 2 - Erfc(-z);
        if (z < 2.5)
        {
            double sum = 0, term = z;   // erf(z) = 2/√π Σ (−1)ⁿ z^(2n+1) / (n! (2n+1))
            for (int n = 0; n < 200 && Math.Abs(term) > 1e-300; n++) { sum += term / (2 * n + 1); term *= -z * z / (n + 1); }
            return 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }
        double f = z;
        for (int k = 80; k >= 1; k--) f = z + k / 2.0 / f;
        return Math.Exp(-z * z) / Math.Sqrt(Math.PI) / f;
    }

    /// <summary>Σ_rows −log softmax(logits)[label].</summary>
    public static double SoftmaxCrossEntropy(double[] logits, int rows, int classes, int[] labels)
    {
        double loss = 0;
        for (int r = 0; r < rows; r++)
        {
            double m = double.NegativeInfinity, s = 0;
            for (int j = 0; j < classes; j++) m = Math.Max(m, logits[r * classes + j]);
            for (int j = 0; j < classes; j++) s += Math.Exp(logits[r * classes + j] - m);
            loss += Math.Log(s) + m - logits[r * classes + labels[r]];
        }
        return loss;
    }
}
