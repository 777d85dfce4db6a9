namespace ConvNet;

/// <summary>
/// Base of the losses on float targets that act element by element: per sample, the mean over the outputs
/// of an element loss ℓ(prediction, target), as Keras' <c>mean(…, axis=-1)</c>; the gradient of the batch mean
/// is ℓ′/(rows·outputs).
/// </summary>
public abstract class ElementwiseLoss : Loss
{
    /// <summary>ℓ(p, y) and, in <paramref name="derivative"/>, ∂ℓ/∂p.</summary>
    protected abstract double Element(double prediction, double target, out double derivative);

    /// <inheritdoc/>
    protected sealed override double ComputeCore(int rows, int outputs, ReadOnlySpan<float> predictions, TargetBatch targets, Span<float> grad, Span<float> scratch)
    {
        var y = targets.Values;
        double scale = 1.0 / ((double)rows * outputs), sum = 0;
        bool withGrad = !grad.IsEmpty;
        for (int i = 0; i < predictions.Length; i++)
        {
            sum += Element(predictions[i], y[i], out double d);
            if (withGrad) grad[i] += (float)(d * scale);
        }
        return sum / outputs;
    }
}

/// <summary>
/// Keras <c>BinaryCrossentropy</c> on float targets in [0, 1], shape (N, outputs) — usually (N, 1).
/// With <c>fromLogits: true</c> (recommended) the predictions z are logits and the loss is computed stably as
/// max(z, 0) − z·y + log(1 + e^(−|z|)), gradient σ(z) − y. With <c>fromLogits: false</c> the predictions are
/// probabilities clipped to [1e-7, 1 − 1e-7] as Keras does: −(y·log p + (1 − y)·log(1 − p)), and no gradient flows
/// through a clipped value.
/// </summary>
public sealed class BinaryCrossentropy(bool fromLogits = false) : ElementwiseLoss
{
    private const float Eps = 1e-7f;

    /// <summary>Whether predictions are logits.</summary>
    public bool FromLogits { get; } = fromLogits;

    /// <inheritdoc/>
    public override string Name => "binary_crossentropy";

    /// <inheritdoc/>
    protected override double Element(double p, double y, out double d)
    {
        if (FromLogits)
        {
            double e = Math.Exp(-Math.Abs(p));                 // in (0, 1]: never overflows
            double sigmoid = p >= 0 ? 1 / (1 + e) : e / (1 + e);
            d = sigmoid - y;
            return Math.Max(p, 0) - p * y + Math.Log(1 + e);
        }
        float pf = (float)p, pc = Math.Clamp(pf, Eps, 1 - Eps);
        d = pf == pc ? -y / pc + (1 - y) / (1 - (double)pc) : 0;
        return -(y * Math.Log(pc) + (1 - y) * Math.Log(1 - (double)pc));
    }
}

/// <summary>
/// Keras <c>CategoricalCrossentropy</c> on one-hot (or soft) float targets, shape (N, classes): −Σⱼ yⱼ·log qⱼ per sample.
/// With <c>fromLogits: true</c> (recommended) q = softmax(z), computed stably (gradient softmax·Σy − y).
/// With <c>fromLogits: false</c> the predictions are first divided by their row sum and then clipped to
/// [1e-7, 1 − 1e-7], as Keras does; the gradient includes the normalisation.
/// </summary>
public sealed class CategoricalCrossentropy(bool fromLogits = false) : Loss
{
    private const float Eps = 1e-7f;

    /// <summary>Whether predictions are logits.</summary>
    public bool FromLogits { get; } = fromLogits;

    /// <inheritdoc/>
    public override string Name => "categorical_crossentropy";

