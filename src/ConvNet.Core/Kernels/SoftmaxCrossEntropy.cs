using System.Numerics.Tensors;

namespace ConvNet.Kernels;

/// <summary>
/// Fused softmax + sparse categorical cross-entropy on logits (rows × classes), one pass per row.
/// Naive twin: <see cref="SoftmaxCrossEntropyReference"/>.
/// </summary>
public static class SoftmaxCrossEntropy
{
    /// <summary>
    /// probs = softmax(logits); returns Σ_rows −log probs[label]; if dlogits is non-empty,
    /// dlogits += scale · (probs − onehot(label)). Labels must be in [0, classes).
    /// </summary>
    public static double SoftmaxCrossEntropyForwardBackward(int rows, int classes, ReadOnlySpan<float> logits, ReadOnlySpan<int> labels,
        Span<float> probs, Span<float> dlogits, float scale)
    {
        Activations.CheckRows(rows, classes, logits.Length, probs.Length, nameof(SoftmaxCrossEntropyForwardBackward));
        if (labels.Length < rows) throw new ArgumentException($"{nameof(SoftmaxCrossEntropyForwardBackward)}: {labels.Length} labels for {rows} rows.");
        if (!dlogits.IsEmpty && dlogits.Length < rows * classes) throw new ArgumentException($"{nameof(SoftmaxCrossEntropyForwardBackward)}: dlogits has {dlogits.Length} elements, needs {rows * classes}.");
        double loss = 0;
        for (int r = 0; r < rows; r++)
        {
            int label = labels[r];
            if ((uint)label >= (uint)classes) throw new ArgumentOutOfRangeException(nameof(labels), $"Label {label} of row {r} is outside [0, {classes}).");
            var z = logits.Slice(r * classes, classes); var p = probs.Slice(r * classes, classes);
            float max = TensorPrimitives.Max(z);
            TensorPrimitives.Subtract(z, max, p);
            TensorPrimitives.Exp(p, p);
            float sum = TensorPrimitives.Sum(p);
            // −log softmax[label] = log Σ exp(z − max) − (z[label] − max)
            loss += Math.Log(sum) - (z[label] - max);
            TensorPrimitives.Divide(p, sum, p);
            if (!dlogits.IsEmpty)
            {
                var d = dlogits.Slice(r * classes, classes);
                TensorPrimitives.MultiplyAdd(p, scale, d, d);
                d[label] -= scale;
            }
        }
        return loss;
    }
}

/// <summary>Naive scalar twin of <see cref="SoftmaxCrossEntropy"/> (double precision internally).</summary>
public static class SoftmaxCrossEntropyReference
{
    /// <summary>Same contract as <see cref="SoftmaxCrossEntropy.SoftmaxCrossEntropyForwardBackward"/>.</summary>
    public static double SoftmaxCrossEntropyForwardBackward(int rows, int classes, ReadOnlySpan<float> logits, ReadOnlySpan<int> labels,
        Span<float> probs, Span<float> dlogits, float scale)
    {
        double loss = 0;
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int j = 0; j < classes; j++) max = Math.Max(max, logits[r * classes + j]);
            for (int j = 0; j < classes; j++) sum += Math.Exp(logits[r * classes + j] - max);
            loss += Math.Log(sum) - (logits[r * classes + labels[r]] - max);
            for (int j = 0; j < classes; j++)
            {
                double p = Math.Exp(logits[r * classes + j] - max) / sum;
                probs[r * classes + j] = (float)p;
                if (!dlogits.IsEmpty) dlogits[r * classes + j] += (float)(scale * (p - (j == labels[r] ? 1 : 0)));
            }
        }
        return loss;
    }
}
