using ConvNet.Kernels;

namespace ConvNet;

/// <summary>A loss over a batch of predictions (N, classes) and integer labels.</summary>
public abstract class Loss
{
    /// <summary>Keras name, e.g. <c>sparse_categorical_crossentropy</c>.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Returns the SUM of per-sample losses; if <paramref name="grad"/> is non-empty, adds
    /// d(mean loss)/d(predictions) into it. <paramref name="scratch"/> has the predictions' size.
    /// </summary>
    public abstract double Compute(int rows, int classes, ReadOnlySpan<float> predictions, ReadOnlySpan<int> labels, Span<float> grad, Span<float> scratch);
}

/// <summary>
/// Keras <c>SparseCategoricalCrossentropy</c>. With <c>fromLogits: true</c> (recommended, as in the lecture)
/// softmax and cross-entropy are fused: the gradient is (softmax − onehot)/N in one pass per row.
/// With <c>fromLogits: false</c> the predictions are probabilities, clipped to [1e-7, 1 − 1e-7] like Keras.
/// </summary>
public sealed class SparseCategoricalCrossentropy(bool fromLogits = false) : Loss
{
    /// <summary>Whether predictions are logits.</summary>
    public bool FromLogits { get; } = fromLogits;

    /// <inheritdoc/>
    public override string Name => "sparse_categorical_crossentropy";

    /// <inheritdoc/>
    public override double Compute(int rows, int classes, ReadOnlySpan<float> predictions, ReadOnlySpan<int> labels, Span<float> grad, Span<float> scratch)
    {
        float scale = rows == 0 ? 0 : 1f / rows;
        if (FromLogits)
            return SoftmaxCrossEntropy.SoftmaxCrossEntropyForwardBackward(rows, classes, predictions, labels, scratch, grad, scale);
        const float eps = 1e-7f;
        double loss = 0;
        for (int r = 0; r < rows; r++)
        {
            int label = labels[r];
            if ((uint)label >= (uint)classes) throw new ArgumentOutOfRangeException(nameof(labels), $"Label {label} of row {r} is outside [0, {classes}).");
            float p = predictions[r * classes + label];
            float pc = Math.Clamp(p, eps, 1 - eps);
            loss -= Math.Log(pc);
            if (!grad.IsEmpty && p == pc) grad[r * classes + label] -= scale / pc;
        }
        return loss;
    }
}