    /// <inheritdoc/>
    protected override double ComputeCore(int rows, int classes, ReadOnlySpan<float> predictions, TargetBatch targets, Span<float> grad, Span<float> scratch)
    {
        var y = targets.Values;
        double scale = 1.0 / rows, loss = 0;
        bool withGrad = !grad.IsEmpty;
        for (int r = 0; r < rows; r++)
        {
            var z = predictions.Slice(r * classes, classes);
            var t = y.Slice(r * classes, classes);
            var s = scratch.Slice(r * classes, classes);
            double ySum = 0;
            foreach (float v in t) ySum += v;
            if (FromLogits)
            {
                float max = z[0];
                for (int j = 1; j < classes; j++) if (z[j] > max) max = z[j];
                double sumExp = 0;
                for (int j = 0; j < classes; j++) { double e = Math.Exp(z[j] - (double)max); s[j] = (float)e; sumExp += e; }
                double lse = max + Math.Log(sumExp);
                for (int j = 0; j < classes; j++)
                {
                    loss += t[j] * (lse - z[j]);
                    if (withGrad) grad[r * classes + j] += (float)((s[j] / sumExp * ySum - t[j]) * scale);
                }
                continue;
            }
            double total = 0;
            foreach (float v in z) total += v;
            // L = −Σ yⱼ log clip(qⱼ), qⱼ = pⱼ / Σp; gⱼ = ∂L/∂qⱼ (0 where clipped); ∂L/∂pₖ = (gₖ − Σⱼ gⱼ qⱼ) / Σp
            double gq = 0;
            for (int j = 0; j < classes; j++)
            {
                float q = (float)(z[j] / total), qc = Math.Clamp(q, Eps, 1 - Eps);
                loss -= t[j] * Math.Log(qc);
                double g = q == qc ? -t[j] / (double)qc : 0;
                s[j] = (float)g;
                gq += g * q;
            }
            if (withGrad)
                for (int j = 0; j < classes; j++) grad[r * classes + j] += (float)((s[j] - gq) / total * scale);
        }
        return loss;
    }
}

/// <summary>Keras <c>MeanSquaredError</c>: mean over the outputs of (y − p)² per sample.</summary>
public sealed class MeanSquaredError : ElementwiseLoss
{
    /// <inheritdoc/>
    public override string Name => "mean_squared_error";

    /// <inheritdoc/>
    protected override double Element(double p, double y, out double d)
    {
        double e = p - y;
        d = 2 * e;
        return e * e;
    }
}

/// <summary>Keras <c>MeanAbsoluteError</c>: mean over the outputs of |y − p| per sample (gradient sign(p − y), 0 where equal).</summary>
public sealed class MeanAbsoluteError : ElementwiseLoss
{
    /// <inheritdoc/>
    public override string Name => "mean_absolute_error";

    /// <inheritdoc/>
    protected override double Element(double p, double y, out double d)
    {
        double e = p - y;
        d = Math.Sign(e);
        return Math.Abs(e);
    }
}

/// <summary>
/// Keras <c>Huber</c>: per element, with e = p − y, ½e² where |e| ≤ δ and δ·|e| − ½δ² beyond; mean over the outputs.
/// </summary>
public sealed class Huber : ElementwiseLoss
{
    /// <summary>Creates the loss.</summary>
    public Huber(float delta = 1f)
    {
        if (!(delta > 0) || !float.IsFinite(delta)) throw new ArgumentOutOfRangeException(nameof(delta), $"Huber delta must be positive and finite, got {delta}.");
        Delta = delta;
    }

    /// <summary>δ, where the loss turns from quadratic to linear.</summary>
    public float Delta { get; }

    /// <inheritdoc/>
    public override string Name => "huber_loss";

    /// <inheritdoc/>
    protected override double Element(double p, double y, out double d)
    {
        double e = p - y, a = Math.Abs(e), delta = Delta;
        if (a <= delta) { d = e; return 0.5 * e * e; }
        d = delta * Math.Sign(e);
        return delta * a - 0.5 * delta * delta;
    }
}

/// <summary>
/// Keras <c>Poisson</c>: mean over the outputs of p − y·log(p + ε), ε = 1e-7, gradient 1 − y/(p + ε). The predictions
/// are rates and must be positive — use an exponential or softplus output; a prediction ≤ −ε makes the loss NaN,
/// which <c>Fit</c> reports without applying the batch.
/// </summary>
public sealed class Poisson : ElementwiseLoss
{
    private const double Eps = 1e-7;

    /// <inheritdoc/>
    public override string Name => "poisson";

    /// <inheritdoc/>
    protected override double Element(double p, double y, out double d)
    {
        double pe = p + Eps;
        d = 1 - y / pe;
        return p - y * Math.Log(pe);
    }
}
