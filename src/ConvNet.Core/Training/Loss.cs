using ConvNet.Kernels;

namespace ConvNet;

/// <summary>
/// A loss over a batch of predictions (rows, outputs) and their targets (<see cref="TargetBatch"/>): class labels or floats,
/// as <see cref="TargetKind"/> says. Per-sample losses follow Keras (the mean over the last axis for element-wise losses);
/// the batch loss is their mean (Keras' <c>sum_over_batch_size</c>).
/// </summary>
public abstract class Loss
{
    /// <summary>Keras name, e.g. <c>sparse_categorical_crossentropy</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The kind of targets this loss takes.</summary>
    public virtual TargetKind TargetKind => TargetKind.Values;

    /// <summary>
    /// Returns the SUM of per-sample losses; if <paramref name="grad"/> is non-empty, adds d(mean loss)/d(predictions)
    /// into it. <paramref name="scratch"/> has at least the predictions' size.
    /// </summary>
    /// <exception cref="ArgumentException">The targets are of the wrong kind, size or range, or not finite; the message names the loss. Nothing is written.</exception>
    public double Compute(int rows, int outputs, ReadOnlySpan<float> predictions, TargetBatch targets, Span<float> grad, Span<float> scratch)
    {
        if (rows < 0 || outputs <= 0 || predictions.Length != rows * outputs)
            throw new ArgumentException($"Loss '{Name}': {predictions.Length} predictions for {rows} rows of {outputs} outputs.", nameof(predictions));
        if (!grad.IsEmpty && grad.Length != predictions.Length)
            throw new ArgumentException($"Loss '{Name}': the gradient has {grad.Length} values for {predictions.Length} predictions.", nameof(grad));
        TargetChecks.Check(this, TargetKind, rows, outputs, targets, "the batch");
        return rows == 0 ? 0 : ComputeCore(rows, outputs, predictions, targets, grad, scratch);
    }

    /// <summary>Label form of <see cref="Compute(int, int, ReadOnlySpan{float}, TargetBatch, Span{float}, Span{float})"/>.</summary>
    public double Compute(int rows, int classes, ReadOnlySpan<float> predictions, ReadOnlySpan<int> labels, Span<float> grad, Span<float> scratch)
        => Compute(rows, classes, predictions, TargetBatch.FromLabels(labels), grad, scratch);

    /// <summary>The loss itself, on validated arguments (rows ≥ 1; targets of <see cref="TargetKind"/> and the right size).</summary>
    protected abstract double ComputeCore(int rows, int outputs, ReadOnlySpan<float> predictions, TargetBatch targets, Span<float> grad, Span<float> scratch);
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
    public override TargetKind TargetKind => TargetKind.Labels;

    /// <inheritdoc/>
    protected override double ComputeCore(int rows, int classes, ReadOnlySpan<float> predictions, TargetBatch targets, Span<float> grad, Span<float> scratch)
    {
        var labels = targets.Labels;
        float scale = 1f / rows;
        if (FromLogits)
            return SoftmaxCrossEntropy.SoftmaxCrossEntropyForwardBackward(rows, classes, predictions, labels, scratch, grad, scale);
        const float eps = 1e-7f;
        double loss = 0;
        for (int r = 0; r < rows; r++)
        {
            int label = labels[r];
            float p = predictions[r * classes + label];
            float pc = Math.Clamp(p, eps, 1 - eps);
            loss -= Math.Log(pc);
            if (!grad.IsEmpty && p == pc) grad[r * classes + label] -= scale / pc;
        }
        return loss;
    }
}
