using Xunit;
using static ConvNet.Core.Tests.TestUtil;

namespace ConvNet.Core.Tests;

/// <summary>A double-precision forward pass of a layer: (x, parameter values) → y, all flat NHWC arrays.</summary>
internal delegate double[] ReferenceForward(double[] x, double[][] parameters);

/// <summary>
/// Gradient checks for a layer with loss L = Σ G ⊙ y for a random upstream gradient G.
/// <para>
/// Check 1 (sharp): the layer's float forward must match a double-precision reference forward
/// (rtol 1e-5), and the layer's float analytic gradients (dx and every parameter gradient, every batch item)
/// must match central differences of the DOUBLE reference, h = 1e-5, per element
/// |a − n| ≤ 1e-4·(|n| + rms(n)).
/// </para>
/// <para>
/// Check 2 (independent of the reference): central differences of the layer's own FLOAT forward, accumulated in
/// double, h = 1e-2 (1e-3 for ReLU / max pooling; the actual float step is the divisor), per element
/// |a − n| / max(|a| + |n|, 1e-3, 0.1·rms(n)) ≤ 1e-2 and ‖a − n‖ / (‖a‖ + ‖n‖) ≤ 1e-3.
/// </para>
/// Callers keep ReLU pre-activations ≥ 2.5e-3 from 0 and max-pool values ≥ 1e-2 apart (≥ 10·h for check 2).
/// </summary>
internal static class GradientChecker
{
    public const double RefStep = 1e-5;
    public const double RefRtol = 1e-4;
    public const float FloatStep = 1e-2f;
    /// <summary>Step for layers with kinks (ReLU, max pooling); callers keep kinks ≥ 10× this away.</summary>
    public const float FloatStepNearKinks = 1e-3f;
    public const double FloatElemTol = 1e-2;
    public const double FloatNormTol = 1e-3;

    /// <summary>Runs both checks on a built layer (parameters already set) and batch <paramref name="x"/>.</summary>
    public static void Check(Layer layer, Tensor x, ReferenceForward? reference, Rng rng, string label, bool floatCheck = true, float floatStep = FloatStep)
    {
        var y = layer.Forward(x, training: true);
        var yCopy = y.ToArray();
        var g = RandomTensor(rng, y.Shape.ToArray());
        foreach (var p in layer.Parameters) p.Grad.Span.Clear();
        var dx = layer.Backward(g).ToArray();
        Assert.Equal(x.Length, dx.Length);
        var grads = layer.Parameters.Select(p => p.Grad.ToArray()).ToArray();
        var gd = ToDouble(g.Span);

        if (reference is not null)
        {
            var xd = ToDouble(x.Span);
            var pd = layer.Parameters.Select(p => ToDouble(p.Value.Span)).ToArray();
            AssertClose(yCopy, reference(xd, pd), 1e-5, $"{label}: float forward vs double reference forward");
            double Loss() => Dot(gd, reference(xd, pd));
            AssertClose(dx, NumericDouble(xd, Loss), RefRtol, $"{label}: dL/dx vs double-reference finite differences", atol: 1e-8);
            for (int k = 0; k < pd.Length; k++)
                AssertClose(grads[k], NumericDouble(pd[k], Loss), RefRtol,
                    $"{label}: dL/d{layer.Parameters[k].Name} vs double-reference finite differences", atol: 1e-8);
        }

        if (floatCheck)
        {
            // thousands of tiny forwards: run them inline (the analytic pass above used the layer's own thread count)
            int threads = layer.Threads;
            layer.Threads = 1;
            double Loss()
            {
                var yy = layer.Forward(x, training: true).Span;
                double s = 0;
                for (int i = 0; i < yy.Length; i++) s += gd[i] * yy[i];
                return s;
            }
            CompareFloatFd(dx, NumericFloat(x.Span, Loss, floatStep), $"{label}: dL/dx vs float-forward finite differences");
            for (int k = 0; k < layer.Parameters.Count; k++)
                CompareFloatFd(grads[k], NumericFloat(layer.Parameters[k].Value.Span, Loss, floatStep),
                    $"{label}: dL/d{layer.Parameters[k].Name} vs float-forward finite differences");
            layer.Threads = threads;
        }
    }

    public static double Dot(double[] a, double[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>Central differences of <paramref name="loss"/> w.r.t. every element of <paramref name="v"/> (restored exactly).</summary>
    public static double[] NumericDouble(double[] v, Func<double> loss, double h = RefStep)
    {
        var n = new double[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            double keep = v[i];
            v[i] = keep + h; double lp = loss();
            v[i] = keep - h; double lm = loss();
            v[i] = keep;
            n[i] = (lp - lm) / (2 * h);
        }
        return n;
    }

    /// <summary>Central differences through a float buffer; divides by the step actually representable in float.</summary>
    public static double[] NumericFloat(Span<float> v, Func<double> loss, float h = FloatStep)
    {
        var n = new double[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            float keep = v[i];
            float plus = keep + h, minus = keep - h;
            v[i] = plus; double lp = loss();
            v[i] = minus; double lm = loss();
            v[i] = keep;
            n[i] = (lp - lm) / ((double)plus - minus);
        }
        return n;
    }

    public static void CompareFloatFd(ReadOnlySpan<float> analytic, double[] numeric, string what)
    {
        Assert.Equal(numeric.Length, analytic.Length);
        double rms = Rms(numeric), floor = Math.Max(1e-3, 0.1 * rms);
        double diff2 = 0, a2 = 0, n2 = 0;
        for (int i = 0; i < numeric.Length; i++)
        {
            double a = analytic[i], n = numeric[i];
            double rel = Math.Abs(a - n) / Math.Max(Math.Abs(a) + Math.Abs(n), floor);
            Assert.True(rel <= FloatElemTol, $"{what}: element [{i}] analytic {a:G6} vs numeric {n:G6} (relative error {rel:G3} > {FloatElemTol}; rms {rms:G4})");
            diff2 += (a - n) * (a - n); a2 += a * a; n2 += n * n;
        }
        double normRel = Math.Sqrt(diff2) / Math.Max(Math.Sqrt(a2) + Math.Sqrt(n2), floor * Math.Sqrt(numeric.Length));
        Assert.True(normRel <= FloatNormTol, $"{what}: norm-relative error {normRel:G3} > {FloatNormTol}");
    }
}
