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
        }
        return y;
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
